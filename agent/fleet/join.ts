// Joins what each agent saw into one graph. Every agent sees only its half of a connection:
// the client's host knows the process that connected, the server's host the process that
// accepted. Addresses let us pair the halves; the result names both ends by identity and
// draws each connection once. Pure and synchronous so the CLI, extension and tests share it.
import type {
    AgentStatus,
    FleetEdge,
    FleetGraph,
    FleetHost,
    HostLink,
    Identity,
    Protocol,
} from '../protocol';
import { externalFor, identityKey } from './identity';

export interface HostView {
    status: AgentStatus;
    links: HostLink[];
}

interface Ingress {
    link: HostLink;
    host: number;
    remote: string;
    consumed: boolean;
}

interface EdgeAcc extends FleetEdge {
    clientCount: number;
    serverCount: number;
}

export function joinFleet(hosts: HostView[], unreachable: FleetHost[] = []): FleetGraph {
    const ownAddresses = hosts.map((h) => new Set(h.status.addresses.map(normalizeAddress)));
    const hostOf = new Map<string, number>();
    ownAddresses.forEach((set, i) => {
        for (const a of set) if (!isLoopback(a) && !hostOf.has(a)) hostOf.set(a, i);
    });

    // Which host an address seen from host `from` belongs to (loopback stays on `from`).
    const locate = (address: string, from: number): number | undefined =>
        isLoopback(address) || ownAddresses[from]?.has(address) ? from : hostOf.get(address);

    const ingressByPort = new Map<string, Ingress[]>();
    hosts.forEach((h, i) => {
        for (const link of h.links) {
            if (link.direction !== 'ingress') continue;
            const k = `${i}/${link.protocol}/${link.port}`;
            const list = ingressByPort.get(k) ?? [];
            list.push({
                link,
                host: i,
                remote: normalizeAddress(link.remoteAddress),
                consumed: false,
            });
            ingressByPort.set(k, list);
        }
    });

    const edges = new Map<string, EdgeAcc>();
    const add = (client: Identity, server: Identity, link: HostLink, half: 'client' | 'server') =>
        addEdge(edges, client, server, link, half);

    hosts.forEach((h, a) => {
        for (const link of h.links) {
            if (link.direction !== 'egress') continue;
            const address = normalizeAddress(link.remoteAddress);
            const b = locate(address, a);
            if (b === undefined) {
                add(link.local, externalFor(address, link.remoteName), link, 'client');
                continue;
            }

            const candidates = ingressByPort.get(`${b}/${link.protocol}/${link.port}`) ?? [];
            const fromA = candidates.filter((c) => locate(c.remote, b) === a);
            const fromStranger = candidates.filter((c) => locate(c.remote, b) === undefined);
            const chosen = newest(fromA) ?? newest(fromStranger) ?? newest(candidates);
            if (!chosen) {
                add(link.local, externalFor(address, link.remoteName), link, 'client');
                continue;
            }
            // An ingress half from another known host belongs to that host's own egress; only
            // halves from A, or from addresses nobody claims (NAT), are this connection's.
            if (locate(chosen.remote, b) !== a && locate(chosen.remote, b) !== undefined) {
                add(link.local, chosen.link.local, link, 'client');
                continue;
            }
            chosen.consumed = true;
            add(link.local, chosen.link.local, link, 'client');
            add(link.local, chosen.link.local, chosen.link, 'server');
        }
    });

    for (const list of ingressByPort.values()) {
        for (const half of list) {
            if (half.consumed) continue;
            const origin = locate(half.remote, half.host);
            const client: Identity =
                origin === undefined
                    ? externalFor(half.remote)
                    : {
                          kind: 'unknown',
                          reason: 'unattributed',
                          host: hosts[origin]?.status.host ?? '',
                      };
            add(client, half.link.local, half.link, 'server');
        }
    }

    const fleetHosts: FleetHost[] = hosts.map((h) => ({
        name: h.status.host,
        addresses: h.status.addresses,
        health: h.status.health,
        problems: h.status.problems,
    }));
    return {
        hosts: [...fleetHosts, ...unreachable],
        edges: [...edges.values()]
            .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
            .map(({ clientCount, serverCount, ...edge }) => ({
                ...edge,
                count: clientCount > 0 ? clientCount : serverCount,
                // Sorted as the webview merges it: in any other order an update of the edge
                // would not read as mergeable, and the extension would send a snapshot.
                seenBy: edge.seenBy.sort(),
            })),
        generatedAt: Date.now(),
    };
}

export function edgeId(
    client: Identity,
    server: Identity,
    protocol: Protocol,
    port: number,
): string {
    return `${identityKey(client)} -> ${identityKey(server)} ${port}/${protocol}`;
}

function addEdge(
    edges: Map<string, EdgeAcc>,
    client: Identity,
    server: Identity,
    link: HostLink,
    half: 'client' | 'server',
): void {
    const id = edgeId(client, server, link.protocol, link.port);
    let edge = edges.get(id);
    if (!edge) {
        edge = {
            id,
            client,
            server,
            protocol: link.protocol,
            port: link.port,
            count: 0,
            clientCount: 0,
            serverCount: 0,
            firstSeen: link.firstSeen,
            lastSeen: link.lastSeen,
            seenBy: [],
        };
        edges.set(id, edge);
    }
    if (half === 'client') edge.clientCount += link.count;
    else edge.serverCount += link.count;
    edge.firstSeen = Math.min(edge.firstSeen, link.firstSeen);
    edge.lastSeen = Math.max(edge.lastSeen, link.lastSeen);
    if (!edge.seenBy.includes(link.host)) edge.seenBy.push(link.host);
}

function newest(list: Ingress[]): Ingress | undefined {
    let best: Ingress | undefined;
    for (const c of list) {
        if (
            !best ||
            c.link.lastSeen > best.link.lastSeen ||
            (c.link.lastSeen === best.link.lastSeen && c.link.key < best.link.key)
        ) {
            best = c;
        }
    }
    return best;
}

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower case. */
export function normalizeAddress(address: string): string {
    let a = address.trim().toLowerCase();
    const zone = a.indexOf('%');
    if (zone >= 0) a = a.slice(0, zone);
    const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped?.[1]) return mapped[1];
    if (!a.includes(':')) return a;
    try {
        return new URL(`http://[${a}]/`).hostname.slice(1, -1);
    } catch {
        return a;
    }
}

export function isLoopback(address: string): boolean {
    return /^127\./.test(address) || address === '::1' || address === '0.0.0.0' || address === '::';
}
