// "Palisade: Infer Policy into File…": turns what the connected agents saw into links of a
// new or existing policy file; existing links keep their state, new ones start as alert.
// TODO: use agent/policy/infer.ts once it lands: it generalizes ports and paths; this
// writes one exact link per edge.
import * as vscode from 'vscode';
import { mergeLinks, renderPolicy } from '../../agent/policy/file';
import type { Policy, PolicyLink, ProcessPattern } from '../../agent/policy/types';
import type { FleetEdge } from '../../agent/protocol';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { endpointMatches } from '../model/linkMatch';
import { editDocument } from '../policy/edits';
import type { PolicyIndex } from '../policyIndex';
import { edgeToLink } from '../model/edgeToLink';

export async function inferPolicy(
    connection: FleetConnection,
    policies: PolicyIndex,
): Promise<void> {
    const graph = connection.latestGraph;
    if (!graph || connection.connectedHosts.length === 0) {
        throw new Error('no connected host; connect first (Palisade: Connect to Lab)');
    }
    const apps = appsOf(graph.edges);
    const pick = await vscode.window.showQuickPick(
        apps.map((a) => ({ label: a.unit ?? a.binary ?? '?', description: a.host, pattern: a })),
        { title: 'Palisade: infer the policy of which app?' },
    );
    if (!pick) return;
    const member = pick.pattern;
    const edges = graph.edges.filter(
        (e) => endpointMatches(member, e.client) || endpointMatches(member, e.server),
    );
    const links = dedupe(edges.flatMap((e) => edgeToLink(e) ?? []));
    const app =
        (member.unit ?? member.binary ?? 'app')
            .replace(/\.service$/, '')
            .replace(/[^A-Za-z0-9._-]+/g, '-')
            .replace(/^[^A-Za-z0-9]+/, '') || 'app';

    const existing = policies.byApp(app);
    if (existing) {
        await editDocument(existing.uri, (text) => mergeLinks(text, existing.uri.fsPath, links));
        await vscode.window.showTextDocument(existing.uri);
        log.info(`inferred ${links.length} links into ${existing.uri.fsPath}`);
        return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
        title: 'Palisade: save the inferred policy',
        ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${app}.palisade.yaml`) } : {}),
        filters: { 'Palisade policy': ['palisade.yaml'] },
    });
    if (!target) return;
    const owner = (await gitEmail()) ?? 'owner@example.invalid';
    const policy: Policy = {
        apiVersion: 'palisade.dev/v1',
        kind: 'Policy',
        app,
        owner,
        mode: 'monitor',
        members: [member],
        links,
    };
    const header = ` Inferred by Palisade from ${edges.length} live edges on ${new Date().toISOString()}.\n Review each link: Allow, Snooze or Deny.`;
    await vscode.workspace.fs.writeFile(
        target,
        new TextEncoder().encode(renderPolicy(policy, header)),
    );
    await vscode.window.showTextDocument(target);
    log.info(`inferred ${links.length} links into ${target.fsPath}`);
}

/** Apps are processes by host and unit (or binary when there is no unit). */
function appsOf(edges: FleetEdge[]): ProcessPattern[] {
    const seen = new Map<string, ProcessPattern>();
    for (const e of edges) {
        for (const id of [e.client, e.server]) {
            if (id.kind !== 'process') continue;
            const p: ProcessPattern = id.unit
                ? { host: id.host, unit: id.unit }
                : { host: id.host, binary: id.binary };
            seen.set(JSON.stringify(p), p);
        }
    }
    return [...seen.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function dedupe(links: PolicyLink[]): PolicyLink[] {
    const byId = new Map<string, PolicyLink>();
    for (const l of links) {
        const prev = byId.get(l.id);
        if (prev?.evidence && l.evidence) prev.evidence.flows += l.evidence.flows;
        else byId.set(l.id, l);
    }
    return [...byId.values()];
}

async function gitEmail(): Promise<string | undefined> {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve) =>
        execFile('git', ['config', 'user.email'], { timeout: 5000 }, (err, out) =>
            resolve(err ? undefined : out.trim() || undefined),
        ),
    );
}
