// The Hosts view: one item per host with its connection state, agent version, mode and
// health. Labels are the ssh aliases, exactly as the user's config names them.
import * as vscode from 'vscode';
import type { FleetConnection } from '../fleetConnection';
import { Commands } from '../ids';
import { hostDescription, hostDetails, type HostState } from '../model/hostState';

const ICONS: Record<HostState['state'], [string, string | undefined]> = {
    connected: ['vm-active', 'testing.iconPassed'],
    connecting: ['loading~spin', undefined],
    reconnecting: ['sync~spin', 'list.warningForeground'],
    unreachable: ['vm-outline', 'list.errorForeground'],
    offline: ['vm-outline', undefined],
};

export class HostsView implements vscode.TreeDataProvider<HostState>, vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<HostState | undefined>();
    readonly onDidChangeTreeData = this.changed.event;
    private readonly disposables: vscode.Disposable[] = [];
    private ticker: NodeJS.Timeout | undefined;

    constructor(private readonly connection: FleetConnection) {
        this.disposables.push(
            this.changed,
            connection.onDidChange(() => this.refresh()),
            connection.onGraph(() => this.refresh()),
        );
    }

    private refresh(): void {
        this.changed.fire(undefined);
        // The countdown of a reconnecting host only moves if the view is redrawn.
        const counting = this.connection.hostStates.some((h) => h.state === 'reconnecting');
        if (counting && !this.ticker) {
            this.ticker = setInterval(() => this.changed.fire(undefined), 1000);
        } else if (!counting && this.ticker) {
            clearInterval(this.ticker);
            this.ticker = undefined;
        }
    }

    getChildren(element?: HostState): HostState[] {
        if (element) return [];
        return this.connection.hostStates.sort((a, b) => a.alias.localeCompare(b.alias));
    }

    getTreeItem(host: HostState): vscode.TreeItem {
        const item = new vscode.TreeItem(host.alias, vscode.TreeItemCollapsibleState.None);
        item.id = `host:${host.alias}`;
        item.description = hostDescription(host);
        // Host-supplied strings are plain text: a MarkdownString would render them.
        item.tooltip = hostDetails(host).join('\n');
        const degraded = host.state === 'connected' && host.status?.health === 'degraded';
        const [icon, color] = degraded ? ['warning', 'list.warningForeground'] : ICONS[host.state];
        item.iconPath = new vscode.ThemeIcon(
            icon,
            color ? new vscode.ThemeColor(color) : undefined,
        );
        item.contextValue = `palisadeHost.${host.state}`;
        if (host.state !== 'connected') {
            item.command = {
                command: Commands.reconnectHost,
                title: 'Reconnect',
                arguments: [host.alias],
            };
        }
        return item;
    }

    dispose(): void {
        clearInterval(this.ticker);
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}
