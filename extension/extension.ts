// Entry point: builds the services once and registers everything into the context's
// subscriptions, so deactivation (or a reload) releases all of it.
import * as vscode from 'vscode';
import { connectLab } from './commands/connectLab';
import { disconnect } from './commands/disconnect';
import { showGraph } from './commands/showGraph';
import { ConfigWatcher } from './config';
import { FleetConnection } from './fleetConnection';
import { GraphPanel } from './graphPanel';
import { Commands, ViewTypes } from './ids';
import { createLog, log } from './log';
import { ConnectionStatusBar } from './statusBar';

export function activate(context: vscode.ExtensionContext): void {
    context.subscriptions.push(createLog());
    const config = new ConfigWatcher();
    const connection = new FleetConnection();
    context.subscriptions.push(config, connection, new ConnectionStatusBar(connection));

    context.subscriptions.push(
        command(Commands.connectLab, () => connectLab(connection, config)),
        command(Commands.disconnect, () => disconnect(connection)),
        command(Commands.showGraph, () => showGraph(context.extensionUri, connection, config)),
        vscode.window.registerWebviewPanelSerializer(
            ViewTypes.graph,
            GraphPanel.serializer(context.extensionUri, connection),
        ),
        { dispose: () => GraphPanel.disposeCurrent() },
    );
    log.info(
        `activated (${context.extension.id} ${String(context.extension.packageJSON.version)})`,
    );
}

export function deactivate(): void {
    // Everything is owned by context.subscriptions.
}

// The boundary for every command: an escaped error becomes one message and one log line.
function command(id: string, handler: () => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, async () => {
        try {
            await handler();
        } catch (err) {
            log.error(`${id} failed`, err);
            void vscode.window.showErrorMessage(
                `Palisade: ${err instanceof Error ? err.message : String(err)}`,
            );
        }
    });
}
