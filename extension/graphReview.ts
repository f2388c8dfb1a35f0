// Ties the graph to the policy files: each edge is annotated with the link that covers it
// (state, rule, file), and review actions from the graph edit that link, or add one to the
// file of the app the client (else the server) belongs to.
import * as vscode from 'vscode';
import { mergeLinks } from '../agent/policy/file';
import type { LinkState, PolicyLink } from '../agent/policy/types';
import type { FleetEdge } from '../agent/protocol';
import type { EdgeAnnotation, LinkAction } from '../webview/messages';
import type { PolicyCommands } from './commands/policyCommands';
import type { FleetConnection } from './fleetConnection';
import { GraphPanel, type GraphRequest } from './graphPanel';
import { log } from './log';
import { edgeToLink } from './model/edgeToLink';
import { edgeMatchesLink, endpointMatches } from './model/linkMatch';
import { editDocument } from './policy/edits';
import type { PolicyEntry, PolicyIndex } from './policyIndex';

const STATE: Record<LinkAction, LinkState> = {
    allow: 'allowed',
    snooze: 'snoozed',
    deny: 'denied',
};

export class GraphReview implements vscode.Disposable {
    private readonly subscriptions: vscode.Disposable[];

    constructor(
        private readonly policies: PolicyIndex,
        private readonly connection: FleetConnection,
        private readonly commands: PolicyCommands,
    ) {
        this.subscriptions = [
            GraphPanel.onAction((request) => void this.handle(request)),
            connection.onGraph(() => this.annotate()),
            policies.onDidChange(() => this.annotate()),
        ];
    }

    /** The link covering `edge`, with its file. */
    linkFor(edge: FleetEdge): { entry: PolicyEntry; link: PolicyLink } | undefined {
        for (const entry of this.policies.all()) {
            const link = entry.policy?.links.find((l) => edgeMatchesLink(edge, l));
            if (link) return { entry, link };
        }
        return undefined;
    }

    private annotate(): void {
        const edges: Record<string, EdgeAnnotation> = {};
        for (const edge of this.connection.latestGraph?.edges ?? []) {
            const found = this.linkFor(edge);
            if (!found?.entry.policy) continue;
            edges[edge.id] = {
                state: found.link.state,
                rule: found.link.id,
                mode: found.entry.policy.mode,
                policyFile: vscode.workspace.asRelativePath(found.entry.uri),
            };
        }
        GraphPanel.annotate({ edges });
    }

    private async handle(request: GraphRequest): Promise<void> {
        try {
            const edges = this.connection.latestGraph?.edges ?? [];
            if (request.type === 'openInPolicy') {
                const edge = edges.find((e) => e.id === request.edgeId);
                const found = edge && this.linkFor(edge);
                if (!found?.entry.policy) {
                    void vscode.window.showInformationMessage(
                        'Palisade: no policy file in this workspace covers that connection.',
                    );
                    return;
                }
                await this.commands.revealLink(found.entry.policy.app, found.link.id);
                return;
            }
            for (const id of request.edgeIds) {
                const edge = edges.find((e) => e.id === id);
                if (edge) await this.review(edge, STATE[request.action], request.pattern);
            }
        } catch (err) {
            log.error('graph action failed', err);
            void vscode.window.showErrorMessage(`Palisade: ${String(err)}`);
        }
    }

    private async review(
        edge: FleetEdge,
        state: LinkState,
        edit?: { client?: PolicyLink['client']; server?: PolicyLink['server'] },
    ): Promise<void> {
        const found = edit ? undefined : this.linkFor(edge);
        if (found) {
            await this.commands.setLinkState(found.entry.uri, found.link.id, state);
            return;
        }
        const owner =
            this.policies
                .all()
                .find((e) => e.policy?.members.some((m) => endpointMatches(m, edge.client))) ??
            this.policies
                .all()
                .find((e) => e.policy?.members.some((m) => endpointMatches(m, edge.server)));
        if (!owner) {
            throw new Error('no policy file has a member matching either end; infer one first');
        }
        const exact = edgeToLink(edge, state);
        const client = edit?.client ?? exact?.client;
        const server = edit?.server ?? exact?.server;
        if (!exact || !client || !server) {
            throw new Error('cannot write a link for a connection whose owner is unknown');
        }
        const link: PolicyLink = { ...exact, client, server };
        await editDocument(owner.uri, (text) => mergeLinks(text, owner.uri.fsPath, [link]));
        log.info(`${owner.uri.fsPath}: added link ${link.id} (${state}) from the graph`);
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
    }
}
