// "Diff with live": the file on the left; on the right the same file with each link's
// evidence refreshed from what the connected agents see now. Read-only, never saved.
import * as vscode from 'vscode';
import { mergeLinks } from '../../agent/policy/fileEdit';
import type { PolicyLink } from '../../agent/policy/types';
import type { FleetConnection } from '../fleetConnection';
import { evidenceFor } from '../policy/liveEvidence';
import type { PolicyIndex } from '../policyIndex';

export const LIVE_SCHEME = 'palisade-live';

export class LiveDocuments implements vscode.TextDocumentContentProvider {
    private readonly contents = new Map<string, string>();
    private readonly changed = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changed.event;

    set(uri: vscode.Uri, text: string): void {
        this.contents.set(uri.toString(), text);
        this.changed.fire(uri);
    }

    provideTextDocumentContent(uri: vscode.Uri): string {
        return this.contents.get(uri.toString()) ?? '';
    }
}

export async function diffWithLive(
    policies: PolicyIndex,
    connection: FleetConnection,
    live: LiveDocuments,
    uri: vscode.Uri,
): Promise<void> {
    const entry = policies.get(uri);
    if (!entry?.policy) throw new Error('the policy file has problems; fix them first');
    if (connection.connectedHosts.length === 0) throw new Error('no connected host; connect first');

    const refreshed: PolicyLink[] = entry.policy.links.flatMap((link) => {
        const ev = evidenceFor(connection, link);
        if (!ev) return [];
        const firstSeen = Math.min(...ev.edges.map((e) => e.firstSeen));
        return [
            {
                ...link,
                evidence: {
                    flows: ev.flows,
                    firstSeen: new Date(firstSeen).toISOString(),
                    lastSeen: new Date(ev.lastSeen).toISOString(),
                    hosts: ev.hosts,
                },
            },
        ];
    });
    const right = uri.with({ scheme: LIVE_SCHEME, query: String(Date.now()) });
    live.set(right, mergeLinks(entry.text, uri.fsPath, refreshed));
    const name = vscode.workspace.asRelativePath(uri);
    await vscode.commands.executeCommand('vscode.diff', uri, right, `${name} ↔ live`);
}
