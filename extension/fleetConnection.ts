// Owns the extension's connections to agents: one SSH session per lab host, all joined in
// one Fleet whose graph is re-published to whoever listens (graph panel, status bar).
import * as vscode from 'vscode';
import type { FleetGraph } from '../agent/protocol';
import { Fleet } from '../agent/fleet/fleet';
import { connectAgentOverSsh } from '../agent/remote/ssh';
import { listHosts, resolveHost } from '../agent/remote/sshConfig';
import { log } from './log';
import { askPassphrase, confirmUnknownHost } from './sshPrompts';

export interface HostFailure {
    host: string;
    error: unknown;
}

export interface ConnectOutcome {
    hosts: string[];
    connected: string[];
    failed: HostFailure[];
}

export interface ConnectProgress {
    report(message: string): void;
}

export class FleetConnection implements vscode.Disposable {
    private readonly graphs = new vscode.EventEmitter<FleetGraph>();
    private readonly changes = new vscode.EventEmitter<void>();
    private fleet = this.newFleet();
    private latest: FleetGraph | undefined;

    /** Every graph the fleet produces, as it arrives. */
    readonly onGraph = this.graphs.event;
    /** The set of connected hosts may have changed. */
    readonly onDidChange = this.changes.event;

    get latestGraph(): FleetGraph | undefined {
        return this.latest;
    }

    /** Hosts with a live agent session. */
    get connectedHosts(): string[] {
        return this.fleet.hosts().filter((host) => this.fleet.client(host) !== undefined);
    }

    /** Hosts the fleet tracks, connected or not. */
    get knownHosts(): string[] {
        return this.fleet.hosts();
    }

    /**
     * Connects to every host of the lab's ssh config in parallel. A host that fails is kept
     * in the fleet as unreachable so the graph shows why; it never stops the others.
     */
    async connectLab(
        configPath: string,
        progress: ConnectProgress,
        token: vscode.CancellationToken,
    ): Promise<ConnectOutcome> {
        const hosts = listHosts(configPath);
        log.info(`connecting to ${hosts.length} lab hosts from ${configPath}: ${hosts.join(', ')}`);

        const outcome: ConnectOutcome = { hosts, connected: [], failed: [] };
        await Promise.all(
            hosts.map(async (host) => {
                const error = await this.connectHost(host, configPath, token);
                if (error === undefined) {
                    outcome.connected.push(host);
                } else {
                    outcome.failed.push({ host, error });
                }
                progress.report(
                    `${outcome.connected.length + outcome.failed.length}/${hosts.length}`,
                );
            }),
        );
        this.changes.fire();
        return outcome;
    }

    /** Returns the error, or undefined when the host is connected. */
    private async connectHost(
        host: string,
        configPath: string,
        token: vscode.CancellationToken,
    ): Promise<unknown> {
        if (this.fleet.client(host) !== undefined) {
            return undefined;
        }
        try {
            const target = resolveHost(host, configPath);
            const client = await connectAgentOverSsh(target, {
                onUnknownHost: confirmUnknownHost,
                passphrase: askPassphrase,
                log: (message) => log.debug(`ssh ${host}: ${message}`),
            });
            // ssh2 cannot abort a handshake, so a cancelled connect is closed once it lands.
            if (token.isCancellationRequested) {
                client.close();
                return new vscode.CancellationError();
            }
            await this.fleet.add(host, client);
        } catch (err) {
            log.error(`${host}: connect failed`, err);
            this.fleet.addUnreachable(host, err);
            return err;
        }

        const problem = this.fleet
            .graph()
            .hosts.find((h) => h.name === host && h.health === 'unreachable');
        if (this.fleet.client(host) === undefined || problem !== undefined) {
            const reason = problem?.problems.join('; ') ?? 'connection closed';
            log.error(`${host}: agent did not answer: ${reason}`);
            return new Error(reason);
        }
        log.info(`${host}: connected`);
        return undefined;
    }

    disconnect(): void {
        const hosts = this.fleet.hosts();
        this.fleet.dispose();
        this.fleet = this.newFleet();
        this.latest = { hosts: [], edges: [], generatedAt: Date.now() };
        this.graphs.fire(this.latest);
        this.changes.fire();
        log.info(`disconnected from ${hosts.length} hosts`);
    }

    dispose(): void {
        this.fleet.dispose();
        this.graphs.dispose();
        this.changes.dispose();
    }

    private newFleet(): Fleet {
        const fleet = new Fleet({ log: (message) => log.warn(message) });
        fleet.onGraph((graph) => {
            this.latest = graph;
            this.graphs.fire(graph);
            // A closed session shows up first as a new graph; the host count follows it.
            this.changes.fire();
        });
        return fleet;
    }
}
