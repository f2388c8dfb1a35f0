// Collects alerts from every agent session and tells the person about the ones for apps
// they own. Everyone else's alerts stay in the Alerts view, without a notification.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { Alert } from '../agent/protocol';
import { describeError } from '../agent/remote/errors';
import type { ConfigWatcher } from './config';
import type { ClientEvent, FleetConnection } from './fleetConnection';
import { Commands } from './ids';
import { log } from './log';
import { AlertStore, alertLinkLabel, isOwnedBy } from './model/alerts';

export class AlertsService implements vscode.Disposable {
    readonly store = new AlertStore();
    private readonly changed = new vscode.EventEmitter<void>();
    private readonly disposables: vscode.Disposable[] = [this.changed];
    private gitEmail: string | undefined;

    readonly onDidChange = this.changed.event;

    constructor(
        private readonly connection: FleetConnection,
        private readonly config: ConfigWatcher,
    ) {
        this.disposables.push(connection.onSession((event) => void this.attach(event)));
        void readGitEmail().then((email) => {
            this.gitEmail = email;
        });
    }

    /** Who "me" is for notifications: the setting, else `git config user.email`. */
    get me(): string | undefined {
        return this.config.current.alerts.owner || this.gitEmail;
    }

    private async attach({ alias, client }: ClientEvent): Promise<void> {
        const sub = client.onAlert((alert) => this.received(alert));
        const closed = client.onClose(() => {
            sub.dispose();
            closed.dispose();
        });
        this.disposables.push(sub, closed);
        await this.load(alias, client);
    }

    /**
     * Re-reads every connected agent's open alerts: after a push, the agents may have closed
     * some (a link snoozed by editing the file by hand) without telling anyone.
     */
    async reload(): Promise<void> {
        await Promise.all(
            [...this.connection.clients()].map(([alias, client]) => this.load(alias, client)),
        );
    }

    private async load(alias: string, client: ClientEvent['client']): Promise<void> {
        try {
            this.store.replaceHost(
                alias,
                (await client.alerts()).map((a) => ({ ...a, host: a.host || alias })),
            );
            this.changed.fire();
        } catch (err) {
            // Agents from before the policy lifecycle have no alerts method.
            log.debug(`${alias}: alerts unavailable: ${describeError(err)}`);
        }
    }

    private received(alert: Alert): void {
        const isNew = this.store.upsert(alert);
        this.changed.fire();
        if (isNew && isOwnedBy(alert.owner, this.me)) void this.notify(alert);
    }

    private async notify(alert: Alert): Promise<void> {
        const show = 'Show Graph';
        const what =
            alert.severity === 'high'
                ? 'denied link used'
                : alert.snoozedAt !== undefined
                  ? 'snoozed link seen again'
                  : 'new link';
        const text =
            `Palisade: ${what} in ${alert.app} on ${alert.host}: ${alertLinkLabel(alert)}` +
            ` (${alert.verdict})`;
        const pick =
            alert.severity === 'high'
                ? await vscode.window.showErrorMessage(text, show)
                : await vscode.window.showWarningMessage(text, show);
        if (pick === show) await vscode.commands.executeCommand(Commands.showGraph);
    }

    /** A link was reviewed: its alerts are closed in the view right away. */
    resolved(app: string, rule: string): void {
        this.store.removeRule(app, rule);
        this.changed.fire();
    }

    dispose(): void {
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}

function readGitEmail(): Promise<string | undefined> {
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return new Promise((resolve) => {
        execFile('git', ['config', 'user.email'], { cwd, timeout: 5000 }, (err, stdout) => {
            resolve(err ? undefined : stdout.trim() || undefined);
        });
    });
}
