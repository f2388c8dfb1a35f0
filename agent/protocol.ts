// Types that cross the wire: agent ⇄ CLI ⇄ extension ⇄ webview.
// The agent is the source of truth for what is observed and enforced, so they live here
// and everything else imports them.

import type { LinkState, Mode, Policy, Verdict } from './policy/types';

export const PROTOCOL_VERSION = 1;

/** Who a local process is. IPs and ephemeral ports never appear here. */
export interface ProcessIdentity {
    kind: 'process';
    /** Trust domain: the lab or datacenter name. */
    zone: string;
    host: string;
    /** Absolute path of the program as it was executed (symlink name kept). */
    binary: string;
    /** The file the kernel really mapped, when it differs from `binary` (symlinks). */
    exe?: string;
    /** Script run by an interpreter (`node api.js`, `#!/bin/sh` files), absolute. */
    script?: string;
    /** Binary of the parent process at exec time. */
    parent?: string;
    user: string;
    uid: number;
    /** systemd unit (or lab unit) taken from the cgroup path. */
    unit?: string;
    /** cgroup v2 path relative to the cgroup the agent guards. */
    cgroup: string;
    /** systemd slice holding the unit (`system.slice`). */
    slice?: string;
    /** Container the process runs in, from the runtime's cgroup naming. Varies per instance. */
    container?: ContainerContext;
    /** Kubernetes pod, from kubepods cgroup paths. The uid varies per pod instance. */
    pod?: PodContext;
    /** Exact path when `binary` is a stable key for a path that changes with each build. */
    build?: string;
    /** "Same program, new build": the build this program was first seen as on this host. */
    previousBuild?: string;
    /** SPIFFE-style rendering (see agent/identity/spiffe.ts); compare by fields, not text. */
    spiffe?: string;
}

export interface ContainerContext {
    /** `docker`, `containerd`, `cri-o`, `podman`, `lxc`, or `cri` when only kubepods tells. */
    runtime: string;
    id: string;
}

export interface PodContext {
    uid: string;
    qos: 'guaranteed' | 'burstable' | 'besteffort';
}

/** A peer that is not a process on a host we observe: named by DNS or by address. */
export interface ExternalIdentity {
    kind: 'external';
    /** `dns:name` when a DNS answer named it, else `cidr:addr/len`. */
    name: string;
    address: string;
    /** The end of the CNAME chain, when it differs from the name asked for. */
    canonical?: string;
    /** The answer's TTL has passed; the address keeps its name through the grace period. */
    stale?: boolean;
}

/** What the DNS answers this host saw call a remote address. */
export interface RemoteName {
    /** The name the application asked for (search suffix stripped, lowercase). */
    name: string;
    canonical?: string;
    stale?: boolean;
}

/** The owner of a socket could not be known. Never another live process's name. */
export interface UnknownIdentity {
    kind: 'unknown';
    reason: 'exited' | 'kernel' | 'unattributed';
    host: string;
}

export type Identity = ProcessIdentity | ExternalIdentity | UnknownIdentity;

export type Protocol = 'tcp' | 'udp';
export type Direction = 'egress' | 'ingress';

/**
 * The strings the kernel hashed at exec to name a process instance in policy
 * (bpf/program.bpf.h): paths joined to the working directory but never normalized, and a
 * script only where argv[1] is one. Replay matches recorded flows by these, as the kernel does.
 */
export interface KernelProgram {
    /** The path handed to execve, joined to the working directory when relative. */
    file: string;
    /** The file the kernel mapped. */
    exe: string;
    /** argv[1], joined likewise, unless it is empty or starts with "-". */
    arg?: string;
    /** binfmt_script/misc ran `exe` on `file` (a `#!` file): `file` is the script. */
    shebang?: boolean;
}

/** One observed connection attempt (first sighting of a 5-tuple-less flow key). */
export interface FlowRecord {
    id: number;
    host: string;
    direction: Direction;
    protocol: Protocol;
    /** The local process; for egress the client, for ingress the server. */
    local: Identity;
    pid: number;
    /** Process start time (ns since boot); with pid it names one process instance. */
    startNs: string;
    /** Remote address and the server port (remote for egress, local for ingress). */
    remoteAddress: string;
    /** The DNS name of remoteAddress when this host saw one answer it (egress). */
    remoteName?: RemoteName;
    port: number;
    /** Connections counted in the kernel for this process and destination. */
    count: number;
    firstSeen: number;
    lastSeen: number;
    /** What the kernel names the local process by, when it is a process. */
    kernelProgram?: KernelProgram;
}

/** A flow aggregated by identity on one host: what the graph draws. */
export interface HostLink {
    key: string;
    host: string;
    direction: Direction;
    protocol: Protocol;
    local: Identity;
    remoteAddress: string;
    /** The latest DNS name this host saw for remoteAddress. */
    remoteName?: RemoteName;
    port: number;
    count: number;
    firstSeen: number;
    lastSeen: number;
}

