// "Palisade: Connect Host…": pick aliases from the user's ssh config (Include, patterns and
// ProxyJump resolved as ssh does) and connect to their agents.
import * as vscode from 'vscode';
import { describeError } from '../../agent/remote/errors';
import { listHosts } from '../../agent/remote/sshConfig';
import { sshConfigWarnings } from '../../agent/remote/sshConfigCheck';
import type { ConfigWatcher } from '../config';
import type { ConnectOutcome, FleetConnection } from '../fleetConnection';
import { log } from '../log';

const SHOW_LOG = 'Show Log';

export async function connectHost(
    connection: FleetConnection,
    config: ConfigWatcher,
    alias?: string,
): Promise<void> {
    const file = config.current.ssh.configFile;
    const aliases = alias ? [alias] : await pickHosts(connection, file);
    if (!aliases || aliases.length === 0) return;
    reportWarnings(file, aliases);
    await connectWithProgress(connection, aliases, file, aliases.join(', '));
}

async function pickHosts(connection: FleetConnection, file: string): Promise<string[] | undefined> {
    let hosts: string[] = [];
    try {
        hosts = listHosts(file);
    } catch (err) {
        log.warn(`cannot list hosts of ${file}: ${describeError(err)}`);
        void vscode.window.showWarningMessage(`Palisade: ${describeError(err)}`);
    }
    const connected = new Set(connection.connectedHosts);
    const picks = hosts.map((h) => ({
        label: h,
        ...(connected.has(h) ? { description: 'connected' } : {}),
    }));
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
    qp.title = 'Palisade: Connect Host';
    qp.placeholder = `Hosts from ${file}, or type an alias`;
    qp.canSelectMany = false;
    qp.items = picks;
    return new Promise((resolve) => {
        qp.onDidAccept(() => {
            const chosen = qp.selectedItems[0]?.label ?? qp.value.trim();
            resolve(chosen ? [chosen] : undefined);
            qp.hide();
        });
        qp.onDidHide(() => {
            resolve(undefined);
            qp.dispose();
        });
        qp.show();
    });
}

/** Directives Palisade does not implement are shown, never silently skipped. */
function reportWarnings(file: string, aliases: string[]): void {
    let warnings: string[] = [];
    try {
        warnings = sshConfigWarnings(file, aliases).map((w) => w.message);
    } catch (err) {
        warnings = [describeError(err)];
    }
    for (const w of warnings) log.warn(`ssh config: ${w}`);
    if (warnings.length > 0) {
        void vscode.window.showWarningMessage(`Palisade: ${warnings.join(' · ')}`);
    }
}

export async function connectWithProgress(
    connection: FleetConnection,
    aliases: string[],
    file: string,
    what: string,
): Promise<ConnectOutcome> {
    const outcome = await vscode.window.withProgress(
        {
            location: vscode.ProgressLocation.Notification,
            title: `Palisade: connecting to ${what}`,
            cancellable: true,
        },
        (progress, token) =>
            connection.connect(
                aliases,
                file,
                { report: (message) => progress.report({ message }) },
                token,
            ),
    );
    report(outcome);
    return outcome;
}

function report(outcome: ConnectOutcome): void {
    if (outcome.failed.length === 0) {
        void vscode.window.showInformationMessage(
            `Palisade: connected to ${outcome.connected.length} hosts.`,
        );
        return;
    }
    // One line per host keeps the notification short; the log has the full errors.
    const lines = outcome.failed.map(({ host, error }) => `${host}: ${firstLine(error)}`);
    const failed = `${outcome.failed.length} of ${outcome.hosts.length} hosts failed`;
    void showError(`Palisade: ${failed}. ${lines.join(' · ')}`);
}

function firstLine(err: unknown): string {
    const text = describeError(err);
    return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

async function showError(message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, SHOW_LOG)) === SHOW_LOG) {
        log.show();
    }
}
