// "Palisade: Connect to Lab": one SSH session per host of the lab's generated ssh config.
import * as vscode from 'vscode';
import { describeError } from '../../agent/remote/errors';
import type { ConfigWatcher } from '../config';
import type { ConnectOutcome, FleetConnection } from '../fleetConnection';
import { log } from '../log';

const SHOW_LOG = 'Show Log';

/** Resolves true when at least one host is connected afterwards. */
export async function connectLab(
    connection: FleetConnection,
    config: ConfigWatcher,
): Promise<boolean> {
    const sshConfig = config.current.lab.sshConfig;
    let outcome: ConnectOutcome;
    try {
        outcome = await vscode.window.withProgress(
            {
                location: vscode.ProgressLocation.Notification,
                title: 'Palisade: connecting to lab hosts',
                cancellable: true,
            },
            (progress, token) =>
                connection.connectLab(
                    sshConfig,
                    { report: (message) => progress.report({ message }) },
                    token,
                ),
        );
    } catch (err) {
        log.error(`connect to lab (${sshConfig}) failed`, err);
        void showError(`Palisade: cannot connect to the lab: ${describeError(err)}`);
        return false;
    }

    report(outcome, sshConfig);
    return connection.connectedHosts.length > 0;
}

function report(outcome: ConnectOutcome, sshConfig: string): void {
    if (outcome.hosts.length === 0) {
        void showError(`Palisade: no hosts in ${sshConfig}. Is the lab up (palisade lab up)?`);
        return;
    }
    if (outcome.failed.length === 0) {
        void vscode.window.showInformationMessage(
            `Palisade: connected to ${outcome.connected.length} lab hosts.`,
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
    return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

async function showError(message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, SHOW_LOG)) === SHOW_LOG) {
        log.show();
    }
}
