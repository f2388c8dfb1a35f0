import { defineConfig } from 'vitest/config';

export default defineConfig({
    test: {
        globalSetup: ['test/ciPrerequisites.ts'],
        projects: [
            {
                test: {
                    name: 'unit',
                    include: ['test/unit/**/*.test.ts'],
                },
            },
            {
                test: {
                    name: 'root',
                    include: ['test/root/**/*.test.ts'],
                    // Root suites share the machine's cgroups, bpffs and lab namespaces.
                    fileParallelism: false,
                    testTimeout: 180_000,
                    hookTimeout: 240_000,
                },
            },
            {
                test: {
                    name: 'e2e',
                    include: ['test/e2e/**/*.test.ts'],
                    // One lab and one code-server at a time; sequential like the root suites.
                    fileParallelism: false,
                    testTimeout: 180_000,
                    hookTimeout: 420_000,
                },
            },
        ],
    },
});
