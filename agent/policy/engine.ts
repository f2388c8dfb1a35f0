// Applied policy on one host: validated, compiled, swapped into the datapath in one step,
// persisted under the state directory and re-applied at start. Turns the datapath's
// decisions into audit records and alerts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Datapath } from '../bpf/datapath';
import { encodeNamePattern, NAME_FAMILY, Outcome } from '../bpf/layout';
import { externalFor, identityKey } from '../fleet/identity';
import type { Logger } from '../log';
import type {
    Alert,
    ApplyParams,
    ApplyResult,
    AuditRecord,
    FlowRecord,
    Identity,
    RemoteName,
    ReplayParams,
    ReplayResult,
} from '../protocol';
import { nameMatcher } from '../dns/names';
import { writeAtomic } from '../stateFile';
import { AlertBook, Snooze, Webhooks } from './alerts';
import { AuditLog } from './audit';
import { compile, Compiled, CompileContext, HostCgroup } from './compile';
import { Evaluator } from './evaluate';
import { checkPolicy } from './file';
import { kernelHashes } from './hash';
import type { Policy, Verdict } from './types';

export interface EngineOptions {
    stateDir: string;
    host: string;
    zone: string;
    datapath: Datapath;
    /** The cgroups of this host below the guarded cgroup, read fresh on each call. */
    hostCgroups: () => HostCgroup[];
    /** The local cgroup id of a flow's identity (its cgroup path). */
    cgroupIdOf: (cgroupPath: string) => bigint | undefined;
    /** The addresses a `dns:` pattern has in answers delivered to these cgroups. */
    dnsAddresses: (pattern: string, cgroups: bigint[]) => string[];
    log: Logger;
    onAlert: (a: Alert) => void;
    onAudit: (r: AuditRecord) => void;
}

export interface Decision {
    outcome: number;
    rule: number;
    direction: 'egress' | 'ingress';
    protocol: 'tcp' | 'udp';
    cgroupId: bigint;
    local: Identity;
    remoteAddress: string;
    remoteName?: RemoteName;
    remotePort?: number;
    port: number;
    pid: number;
    at: number;
}

interface Persisted {
    policies: Record<string, { policy: Policy; source: string }>;
    hostAddresses: Record<string, string[]>;
}

const VERDICT: Record<number, Verdict> = {
    [Outcome.allow]: 'allow',
    [Outcome.wouldDeny]: 'would-deny',
    [Outcome.deny]: 'deny',
};

export class PolicyEngine {
    private state: Persisted = { policies: {}, hostAddresses: {} };
    private compiled: Compiled | undefined;
    private fingerprint = '';
    /** pal_dns_patterns: reversed-name key (hex) → number, never reused in a run. */
    private readonly patternIds = new Map<string, number>();
    private nextPatternId = 1;
    readonly audit: AuditLog;
    readonly alerts = new AlertBook();
    private readonly webhooks: Webhooks;
    private readonly file: string;

    constructor(private readonly opts: EngineOptions) {
        fs.mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
        this.file = path.join(opts.stateDir, 'policy.json');
        this.audit = new AuditLog(opts.stateDir);
        this.webhooks = new Webhooks(opts.log.child('webhook'));
    }

