// "Palisade: Deploy Agent…": installs (or upgrades) the agent on a host over SSH, then
// connects to it so the graph fills. Missing prerequisites are listed, all of them.
import * as vscode from 'vscode';
import { deployAgent as deploy } from '../../agent/remote/deploy/deploy';
import { describeError } from '../../agent/remote/errors';
import { connectSsh } from '../../agent/remote/ssh';
import { listHosts, resolveHost } from '../../agent/remote/sshConfig';
import type { ConfigWatcher } from '../config';
import type { FleetConnection } from '../fleetConnection';
import { log } from '../log';
import { confirmUnknownHost, askPassphrase } from '../sshPrompts';

export async function deployAgent(
    connection: FleetConnection,
    config: ConfigWatcher,
    extensionUri: vscode.Uri,
    aliasArg?: string,
): Promise<void> {
    const picked = aliasArg
        ? { alias: aliasArg, file: fileOf(connection, config, aliasArg) }
        : await pickHost(config);
    if (!picked) return;
    const { alias, file } = picked;
    const bundleDir =
        config.current.deploy.bundleDir || vscode.Uri.joinPath(extensionUri, 'dist').fsPath;

    const result = await vscode.window.withProgress(
        {
            location: vscode.ProgressLocation.Notification,
            title: `Palisade: deploying to ${alias}`,
        },
        async (progress) => {
            const conn = await connectSsh(resolveHost(alias, file), {
                onUnknownHost: confirmUnknownHost,
                passphrase: askPassphrase,
                log: (m) => log.debug(`ssh ${alias}: ${m}`),
            });
            try {
                return await deploy(conn, alias, {
                    bundleDir,
                    step: (message) => {
                        progress.report({ message });
                        log.info(`deploy ${alias}: ${message}`);
                    },
                    log: (m) => log.info(m),
                });
            } finally {
                conn.end();
            }
        },
    );
    const what = result.upgraded ? 'upgraded' : 'installed';
    void vscode.window.showInformationMessage(
        `Palisade: agent ${what} on ${alias} (${result.runner}); connecting.`,
    );
    connection.disconnect(alias);
    await connection.connect([alias], file, { report: () => undefined }, token());
}

function fileOf(connection: FleetConnection, config: ConfigWatcher, alias: string): string {
    const known = connection.hostStates.find((h) => h.alias === alias);
    if (known) return known.configFile;
    try {
        if (listHosts(config.current.lab.sshConfig).includes(alias))
            return config.current.lab.sshConfig;
    } catch {
        // No lab: the user's config is the only place left.
    }
    return config.current.ssh.configFile;
}

async function pickHost(
    config: ConfigWatcher,
): Promise<{ alias: string; file: string } | undefined> {
    const items: (vscode.QuickPickItem & { file: string })[] = [];
    for (const [file, source] of [
        [config.current.lab.sshConfig, 'lab'],
        [config.current.ssh.configFile, 'ssh config'],
    ] as const) {
        try {
            for (const alias of listHosts(file))
                items.push({ label: alias, description: source, file });
        } catch (err) {
            log.debug(`deploy: cannot list ${file}: ${describeError(err)}`);
        }
    }
    const pick = await vscode.window.showQuickPick(items, {
        title: 'Palisade: deploy the agent to…',
    });
    return pick ? { alias: pick.label, file: pick.file } : undefined;
}

function token(): vscode.CancellationToken {
    return new vscode.CancellationTokenSource().token;
}
