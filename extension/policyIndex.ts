// The workspace's policy files, parsed: what the CodeLens, diagnostics, status bar and
// review commands read. Open editors win over the disk so unsaved edits count at once.
import * as vscode from 'vscode';
import { parsePolicy, PolicyFileError, type PolicyIssue } from '../agent/policy/file';
import type { Policy } from '../agent/policy/types';
import { POLICY_GLOB } from './ids';
import { log } from './log';

export interface PolicyEntry {
    uri: vscode.Uri;
    text: string;
    policy?: Policy;
    issues: PolicyIssue[];
}

export function isPolicyUri(uri: vscode.Uri): boolean {
    return uri.path.endsWith('.palisade.yaml');
}

export class PolicyIndex implements vscode.Disposable {
    private readonly entries = new Map<string, PolicyEntry>();
    private readonly changed = new vscode.EventEmitter<PolicyEntry | undefined>();
    private readonly disposables: vscode.Disposable[] = [this.changed];

    readonly onDidChange = this.changed.event;

    constructor() {
        const watcher = vscode.workspace.createFileSystemWatcher(POLICY_GLOB);
        this.disposables.push(
            watcher,
            watcher.onDidCreate((uri) => void this.load(uri)),
            watcher.onDidChange((uri) => void this.load(uri)),
            watcher.onDidDelete((uri) => this.forget(uri)),
            vscode.workspace.onDidChangeTextDocument((e) => {
                if (isPolicyUri(e.document.uri)) this.update(e.document.uri, e.document.getText());
            }),
            vscode.workspace.onDidOpenTextDocument((d) => {
                if (isPolicyUri(d.uri)) this.update(d.uri, d.getText());
            }),
        );
        void this.scan();
        for (const d of vscode.workspace.textDocuments) {
            if (isPolicyUri(d.uri)) this.update(d.uri, d.getText());
        }
    }

    all(): PolicyEntry[] {
        return [...this.entries.values()];
    }

    get(uri: vscode.Uri): PolicyEntry | undefined {
        return this.entries.get(uri.toString());
    }

    byApp(app: string): PolicyEntry | undefined {
        return this.all().find((e) => e.policy?.app === app);
    }

    async scan(): Promise<void> {
        const uris = await vscode.workspace.findFiles(POLICY_GLOB, '**/node_modules/**');
        await Promise.all(uris.map((uri) => this.load(uri)));
    }

    /** Parses `text` as the content of `uri` and publishes the result. */
    update(uri: vscode.Uri, text: string): PolicyEntry {
        const entry: PolicyEntry = { uri, text, issues: [] };
        try {
            entry.policy = parsePolicy(text, uri.fsPath);
        } catch (err) {
            if (err instanceof PolicyFileError) entry.issues = err.issues;
            else
                entry.issues = [
                    { file: uri.fsPath, line: 1, col: 1, field: '', message: String(err) },
                ];
        }
        this.entries.set(uri.toString(), entry);
        this.changed.fire(entry);
        return entry;
    }

    private async load(uri: vscode.Uri): Promise<void> {
        const open = vscode.workspace.textDocuments.find(
            (d) => d.uri.toString() === uri.toString(),
        );
        if (open) {
            this.update(uri, open.getText());
            return;
        }
        try {
            const bytes = await vscode.workspace.fs.readFile(uri);
            this.update(uri, new TextDecoder().decode(bytes));
        } catch (err) {
            log.warn(`cannot read policy file ${uri.fsPath}: ${String(err)}`);
        }
    }

    private forget(uri: vscode.Uri): void {
        this.entries.delete(uri.toString());
        this.changed.fire(undefined);
    }

    dispose(): void {
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}
