// Compiles applied policies into the datapath's entries for one host: which cgroups are
// governed (and how), and the rules keyed by cgroup, program, direction, port and peer.
// The same entries drive replay (evaluate.ts), so what replay predicts is what the kernel does.
import { ModeCode, NAME_FAMILY, RuleEntry, VerdictCode, CgroupModeEntry } from '../bpf/layout';
import { addressBytes } from './address';
import { programHash } from './hash';
import {
    EndpointPattern,
    isExternal,
    LinkState,
    Policy,
    PolicyLink,
    ProcessPattern,
} from './types';

const IPPROTO = { tcp: 6, udp: 17 } as const;

export interface HostCgroup {
    id: bigint;
    /** Path relative to the guarded cgroup, e.g. `/redis.service`. */
    path: string;
    unit?: string;
}

export interface CompileContext {
    host: string;
    zone: string;
    hostAddresses: Record<string, string[]>;
    /** The cgroups of this host (below the guarded cgroup). */
    cgroups: HostCgroup[];
    /** The addresses a `dns:` pattern has in answers delivered to these cgroups now. */
    dnsAddresses?: (pattern: string, cgroups: bigint[]) => string[];
    /** The number a `dns:` pattern has in the kernel's pal_dns_patterns, if it can have one. */
    patternId?: (pattern: string) => number | undefined;
}

export interface RuleName {
    app: string;
    link: string;
    state: LinkState;
}

export interface Compiled {
    cgroups: CgroupModeEntry[];
    rules: RuleEntry[];
    /** Rule index → the link it came from (index 0 is never used). */
    names: Map<number, RuleName>;
    /** App id → policy. */
    apps: Map<number, Policy>;
    warnings: string[];
}

const VERDICT: Record<LinkState, number> = {
    allowed: VerdictCode.allow,
    denied: VerdictCode.deny,
    alert: VerdictCode.none,
    snoozed: VerdictCode.none,
};

// When two links compile to the same entry, egress keeps the stricter intent. Ingress sees
// only the peer's address, which an allowed and a denied process on one host share: there
// the allowed link wins (the denied process is refused by its own host's egress rules when
// that host is governed) and a warning says so.
const PRIORITY: Record<0 | 1, Record<number, number>> = {
    0: { [VerdictCode.deny]: 3, [VerdictCode.allow]: 2, [VerdictCode.none]: 1 },
    1: { [VerdictCode.allow]: 3, [VerdictCode.deny]: 2, [VerdictCode.none]: 1 },
};

function matchesHost(p: ProcessPattern, host: string, zone: string): boolean {
    return (p.host === undefined || p.host === host) && (p.zone === undefined || p.zone === zone);
}

/**
 * A cgroup belongs to a unit when the unit is one of its path components: the unit's own
 * cgroup and everything below it. A process that creates a child cgroup (named
 * `x.scope`, say) inside its unit stays governed as that unit.
 */
function inUnit(c: HostCgroup, unit: string | undefined): boolean {
    return unit !== undefined && c.path.split('/').includes(unit);
}

function memberCgroups(policy: Policy, ctx: CompileContext): HostCgroup[] {
    const units = policy.members
        .filter((m) => matchesHost(m, ctx.host, ctx.zone))
        .map((m) => m.unit);
    return ctx.cgroups.filter((c) => units.some((u) => inUnit(c, u)));
}

function isLoopbackOrLinkLocal(a: string): boolean {
    return /^127\./.test(a) || a === '::1' || /^fe80:/i.test(a);
}

interface Peer {
    family: 4 | 6 | typeof NAME_FAMILY;
    addr: Buffer;
    prefix: number;
}

function parseAddress(address: string, prefix?: number): Peer | undefined {
    const a = addressBytes(address);
    if (!a) return undefined;
    return { family: a.family, addr: a.bytes, prefix: prefix ?? (a.family === 4 ? 32 : 128) };
}

/** Addresses a peer pattern stands for, seen from this host. */
/** `at`: the cgroups on this side of the link, whose DNS answers name a `dns:` peer. */
function peers(
    p: EndpointPattern,
    ctx: CompileContext,
    warn: (m: string) => void,
    at: HostCgroup[],
): Peer[] {
    if (isExternal(p)) {
        if (p.cidr) {
            const [addr, len] = p.cidr.split('/');
            const peer = parseAddress(addr ?? '', Number(len));
            if (!peer) warn(`cidr ${p.cidr} is not an address block`);
            return peer ? [peer] : [];
        }
        // The name itself, for answers the kernel reads before we do, and each address
        // the host's resolver answered for it.
        const dns = p.dns ?? '';
        if (/[^\x00-\x7f]/.test(dns)) warn(`dns:${dns}: DNS carries such names as xn-- (punycode)`);
        const answered = (
            ctx.dnsAddresses?.(
                dns,
                at.map((c) => c.id),
            ) ?? []
        )
            .map((a) => parseAddress(a))
            .filter((x): x is Peer => x !== undefined);
        const id = ctx.patternId?.(dns);
        if (id === undefined) return answered;
        const name = Buffer.alloc(16);
        name.writeUInt32LE(id);
        return [{ family: NAME_FAMILY, addr: name, prefix: 128 }, ...answered];
    }
    if (p.host === undefined)
        return [
            { family: 4, addr: Buffer.alloc(4), prefix: 0 },
            { family: 6, addr: Buffer.alloc(16), prefix: 0 },
        ];
    const own = p.host === ctx.host;
    const list = ctx.hostAddresses[p.host];
    if (!list) {
        warn(`host ${p.host} is not in the fleet; its links match nothing`);
        return [];
    }
    // A host's loopback is reachable only from itself.
    return list
        .filter((a) => own || !isLoopbackOrLinkLocal(a))
        .map((a) => parseAddress(a))
        .filter((x): x is Peer => x !== undefined);
}

