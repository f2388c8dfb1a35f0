// "Palisade: Set Mode…": switching an app to enforce first replays the recorded flows of
// every host against the policy and shows what enforce would have dropped; only an
// explicit confirmation edits the file and pushes it. The push checks again, and asks
// again only about connections the preview did not show.
import * as vscode from 'vscode';
import type { Mode, Policy } from '../../agent/policy/types';
import { type FleetReplay, replayPolicy } from '../../agent/fleet/push';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { acceptedBefore, replayLines } from '../model/replay';
import { editMode } from '../policy/edits';
import { targetHosts } from '../policy/targets';
import type { PolicyIndex } from '../policyIndex';
import { confirmDrops, type PolicyCommands } from './policyCommands';

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

    const accepted = mode === 'enforce' ? await confirmEnforce(connection, policy) : undefined;
    if (mode === 'enforce' && !accepted) return;
    await editMode(uri, mode);
    log.info(`${policy.app}: mode → ${mode}`);
    if (connection.connectedHosts.length === 0) return;
    await commands.push(uri, (replay) =>
        accepted && acceptedBefore(accepted, replay) ? true : confirmDrops(policy, replay),
    );
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

/** The preview: the replay the person accepted, or undefined when they did not. */
async function confirmEnforce(
    connection: FleetConnection,
    policy: Policy,
): Promise<FleetReplay | undefined> {
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
    const evaluated = replay.evaluated;
    const lines = replayLines(replay);
    for (const l of lines) log.info(`replay ${policy.app}: ${l}`);

    const enforce = 'Enforce';
    const count = replay.dropped.length === 0 ? 'none' : String(replay.dropped.length);
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
    return answer === enforce ? replay : undefined;
}
