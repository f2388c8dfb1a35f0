// "Palisade: Connect to Lab": one SSH session per host of the lab's generated ssh config.
import * as vscode from 'vscode';
import { listHosts } from '../../agent/remote/sshConfig';
import { describeError } from '../../agent/remote/errors';
import type { ConfigWatcher } from '../config';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { connectWithProgress } from './connectHost';

/** Resolves true when at least one host is connected afterwards. */
export async function connectLab(
    connection: FleetConnection,
    config: ConfigWatcher,
): Promise<boolean> {
    const sshConfig = config.current.lab.sshConfig;
    let hosts: string[];
    try {
        hosts = listHosts(sshConfig);
    } catch (err) {
        log.error(`reading lab ssh config ${sshConfig} failed`, err);
        void vscode.window.showErrorMessage(
            `Palisade: cannot read the lab's ssh config: ${describeError(err)}. ` +
                'Is the lab up (Palisade: Lab Up)?',
        );
        return false;
    }
    if (hosts.length === 0) {
        void vscode.window.showErrorMessage(
            `Palisade: no hosts in ${sshConfig}. Is the lab up (Palisade: Lab Up)?`,
        );
        return false;
    }
    await connectWithProgress(connection, hosts, sshConfig, 'lab hosts');
    return connection.connectedHosts.length > 0;
}
