// Lint: typescript-eslint's recommended rules over our sources; formatting is Prettier's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
    { ignores: ['dist/**', 'node_modules/**', 'bpf/**', 'test-output/**', '**/*.js', '**/*.mjs'] },
    ...tseslint.configs.recommended,
    {
        rules: {
            '@typescript-eslint/no-unused-vars': [
                'error',
                { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
            ],
        },
    },
    {
        // Browser tests reach into the page's window, which has no types.
        files: ['test/**/*.ts'],
        rules: { '@typescript-eslint/no-explicit-any': 'off' },
    },
);
