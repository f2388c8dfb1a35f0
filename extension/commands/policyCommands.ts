// Review commands on policy files: change a link's state (CodeLens, graph, Alerts view),
// jump between a graph edge and its YAML entry, and push the file to the fleet.
import * as vscode from 'vscode';
import { type DropsDecision, type FleetReplay, pushPolicyChecked } from '../../agent/fleet/push';
import { mergeLinks } from '../../agent/policy/fileEdit';
import {
    LINK_STATES,
    type LinkState,
    type Policy,
    type PolicyLink,
} from '../../agent/policy/types';
import type { AlertsService } from '../alertsService';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { policyLayout } from '../model/policyLayout';
import { replayLines } from '../model/replay';
import { editDocument, editLinkState } from '../policy/edits';
import { targetHosts } from '../policy/targets';
import { isPolicyUri, type PolicyIndex } from '../policyIndex';

export class PolicyCommands {
    constructor(
        private readonly policies: PolicyIndex,
        private readonly connection: FleetConnection,
        private readonly alerts: AlertsService,
    ) {}

    async setLinkState(uriArg: unknown, idArg: unknown, stateArg: unknown): Promise<void> {
        const uri = uriArg instanceof vscode.Uri ? uriArg : undefined;
        const state = LINK_STATES.find((s) => s === stateArg);
        if (!uri || typeof idArg !== 'string' || !state) {
            throw new Error('setLinkState needs a policy file, a link id and a state');
        }
        await editLinkState(uri, idArg, state);
        const app = this.policies.get(uri)?.policy?.app;
        if (app) this.alerts.resolved(app, idArg);
        log.info(`${uri.fsPath}: link ${idArg} → ${state}`);
    }

    /** A link reviewed in the graph: added, or replacing patterns and state of its id. */
    async writeReviewedLink(uri: vscode.Uri, link: PolicyLink): Promise<void> {
        await editDocument(uri, (text) => mergeLinks(text, uri.fsPath, [link], { reviewed: true }));
        const app = this.policies.get(uri)?.policy?.app;
        if (app) this.alerts.resolved(app, link.id);
        log.info(`${uri.fsPath}: link ${link.id} → ${link.state} from the graph`);
    }

    /** From the graph or an alert: set the state of `rule` in the file of `app`. */
    async setLinkStateByApp(app: string, rule: string, state: LinkState): Promise<void> {
        const entry = this.policies.byApp(app);
        if (!entry) throw new Error(`no policy file for app ${app} in this workspace`);
        await this.setLinkState(entry.uri, rule, state);
    }

    /** Opens the policy file of `app` at link `rule` (the graph's "open in policy"). */
    async revealLink(app: unknown, rule: unknown): Promise<void> {
        if (typeof app !== 'string') return;
        const entry = this.policies.byApp(app);
        if (!entry) {
            void vscode.window.showWarningMessage(`Palisade: no policy file for app ${app} here.`);
            return;
        }
        const place = policyLayout(entry.text).links.find((l) => l.id === rule);
        const pos = new vscode.Position(place?.line ?? 0, place?.col ?? 0);
        await vscode.window.showTextDocument(entry.uri, {
            selection: new vscode.Range(pos, pos),
            preview: false,
        });
    }

    /**
     * Pushes a policy file to the hosts it concerns. An enforce file is first replayed, as
     * the CLI does: when it would drop recorded flows, `allowDrops` decides (by default the
     * person, shown what would be dropped).
     */
    async push(uriArg?: unknown, allowDrops?: DropsDecision): Promise<void> {
        const uri = await this.policyUri(uriArg);
        if (!uri) return;
        const doc = await vscode.workspace.openTextDocument(uri);
        if (doc.isDirty) await doc.save();
        const entry = this.policies.update(uri, doc.getText());
        if (!entry.policy) {
            throw new Error(
                `${vscode.workspace.asRelativePath(uri)} has ${entry.issues.length} problems; ` +
                    'fix them before pushing',
            );
        }
        const policy = entry.policy;
        const hosts = targetHosts(this.connection, policy);
        if (hosts.length === 0) throw new Error('no connected host to push to; connect first');
        const all = this.connection.clients();
        const clients = hosts.flatMap((name) => {
            const client = all.get(name);
            return client ? [{ name, client }] : [];
        });

        const outcome = await vscode.window.withProgress(
            {
                location: vscode.ProgressLocation.Notification,
                title: `Palisade: pushing ${policy.app}`,
            },
            () =>
                pushPolicyChecked(clients, policy, uri.fsPath, {
                    allowDrops: allowDrops ?? ((r) => confirmDrops(policy, r)),
                }),
        );
        if (!outcome.pushed) {
            log.info(`push ${policy.app}: cancelled, enforce would drop recorded flows`);
            void vscode.window.showInformationMessage(
                `Palisade: ${policy.app} was not pushed; the hosts keep the policy they had.`,
            );
            return;
        }
        const results = outcome.results;
        for (const h of hosts) this.connection.setModes(h, [policy.mode]);
        void this.alerts.reload();
        const warnings = results.flatMap((r) => r.result.warnings.map((w) => `${r.host}: ${w}`));
        for (const w of warnings) log.warn(`push ${policy.app}: ${w}`);
        void vscode.window.showInformationMessage(
            `Palisade: ${policy.app} (${policy.mode}) applied on ${results.length} hosts` +
                (warnings.length > 0 ? ` with ${warnings.length} warnings (see log).` : '.'),
        );
    }

    /** The argument when it is a policy file, else the active editor's, else a pick. */
    async policyUri(arg?: unknown): Promise<vscode.Uri | undefined> {
        if (arg instanceof vscode.Uri) return arg;
        const active = vscode.window.activeTextEditor?.document.uri;
        if (active && isPolicyUri(active)) return active;
        const files = this.policies.all();
        if (files.length === 1) return files[0]?.uri;
        const pick = await vscode.window.showQuickPick(
            files.map((e) => ({
                label: e.policy?.app ?? '(invalid)',
                description: vscode.workspace.asRelativePath(e.uri),
                uri: e.uri,
            })),
            { title: 'Palisade: which policy file?' },
        );
        return pick?.uri;
    }
}

/** Shows what enforcing would drop; true when the person chooses to push anyway. */
export async function confirmDrops(policy: Policy, replay: FleetReplay): Promise<boolean> {
    const lines = replayLines(replay);
    for (const l of lines) log.info(`replay ${policy.app}: ${l}`);
    const pushAnyway = 'Push Anyway';
    const answer = await vscode.window.showWarningMessage(
        `Pushing ${policy.app} in enforce mode would drop ${replay.dropped.length} of ` +
            `${replay.evaluated} recorded flows.`,
        { modal: true, detail: lines.join('\n') },
        pushAnyway,
    );
    return answer === pushAnyway;
}
