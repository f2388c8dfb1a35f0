import { describe, expect, it } from 'vitest';
import { identityKey, identityLabel } from '../../agent/fleet/identity';
import { joinFleet, normalizeAddress, type HostView } from '../../agent/fleet/join';
import type {
    AgentStatus,
    Direction,
    HostLink,
    Identity,
    ProcessIdentity,
} from '../../agent/protocol';

function proc(host: string, binary: string, extra: Partial<ProcessIdentity> = {}): ProcessIdentity {
    return {
        kind: 'process',
        zone: 'lab',
        host,
        binary,
        user: 'root',
        uid: 0,
        cgroup: '/',
        ...extra,
    };
}

function status(host: string, addresses: string[]): AgentStatus {
    return {
        protocolVersion: 1,
        version: 'test',
        host,
        zone: 'lab',
        addresses: ['127.0.0.1', '::1', ...addresses],
        cgroup: '/',
        pinDir: '/sys/fs/bpf/palisade',
        health: 'ok',
        problems: [],
        attached: [],
        startedAt: 0,
        counters: { events: 0, lostEvents: 0, identityMisses: 0, flows: 0, links: 0 },
    };
}

let seq = 0;
function link(
    host: string,
    direction: Direction,
    local: Identity,
    remoteAddress: string,
    port: number,
    count = 1,
): HostLink {
    seq += 1;
    return {
        key: `${host}-${seq}`,
        host,
        direction,
        protocol: 'tcp',
        local,
        remoteAddress,
        port,
        count,
        firstSeen: 1000 + seq,
        lastSeen: 2000 + seq,
    };
}

const web = proc('web', '/usr/sbin/nginx', { unit: 'nginx.service' });
const api = proc('api', '/usr/bin/node', { script: '/srv/api/server.js', unit: 'api.service' });
const redis = proc('db', '/usr/bin/redis-server', { unit: 'redis.service' });

function edgesOf(hosts: HostView[]) {
    return joinFleet(hosts).edges.map((e) => ({
        from: identityLabel(e.client),
        to: identityLabel(e.server),
        port: e.port,
        count: e.count,
        seenBy: [...e.seenBy].sort(),
    }));
}

