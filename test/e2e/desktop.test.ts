// The desktop suite: the extension's mocha tests inside a real VS Code desktop, started by
// @vscode/test-electron. It runs in the same `vitest run` as the browser suite wherever a
// VS Code desktop can be had, and says exactly why not where it cannot.
//
// NOTE: @vscode/test-electron would download VS Code from Microsoft's servers; nothing here
// may reach outside the machine unless asked to, so a download happens only with
// PALISADE_VSCODE_DOWNLOAD=1. Otherwise PALISADE_VSCODE_EXECUTABLE names an installed one.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './codeServer';

// Where the extension issue's mocha suite lives: an index that exports run().
const SUITE = path.join(ROOT, 'test/desktop/index.js');

// The one call we make, typed here: the package is not a dependency of this repository.
interface TestElectron {
    runTests(options: {
        vscodeExecutablePath?: string;
        extensionDevelopmentPath: string;
        extensionTestsPath: string;
        launchArgs?: string[];
    }): Promise<number>;
}

async function loadTestElectron(): Promise<TestElectron | undefined> {
    // A variable specifier: the package is optional and may be absent.
    const name = '@vscode/test-electron';
    return (import(name) as Promise<TestElectron>).catch(() => undefined);
}

const testElectron = await loadTestElectron();
const executable = process.env.PALISADE_VSCODE_EXECUTABLE;
const download = process.env.PALISADE_VSCODE_DOWNLOAD === '1';

function whyNot(): string | undefined {
    if (testElectron === undefined) {
        return '@vscode/test-electron is not installed (npm install --save-dev @vscode/test-electron mocha)';
    }
    if (executable !== undefined && !existsSync(executable)) {
        return `PALISADE_VSCODE_EXECUTABLE=${executable} does not exist`;
    }
    if (executable === undefined && !download) {
        return (
            'no VS Code desktop here: set PALISADE_VSCODE_EXECUTABLE to an installed one, or ' +
            'PALISADE_VSCODE_DOWNLOAD=1 where @vscode/test-electron may download it ' +
            '(it cannot on this network)'
        );
    }
    if (!existsSync(SUITE)) {
        return `the desktop mocha suite ${path.relative(ROOT, SUITE)} does not exist yet`;
    }
    return undefined;
}

const reason = whyNot();
if (reason !== undefined) {
    console.warn(`desktop suite (@vscode/test-electron + mocha) not run: ${reason}`);
}

describe('desktop VS Code suite', () => {
    it.skipIf(reason !== undefined)(
        `passes in a real VS Code desktop${reason ? ` (not run: ${reason})` : ''}`,
        async () => {
            const code = await testElectron!.runTests({
                vscodeExecutablePath: executable,
                extensionDevelopmentPath: ROOT,
                extensionTestsPath: SUITE,
                launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
            });
            expect(code).toBe(0);
        },
        600_000,
    );
});
