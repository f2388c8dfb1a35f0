// Graphs for the webview's browser tests and benchmark: the lab's demo app (small, with every
// policy state) and a synthetic fleet of any size, generated from a seed so runs compare.
import type { FleetEdge, FleetGraph, Identity, ProcessIdentity } from '../../agent/protocol';
import { identityKey } from '../../agent/fleet/identity';
import type { GraphAnnotations } from '../../webview/messages';

export function proc(
    host: string,
    binary: string,
    extra: Partial<ProcessIdentity> = {},
): ProcessIdentity {
    return {
        kind: 'process',
        zone: 'lab',
        host,
        binary,
        user: 'app',
        uid: 1000,
        cgroup: '/',
        ...extra,
    };
}

function edge(
    id: string,
    client: Identity,
    server: Identity,
    port: number,
    count: number,
): FleetEdge {
    const now = Date.now();
    return {
        id,
        client,
        server,
        protocol: port === 53 ? 'udp' : 'tcp',
        port,
        count,
        firstSeen: now - 3_600_000,
        lastSeen: now - 1000,
        seenBy: [client.kind === 'process' ? client.host : 'ext'],
    };
}

/** The embedded lab's demo: web → api → redis, a batch job, DNS, an external API, an intruder. */
export function labGraph(): { graph: FleetGraph; annotations: GraphAnnotations } {
    const nginx = proc('web', '/usr/sbin/nginx', { unit: 'nginx.service', user: 'www-data' });
    const api = proc('api', '/usr/bin/node', { script: '/srv/api/server.js', unit: 'api.service' });
    const redis = proc('db', '/usr/bin/redis-server', { unit: 'redis.service', user: 'redis' });
    const batch = proc('batch', '/usr/bin/python3', {
        script: '/opt/jobs/report.py',
        unit: 'report.service',
    });
    const intruder = proc('batch', '/tmp/.x/miner', { user: 'nobody' });
    const dns = proc('api', '/usr/sbin/dnsmasq', { unit: 'dnsmasq.service' });
    const pay: Identity = { kind: 'external', name: 'dns:pay.example.lab', address: '10.213.0.50' };
    const client: Identity = {
        kind: 'external',
        name: 'cidr:10.213.0.1/32',
        address: '10.213.0.1',
    };
    const edges = [
        edge('in', client, nginx, 80, 120),
        edge('web-api', nginx, api, 3000, 118),
        edge('api-db', api, redis, 6379, 950),
        edge('batch-db', batch, redis, 6379, 12),
        edge('intruder-db', intruder, redis, 6379, 3),
        edge('api-pay', api, pay, 443, 40),
        edge('api-dns', api, dns, 53, 41),
    ];
    const hosts = ['web', 'api', 'db', 'batch'].map((name) => ({
        name,
        addresses: [],
        health: name === 'batch' ? ('degraded' as const) : ('ok' as const),
        problems: name === 'batch' ? ['cgroup/sock_ops not attached'] : [],
    }));
    const annotations: GraphAnnotations = {
        edges: {
            in: {
                state: 'allowed',
                mode: 'enforce',
                rule: 'web-ingress',
                policyFile: 'policy/web.palisade.yaml',
            },
            'web-api': {
                state: 'allowed',
                mode: 'enforce',
                rule: 'web-to-api',
                policyFile: 'policy/web.palisade.yaml',
            },
            'api-db': {
                state: 'allowed',
                mode: 'monitor',
                rule: 'api-to-redis',
                policyFile: 'policy/api.palisade.yaml',
            },
            'batch-db': { state: 'alert', mode: 'monitor' },
            'intruder-db': {
                state: 'denied',
                mode: 'enforce',
                rule: 'deny-unknown-db',
                policyFile: 'policy/db.palisade.yaml',
            },
            'api-pay': { state: 'alert', mode: 'monitor' },
            'api-dns': { state: 'snoozed', mode: 'monitor' },
        },
        nodes: {
            'app:web/nginx.service': { mode: 'enforce' },
            'app:api/api.service': { mode: 'monitor' },
            [identityKey(redis)]: { crownJewel: true },
        },
    };
    return { graph: { hosts, edges, generatedAt: Date.now() }, annotations };
}

/** Mulberry32: small, seedable, good enough to spread synthetic edges. */
export function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export interface SyntheticFleet {
    graph: FleetGraph;
    identities: Identity[];
}

/**
 * `nodes` identities (90% processes in 20 hosts × 10 apps, 10% external peers in 20 domains)
 * and `edges` edges between them. Every identity has at least one edge, so all are drawn.
 */
export function syntheticFleet(nodes: number, edges: number, seed = 1): SyntheticFleet {
    const rand = random(seed);
    const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)] as T;
    const identities: Identity[] = [];
    const processes = Math.round(nodes * 0.9);
    for (let i = 0; i < processes; i++) {
        const host = `host-${i % 20}`;
        const app = `app-${Math.floor(i / 20) % 10}.service`;
        identities.push(proc(host, `/opt/${app}/bin/worker-${i}`, { unit: app }));
    }
    for (let i = processes; i < nodes; i++) {
        identities.push({
            kind: 'external',
            name: `dns:svc-${i}.domain-${i % 20}.example`,
            address: `10.213.1.${i % 250}`,
        });
    }
    const hosts = Array.from({ length: 20 }, (_, i) => ({
        name: `host-${i}`,
        addresses: [],
        health: 'ok' as const,
        problems: [],
    }));
    const list: FleetEdge[] = [];
    for (let i = 0; i < edges; i++) {
        // The first pass gives every identity an edge; the rest are random.
        const client =
            i < processes ? (identities[i] as Identity) : pick(identities.slice(0, processes));
        const server = i >= processes && i < nodes ? (identities[i] as Identity) : pick(identities);
        list.push(
            edge(
                `s${i}`,
                client,
                server === client ? pick(identities) : server,
                1000 + (i % 50),
                1 + Math.floor(rand() * 5000),
            ),
        );
    }
    return { graph: { hosts, edges: list, generatedAt: Date.now() }, identities };
}
