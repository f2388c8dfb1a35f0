// Where the suite leaves what a person needs to see what happened: step screenshots in both
// themes, code-server's log, and for a failed step its screenshot and the extension logs.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';
import { ROOT } from './codeServer';
import type { Workbench } from './workbench';

export const OUTPUT = path.join(ROOT, 'test-output/e2e');

/** A fresh folder for one suite: screenshots/<theme>/<step>.png, code-server.log, failures/. */
export function suiteOutput(suite: string): string {
    const dir = path.join(OUTPUT, suite);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
}

function safeName(name: string): string {
    return name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
}

/**
 * Called from onTestFailed: the screen as it was, the page's errors, code-server's log
 * and the extension host's logs, under `<dir>/failures/<test>/`.
 */
export async function captureFailure(
    dir: string,
    test: string,
    server: CodeServer | undefined,
    workbench: Workbench | undefined,
    codeServerLog: string,
): Promise<void> {
    const out = path.join(dir, 'failures', safeName(test));
    mkdirSync(out, { recursive: true });
    if (workbench !== undefined) {
        await workbench.page
            .screenshot({ path: path.join(out, 'screen.png'), fullPage: true })
            .catch((err: unknown) => writeFileSync(path.join(out, 'screen.error'), String(err)));
        const notes = await workbench.notificationTexts().catch(() => []);
        writeFileSync(
            path.join(out, 'page.txt'),
            [
                `notifications: ${JSON.stringify(notes)}`,
                `page errors: ${JSON.stringify(workbench.pageErrors)}`,
                `dialogs: ${JSON.stringify(workbench.dialogs)}`,
            ].join('\n'),
        );
    }
    if (existsSync(codeServerLog)) {
        copyFileSync(codeServerLog, path.join(out, 'code-server.log'));
    }
    server?.copyLogs(path.join(out, 'vscode-logs'));
    console.error(`e2e: ${test} failed; screenshot and logs in ${out}`);
}