export interface AgentStatus {
    protocolVersion: number;
    version: string;
    host: string;
    zone: string;
    /** Addresses of this host's interfaces, used to join halves of cross-host flows. */
    addresses: string[];
    cgroup: string;
    pinDir: string;
    /** `ok`, or `degraded` with the reasons; never green when hooks are not effective. */
    health: 'ok' | 'degraded';
    problems: string[];
    attached: string[];
    startedAt: number;
    counters: AgentCounters;
}

export interface AgentCounters {
    events: number;
    lostEvents: number;
    /** Flows whose owner could not be named (reported as unknown, never guessed). */
    identityMisses: number;
    flows: number;
    links: number;
    /** DNS messages read; ignored ones (queries, errors, truncated answers) counted apart. */
    dns?: DnsCounters;
    /**
     * Kernel decisions against an applied policy since the pinned maps were made: every
     * connection attempt and datagram, also the repeats that raise no event.
     */
    decisions?: DecisionCounters;
}

export interface DecisionCounters {
    allow: number;
    wouldDeny: number;
    deny: number;
}

export interface DnsCounters {
    messages: number;
    ignored: number;
    /** Addresses that have a name now. */
    addresses: number;
    /** Copies the kernel had to cut: never parsed. */
    truncated: number;
}

/** JSON-RPC method names and shapes. */
export const Methods = {
    status: 'palisade/status',
    flows: 'palisade/flows',
    links: 'palisade/links',
    subscribe: 'palisade/subscribe',
} as const;

export const Notifications = {
    /** Batched link changes for subscribers. */
    linksChanged: 'palisade/linksChanged',
} as const;

export interface FlowsParams {
    /** Only flows with id greater than this. */
    after?: number;
    limit?: number;
}

export interface LinksChangedParams {
    host: string;
    links: HostLink[];
}

/** An edge of the fleet graph: identity to identity, both halves joined. */
export interface FleetEdge {
    id: string;
    client: Identity;
    server: Identity;
    protocol: Protocol;
    port: number;
    count: number;
    firstSeen: number;
    lastSeen: number;
    /** Hosts whose agents saw either half. */
    seenBy: string[];
}

export interface FleetHost {
    name: string;
    addresses: string[];
    health: 'ok' | 'degraded' | 'unreachable';
    problems: string[];
}

export interface FleetGraph {
    hosts: FleetHost[];
    edges: FleetEdge[];
    generatedAt: number;
}

// ---- Policy lifecycle (see agent/policy/types.ts for the policy model) ----

export const PolicyMethods = {
    /** Validate, compile and swap in a policy: all-or-nothing. */
    apply: 'palisade/policy/apply',
    /** Policies applied on this agent. */
    list: 'palisade/policy/list',
    /** What the recorded flows would have met under a proposed policy. */
    replay: 'palisade/policy/replay',
    alerts: 'palisade/alerts',
    audit: 'palisade/audit',
} as const;

export const PolicyNotifications = {
    alert: 'palisade/alert',
    audit: 'palisade/auditRecord',
} as const;

export interface ApplyParams {
    policy: Policy;
    /** Where the policy came from, for messages (file path). */
    source: string;
    /** Addresses of every fleet host, to map server/client identities to addresses. */
    hostAddresses: Record<string, string[]>;
    dryRun?: boolean;
}

export interface ApplyResult {
    app: string;
    applied: boolean;
    /** Kernel map entries the policy compiled to on this host. */
    entries: number;
    warnings: string[];
}

export interface ReplayParams {
    policy: Policy;
    hostAddresses: Record<string, string[]>;
    /** Epoch ms; default: everything recorded. */
    since?: number;
}

export interface ReplayedFlow {
    flow: FlowRecord;
    verdict: Verdict;
    rule?: string;
    /** Why the kernel does not see the flow's program as its identity shows it. */
    note?: string;
}

export interface ReplayResult {
    app: string;
    evaluated: number;
    /** Flows the policy would have dropped under enforce. */
    dropped: ReplayedFlow[];
    lastAlertAt?: number;
}

export interface AuditRecord {
    seq: number;
    at: number;
    host: string;
    app: string;
    mode: Mode;
    verdict: Verdict;
    /** The link id that decided, or `default-deny`. */
    rule: string;
    direction: Direction;
    protocol: Protocol;
    local: Identity;
    remote: Identity;
    /** The fleet host that owns remoteAddress, when one does. */
    remoteHost?: string;
    remoteAddress: string;
    /** The peer's port, for inbound attempts: tells attempts apart. */
    remotePort?: number;
    port: number;
    pid: number;
}

export interface Alert {
    key: string;
    app: string;
    owner: string;
    severity: 'normal' | 'high';
    verdict: Verdict;
    state: LinkState | 'unlisted';
    rule: string;
    direction: Direction;
    protocol: Protocol;
    local: Identity;
    remote: Identity;
    remoteHost?: string;
    remoteAddress: string;
    port: number;
    count: number;
    firstSeen: number;
    lastSeen: number;
    host: string;
    /**
     * The link is snoozed and was seen again: when its snooze took effect on this agent.
     * Alerts from before that are not listed; the file says `snoozed` until someone reviews it.
     */
    snoozedAt?: number;
}

export interface AuditParams {
    since?: number;
    limit?: number;
}
