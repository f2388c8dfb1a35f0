// CodeLens on policy files: Allow · Snooze · Deny and live evidence above each link, and
// Push · Diff with live · Enforce… at the top of the file.
import * as vscode from 'vscode';
import type { FleetConnection } from '../fleetConnection';
import { Commands } from '../ids';
import { ago, flowCount } from '../model/alerts';
import { policyLayout } from '../model/policyLayout';
import type { PolicyIndex } from '../policyIndex';
import { evidenceFor } from './liveEvidence';
import { targetHosts } from './targets';

export class PolicyCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<void>();
    readonly onDidChangeCodeLenses = this.changed.event;
    private readonly subscriptions: vscode.Disposable[];
    private lastFire = 0;

    constructor(
        private readonly policies: PolicyIndex,
        private readonly connection: FleetConnection,
    ) {
        this.subscriptions = [
            policies.onDidChange(() => this.changed.fire()),
            connection.onDidChange(() => this.changed.fire()),
            // Graphs arrive several times a second under load; evidence text is in seconds.
            connection.onGraph(() => {
                if (Date.now() - this.lastFire < 2000) return;
                this.lastFire = Date.now();
                this.changed.fire();
            }),
        ];
    }

    provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
        const entry = this.policies.get(doc.uri) ?? this.policies.update(doc.uri, doc.getText());
        const layout = policyLayout(doc.getText());
        const top = new vscode.Range(0, 0, 0, 0);
        const lenses: vscode.CodeLens[] = [];

        const policy = entry.policy;
        if (policy) {
            const hosts = targetHosts(this.connection, policy);
            lenses.push(
                lens(top, `$(cloud-upload) Push to ${hosts.length} hosts`, Commands.pushPolicy, [
                    doc.uri,
                ]),
                lens(top, 'Diff with live', Commands.diffWithLive, [doc.uri]),
                policy.mode === 'enforce'
                    ? lens(top, 'Monitor…', Commands.setMode, [doc.uri, 'monitor'])
                    : lens(top, 'Enforce…', Commands.setMode, [doc.uri, 'enforce']),
            );
        } else {
            lenses.push(
                lens(top, `$(error) ${entry.issues.length} problems: not pushable`, '', []),
            );
        }

        for (const l of layout.links) {
            const link = policy?.links[l.index];
            const range = new vscode.Range(l.line, 0, l.line, 0);
            const args = (state: string) => [doc.uri, l.id, state];
            lenses.push(
                lens(range, 'Allow', Commands.setLinkState, args('allowed')),
                lens(range, 'Snooze', Commands.setLinkState, args('snoozed')),
                lens(range, 'Deny', Commands.setLinkState, args('denied')),
            );
            const live = link ? evidenceFor(this.connection, link) : undefined;
            const text = live
                ? `$(pulse) ${flowCount(live.flows)}, last ${ago(live.lastSeen)}`
                : this.connection.connectedHosts.length > 0
                  ? 'not seen live'
                  : link?.evidence
                    ? `${flowCount(link.evidence.flows)} recorded`
                    : 'no evidence';
            lenses.push(lens(range, text, live ? Commands.showGraph : '', []));
        }
        return lenses;
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
        this.changed.dispose();
    }
}

function lens(
    range: vscode.Range,
    title: string,
    command: string,
    args: unknown[],
): vscode.CodeLens {
    return new vscode.CodeLens(range, { title, command, arguments: args });
}
