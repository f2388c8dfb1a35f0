// The status bar item: how many lab hosts have a live agent session. Clicking opens the graph.
import * as vscode from 'vscode';
import type { FleetConnection } from './fleetConnection';
import { Commands, ContextKeys } from './ids';

export class ConnectionStatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem(
        'palisade.connection',
        vscode.StatusBarAlignment.Left,
    );
    private readonly subscription: vscode.Disposable;

    constructor(private readonly connection: FleetConnection) {
        this.item.name = 'Palisade Connection';
        this.subscription = connection.onDidChange(() => this.update());
        this.update();
    }

    private update(): void {
        const connected = this.connection.connectedHosts;
        const known = this.connection.knownHosts;
        void vscode.commands.executeCommand(
            'setContext',
            ContextKeys.connected,
            connected.length > 0,
        );

        if (known.length === 0) {
            this.item.hide();
            return;
        }
        const degraded = connected.length < known.length;
        const icon = degraded ? 'warning' : 'shield';
        this.item.text = `$(${icon}) Palisade ${connected.length}/${known.length}`;
        this.item.tooltip = `Palisade: ${connected.length} of ${known.length} hosts connected`;
        this.item.backgroundColor = degraded
            ? new vscode.ThemeColor('statusBarItem.warningBackground')
            : undefined;
        this.item.command = Commands.showGraph;
        this.item.show();
    }

    dispose(): void {
        this.subscription.dispose();
        this.item.dispose();
    }
}