    /** Re-applies what was applied before a restart or reboot. */
    load(): void {
        // Pattern numbers the kernel still holds stay theirs: answers already read name them.
        for (const p of this.opts.datapath.namePatterns()) {
            this.patternIds.set(p.key.toString('hex'), p.id);
            this.nextPatternId = Math.max(this.nextPatternId, p.id + 1);
        }
        try {
            this.state = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Persisted;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
                this.opts.log.error('applied policy unreadable; starting with none', {
                    file: this.file,
                    error: String(err),
                });
            }
            return;
        }
        const apps = Object.keys(this.state.policies);
        if (apps.length === 0) return;
        this.swap(this.compileWith(this.state.policies, this.state.hostAddresses));
        this.opts.log.info('re-applied persisted policy', { apps });
    }

    apply(params: ApplyParams): ApplyResult {
        const policy = checkPolicy(params.policy, params.source);
        const policies = {
            ...this.state.policies,
            [policy.app]: { policy, source: params.source },
        };
        const hostAddresses = { ...this.state.hostAddresses, ...params.hostAddresses };
        const compiled = this.compileWith(policies, hostAddresses);
        const entries = compiled.rules.length + compiled.cgroups.length;
        const warnings = compiled.warnings.filter((w) => w.startsWith(`${policy.app}:`));
        // A file inferred in monitor, applied over an enforced app, would quietly stop drops.
        if (
            this.state.policies[policy.app]?.policy.mode === 'enforce' &&
            policy.mode === 'monitor'
        ) {
            warnings.push(
                `${policy.app}: mode enforce → monitor, as the file says: ` +
                    'nothing of this app is dropped any more',
            );
        }
        if (params.dryRun) return { app: policy.app, applied: false, entries, warnings };

        // Swap, then persist; if persisting fails, the previous policy goes back in, so the
        // kernel and the state that a restart re-applies never disagree.
        const previous = this.compiled;
        const next = { policies, hostAddresses };
        this.swap(compiled);
        try {
            writeAtomic(this.file, JSON.stringify(next, null, 2));
        } catch (err) {
            if (previous) this.swap(previous);
            else this.opts.datapath.swapPolicy([], []);
            throw err;
        }
        this.state = next;
        this.opts.log.info('policy applied', { app: policy.app, mode: policy.mode, entries });
        return { app: policy.app, applied: true, entries, warnings };
    }

    hasPolicy(): boolean {
        return Object.keys(this.state.policies).length > 0;
    }

    list(): { policy: Policy; source: string }[] {
        return Object.values(this.state.policies);
    }

    replay(params: ReplayParams, flows: FlowRecord[]): ReplayResult {
        const proposed = checkPolicy(params.policy, 'replay');
        // Replay asks what enforce would drop, so the proposed app is judged as enforced.
        const policies = {
            ...this.state.policies,
            [proposed.app]: { policy: { ...proposed, mode: 'enforce' as const }, source: 'replay' },
        };
        // A recorded flow keeps the name it had: its address counts for that name even after
        // the answer expired.
        const live = this.opts.dnsAddresses;
        const dnsAddresses = (pattern: string, cgroups: bigint[]) => {
            const matches = nameMatcher(pattern);
            const named = (f: FlowRecord) =>
                [f.remoteName?.name, f.remoteName?.canonical].some(
                    (n) => n !== undefined && matches(n),
                );
            const own = (f: FlowRecord) =>
                f.local.kind === 'process' &&
                cgroups.includes(this.opts.cgroupIdOf(f.local.cgroup) ?? -1n);
            const recorded = flows.filter((f) => named(f) && own(f)).map((f) => f.remoteAddress);
            return [...new Set([...live(pattern, cgroups), ...recorded])];
        };
        const compiled = this.compileWith(
            policies,
            { ...this.state.hostAddresses, ...params.hostAddresses },
            dnsAddresses,
        );
        const evaluator = new Evaluator(compiled);
        const since = params.since ?? 0;
        const result: ReplayResult = {
            app: proposed.app,
            evaluated: 0,
            dropped: [],
            lastAlertAt: this.alerts.lastAlertAt(proposed.app),
        };
        for (const flow of flows) {
            if (flow.lastSeen < since || flow.local.kind !== 'process') continue;
            const cgroupId = this.opts.cgroupIdOf(flow.local.cgroup);
            if (cgroupId === undefined) continue;
            // The hashes the kernel computed at exec, not the identity's names: the identity
            // reads an interpreter's options to find its script, the kernel only argv[1].
            // A flow recorded without them can match only rules for any program.
            const kernel = flow.kernelProgram;
            const e = evaluator.evaluate({
                direction: flow.direction,
                protocol: flow.protocol,
                cgroupId,
                ...(kernel ? { programs: kernelHashes(kernel) } : {}),
                remoteAddress: flow.remoteAddress,
                port: flow.port,
            });
            if (e.outcome === Outcome.observed) continue;
            const name = compiled.names.get(e.rule);
            if (name && name.app !== proposed.app) continue;
            result.evaluated++;
            if (e.outcome === Outcome.deny) {
                const note = flow.direction === 'egress' ? scriptNote(flow) : undefined;
                result.dropped.push({
                    flow,
                    verdict: 'deny',
                    rule: name?.link ?? 'default-deny',
                    ...(note ? { note } : {}),
                });
            }
        }
        return result;
    }

    /**
     * Re-swaps when what the policies compile to on this host changed: a governed unit's
     * cgroup appeared or was recreated (new id), or a `dns:` name got or lost an address.
     * NOTE: cgroups are polled once a second, so a unit started after the policy was applied
     * runs ungoverned until then; DNS answers call this as they arrive.
     */
    refresh(): void {
        if (Object.keys(this.state.policies).length === 0) return;
        const compiled = this.compileWith(this.state.policies, this.state.hostAddresses);
        if (fingerprint(compiled) !== this.fingerprint) {
            this.opts.log.info('compiled policy changed on this host; swapping', {
                cgroups: compiled.cgroups.length,
                rules: compiled.rules.length,
            });
            this.swap(compiled);
        }
    }

    /** Audit and alert for one decision the datapath reported. */
    decide(d: Decision): void {
        const verdict = VERDICT[d.outcome];
        const compiled = this.compiled;
        if (!verdict || !compiled) return;
        const name = compiled.names.get(d.rule);
        const app = this.appOf(d.cgroupId, compiled);
        if (!app) return;
        const remoteHost = this.hostOf(d.remoteAddress);
        const remote: Identity = externalFor(d.remoteAddress, d.remoteName);
        // What the audit record and the alert both say about this decision.
        const common = {
            host: this.opts.host,
            app: app.app,
            verdict,
            rule: name?.link ?? 'default-deny',
            direction: d.direction,
            protocol: d.protocol,
            local: d.local,
            remote,
            ...(remoteHost ? { remoteHost } : {}),
            remoteAddress: d.remoteAddress,
            port: d.port,
        };
        const [record] = this.audit.append([
            {
                ...common,
                at: d.at,
                mode: app.mode,
                ...(d.remotePort !== undefined ? { remotePort: d.remotePort } : {}),
                pid: d.pid,
            },
        ]);
        if (record) this.opts.onAudit(record);
        if (verdict === 'allow') return;

        const state = name?.state ?? 'unlisted';
        const key = [
            app.app,
            name?.link ?? '-',
            d.direction,
            identityKey(d.local),
            d.remoteAddress,
            d.port,
        ];
        const { alert, isNew } = this.alerts.raise({
            ...common,
            key: key.join('|'),
            owner: app.owner,
            severity: state === 'denied' ? 'high' : 'normal',
            state,
            at: d.at,
        });
        this.opts.onAlert(alert);
        if (isNew && app.webhook) this.webhooks.send(app.webhook, alert);
    }

    stop(): void {
        this.webhooks.stop();
        this.audit.close();
    }

    private appOf(cgroupId: bigint, compiled: Compiled): Policy | undefined {
        const entry = compiled.cgroups.find((c) => c.cgroupId === cgroupId);
        return entry ? compiled.apps.get(entry.app) : undefined;
    }

    private hostOf(address: string): string | undefined {
        if (/^127\.|^::1$/.test(address)) return this.opts.host;
        for (const [host, list] of Object.entries(this.state.hostAddresses)) {
            if (list.includes(address)) return host;
        }
        return undefined;
    }

    private compileWith(
        policies: Persisted['policies'],
        hostAddresses: Record<string, string[]>,
        dnsAddresses = this.opts.dnsAddresses,
    ): Compiled {
        const ctx: CompileContext = {
            host: this.opts.host,
            zone: this.opts.zone,
            hostAddresses,
            cgroups: this.opts.hostCgroups(),
            dnsAddresses,
            patternId: (pattern) => this.patternId(pattern),
        };
        return compile(
            Object.values(policies).map((p) => p.policy),
            ctx,
        );
    }

    private patternId(pattern: string): number | undefined {
        const key = encodeNamePattern(pattern)?.toString('hex');
        if (key === undefined) return undefined;
        let id = this.patternIds.get(key);
        if (id === undefined) {
            id = this.nextPatternId++;
            this.patternIds.set(key, id);
        }
        return id;
    }

    private swap(compiled: Compiled): void {
        const used = new Set(
            compiled.rules
                .filter((r) => r.family === NAME_FAMILY)
                .map((r) => r.addr.readUInt32LE()),
        );
        const patterns = [...this.patternIds]
            .filter(([, id]) => used.has(id))
            .map(([key, id]) => ({ key: Buffer.from(key, 'hex'), id }));
        this.opts.datapath.swapPolicy(compiled.cgroups, compiled.rules, patterns);
        this.compiled = compiled;
        for (const n of compiled.names.values()) this.alerts.restate(n.app, n.link, n.state);
        this.alerts.snoozed(snoozesOf(compiled), Date.now());
        this.fingerprint = fingerprint(compiled);
        for (const w of compiled.warnings) this.opts.log.warn('policy', { warning: w });
    }
}

