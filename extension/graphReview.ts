// Ties the graph to the policy files: each edge is annotated with the link that covers it
// (state, rule, file), and review actions from the graph edit that link, or add one to the
// file of the app the client (else the server) belongs to.
import * as vscode from 'vscode';
import type { LinkState, PolicyLink } from '../agent/policy/types';
import type { FleetEdge, Identity } from '../agent/protocol';
import {
    linkNoteKey,
    type EdgeAnnotation,
    type LinkAction,
    type LinkPatternEdit,
    type LinkPatterns,
} from '../webview/messages';
import type { PolicyCommands } from './commands/policyCommands';
import type { FleetConnection } from './fleetConnection';
import { GraphPanel, type GraphRequest } from './graphPanel';
import { log } from './log';
import { reviewedLink } from './model/edgeToLink';
import { edgeMatchesLink, endpointMatches } from './model/linkMatch';
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
        const links: Record<string, LinkPatterns> = {};
        for (const edge of this.connection.latestGraph?.edges ?? []) {
            const found = this.linkFor(edge);
            if (!found?.entry.policy) continue;
            const policyFile = vscode.workspace.asRelativePath(found.entry.uri);
            edges[edge.id] = {
                state: found.link.state,
                rule: found.link.id,
                mode: found.entry.policy.mode,
                policyFile,
            };
            const { client, server } = found.link;
            links[linkNoteKey(policyFile, found.link.id)] = { client, server };
        }
        GraphPanel.annotate({ edges, links });
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

    /**
     * Without an edit the link covering the edge changes state; an edge nothing covers gets
     * its exact link. With an edit, the patterns and state chosen replace the covering link's
     * (whose patterns the editor started from), or make the edge's own link.
     */
    private async review(edge: FleetEdge, state: LinkState, edit?: LinkPatternEdit): Promise<void> {
        const found = this.linkFor(edge);
        if (found && !edit) {
            await this.commands.setLinkState(found.entry.uri, found.link.id, state);
            return;
        }
        const link = reviewedLink(edge, state, edit ?? {}, found?.link);
        if (!link) {
            throw new Error('cannot write a link for a connection whose owner is unknown');
        }
        const target = found?.entry ?? this.ownerOf(edge);
        if (!target) {
            throw new Error('no policy file has a member matching either end; infer one first');
        }
        await this.commands.writeReviewedLink(target.uri, link);
    }

    /** The file of the app the client belongs to, else the server's. */
    private ownerOf(edge: FleetEdge): PolicyEntry | undefined {
        const all = this.policies.all();
        const owns = (id: Identity) => (e: PolicyEntry) =>
            e.policy?.members.some((m) => endpointMatches(m, id)) ?? false;
        return all.find(owns(edge.client)) ?? all.find(owns(edge.server));
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
    }
}
