// Bundles the four programs with esbuild and compiles the BPF object.
// Usage: node scripts/build.mjs [--no-bpf] [--watch]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import * as esbuild from 'esbuild';

const args = new Set(process.argv.slice(2));
mkdirSync('dist', { recursive: true });

const node = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    // koffi carries a native binary; ssh2's optional native crypto is loaded lazily.
    external: ['koffi', 'vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
    logLevel: 'warning',
};

const builds = [
    { ...node, entryPoints: ['agent/main.ts'], outfile: 'dist/agent.js' },
    { ...node, entryPoints: ['agent/cli/main.ts'], outfile: 'dist/cli.js' },
    { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js' },
    {
        bundle: true,
        platform: 'browser',
        target: 'es2022',
        format: 'iife',
        sourcemap: true,
        entryPoints: ['webview/main.ts'],
        outfile: 'dist/webview.js',
        logLevel: 'warning',
    },
];

await Promise.all(builds.map((b) => esbuild.build(b)));

// koffi loads a native binary, so it cannot be bundled: dist/ carries its own copy, which
// makes dist/ (agent.js, palisade.bpf.o, node_modules/) everything a host needs to run an agent.
rmSync('dist/node_modules', { recursive: true, force: true });
for (const pkg of ['koffi', '@koromix/koffi-linux-x64']) {
    cpSync(`node_modules/${pkg}`, `dist/node_modules/${pkg}`, {
        recursive: true,
        filter: (src) => !/\/(doc|vendor|musl_x64)(\/|$)/.test(src),
    });
}

if (!args.has('--no-bpf')) {
    execFileSync('bash', ['bpf/build.sh'], { stdio: 'inherit' });
}