describe('joinFleet', () => {
    it('joins the egress half on one host with the ingress half on the other into one edge', () => {
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000, 5)],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '10.0.0.2', 3000, 9)],
            },
        ]);
        expect(edges).toEqual([
            {
                from: 'web/nginx (nginx.service)',
                to: 'api/node server.js (api.service)',
                port: 3000,
                count: 5,
                seenBy: ['api', 'web'],
            },
        ]);
    });

    it('chains three hosts and draws each connection once', () => {
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000)],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [
                    link('api', 'ingress', api, '10.0.0.2', 3000),
                    link('api', 'egress', api, '10.0.0.4', 6379, 7),
                ],
            },
            {
                status: status('db', ['10.0.0.4']),
                links: [link('db', 'ingress', redis, '10.0.0.3', 6379)],
            },
        ]);
        expect(edges.map((e) => `${e.from} -> ${e.to} ${e.port} x${e.count}`).sort()).toEqual([
            'api/node server.js (api.service) -> db/redis-server (redis.service) 6379 x7',
            'web/nginx (nginx.service) -> api/node server.js (api.service) 3000 x1',
        ]);
    });

    it('keeps an egress half whose server host reported nothing as client -> server process on B when B has a listener from anyone, else cidr', () => {
        const noIngress = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000)],
            },
            { status: status('api', ['10.0.0.3']), links: [] },
        ]);
        expect(noIngress.map((e) => e.to)).toEqual(['cidr:10.0.0.3/32']);

        const natted = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000)],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '192.168.9.9', 3000)],
            },
        ]);
        expect(natted).toHaveLength(1);
        expect(natted[0]?.to).toBe('api/node server.js (api.service)');
    });

    it('draws ingress halves from addresses of no known host as cidr -> server', () => {
        const edges = edgesOf([
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '10.9.9.9', 3000, 4)],
            },
        ]);
        expect(edges).toEqual([
            {
                from: 'cidr:10.9.9.9/32',
                to: 'api/node server.js (api.service)',
                port: 3000,
                count: 4,
                seenBy: ['api'],
            },
        ]);
    });

    it('draws egress to addresses of no known host as client -> cidr', () => {
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.200.0.1', 443)],
            },
        ]);
        expect(edges.map((e) => e.to)).toEqual(['cidr:10.200.0.1/32']);
    });

    it('names an address outside the fleet by the DNS name its host saw, one node per name', () => {
        const named = (address: string) => ({
            ...link('web', 'egress', web, address, 443),
            remoteName: { name: 'pay.example', canonical: 'edge.cdn.example' },
        });
        const graph = joinFleet([
            {
                status: status('web', ['10.0.0.2']),
                links: [named('10.200.0.1'), named('10.200.0.2')],
            },
        ]);
        expect(graph.edges).toHaveLength(1);
        expect(graph.edges[0]?.server).toMatchObject({
            kind: 'external',
            name: 'dns:pay.example',
            canonical: 'edge.cdn.example',
        });
        expect(graph.edges[0]?.count).toBe(2);
    });

    it('draws an unmatched ingress half from a known host as an unattributed client on that host', () => {
        const edges = edgesOf([
            { status: status('web', ['10.0.0.2']), links: [] },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '10.0.0.2', 3000)],
            },
        ]);
        expect(edges.map((e) => e.from)).toEqual(['web/? (unattributed)']);
    });

    it('picks the server by address when the same port listens on two hosts', () => {
        const api2 = proc('api2', '/usr/bin/node', { script: '/srv/api/server.js' });
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [
                    link('web', 'egress', web, '10.0.0.3', 3000, 2),
                    link('web', 'egress', web, '10.0.0.5', 3000, 3),
                ],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '10.0.0.2', 3000)],
            },
            {
                status: status('api2', ['10.0.0.5']),
                links: [link('api2', 'ingress', api2, '10.0.0.2', 3000)],
            },
        ]);
        expect(edges.map((e) => `${e.to} x${e.count}`).sort()).toEqual([
            'api/node server.js (api.service) x2',
            'api2/node server.js x3',
        ]);
    });

    it('joins IPv6 halves whatever the spelling of the address', () => {
        const edges = edgesOf([
            {
                status: status('web', ['fd00::2']),
                links: [link('web', 'egress', web, 'FD00:0:0::3', 3000)],
            },
            {
                status: status('api', ['fd00:0000::3']),
                links: [link('api', 'ingress', api, 'fd00::2', 3000)],
            },
        ]);
        expect(edges).toHaveLength(1);
        expect(edges[0]?.to).toBe('api/node server.js (api.service)');
    });

    it('treats IPv4-mapped IPv6 as IPv4', () => {
        expect(normalizeAddress('::ffff:10.0.0.3')).toBe('10.0.0.3');
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000)],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '::ffff:10.0.0.2', 3000)],
            },
        ]);
        expect(edges).toHaveLength(1);
        expect(edges[0]?.seenBy).toEqual(['api', 'web']);
    });

    it('joins loopback connections within one host into a same-host edge', () => {
        const cli = proc('db', '/usr/bin/redis-cli');
        const edges = edgesOf([
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'ingress', web, '127.0.0.1', 6379)],
            },
            {
                status: status('db', ['10.0.0.4']),
                links: [
                    link('db', 'egress', cli, '127.0.0.1', 6379, 3),
                    link('db', 'ingress', redis, '127.0.0.1', 6379, 3),
                ],
            },
        ]);
        expect(edges.filter((e) => e.from.startsWith('db/'))).toEqual([
            {
                from: 'db/redis-cli',
                to: 'db/redis-server (redis.service)',
                port: 6379,
                count: 3,
                seenBy: ['db'],
            },
        ]);
        // web's own loopback ingress never pairs with db's loopback egress.
        expect(edges.find((e) => e.to.startsWith('web/'))?.from).toBe('web/? (unattributed)');
    });

    it('gives edges stable ids made from identity keys, protocol and port', () => {
        const hosts = [
            {
                status: status('web', ['10.0.0.2']),
                links: [link('web', 'egress', web, '10.0.0.3', 3000)],
            },
            {
                status: status('api', ['10.0.0.3']),
                links: [link('api', 'ingress', api, '10.0.0.2', 3000)],
            },
        ];
        const first = joinFleet(hosts).edges[0]?.id;
        const reordered = joinFleet([...hosts].reverse()).edges[0]?.id;
        expect(first).toBe(reordered);
        expect(first).toContain(identityKey(web));
        expect(first).toContain('3000/tcp');
    });

    it('lists unreachable hosts next to reporting ones', () => {
        const graph = joinFleet(
            [{ status: status('web', ['10.0.0.2']), links: [] }],
            [{ name: 'db', addresses: [], health: 'unreachable', problems: ['db: timed out'] }],
        );
        expect(graph.hosts.map((h) => `${h.name}:${h.health}`)).toEqual([
            'web:ok',
            'db:unreachable',
        ]);
    });
});

describe('identityKey', () => {
    it('separates processes that differ in script, user or unit and ignores pid-like fields', () => {
        const base = proc('h', '/usr/bin/node', { script: '/a.js' });
        expect(identityKey(base)).not.toBe(identityKey({ ...base, script: '/b.js' }));
        expect(identityKey(base)).not.toBe(identityKey({ ...base, user: 'app' }));
        expect(identityKey(base)).not.toBe(identityKey({ ...base, unit: 'x.service' }));
        expect(identityKey(base)).toBe(
            identityKey({ ...base, uid: 5, cgroup: '/other', parent: '/bin/sh' }),
        );
    });
});
