// The Alerts view: owner → app → link, each with its flow count and when it was last seen.
import * as vscode from 'vscode';
import { alertStateLabel } from '../../agent/policy/alerts';
import type { AlertsService } from '../alertsService';
import { Commands } from '../ids';
import {
    ago,
    flowCount,
    isOwnedBy,
    type AlertAppGroup,
    type AlertLinkGroup,
    type AlertOwnerGroup,
} from '../model/alerts';

type Node =
    | { kind: 'owner'; group: AlertOwnerGroup }
    | { kind: 'app'; owner: string; group: AlertAppGroup }
    | { kind: 'link'; app: string; group: AlertLinkGroup };

export class AlertsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<void>();
    readonly onDidChangeTreeData = this.changed.event;
    private readonly subscription: vscode.Disposable;

    constructor(private readonly alerts: AlertsService) {
        this.subscription = alerts.onDidChange(() => this.changed.fire());
    }

    getChildren(node?: Node): Node[] {
        if (!node) return this.alerts.store.groups().map((group) => ({ kind: 'owner', group }));
        switch (node.kind) {
            case 'owner':
                return node.group.apps.map((group) => ({
                    kind: 'app',
                    owner: node.group.owner,
                    group,
                }));
            case 'app':
                return node.group.links.map((group) => ({
                    kind: 'link',
                    app: node.group.app,
                    group,
                }));
            case 'link':
                return [];
        }
    }

    getTreeItem(node: Node): vscode.TreeItem {
        const expanded = vscode.TreeItemCollapsibleState.Expanded;
        switch (node.kind) {
            case 'owner': {
                const mine = isOwnedBy(node.group.owner, this.alerts.me);
                const item = new vscode.TreeItem(node.group.owner, expanded);
                item.id = `owner:${node.group.owner}`;
                item.description = `${flowCount(node.group.count)}${mine ? ' · you' : ''}`;
                item.iconPath = new vscode.ThemeIcon(mine ? 'account' : 'organization');
                return item;
            }
            case 'app': {
                const item = new vscode.TreeItem(node.group.app, expanded);
                item.id = `app:${node.owner}:${node.group.app}`;
                item.description = flowCount(node.group.count);
                item.iconPath = new vscode.ThemeIcon('package');
                return item;
            }
            case 'link':
                return linkItem(node.app, node.group);
        }
    }

    dispose(): void {
        this.subscription.dispose();
        this.changed.dispose();
    }
}

function linkItem(app: string, group: AlertLinkGroup): vscode.TreeItem {
    const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.None);
    item.id = `link:${group.key}`;
    const hosts = [...new Set(group.alerts.map((a) => a.host))].join(', ');
    const seen = `last seen ${ago(group.lastSeen)}`;
    const again = group.alerts.some((a) => a.snoozedAt !== undefined)
        ? ' · snoozed, seen again'
        : '';
    item.description = `${flowCount(group.count)} · ${seen} · ${hosts}${again}`;
    const first = group.alerts[0];
    const rule = first?.rule ?? '';
    // Plain string tooltip: every name in it came from a host.
    item.tooltip = [
        group.label,
        `app ${app}, rule ${rule}, state ${first ? alertStateLabel(first) : '?'}, ` +
            `verdict ${first?.verdict ?? '?'}`,
        `${flowCount(group.count)}, last seen ${new Date(group.lastSeen).toISOString()}`,
        `seen by ${hosts}`,
    ].join('\n');
    const high = group.severity === 'high';
    item.iconPath = new vscode.ThemeIcon(
        high ? 'error' : 'warning',
        new vscode.ThemeColor(high ? 'list.errorForeground' : 'list.warningForeground'),
    );
    item.contextValue = 'palisadeAlert';
    item.command = {
        command: Commands.revealLink,
        title: 'Show in Policy',
        arguments: [app, rule],
    };
    return item;
}
