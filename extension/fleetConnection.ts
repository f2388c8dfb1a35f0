// Owns the extension's connections to agents: one SSH session per host, all joined in one
// Fleet whose graph is re-published to whoever listens. A session that drops is retried
// with backoff; every host's state is kept for the Hosts view.
import * as vscode from 'vscode';
import type { AgentStatus, FleetGraph } from '../agent/protocol';
import { Fleet } from '../agent/fleet/fleet';
import type { AgentClient } from '../agent/remote/agentClient';
import { describeError, isRemoteError } from '../agent/remote/errors';
import { connectAgentOverSsh } from '../agent/remote/ssh';
import { resolveHost } from '../agent/remote/sshConfig';
import { log } from './log';
import { backoffMs, type HostState } from './model/hostState';
import { confirmUnknownHost, PassphraseCache } from './sshPrompts';

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

export interface ClientEvent {
    alias: string;
    client: AgentClient;
}

export class FleetConnection implements vscode.Disposable {
    private readonly graphs = new vscode.EventEmitter<FleetGraph>();
    private readonly changes = new vscode.EventEmitter<void>();
    private readonly sessions = new vscode.EventEmitter<ClientEvent>();
    private readonly states = new Map<string, HostState>();
    private readonly timers = new Map<string, NodeJS.Timeout>();
    private readonly passphrases = new PassphraseCache();
    private fleet = this.newFleet();
    private latest: FleetGraph | undefined;
    private disposed = false;

    /** Every graph the fleet produces, as it arrives. */
    readonly onGraph = this.graphs.event;
    /** A host's state changed (connected, dropped, status refreshed). */
    readonly onDidChange = this.changes.event;
    /** A new agent session is up (first connect or reconnect). */
    readonly onSession = this.sessions.event;

    get latestGraph(): FleetGraph | undefined {
        return this.latest;
    }

    /** Hosts with a live agent session. */
    get connectedHosts(): string[] {
        return this.hostStates.filter((h) => h.state === 'connected').map((h) => h.alias);
    }

    /** Hosts the extension tracks, connected or not. */
    get knownHosts(): string[] {
        return [...this.states.keys()];
    }

    get hostStates(): HostState[] {
        return [...this.states.values()];
    }

    client(alias: string): AgentClient | undefined {
        return this.fleet.client(alias);
    }

    /** Live clients by alias. */
    clients(): Map<string, AgentClient> {
        const out = new Map<string, AgentClient>();
        for (const alias of this.connectedHosts) {
            const c = this.fleet.client(alias);
            if (c) out.set(alias, c);
        }
        return out;
    }

    /** Interface addresses of every connected host, keyed by the agent's hostname. */
    hostAddresses(): Record<string, string[]> {
        const out: Record<string, string[]> = {};
        for (const h of this.states.values()) {
            if (h.status) out[h.status.host] = h.status.addresses;
        }
        return out;
    }

    setModes(alias: string, modes: HostState['modes']): void {
        const state = this.states.get(alias);
        if (!state) return;
        state.modes = modes;
        this.changes.fire();
    }

    /**
     * Connects to the given aliases of one ssh config in parallel. A host that fails is kept
     * as unreachable (and retried) so the views show why; it never stops the others.
     */
    async connect(
        aliases: string[],
        configFile: string,
        progress: ConnectProgress,
        token: vscode.CancellationToken,
    ): Promise<ConnectOutcome> {
        log.info(`connecting to ${aliases.length} hosts from ${configFile}: ${aliases.join(', ')}`);
        const outcome: ConnectOutcome = { hosts: aliases, connected: [], failed: [] };
        await Promise.all(
            aliases.map(async (alias) => {
                const error = await this.connectHost(alias, configFile, token, true);
                if (error === undefined) outcome.connected.push(alias);
                else outcome.failed.push({ host: alias, error });
                progress.report(
                    `${outcome.connected.length + outcome.failed.length}/${aliases.length}`,
                );
            }),
        );
        return outcome;
    }

