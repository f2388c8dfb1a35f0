// The agent: datapath events → identities → flows and links, served over JSON-RPC.
import * as os from 'node:os';
import { Datapath } from './bpf/datapath';
import { Counter, FlowEvent, Outcome } from './bpf/layout';
import { DnsObserver } from './dnsObserver';
import { FlowHistory } from './flowHistory';
import { FlowTable } from './flows';
import { allProbed, Probe, probeOf, runCanary } from './health';
import { IdentityResolver } from './identity/resolver';
import type { Logger } from './log';
import { PolicyEngine } from './policy/engine';
import { cgroupIdOf, listHostCgroups } from './policy/hostCgroups';
import {
    AgentStatus,
    ApplyParams,
    AuditParams,
    FlowsParams,
    Methods,
    Notifications,
    PolicyMethods,
    PolicyNotifications,
    PROTOCOL_VERSION,
    ReplayParams,
} from './protocol';
import { RpcServer, startRpcServer } from './rpc/server';
import { seedKernel } from './seed';

export const VERSION = '0.1.0';
/** A crash loses at most this much of the flow history. */
const HISTORY_SAVE_MS = 5000;
const IPPROTO_TCP = 6;

export interface AgentOptions {
    host: string;
    zone: string;
    objectPath: string;
    cgroupMount: string;
    cgroupPath: string;
    pinDir: string;
    socketPath: string;
    stateDir: string;
    log: Logger;
    /** How often the canary re-proves the hooks are effective. */
    healthIntervalMs?: number;
    /** The host's resolv.conf, for its search domains (default /etc/resolv.conf). */
    resolvConf?: string;
    /** How long an address keeps its DNS name past the answer's TTL (default 10 min). */
    dnsGraceMs?: number;
}

export class Agent {
    private datapath!: Datapath;
    private rpc!: RpcServer;
    private engine!: PolicyEngine;
    private dns!: DnsObserver;
    private history: FlowHistory | undefined;
    private readonly table: FlowTable;
    private readonly resolver: IdentityResolver;
    private readonly timers: NodeJS.Timeout[] = [];
    private canary: { pid: number; seen: Set<Probe>; done: () => void } | undefined;
    private readonly canaryPids = new Set<number>();
    private canaryRunning = false;
    private problems: string[] = [];
    private identityMisses = 0;
    private readonly startedAt = Date.now();

    constructor(private readonly opts: AgentOptions) {
        this.table = new FlowTable(opts.host);
        this.resolver = new IdentityResolver({
            host: opts.host,
            zone: opts.zone,
            cgroupMount: opts.cgroupMount,
            cgroupRoot: opts.cgroupPath,
            seedAtStart: false,
        });
    }

    async start(): Promise<void> {
        try {
            await this.startSteps();
        } catch (err) {
            await this.stop();
            throw err;
        }
    }

    private async startSteps(): Promise<void> {
        const { log } = this.opts;
        this.datapath = Datapath.open({
            objectPath: this.opts.objectPath,
            cgroupPath: this.opts.cgroupPath,
            pinDir: this.opts.pinDir,
            log: log.child('bpf'),
        });
        // Everything that ran before us: named from /proc, and given kernel program hashes
        // so that policy matches it.
        const seeded = seedKernel(this.datapath, this.resolver.seed().processes);
        log.info('seeded pre-existing processes', { seeded });

        this.dns = new DnsObserver(
            this.opts.resolvConf ?? '/etc/resolv.conf',
            log.child('dns'),
            this.opts.dnsGraceMs,
        );
        this.engine = new PolicyEngine({
            stateDir: this.opts.stateDir,
            host: this.opts.host,
            zone: this.opts.zone,
            datapath: this.datapath,
            hostCgroups: () => listHostCgroups(this.opts.cgroupPath),
            cgroupIdOf: (rel) => cgroupIdOf(this.opts.cgroupPath, rel),
            dnsAddresses: (pattern, cgroups) => this.dns.addressesOf(pattern, Date.now(), cgroups),
            log: log.child('policy'),
            onAlert: (a) => this.rpc?.broadcast(PolicyNotifications.alert, a),
            onAudit: (r) => this.rpc?.broadcast(PolicyNotifications.audit, r),
        });
        this.engine.load();
        this.history = new FlowHistory(this.opts.stateDir, this.opts.host, this.table, log);
        log.info('restored recorded flows', { flows: this.history.load() });
        this.datapath.onEvent((ev) => this.onFlowEvent(ev));
        // The kernel judges the first connection after an answer by name itself; the
        // answered addresses reach its rules with the next refresh, within a second.
        this.datapath.onDns((ev) => this.dns.handle(ev, Date.now()));

        this.rpc = await startRpcServer(
            this.opts.socketPath,
            {
                [Methods.status]: () => this.status(),
                [Methods.flows]: (p) => {
                    const params = (p ?? {}) as FlowsParams;
                    return this.table.flows(
                        params.after ?? 0,
                        Math.min(params.limit ?? 1000, 10_000),
                    );
                },
                [Methods.links]: () => this.table.links(),
                [PolicyMethods.apply]: (p) => this.engine.apply(p as ApplyParams),
                [PolicyMethods.list]: () => this.engine.list(),
                [PolicyMethods.replay]: (p) =>
                    this.engine.replay(p as ReplayParams, this.table.flows(0, Infinity)),
                [PolicyMethods.alerts]: () => this.engine.alerts.list(),
                [PolicyMethods.audit]: (p) => this.engine.audit.read((p ?? {}) as AuditParams),
            },
            Methods.subscribe,
            log.child('rpc'),
        );

        // Kernel counters and change notifications, batched once a second.
        this.every(1000, () => {
            this.datapath.drain();
            this.table.refresh(
                (raw) => this.datapath.flowStats(raw),
                Date.now(),
                (raw) => this.datapath.forgetFlow(raw),
                (address) => this.dns.touch(address, Date.now()),
            );
            this.dns.prune(Date.now());
            this.engine.refresh();
            const changed = this.table.takeChanged();
            if (changed.length > 0) {
                this.rpc.broadcast(Notifications.linksChanged, {
                    host: this.opts.host,
                    links: changed,
                });
            }
        });
        this.every(HISTORY_SAVE_MS, () => this.history?.save());
        await this.checkHealth();
        this.every(this.opts.healthIntervalMs ?? 60_000, () => void this.checkHealth());
    }

