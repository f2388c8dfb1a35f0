// "Palisade: Set Mode…": switching an app to enforce first replays the recorded flows of
// every host against the policy and shows what enforce would have dropped; only an
// explicit confirmation edits the file and pushes it.
import * as vscode from 'vscode';
import type { Mode, Policy } from '../../agent/policy/types';
import { replayPolicy } from '../../agent/fleet/push';
import { identityLabel } from '../../agent/fleet/identity';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { editMode } from '../policy/edits';
import { targetHosts } from '../policy/targets';
import type { PolicyIndex } from '../policyIndex';
import type { PolicyCommands } from './policyCommands';

const MAX_SHOWN = 12;

export async function setMode(
    policies: PolicyIndex,
    connection: FleetConnection,
    commands: PolicyCommands,
    uriArg?: unknown,
    modeArg?: unknown,
): Promise<void> {
    const uri = await commands.policyUri(uriArg);
    if (!uri) return;
    const policy = policies.get(uri)?.policy;
    if (!policy) throw new Error(`${vscode.workspace.asRelativePath(uri)} is not a valid policy`);
    const mode = modeArg === 'enforce' || modeArg === 'monitor' ? modeArg : await pickMode(policy);
    if (!mode) return;

    if (mode === 'enforce' && !(await confirmEnforce(connection, policy))) return;
    await editMode(uri, mode);
    log.info(`${policy.app}: mode → ${mode}`);
    if (connection.connectedHosts.length > 0) await commands.push(uri);
}

async function pickMode(policy: Policy): Promise<Mode | undefined> {
    const pick = await vscode.window.showQuickPick(
        [
            { label: 'monitor', description: 'nothing dropped; unlisted flows raise alerts' },
            { label: 'enforce', description: 'only allowed links pass; the rest is dropped' },
        ].map((p) => ({ ...p, picked: p.label === policy.mode })),
        { title: `Palisade: mode of ${policy.app} (now ${policy.mode})` },
    );
    return pick?.label as Mode | undefined;
}

async function confirmEnforce(connection: FleetConnection, policy: Policy): Promise<boolean> {
    const hosts = targetHosts(connection, policy);
    const proposed: Policy = { ...policy, mode: 'enforce' };
    const all = connection.clients();
    const clients = hosts.flatMap((name) => {
        const client = all.get(name);
        return client ? [{ name, client }] : [];
    });
    const replay = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Palisade: replaying history' },
        () => replayPolicy(clients, proposed),
    );
    const dropped = replay.dropped.map((flow) => ({ host: flow.host, flow }));
    const evaluated = replay.evaluated;

    const lines = dropped.slice(0, MAX_SHOWN).map(({ host, flow }) => {
        const f = flow.flow;
        const to = `${f.remoteAddress}:${f.port}/${f.protocol}`;
        return `${host}: ${identityLabel(f.local)} → ${to} (${f.count}×)`;
    });
    if (dropped.length > MAX_SHOWN) lines.push(`… and ${dropped.length - MAX_SHOWN} more`);
    for (const l of lines) log.info(`replay ${policy.app}: ${l}`);

    const enforce = 'Enforce';
    const count = dropped.length === 0 ? 'none' : String(dropped.length);
    const summary =
        `Enforcing ${policy.app} would have dropped ${count} of ${evaluated} ` + 'recorded flows.';
    const answer = await vscode.window.showWarningMessage(
        summary,
        {
            modal: true,
            detail: lines.join('\n') || `Hosts: ${hosts.join(', ') || 'none connected'}`,
        },
        enforce,
    );
    return answer === enforce;
}
