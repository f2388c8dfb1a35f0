// The status bar item: connected hosts, the mode of the workspace's policies and the open
// alerts. Clicking opens the graph.
import * as vscode from 'vscode';
import type { AlertsService } from './alertsService';
import type { FleetConnection } from './fleetConnection';
import { Commands, ContextKeys } from './ids';
import type { PolicyIndex } from './policyIndex';

export class ConnectionStatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem(
        'palisade.connection',
        vscode.StatusBarAlignment.Left,
    );
    private readonly subscriptions: vscode.Disposable[];

    constructor(
        private readonly connection: FleetConnection,
        private readonly alerts: AlertsService,
        private readonly policies: PolicyIndex,
    ) {
        this.item.name = 'Palisade';
        this.subscriptions = [
            connection.onDidChange(() => this.update()),
            alerts.onDidChange(() => this.update()),
            policies.onDidChange(() => this.update()),
        ];
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
        const modes = [
            ...new Set(this.policies.all().flatMap((e) => (e.policy ? [e.policy.mode] : []))),
        ];
        const mode = modes.length === 0 ? 'no policy' : modes.length === 1 ? modes[0] : 'mixed';
        const open = this.alerts.store.size;
        const degraded = connected.length < known.length;
        const icon = degraded ? 'warning' : open > 0 ? 'shield' : 'pass';
        this.item.text =
            `$(${icon}) Palisade ${connected.length}/${known.length} · ${mode}` +
            (open > 0 ? ` · $(bell) ${open}` : '');
        this.item.tooltip =
            `Palisade: ${connected.length} of ${known.length} hosts connected; ` +
            `mode ${mode}; ${open} open alerts`;
        this.item.backgroundColor = degraded
            ? new vscode.ThemeColor('statusBarItem.warningBackground')
            : undefined;
        this.item.command = Commands.showGraph;
        this.item.show();
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
        this.item.dispose();
    }
}
