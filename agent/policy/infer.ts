// Inference: from the fleet graph that was observed to the links of one app, as a policy
// with every link in the `alert` state for a person to review. What varies without meaning
// (ephemeral ports, pids, instance start times) is never in an identity to begin with;
// what matters (binary, script, user, unit, host) stays distinct. A peer that cannot be
// classified becomes an annotated address rule; nothing here throws on odd input.
import type { FleetEdge, FleetGraph, Identity } from '../protocol';
import type { EndpointPattern, Policy, PolicyLink, ProcessPattern } from './types';

export interface AppSelector {
    app: string;
    owner: string;
    /** Processes that belong to the app (unit is required for the kernel). */
    members: ProcessPattern[];
}

/** Units that are infrastructure on every host, not part of an app by default. */
const INFRA_UNITS = new Set(['sshd.service', 'palisade-agent.service']);

/**
 * Default members for `--app NAME`: a unit called NAME(.service) on any host, else every
 * non-infrastructure unit seen on a host called NAME.
 */
export function defaultMembers(graph: FleetGraph, app: string): ProcessPattern[] {
    const procs = graph.edges.flatMap((e) => [e.client, e.server]).flatMap(processOnly);
    const byUnit = procs.filter((p) => p.unit === app || p.unit === `${app}.service`);
    const chosen = byUnit.length > 0 ? byUnit : procs.filter((p) => p.host === app);
    const seen = new Map<string, ProcessPattern>();
    for (const p of chosen) {
        if (!p.unit || INFRA_UNITS.has(p.unit)) continue;
        seen.set(`${p.host}|${p.unit}`, { host: p.host, unit: p.unit });
    }
    return [...seen.values()].sort((a, b) =>
        `${a.host}${a.unit}`.localeCompare(`${b.host}${b.unit}`),
    );
}

function processOnly(id: Identity) {
    return id.kind === 'process' ? [id] : [];
}

function isMember(id: Identity, members: ProcessPattern[]): boolean {
    if (id.kind !== 'process') return false;
    return members.some(
        (m) =>
            (m.host === undefined || m.host === id.host) &&
            (m.unit === undefined || m.unit === id.unit) &&
            (m.binary === undefined || m.binary === id.binary) &&
            (m.user === undefined || m.user === id.user),
    );
}

interface Endpoint {
    pattern: EndpointPattern;
    note?: string;
}

/** The pattern a link names an identity by: every field that makes it a distinct program. */
export function patternOf(id: Identity): Endpoint {
    switch (id.kind) {
        case 'process': {
            const p: ProcessPattern = { host: id.host };
            if (id.unit) p.unit = id.unit;
            // The kernel matches the exact path; a stable key would never match there.
            p.binary = id.build ?? id.binary;
            if (id.script) p.script = id.script;
            p.user = id.user;
            return { pattern: p };
        }
        case 'external': {
            if (id.name.startsWith('dns:')) {
                const name = id.name.slice(4).replace(/:\d+$/, '');
                // The name the application asked for; where its CNAME chain ends is a note.
                return id.canonical !== undefined
                    ? { pattern: { dns: name }, note: `CNAME chain ends at ${id.canonical}` }
                    : { pattern: { dns: name } };
            }
            return { pattern: { cidr: cidrOf(id.address) }, note: addressNote(id.address) };
        }
        case 'unknown':
            return {
                pattern: { host: id.host },
                note: `owner unknown (${id.reason}): matched by host only; review before allowing`,
            };
    }
}

/** Why an address rule is one: a reviewer should know nothing better named the peer. */
function addressNote(address: string): string {
    const [bare = address, zone] = address.split('%');
    if (/^fe[89ab]/i.test(bare)) {
        return (
            `link-local peer (interface ${zone ?? 'unnamed'}): no process or DNS name ` +
            'known, matched by address only'
        );
    }
    return 'no process or DNS name known for this peer: matched by address only';
}

function cidrOf(address: string): string {
    // Zone ids (fe80::1%eth0) name an interface, not part of the address.
    const bare = address.split('%')[0] ?? address;
    return bare.includes(':') ? `${bare}/128` : `${bare}/32`;
}

