// The extension inside a real VS Code: its commands exist, policy files get CodeLens and
// diagnostics, and a review edit keeps the file's comments.
import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const WORKSPACE = path.resolve(__dirname, '../../../test/desktop/workspace');
const manifest = JSON.parse(
    readFileSync(path.resolve(WORKSPACE, '../../../package.json'), 'utf8'),
) as { contributes: { commands: { command: string }[] } };

async function open(name: string): Promise<vscode.TextDocument> {
    const doc = await vscode.workspace.openTextDocument(path.join(WORKSPACE, name));
    await vscode.window.showTextDocument(doc);
    return doc;
}

async function until<T>(get: () => T | undefined, what: string, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
        const value = get();
        if (value !== undefined) return value;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

describe('Palisade extension', () => {
    before(async () => {
        copyFileSync(
            path.join(WORKSPACE, 'cache.palisade.yaml.orig'),
            path.join(WORKSPACE, 'cache.palisade.yaml'),
        );
        await open('cache.palisade.yaml');
    });

    it('registers every command of its manifest', async () => {
        const registered = new Set(await vscode.commands.getCommands(true));
        for (const { command } of manifest.contributes.commands) {
            assert.ok(registered.has(command), `${command} is not registered`);
        }
    });

    it('puts Allow, Snooze, Deny and evidence above each link, and Push at the top', async () => {
        const doc = await open('cache.palisade.yaml');
        let lenses: vscode.CodeLens[] = [];
        for (let i = 0; i < 100 && lenses.length === 0; i++) {
            lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
                'vscode.executeCodeLensProvider',
                doc.uri,
                100,
            );
            if (lenses.length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        const titles = lenses.map((l) => l.command?.title ?? '');
        assert.ok(
            titles.some((t) => /Push to \d+ hosts/.test(t)),
            titles.join(' | '),
        );
        assert.ok(titles.includes('Enforce…'));
        for (const t of ['Allow', 'Snooze', 'Deny']) {
            assert.equal(titles.filter((x) => x === t).length, 2, `${t} on each of 2 links`);
        }
    });

    it('reports schema errors and conflicting links as diagnostics', async () => {
        const broken = await open('broken.palisade.yaml');
        const errors = await until(() => {
            const d = vscode.languages.getDiagnostics(broken.uri);
            return d.length > 0 ? d : undefined;
        }, 'diagnostics of broken.palisade.yaml');
        assert.ok(
            errors.some((d) => /mode.*must be one of/.test(d.message)),
            errors.map((d) => d.message).join('\n'),
        );

        const cache = await open('cache.palisade.yaml');
        const cacheDiags = await until(() => {
            const d = vscode.languages.getDiagnostics(cache.uri);
            return d.length > 0 ? d : undefined;
        }, 'diagnostics of cache.palisade.yaml');
        assert.ok(cacheDiags.some((d) => d.code === 'conflict'));
    });

    it('allows a link from its CodeLens command and keeps the comments', async () => {
        const doc = await open('cache.palisade.yaml');
        await vscode.commands.executeCommand(
            'palisade.setLinkState',
            doc.uri,
            'batch-to-redis',
            'allowed',
        );
        const text = doc.getText();
        assert.match(text, /# the batch job/);
        assert.match(text, /id: batch-to-redis[\s\S]*?state: allowed/);
    });
});
