// Extension-host tests under a real VS Code desktop (@vscode/test-electron + mocha).
// @vscode/test-electron would download VS Code from Microsoft's servers, which nothing here
// may reach unless asked: the suite runs against a local VS Code named by
// PALISADE_VSCODE_EXECUTABLE, or downloads one only with PALISADE_VSCODE_DOWNLOAD=1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const ROOT = path.resolve(__dirname, '../..');

/** Why the suite cannot run on this machine, or undefined when it can. */
export function whyNotRunnable(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const executable = env.PALISADE_VSCODE_EXECUTABLE;
    if (executable !== undefined && executable !== '') {
        return existsSync(executable)
            ? undefined
            : `PALISADE_VSCODE_EXECUTABLE=${executable} does not exist`;
    }
    if (env.PALISADE_VSCODE_DOWNLOAD === '1') return undefined;
    return (
        'no VS Code desktop here: set PALISADE_VSCODE_EXECUTABLE to an installed one, or ' +
        'PALISADE_VSCODE_DOWNLOAD=1 where @vscode/test-electron may download it'
    );
}

async function main(): Promise<number> {
    const reason = whyNotRunnable();
    if (reason !== undefined) {
        console.error(`test:desktop did not run: ${reason}`);
        return 1;
    }
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--no-bpf'], {
        cwd: ROOT,
        stdio: 'inherit',
    });
    // Resolves with VS Code's exit code 0 and rejects when any mocha test failed.
    await runTests({
        vscodeExecutablePath: process.env.PALISADE_VSCODE_EXECUTABLE || undefined,
        extensionDevelopmentPath: ROOT,
        extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
        launchArgs: [
            path.join(ROOT, 'test/desktop/workspace'),
            '--disable-extensions',
            '--disable-workspace-trust',
            '--skip-welcome',
        ],
    });
    return 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error('test:desktop failed:', err);
            process.exit(1);
        },
    );
}
