// The service graph panel: one webview, restored after reload by a serializer, fed the fleet's
// graph (whole when the page loads, then only what changed: graphDelta) plus the policy's
// annotations. Review actions from the graph are re-emitted through `onAction`; whoever owns
// policy files subscribes. The page itself is built by webviewHtml (pure, tested).
import * as vscode from 'vscode';
import type { FleetGraph } from '../agent/protocol';
import {
    isWebviewMessage,
    type ExportFormat,
    type ExtensionMessage,
    type GraphAnnotations,
    type WebviewMessage,
} from '../webview/messages';
import type { FleetConnection } from './fleetConnection';
import { graphUpdate } from './graphDelta';
import { ViewTypes } from './ids';
import { log } from './log';
import { newNonce, webviewHtml } from './webviewHtml';

/** Allow/snooze/deny (maybe with an edited pattern) or "open in policy file", from the graph. */
export type GraphRequest = Extract<WebviewMessage, { type: 'action' | 'openInPolicy' }>;

const EXPORT_FILTERS: Record<ExportFormat, Record<string, string[]>> = {
    png: { 'PNG image': ['png'] },
    svg: { 'SVG image': ['svg'] },
    json: { 'Graph JSON': ['json'] },
};

export class GraphPanel implements vscode.Disposable {
    private static current: GraphPanel | undefined;
    private static readonly requests = new vscode.EventEmitter<GraphRequest>();
    /** Everything annotated so far, so a reloaded page gets it with its first snapshot. */
    private static annotations: Required<GraphAnnotations> = { edges: {}, nodes: {}, links: {} };

    /** Fires for each review action or policy-file request the user makes in the graph. */
    static readonly onAction: vscode.Event<GraphRequest> = GraphPanel.requests.event;

    private readonly disposables: vscode.Disposable[] = [];
    /** The page posts `ready` once its listener is up; graphs sent before would be lost. */
    private ready = false;
    /** The graph the page holds, so updates can go as deltas; undefined: send a snapshot. */
    private shown: FleetGraph | undefined;

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

    /**
     * Merges policy facts (edge states, verdicts, rules, app modes, crown jewels) into what the
     * graph shows; later calls override earlier ones field by field.
     */
    static annotate(annotations: GraphAnnotations): void {
        const all = GraphPanel.annotations;
        for (const [id, note] of Object.entries(annotations.edges ?? {})) {
            all.edges[id] = { ...all.edges[id], ...note };
        }
        for (const [id, note] of Object.entries(annotations.nodes ?? {})) {
            all.nodes[id] = { ...all.nodes[id], ...note };
        }
        Object.assign(all.links, annotations.links);
        GraphPanel.current?.post({ type: 'delta', annotations });
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
                    this.shown = undefined;
                }
            }),
            connection.onGraph((graph) => this.update(graph)),
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
                // A page that (re)loaded holds nothing: it gets the whole graph.
                this.ready = true;
                this.shown = undefined;
                this.update(this.connection.latestGraph);
                break;
            case 'error':
                log.error(`graph webview: ${message.message}`);
                break;
            case 'action':
            case 'openInPolicy':
                GraphPanel.requests.fire(message);
                break;
            case 'export':
                void saveExport(message.format, message.data).catch((err: unknown) => {
                    log.error('graph export failed', err);
                    void vscode.window.showErrorMessage(`Palisade: export failed: ${String(err)}`);
                });
                break;
        }
    }

    /** Sends what changed since the graph the page holds, or the whole graph. */
    private update(graph: FleetGraph | undefined): void {
        if (graph === undefined || !this.ready) {
            return;
        }
        const update = this.shown === undefined ? undefined : graphUpdate(this.shown, graph);
        this.shown = graph;
        if (update?.kind === 'unchanged') {
            return;
        }
        if (update?.kind === 'delta') {
            this.post(update.message);
            return;
        }
        if (update !== undefined) {
            log.debug(`graph webview gets a snapshot: ${update.why}`);
        }
        this.post({ type: 'graph', graph, annotations: GraphPanel.annotations });
    }

    private post(message: ExtensionMessage): void {
        if (!this.ready) {
            return;
        }
        // A lost delta leaves the page behind for good; the next update resends it all.
        const lost = () => {
            this.shown = undefined;
        };
        this.panel.webview.postMessage(message).then((delivered) => {
            if (!delivered) lost();
        }, lost);
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

async function saveExport(format: ExportFormat, data: string): Promise<void> {
    const target = await vscode.window.showSaveDialog({
        filters: EXPORT_FILTERS[format],
        saveLabel: `Export ${format.toUpperCase()}`,
    });
    if (target === undefined) {
        return;
    }
    await vscode.workspace.fs.writeFile(target, exportBytes(format, data));
    log.info(`graph exported to ${target.fsPath}`);
}

/** PNG arrives as a data: URI; anything else in that slot is refused rather than written. */
export function exportBytes(format: ExportFormat, data: string): Uint8Array {
    if (format !== 'png') {
        return new TextEncoder().encode(data);
    }
    const prefix = 'data:image/png;base64,';
    if (!data.startsWith(prefix)) {
        throw new Error('PNG export was not a PNG data URI');
    }
    return Buffer.from(data.slice(prefix.length), 'base64');
}

function webviewOptions(
    extensionUri: vscode.Uri,
): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
    };
}
