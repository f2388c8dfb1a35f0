// Mocha entry that VS Code's test runner loads inside the extension host.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
    const mocha = new Mocha({ ui: 'bdd', timeout: 20_000, color: false });
    for (const file of readdirSync(__dirname)) {
        if (file.endsWith('.test.js')) mocha.addFile(path.join(__dirname, file));
    }
    return new Promise((resolve, reject) =>
        mocha.run((failures) =>
            failures > 0 ? reject(new Error(`${failures} desktop tests failed`)) : resolve(),
        ),
    );
}
