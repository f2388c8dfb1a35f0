// Entry point: builds the services once and registers everything into the context's
// subscriptions, so deactivation (or a reload) releases all of it.
import * as vscode from 'vscode';
import { AlertsService } from './alertsService';
import { connectHost } from './commands/connectHost';
import { connectLab } from './commands/connectLab';
import { deployAgent } from './commands/deployAgent';
import { diffWithLive, LIVE_SCHEME, LiveDocuments } from './commands/diffWithLive';
import { aliasOf, disconnect } from './commands/disconnect';
import { inferPolicy } from './commands/inferPolicy';
import { runLab } from './commands/lab';
import { PolicyCommands } from './commands/policyCommands';
import { setMode } from './commands/setMode';
import { showAuditLog } from './commands/showAuditLog';
import { showGraph } from './commands/showGraph';
import { ConfigWatcher } from './config';
import { FleetConnection } from './fleetConnection';
import { GraphPanel } from './graphPanel';
import { GraphReview } from './graphReview';
import { Commands, POLICY_GLOB, ViewTypes, Views } from './ids';
import { createLog, log } from './log';
import { PolicyCodeLens } from './policy/codeLens';
import { PolicyDiagnostics } from './policy/diagnostics';
import { PolicyHover } from './policy/hover';
import { PolicyIndex } from './policyIndex';
import { ConnectionStatusBar } from './statusBar';
import { AlertsView } from './views/alertsView';
import { HostsView } from './views/hostsView';

export function activate(context: vscode.ExtensionContext): void {
    const own = <T extends vscode.Disposable>(d: T): T => {
        context.subscriptions.push(d);
        return d;
    };
    own(createLog());
    const config = own(new ConfigWatcher());
    const connection = own(new FleetConnection());
    const policies = own(new PolicyIndex());
    const alerts = own(new AlertsService(connection, config));
    const review = new PolicyCommands(policies, connection, alerts);
    const live = new LiveDocuments();
    const hosts = own(new HostsView(connection));
    const alertsView = own(new AlertsView(alerts));
    own(new ConnectionStatusBar(connection, alerts, policies));
    own(new GraphReview(policies, connection, review));
    const codeLens = own(new PolicyCodeLens(policies, connection));
    own(new PolicyDiagnostics(policies, connection, config));
    const selector: vscode.DocumentSelector = { pattern: POLICY_GLOB };
    const uri = context.extensionUri;

    own(vscode.window.createTreeView(Views.hosts, { treeDataProvider: hosts }));
    own(vscode.window.createTreeView(Views.alerts, { treeDataProvider: alertsView }));
    own(vscode.languages.registerCodeLensProvider(selector, codeLens));
    own(vscode.languages.registerHoverProvider(selector, new PolicyHover(policies, connection)));
    own(vscode.workspace.registerTextDocumentContentProvider(LIVE_SCHEME, live));
    own(
        vscode.window.registerWebviewPanelSerializer(
            ViewTypes.graph,
            GraphPanel.serializer(uri, connection),
        ),
    );
    own({ dispose: () => GraphPanel.disposeCurrent() });

    const commands: [string, (...args: unknown[]) => unknown][] = [
        [Commands.connectHost, (a) => connectHost(connection, config, aliasOf(a))],
        [Commands.connectLab, () => connectLab(connection, config)],
        [Commands.reconnectHost, (a) => reconnect(connection, aliasOf(a))],
        [Commands.disconnect, (a) => disconnect(connection, a)],
        [Commands.refreshHosts, () => connection.refreshStatus()],
        [Commands.deployAgent, (a) => deployAgent(connection, config, uri, aliasOf(a))],
        [Commands.showGraph, () => showGraph(uri, connection, config)],
        [Commands.inferPolicy, () => inferPolicy(connection, policies)],
        [Commands.pushPolicy, (u) => review.push(u)],
        [Commands.setMode, (u, m) => setMode(policies, connection, review, u, m)],
        [Commands.showAuditLog, () => showAuditLog(connection)],
        [Commands.labUp, () => runLab(uri, 'up')],
        [Commands.labDown, () => runLab(uri, 'down')],
        [Commands.setLinkState, (u, id, s) => review.setLinkState(u, id, s)],
        [Commands.revealLink, (app, rule) => review.revealLink(app, rule)],
        [
            Commands.diffWithLive,
            async (u) => {
                const target = await review.policyUri(u);
                if (target) await diffWithLive(policies, connection, live, target);
            },
        ],
    ];
    for (const [id, handler] of commands) own(command(id, handler));
    log.info(
        `activated (${context.extension.id} ${String(context.extension.packageJSON.version)})`,
    );
}

export function deactivate(): void {
    // Everything is owned by context.subscriptions.
}

async function reconnect(connection: FleetConnection, alias: string | undefined): Promise<void> {
    const state = connection.hostStates.find((h) => h.alias === alias);
    if (!state) return;
    const none = new vscode.CancellationTokenSource();
    try {
        await connection.connect(
            [state.alias],
            state.configFile,
            { report: () => undefined },
            none.token,
        );
    } finally {
        none.dispose();
    }
}

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
