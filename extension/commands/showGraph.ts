// "Palisade: Show Service Graph": opens or reveals the graph, connecting to the lab first
// when nothing is connected yet.
import * as vscode from 'vscode';
import type { ConfigWatcher } from '../config';
import type { FleetConnection } from '../fleetConnection';
import { GraphPanel } from '../graphPanel';
import { connectLab } from './connectLab';

export async function showGraph(
    extensionUri: vscode.Uri,
    connection: FleetConnection,
    config: ConfigWatcher,
): Promise<void> {
    // Open first so the panel is there while hosts connect; graphs stream in as they land.
    GraphPanel.show(extensionUri, connection);
    if (connection.connectedHosts.length === 0) {
        await connectLab(connection, config);
    }
}