    /** Returns the error, or undefined when the host is connected. */
    private async connectHost(
        alias: string,
        configFile: string,
        token: vscode.CancellationToken | undefined,
        interactive: boolean,
    ): Promise<unknown> {
        const existing = this.states.get(alias);
        if (existing?.state === 'connected' && this.fleet.client(alias)) return undefined;
        this.clearTimer(alias);
        const state: HostState = {
            alias,
            configFile,
            state: existing?.state === 'reconnecting' ? 'reconnecting' : 'connecting',
            attempt: existing?.attempt ?? 0,
        };
        this.states.set(alias, state);
        this.changes.fire();

        let client: AgentClient;
        let status: AgentStatus;
        try {
            const target = resolveHost(alias, configFile);
            client = await connectAgentOverSsh(target, {
                // A reconnect runs unattended: an unknown key then is refused, not asked.
                onUnknownHost: interactive ? confirmUnknownHost : async () => false,
                passphrase: (file) => this.passphrases.get(file, interactive),
                log: (message) => log.debug(`ssh ${alias}: ${message}`),
            });
            // ssh2 cannot abort a handshake, so a cancelled connect is closed once it lands.
            if (
                token?.isCancellationRequested ||
                this.disposed ||
                this.states.get(alias) !== state
            ) {
                client.close();
                return new vscode.CancellationError();
            }
            status = await client.status();
            await this.fleet.add(alias, client);
        } catch (err) {
            log.error(`${alias}: connect failed`, err);
            // A wrong passphrase must be asked again, not replayed on every retry.
            if (isRemoteError(err) && err.kind === 'auth') this.passphrases.clear();
            this.fleet.addUnreachable(alias, err);
            this.failed(state, err);
            return err;
        }

        state.state = 'connected';
        state.status = status;
        state.attempt = 0;
        delete state.error;
        delete state.retryAt;
        client.onClose((reason) => this.dropped(state, client, reason));
        log.info(`${alias}: connected (agent ${status.version}, ${status.health})`);
        this.sessions.fire({ alias, client });
        this.changes.fire();
        return undefined;
    }

    private failed(state: HostState, err: unknown): void {
        if (this.states.get(state.alias) !== state) return;
        state.state = 'unreachable';
        state.error = describeError(err);
        this.scheduleRetry(state);
    }

    private dropped(state: HostState, client: AgentClient, reason?: Error): void {
        if (this.disposed || this.states.get(state.alias) !== state) return;
        if (
            this.fleet.client(state.alias) !== undefined &&
            this.fleet.client(state.alias) !== client
        ) {
            return;
        }
        log.warn(`${state.alias}: session ended: ${reason ? describeError(reason) : 'closed'}`);
        state.error = reason ? describeError(reason) : 'connection closed';
        this.scheduleRetry(state);
    }

    private scheduleRetry(state: HostState): void {
        state.attempt += 1;
        const delay = backoffMs(state.attempt);
        state.state = 'reconnecting';
        state.retryAt = Date.now() + delay;
        this.clearTimer(state.alias);
        this.timers.set(
            state.alias,
            setTimeout(() => {
                this.timers.delete(state.alias);
                void this.connectHost(state.alias, state.configFile, undefined, false);
            }, delay),
        );
        this.changes.fire();
    }

    private clearTimer(alias: string): void {
        clearTimeout(this.timers.get(alias));
        this.timers.delete(alias);
    }

    /** Refreshes the agent status of every connected host (versions, health). */
    async refreshStatus(): Promise<void> {
        await Promise.all(
            this.hostStates.map(async (state) => {
                const client = this.fleet.client(state.alias);
                if (!client || state.state !== 'connected') return;
                try {
                    state.status = await client.status();
                } catch (err) {
                    log.warn(`${state.alias}: status failed: ${describeError(err)}`);
                }
            }),
        );
        await this.fleet.refresh();
        this.changes.fire();
    }

    /** Closes one host's session (no retry), or all of them. */
    disconnect(alias?: string): void {
        const aliases = alias === undefined ? this.knownHosts : [alias];
        for (const a of aliases) {
            this.clearTimer(a);
            this.states.delete(a);
            this.fleet.remove(a);
        }
        if (alias === undefined) {
            this.fleet.dispose();
            this.fleet = this.newFleet();
            this.latest = { hosts: [], edges: [], generatedAt: Date.now() };
            this.graphs.fire(this.latest);
        }
        this.changes.fire();
        log.info(`disconnected from ${aliases.length} hosts`);
    }

    dispose(): void {
        this.disposed = true;
        for (const alias of [...this.timers.keys()]) this.clearTimer(alias);
        this.fleet.dispose();
        this.passphrases.clear();
        this.graphs.dispose();
        this.changes.dispose();
        this.sessions.dispose();
    }

    private newFleet(): Fleet {
        const fleet = new Fleet({ log: (message) => log.warn(message) });
        fleet.onGraph((graph) => {
            this.latest = graph;
            this.graphs.fire(graph);
        });
        return fleet;
    }
}
