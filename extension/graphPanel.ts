// The service graph panel: one webview, restored after reload by a serializer, fed every
// graph the fleet produces. The page itself is built by webviewHtml (pure, tested).
import * as vscode from 'vscode';
import type { FleetGraph } from '../agent/protocol';
import { isWebviewMessage, type ExtensionMessage } from '../webview/messages';
import type { FleetConnection } from './fleetConnection';
import { ViewTypes } from './ids';
import { log } from './log';
import { newNonce, webviewHtml } from './webviewHtml';

export class GraphPanel implements vscode.Disposable {
    private static current: GraphPanel | undefined;

    private readonly disposables: vscode.Disposable[] = [];
    /** The page posts `ready` once its listener is up; graphs sent before would be lost. */
    private ready = false;

    static show(extensionUri: vscode.Uri, connection: FleetConnection): void {
        if (GraphPanel.current !== undefined) {
            GraphPanel.current.panel.reveal();
            return;
        }
        const panel = vscode.window.createWebviewPanel(
            ViewTypes.graph,
            'Palisade Service Graph',
            vscode.ViewColumn.Active,
            webviewOptions(extensionUri),
        );
        GraphPanel.current = new GraphPanel(panel, extensionUri, connection);
    }

    static serializer(
        extensionUri: vscode.Uri,
        connection: FleetConnection,
    ): vscode.WebviewPanelSerializer {
        return {
            deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
                GraphPanel.current?.dispose();
                panel.webview.options = webviewOptions(extensionUri);
                GraphPanel.current = new GraphPanel(panel, extensionUri, connection);
            },
        };
    }

    static disposeCurrent(): void {
        GraphPanel.current?.dispose();
    }

    private constructor(
        private readonly panel: vscode.WebviewPanel,
        private readonly extensionUri: vscode.Uri,
        private readonly connection: FleetConnection,
    ) {
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)),
            // A hidden panel's page is unloaded; it posts `ready` again when shown.
            panel.onDidChangeViewState(() => {
                if (!panel.visible) {
                    this.ready = false;
                }
            }),
            connection.onGraph((graph) => this.send(graph)),
        );
        this.render();
    }

    private render(): void {
        const webview = this.panel.webview;
        const script = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js');
        webview.html = webviewHtml({
            cspSource: webview.cspSource,
            nonce: newNonce(),
            scriptUri: webview.asWebviewUri(script).toString(),
        });
    }

    private receive(message: unknown): void {
        if (!isWebviewMessage(message)) {
            log.warn('graph webview sent an unexpected message');
            return;
        }
        switch (message.type) {
            case 'ready':
                this.ready = true;
                this.send(this.connection.latestGraph);
                break;
            case 'error':
                log.error(`graph webview: ${message.message}`);
                break;
        }
    }

    private send(graph: FleetGraph | undefined): void {
        if (!this.ready || graph === undefined) {
            return;
        }
        const message: ExtensionMessage = { type: 'graph', graph };
        void this.panel.webview.postMessage(message);
    }

    dispose(): void {
        if (GraphPanel.current === this) {
            GraphPanel.current = undefined;
        }
        for (const d of this.disposables.splice(0)) {
            d.dispose();
        }
        this.panel.dispose();
    }
}

function webviewOptions(
    extensionUri: vscode.Uri,
): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
    };
}