/** Every snoozed link of the compiled policies, with the stamp that tells snoozes apart. */
function snoozesOf(compiled: Compiled): Snooze[] {
    return [...compiled.apps.values()].flatMap((p) =>
        p.links
            .filter((l) => l.state === 'snoozed')
            .map((l) => ({ app: p.app, link: l.id, stamp: l.snoozedAt ?? '' })),
    );
}

/** Says so when the kernel does not know a flow's process by the script its identity names. */
function scriptNote(flow: FlowRecord): string | undefined {
    const script = flow.local.kind === 'process' ? flow.local.script : undefined;
    const kernel = flow.kernelProgram;
    if (!script || !kernel || kernel.shebang || kernel.arg === script) return undefined;
    return kernel.arg === undefined
        ? `the kernel knows this process by no script: only argv[1] names one, and here ` +
              `it is an option or missing`
        : `the kernel knows this process by argv[1], ${kernel.arg}, not ${script}`;
}

/** What the datapath holds for a compiled policy, to tell whether a swap changes anything. */
function fingerprint(compiled: Compiled): string {
    const cgroups = compiled.cgroups.map((c) => `${c.cgroupId}:${c.app}:${c.mode}`);
    const rules = compiled.rules.map((r) =>
        [r.cgroupId, r.prog, r.direction, r.proto, r.port, r.addr.toString('hex'), r.prefix]
            .concat([r.rule, r.verdict])
            .join(','),
    );
    return [...cgroups.sort(), ...rules.sort()].join(';');
}
