// Problems in policy files: schema and syntax errors where they are, links not seen for
// too long, and links that shadow or contradict each other.
import * as vscode from 'vscode';
import type { ConfigWatcher } from '../config';
import type { FleetConnection } from '../fleetConnection';
import { linkOverlaps } from '../model/linkMatch';
import { policyLayout, type LinkLayout } from '../model/policyLayout';
import type { PolicyEntry, PolicyIndex } from '../policyIndex';
import { evidenceFor } from './liveEvidence';

const DAY_MS = 86_400_000;
const SOURCE = 'palisade';

export class PolicyDiagnostics implements vscode.Disposable {
    private readonly collection = vscode.languages.createDiagnosticCollection(SOURCE);
    private readonly subscriptions: vscode.Disposable[];
    private timer: NodeJS.Timeout | undefined;

    constructor(
        private readonly policies: PolicyIndex,
        private readonly connection: FleetConnection,
        private readonly config: ConfigWatcher,
    ) {
        this.subscriptions = [
            policies.onDidChange((entry) => (entry ? this.publish(entry) : this.publishAll())),
            // Staleness depends on live evidence; recheck on new graphs, but not on every one.
            connection.onGraph(() => this.soon()),
            vscode.workspace.onDidChangeConfiguration((e) => {
                if (e.affectsConfiguration('palisade.policy')) this.soon();
            }),
        ];
        this.publishAll();
    }

    private soon(): void {
        if (this.timer) return;
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.publishAll();
        }, 1000);
    }

    private publishAll(): void {
        this.collection.clear();
        for (const entry of this.policies.all()) this.publish(entry);
    }

    publish(entry: PolicyEntry): void {
        this.collection.set(entry.uri, this.diagnose(entry));
    }

    diagnose(entry: PolicyEntry, now = Date.now()): vscode.Diagnostic[] {
        const out = entry.issues.map((i) => {
            const line = Math.max(0, i.line - 1);
            const col = Math.max(0, i.col - 1);
            const d = new vscode.Diagnostic(
                new vscode.Range(line, col, line, Number.MAX_SAFE_INTEGER),
                i.field ? `${i.field}: ${i.message}` : i.message,
                vscode.DiagnosticSeverity.Error,
            );
            d.source = SOURCE;
            d.code = 'schema';
            return d;
        });
        const policy = entry.policy;
        if (!policy) return out;

        const layout = policyLayout(entry.text);
        const at = (index: number): LinkLayout | undefined =>
            layout.links.find((l) => l.index === index);
        const staleDays = this.config.current.policy.staleDays;

        policy.links.forEach((link, index) => {
            const place = at(index);
            if (!place || staleDays === 0 || link.state !== 'allowed') return;
            const live = evidenceFor(this.connection, link)?.lastSeen;
            const recorded = link.evidence?.lastSeen ? Date.parse(link.evidence.lastSeen) : NaN;
            const lastSeen = Math.max(live ?? 0, Number.isNaN(recorded) ? 0 : recorded);
            if (lastSeen === 0) return;
            const days = Math.floor((now - lastSeen) / DAY_MS);
            if (days < staleDays) return;
            out.push(
                diagnostic(
                    place,
                    `link "${link.id}" not seen for ${days} days (limit ${staleDays}); ` +
                        'remove it or snooze it if it is no longer used',
                    vscode.DiagnosticSeverity.Information,
                    'stale',
                ),
            );
        });

        for (const o of linkOverlaps(policy.links)) {
            const place = at(o.link);
            if (!place) continue;
            const severity =
                o.kind === 'conflict'
                    ? vscode.DiagnosticSeverity.Warning
                    : vscode.DiagnosticSeverity.Hint;
            const d = diagnostic(place, o.message, severity, o.kind);
            const other = at(o.other);
            if (other) {
                d.relatedInformation = [
                    new vscode.DiagnosticRelatedInformation(
                        new vscode.Location(entry.uri, new vscode.Position(other.line, other.col)),
                        `link "${other.id}"`,
                    ),
                ];
            }
            if (o.kind === 'shadowed') d.tags = [vscode.DiagnosticTag.Unnecessary];
            out.push(d);
        }
        return out;
    }

    dispose(): void {
        clearTimeout(this.timer);
        for (const s of this.subscriptions) s.dispose();
        this.collection.dispose();
    }
}

function diagnostic(
    place: LinkLayout,
    message: string,
    severity: vscode.DiagnosticSeverity,
    code: string,
): vscode.Diagnostic {
    const idSpan = place.fields.id ?? place;
    const d = new vscode.Diagnostic(
        new vscode.Range(idSpan.line, idSpan.col, idSpan.line, Number.MAX_SAFE_INTEGER),
        message,
        severity,
    );
    d.source = SOURCE;
    d.code = code;
    return d;
}
