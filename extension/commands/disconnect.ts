// "Palisade: Disconnect": closes every agent session; the graph empties.
import * as vscode from 'vscode';
import type { FleetConnection } from '../fleetConnection';

export function disconnect(connection: FleetConnection): void {
    const count = connection.knownHosts.length;
    connection.disconnect();
    vscode.window.setStatusBarMessage(`Palisade: disconnected from ${count} hosts`, 3000);
}
