// The desktop suite: the extension's mocha tests inside a real VS Code desktop, started by
// @vscode/test-electron through `npm run test:desktop`. It runs in the same `vitest run` as
// the browser suite wherever a VS Code desktop can be had, and says exactly why not where
// it cannot (test/desktop/runTests.ts decides, for both ways of running it).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { whyNotRunnable } from '../desktop/runTests';
import { ROOT } from './codeServer';

const reason = whyNotRunnable();
if (reason !== undefined) {
    console.warn(`desktop suite (@vscode/test-electron + mocha) not run: ${reason}`);
}

describe('desktop VS Code suite', () => {
    it.skipIf(reason !== undefined)(
        `passes in a real VS Code desktop${reason ? ` (not run: ${reason})` : ''}`,
        () => {
            const run = spawnSync('npm', ['run', '--silent', 'test:desktop'], {
                cwd: ROOT,
                stdio: 'inherit',
                timeout: 590_000,
            });
            expect(run.status).toBe(0);
        },
        600_000,
    );
});
