// "Palisade: Infer Policy into File…": turns what the connected agents saw into links of a
// new or existing policy file (agent/policy/infer.ts). Existing links keep their state and
// comments; only new links are added, in the `alert` state, and evidence is refreshed.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { mergeLinks, renderPolicy } from '../../agent/policy/fileEdit';
import { defaultMembers, inferPolicy as infer } from '../../agent/policy/infer';
import type { FleetGraph } from '../../agent/protocol';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { editDocument } from '../policy/edits';
import type { PolicyIndex } from '../policyIndex';

const INFRA_UNITS = new Set(['sshd.service', 'palisade-agent.service']);

export async function inferPolicy(
    connection: FleetConnection,
    policies: PolicyIndex,
): Promise<void> {
    const graph = connection.latestGraph;
    if (!graph || connection.connectedHosts.length === 0) {
        throw new Error('no connected host; connect first (Palisade: Connect to Lab)');
    }
    const pick = await vscode.window.showQuickPick(
        appNames(graph).map((label) => ({ label })),
        { title: 'Palisade: infer the policy of which app?', placeHolder: 'unit name' },
    );
    if (!pick) return;
    const app = pick.label.replace(/\.service$/, '');
    const members = defaultMembers(graph, app);
    const existing = policies.byApp(app);
    const owner = existing?.policy?.owner ?? (await gitEmail()) ?? 'owner@example.invalid';
    const policy = infer(graph, { app, owner, members });

    if (existing) {
        await editDocument(existing.uri, (text) =>
            mergeLinks(text, existing.uri.fsPath, policy.links),
        );
        await vscode.window.showTextDocument(existing.uri);
        log.info(`inferred ${policy.links.length} links into ${existing.uri.fsPath}`);
        return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
        title: 'Palisade: save the inferred policy',
        ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${app}.palisade.yaml`) } : {}),
        filters: { 'Palisade policy': ['palisade.yaml'] },
    });
    if (!target) return;
    const header =
        ` Inferred by Palisade on ${new Date().toISOString()} from ` +
        `${connection.connectedHosts.length} hosts.\n Review each link: Allow, Snooze or Deny.`;
    await vscode.workspace.fs.writeFile(
        target,
        new TextEncoder().encode(renderPolicy(policy, header)),
    );
    await vscode.window.showTextDocument(target);
    log.info(`inferred ${policy.links.length} links into ${target.fsPath}`);
}

/** Units seen in the graph, except the infrastructure every host runs. */
function appNames(graph: FleetGraph): string[] {
    const units = new Set<string>();
    for (const e of graph.edges) {
        for (const id of [e.client, e.server]) {
            if (id.kind === 'process' && id.unit && !INFRA_UNITS.has(id.unit)) units.add(id.unit);
        }
    }
    return [...units].sort();
}

function gitEmail(): Promise<string | undefined> {
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return new Promise((resolve) =>
        execFile('git', ['config', 'user.email'], { cwd, timeout: 5000 }, (err, out) =>
            resolve(err ? undefined : out.trim() || undefined),
        ),
    );
}
