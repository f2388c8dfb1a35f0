// "Palisade: Disconnect": closes one host's session (from the Hosts view) or all of them.
import * as vscode from 'vscode';
import type { FleetConnection } from '../fleetConnection';

export async function disconnect(connection: FleetConnection, alias?: unknown): Promise<void> {
    let target = typeof alias === 'string' ? alias : aliasOf(alias);
    if (target === undefined && connection.knownHosts.length > 1) {
        const all = 'All hosts';
        const pick = await vscode.window.showQuickPick([all, ...connection.knownHosts], {
            title: 'Palisade: Disconnect',
        });
        if (pick === undefined) return;
        target = pick === all ? undefined : pick;
    }
    const count = target === undefined ? connection.knownHosts.length : 1;
    connection.disconnect(target);
    vscode.window.setStatusBarMessage(`Palisade: disconnected from ${count} hosts`, 3000);
}

/** Tree items pass their element (a HostState) to inline commands. */
export function aliasOf(arg: unknown): string | undefined {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'object' && arg !== null && 'alias' in arg) {
        const alias = (arg as { alias: unknown }).alias;
        return typeof alias === 'string' ? alias : undefined;
    }
    return undefined;
}