function programOf(p: EndpointPattern, warn: (m: string) => void): bigint | undefined {
    if (isExternal(p)) return undefined;
    if (!p.binary) {
        if (p.script) warn(`script ${p.script} without binary cannot be matched in the kernel`);
        return 0n;
    }
    if (p.script && !p.script.startsWith('/')) {
        warn(`script "${p.script}" is not a path: the kernel never matches it`);
    }
    return programHash(p.binary, p.script);
}

export function compile(policies: Policy[], ctx: CompileContext): Compiled {
    const out: Compiled = {
        cgroups: [],
        rules: [],
        names: new Map(),
        apps: new Map(),
        warnings: [],
    };
    const entries = new Map<string, RuleEntry>();
    let ruleIndex = 0;

    const add = (r: RuleEntry) => {
        const key = [
            r.cgroupId,
            r.prog,
            r.direction,
            r.proto,
            r.port,
            r.family,
            r.prefix,
            r.addr.toString('hex'),
        ].join('|');
        const prev = entries.get(key);
        const rank = PRIORITY[r.direction];
        if (prev && prev.verdict !== r.verdict && r.direction === 1) {
            out.warnings.push(
                `ingress port ${r.port}: links ${out.names.get(prev.rule)?.link} and ` +
                    `${out.names.get(r.rule)?.link} share a peer address; ` +
                    'the kernel keeps the allowed one',
            );
        }
        if (!prev || (rank[r.verdict] ?? 0) > (rank[prev.verdict] ?? 0)) entries.set(key, r);
    };

    [...policies]
        .sort((a, b) => a.app.localeCompare(b.app))
        .forEach((policy, i) => {
            const app = i + 1;
            out.apps.set(app, policy);
            const warn = (m: string) => out.warnings.push(`${policy.app}: ${m}`);
            const members = memberCgroups(policy, ctx);
            const mode = policy.mode === 'enforce' ? ModeCode.enforce : ModeCode.monitor;
            for (const c of members) out.cgroups.push({ cgroupId: c.id, app, mode });

            const hasUser = policy.links.some(
                (l) =>
                    (!isExternal(l.client) && l.client.user) ||
                    (!isExternal(l.server) && l.server.user),
            );
            // NOTE: the datapath keys rules by cgroup and program, not by account.
            if (hasUser) warn('user fields are kept for review but not enforced in the kernel');
            for (const link of policy.links) {
                const rule = ++ruleIndex;
                out.names.set(rule, { app: policy.app, link: link.id, state: link.state });
                compileLink(link, rule, members, ctx, add, warn);
            }
        });
    out.rules = [...entries.values()];
    return out;
}

function compileLink(
    link: PolicyLink,
    rule: number,
    members: HostCgroup[],
    ctx: CompileContext,
    add: (r: RuleEntry) => void,
    warn: (m: string) => void,
): void {
    const verdict = VERDICT[link.state];
    const proto = IPPROTO[link.protocol];
    const inScope = (p: EndpointPattern) =>
        isExternal(p)
            ? []
            : matchesHost(p, ctx.host, ctx.zone)
              ? members.filter((c) => p.unit === undefined || inUnit(c, p.unit))
              : [];

    // Egress: the client is one of this app's processes on this host.
    const clients = inScope(link.client);
    if (clients.length > 0) {
        const prog = programOf(link.client, warn);
        for (const c of clients) {
            for (const peer of peers(link.server, ctx, warn, [c])) {
                for (const port of link.ports) {
                    add({
                        cgroupId: c.id,
                        prog: prog ?? 0n,
                        direction: 0,
                        proto,
                        port,
                        ...peer,
                        rule,
                        verdict,
                    });
                }
            }
        }
    }

    // Ingress: the server is one of this app's processes on this host.
    for (const c of inScope(link.server)) {
        for (const peer of peers(link.client, ctx, warn, [c])) {
            for (const port of link.ports) {
                add({
                    cgroupId: c.id,
                    prog: 0n,
                    direction: 1,
                    proto,
                    port,
                    ...peer,
                    rule,
                    verdict,
                });
            }
        }
    }
}