function shortName(e: EndpointPattern): string {
    if ('dns' in e && e.dns) return e.dns;
    if ('cidr' in e && e.cidr) return e.cidr.replace(/[/:]/g, '-');
    const p = e as ProcessPattern;
    const prog = (p.script ?? p.binary ?? p.unit ?? 'any').split('/').pop() ?? 'any';
    return `${p.host ?? 'any'}-${prog}`;
}

function linkId(client: EndpointPattern, server: EndpointPattern, used: Set<string>): string {
    const base =
        `${shortName(client)}-to-${shortName(server)}`
            .toLowerCase()
            .replace(/[^a-z0-9._-]+/g, '-')
            .replace(/^[^a-z0-9]+/, '')
            .slice(0, 90) || 'link';
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
}

function iso(ms: number): string | undefined {
    return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/**
 * Resolvers answer large or truncated responses over TCP: a policy that allows only the UDP
 * half of an observed DNS path breaks name resolution on the first big answer, and with it
 * everything else.
 */
function addDnsTcpTwins(links: PolicyLink[], used: Set<string>): void {
    for (const l of [...links]) {
        if (l.protocol !== 'udp' || !l.ports.includes(53)) continue;
        const twin = links.some(
            (o) =>
                o.protocol === 'tcp' &&
                o.ports.includes(53) &&
                JSON.stringify([o.client, o.server]) === JSON.stringify([l.client, l.server]),
        );
        if (twin) continue;
        links.push({
            id: linkId(l.client, l.server, used),
            client: l.client,
            server: l.server,
            ports: [53],
            protocol: 'tcp',
            state: 'alert',
            note: 'DNS over TCP to the resolver seen over UDP: answers that do not fit UDP use it',
        });
    }
}

export function inferPolicy(graph: FleetGraph, sel: AppSelector): Policy {
    const groups = new Map<string, { edges: FleetEdge[]; client: Endpoint; server: Endpoint }>();
    for (const edge of graph.edges) {
        if (!isMember(edge.client, sel.members) && !isMember(edge.server, sel.members)) continue;
        const client = patternOf(edge.client);
        const server = patternOf(edge.server);
        // Links that differ only by port are one link with a port set.
        const key = JSON.stringify([client.pattern, server.pattern, edge.protocol]);
        const g = groups.get(key) ?? { edges: [], client, server };
        g.edges.push(edge);
        groups.set(key, g);
    }

    const used = new Set<string>();
    const links: PolicyLink[] = [...groups.values()].map((g) => {
        const ports = [...new Set(g.edges.map((e) => e.port))]
            .filter((p) => p > 0)
            .sort((a, b) => a - b);
        const notes = [g.client.note, g.server.note].filter(Boolean);
        const first = Math.min(...g.edges.map((e) => e.firstSeen));
        const last = Math.max(...g.edges.map((e) => e.lastSeen));
        const link: PolicyLink = {
            id: linkId(g.client.pattern, g.server.pattern, used),
            client: g.client.pattern,
            server: g.server.pattern,
            ports: ports.length > 0 ? ports : [1],
            protocol: g.edges[0]?.protocol ?? 'tcp',
            state: 'alert',
            evidence: {
                flows: g.edges.reduce((n, e) => n + e.count, 0),
                ...(iso(first) ? { firstSeen: iso(first) } : {}),
                ...(iso(last) ? { lastSeen: iso(last) } : {}),
                hosts: [...new Set(g.edges.flatMap((e) => e.seenBy))].sort(),
            },
        };
        if (notes.length > 0) link.note = notes.join('; ');
        return link;
    });
    addDnsTcpTwins(links, used);
    links.sort((a, b) => a.id.localeCompare(b.id));

    return {
        apiVersion: 'palisade.dev/v1',
        kind: 'Policy',
        app: sel.app,
        owner: sel.owner,
        mode: 'monitor',
        members: sel.members,
        links,
    };
}