    private every(ms: number, fn: () => void): void {
        const t = setInterval(fn, ms);
        t.unref();
        this.timers.push(t);
    }

    private onFlowEvent(ev: FlowEvent): void {
        const { key } = ev;
        // The canary's own events prove the hooks; they are not flows.
        if (this.canaryPids.has(key.tgid)) {
            const probe = probeOf(key.direction, key.proto, key.port);
            if (probe && this.canary?.pid === key.tgid) {
                this.canary.seen.add(probe);
                if (allProbed(this.canary.seen)) this.canary.done();
            }
            return;
        }

        const resolved = this.resolver.resolve(ev);
        if (resolved.miss) this.identityMisses++;
        const direction = key.direction === 1 ? 'ingress' : 'egress';
        const protocol = key.proto === IPPROTO_TCP ? 'tcp' : 'udp';
        const remoteName =
            direction === 'egress' ? this.dns.nameOf(key.address, Date.now()) : undefined;
        if (ev.outcome !== Outcome.observed) {
            this.engine.decide({
                outcome: ev.outcome,
                rule: ev.rule,
                direction,
                protocol,
                cgroupId: ev.cgroupId,
                local: resolved.identity,
                remoteAddress: key.address,
                ...(remoteName ? { remoteName } : {}),
                ...(direction === 'ingress' ? { remotePort: ev.remotePort } : {}),
                port: key.port,
                pid: resolved.pid,
                at: Date.now(),
            });
            // A refused inbound attempt never became a connection: it is audit, not a flow.
            // An admitted one (allowed, or would-deny under monitor) is both: the kernel
            // reports a governed server's connections here, not again when established.
            if (direction === 'ingress' && ev.outcome === Outcome.deny) return;
        }
        this.table.add({
            direction,
            protocol,
            local: resolved.identity,
            pid: resolved.pid,
            startNs: resolved.startNs,
            ...(resolved.kernelProgram ? { kernelProgram: resolved.kernelProgram } : {}),
            remoteAddress: key.address,
            ...(remoteName ? { remoteName } : {}),
            port: key.port,
            kernelKey: key.raw,
            count: 1,
            at: Date.now(),
        });
    }

    private async checkHealth(): Promise<void> {
        // One canary at a time: a slow one must not be overtaken by the next interval's.
        if (this.canaryRunning) return;
        this.canaryRunning = true;
        try {
            await this.runHealthCheck();
        } finally {
            this.canaryRunning = false;
        }
    }

    private async runHealthCheck(): Promise<void> {
        const result = await runCanary(
            this.opts.cgroupPath,
            (pid, timeoutMs) =>
                new Promise<Set<Probe>>((resolve) => {
                    const seen = new Set<Probe>();
                    this.canaryPids.add(pid);
                    const finish = () => {
                        clearTimeout(timer);
                        this.canary = undefined;
                        resolve(seen);
                    };
                    const timer = setTimeout(finish, timeoutMs);
                    this.canary = { pid, seen, done: finish };
                }),
        );
        // Canary pids are ignored only while their canary runs: the pid may be reused later.
        this.canaryPids.clear();
        const before = this.problems.join();
        this.problems = result.ok ? [] : [result.problem ?? 'self-check failed'];
        if (this.problems.join() !== before) {
            if (result.ok) this.opts.log.info('self-check passed: hooks are effective');
            else this.opts.log.error('degraded: not observing', { problem: result.problem });
        }
    }

    status(): AgentStatus {
        const k = this.datapath.counters();
        return {
            protocolVersion: PROTOCOL_VERSION,
            version: VERSION,
            host: this.opts.host,
            zone: this.opts.zone,
            addresses: hostAddresses(),
            cgroup: this.opts.cgroupPath,
            pinDir: this.opts.pinDir,
            health: this.problems.length === 0 ? 'ok' : 'degraded',
            problems: [...this.problems],
            attached: [...this.datapath.attached],
            startedAt: this.startedAt,
            counters: {
                events: k[Counter.events] ?? 0,
                lostEvents: k[Counter.ringFull] ?? 0,
                identityMisses: this.identityMisses,
                dns: this.dns.stats(),
                decisions: {
                    allow: k[Counter.allow] ?? 0,
                    wouldDeny: k[Counter.wouldDeny] ?? 0,
                    deny: k[Counter.deny] ?? 0,
                },
                flows: this.table.flowCount,
                links: this.table.linkCount,
            },
        };
    }

    async stop(): Promise<void> {
        for (const t of this.timers) clearInterval(t);
        this.history?.save();
        this.engine?.stop();
        await this.rpc?.close();
        // With a policy applied, the pinned programs and maps stay: a firewall must not open
        // up because its agent restarts. Without one, a stop leaves nothing behind.
        this.datapath?.close({ keepPins: this.engine?.hasPolicy() ?? false });
    }
}

function hostAddresses(): string[] {
    const out: string[] = [];
    for (const list of Object.values(os.networkInterfaces())) {
        for (const a of list ?? []) out.push(a.address);
    }
    return out;
}
