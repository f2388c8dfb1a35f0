// Entry point: builds the services once and registers everything into the context's
// subscriptions, so deactivation (or a reload) releases all of it.
import * as vscode from 'vscode';
import { connectHost } from './commands/connectHost';
import { connectLab } from './commands/connectLab';
import { aliasOf, disconnect } from './commands/disconnect';
import { showGraph } from './commands/showGraph';
import { ConfigWatcher } from './config';
import { FleetConnection } from './fleetConnection';
import { GraphPanel } from './graphPanel';
import { Commands, ViewTypes, Views } from './ids';
import { createLog, log } from './log';
import { ConnectionStatusBar } from './statusBar';
import { HostsView } from './views/hostsView';

export function activate(context: vscode.ExtensionContext): void {
    context.subscriptions.push(createLog());
    const config = new ConfigWatcher();
    const connection = new FleetConnection();
    const hosts = new HostsView(connection);
    context.subscriptions.push(config, connection, hosts, new ConnectionStatusBar(connection));

    context.subscriptions.push(
        vscode.window.createTreeView(Views.hosts, {
            treeDataProvider: hosts,
            showCollapseAll: false,
        }),
        command(Commands.connectHost, (alias?: unknown) =>
            connectHost(connection, config, aliasOf(alias)),
        ),
        command(Commands.reconnectHost, (alias?: unknown) => {
            const name = aliasOf(alias);
            const state = connection.hostStates.find((h) => h.alias === name);
            if (!state) return;
            return connection.connect([state.alias], state.configFile, noProgress, noToken);
        }),
        command(Commands.connectLab, () => connectLab(connection, config)),
        command(Commands.disconnect, (alias?: unknown) => disconnect(connection, alias)),
        command(Commands.refreshHosts, () => connection.refreshStatus()),
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

const noProgress = { report: () => undefined };
const noToken = new vscode.CancellationTokenSource().token;

// The boundary for every command: an escaped error becomes one message and one log line.
function command(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
            return await handler(...args);
        } catch (err) {
            if (err instanceof vscode.CancellationError) return undefined;
            log.error(`${id} failed`, err);
            void vscode.window.showErrorMessage(
                `Palisade: ${err instanceof Error ? err.message : String(err)}`,
            );
            return undefined;
        }
    });
}
