// Extension-host tests under a real VS Code desktop (@vscode/test-electron + mocha).
// VS Code cannot be downloaded on every network (not on the CI machines of this project),
// so the suite runs only against a local VS Code named by PALISADE_VSCODE_PATH and says
// plainly that it did not run otherwise.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const ROOT = path.resolve(__dirname, '../..');

async function main(): Promise<number> {
    const vscodePath = process.env.PALISADE_VSCODE_PATH;
    if (!vscodePath) {
        console.log(
            'test:desktop did not run: no VS Code desktop here (it cannot be downloaded on ' +
                'this network). Set PALISADE_VSCODE_PATH to a local VS Code executable to run it.',
        );
        return 0;
    }
    if (!existsSync(vscodePath)) {
        console.error(`test:desktop: PALISADE_VSCODE_PATH=${vscodePath} does not exist`);
        return 1;
    }
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--no-bpf'], {
        cwd: ROOT,
        stdio: 'inherit',
    });
    await runTests({
        vscodeExecutablePath: vscodePath,
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

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error('test:desktop failed:', err);
        process.exit(1);
    },
);
