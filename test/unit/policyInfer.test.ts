import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../agent/policy/file';
import { renderPolicy } from '../../agent/policy/fileEdit';
import { parseEdgeLog } from '../../agent/policy/flowLog';
import { defaultMembers, inferPolicy } from '../../agent/policy/infer';
import type { FleetEdge, FleetGraph, Identity, ProcessIdentity } from '../../agent/protocol';
import { processOn } from '../fixtures/identities';

function proc(
    host: string,
    unit: string,
    binary: string,
    extra: Partial<ProcessIdentity> = {},
): ProcessIdentity {
    return processOn(host, binary, { unit, ...extra });
}

let n = 0;
function edge(client: Identity, server: Identity, port: number, count = 3): FleetEdge {
    n++;
    return {
        id: `e${n}`,
        client,
        server,
        protocol: 'tcp',
        port,
        count,
        firstSeen: 1000 * n,
        lastSeen: 2000 * n,
        seenBy: ['web'],
    };
}

const redis = proc('db', 'redis.service', '/usr/bin/redis-server');
const api = proc('api', 'api.service', '/usr/bin/node', { script: '/srv/api.js' });
const other = proc('api', 'api.service', '/usr/bin/node', { script: '/srv/other.js' });
const batch = proc('api', 'batch.service', '/usr/bin/redis-cli');
const batchAsNobody = proc('api', 'batch.service', '/usr/bin/redis-cli', {
    user: 'nobody',
    uid: 65534,
});
const sshd = proc('db', 'sshd.service', '/usr/sbin/sshd');

function graph(edges: FleetEdge[]): FleetGraph {
    return { hosts: [], edges, generatedAt: 0 };
}

describe('policy inference', () => {
    it('takes the app from a host name, leaving out infrastructure units', () => {
        const g = graph([
            edge(api, redis, 6379),
            edge({ kind: 'external', name: 'cidr:10.0.0.1/32', address: '10.0.0.1' }, sshd, 22),
        ]);
        expect(defaultMembers(g, 'db')).toEqual([{ host: 'db', unit: 'redis.service' }]);
        expect(defaultMembers(g, 'api')).toEqual([{ host: 'api', unit: 'api.service' }]);
    });

    it('keeps distinct what matters: scripts, binaries, users; merges ports of one pair', () => {
        const g = graph([
            edge(api, redis, 6379),
            edge(api, redis, 6380),
            edge(other, redis, 6379),
            edge(batch, redis, 6379),
            edge(batchAsNobody, redis, 6379),
        ]);
        const p = inferPolicy(g, {
            app: 'db',
            owner: 'dba',
            members: [{ host: 'db', unit: 'redis.service' }],
        });
        expect(p.links).toHaveLength(4);
        const apiLink = p.links.find(
            (l) => 'script' in l.client && l.client.script === '/srv/api.js',
        );
        expect(apiLink?.ports).toEqual([6379, 6380]);
        expect(apiLink?.state).toBe('alert');
        expect(apiLink?.evidence?.flows).toBe(6);
        expect(new Set(p.links.map((l) => l.id)).size).toBe(4);
        // What inference writes is a valid policy file.
        expect(parsePolicy(renderPolicy(p, ' test'), 'x.palisade.yaml').links).toHaveLength(4);
    });

    it('pairs an observed DNS path over UDP with its TCP twin', () => {
        const resolver = {
            kind: 'external' as const,
            name: 'cidr:10.213.0.1/32',
            address: '10.213.0.1',
        };
        const dns = { ...edge(redis, resolver, 53), protocol: 'udp' as const };
        const p = inferPolicy(graph([dns]), {
            app: 'db',
            owner: 'dba',
            members: [{ host: 'db', unit: 'redis.service' }],
        });
        expect(p.links.map((l) => [l.protocol, l.ports, l.server])).toEqual(
            expect.arrayContaining([
                ['udp', [53], { cidr: '10.213.0.1/32' }],
                ['tcp', [53], { cidr: '10.213.0.1/32' }],
            ]),
        );
    });

    it('writes a rotating pool as the name asked for, noting where its CNAME chain ends', () => {
        const pool = (address: string) => ({
            kind: 'external' as const,
            name: 'dns:objects.example',
            canonical: 'pool.cdn.example',
            address,
        });
        const p = inferPolicy(
            graph([edge(api, pool('192.0.2.10'), 443), edge(api, pool('192.0.2.77'), 443)]),
            { app: 'api', owner: 'dev', members: [{ host: 'api', unit: 'api.service' }] },
        );
        const out = p.links.filter((l) => 'dns' in l.server);
        expect(out.map((l) => l.server)).toEqual([{ dns: 'objects.example' }]);
        expect(out[0]?.note).toContain('CNAME chain ends at pool.cdn.example');
    });

    it('writes the exact path the kernel matches when the identity carries a stable key', () => {
        const snap = proc('api', 'api.service', '/snap/tool/current/bin/tool', {
            build: '/snap/tool/42/bin/tool',
        });
        const p = inferPolicy(graph([edge(snap, redis, 6379)]), {
            app: 'db',
            owner: 'dba',
            members: [{ host: 'db', unit: 'redis.service' }],
        });
        expect(p.links[0]?.client).toMatchObject({ binary: '/snap/tool/42/bin/tool' });
    });

    it('finishes on a flow log with an unknown owner, garbled lines and an IPv6 link-local peer', () => {
        const text = readFileSync(
            path.join(__dirname, '../fixtures/policy/flows-odd.jsonl'),
            'utf8',
        );
        const log = parseEdgeLog(text);
        expect(log.skipped).toBe(2);
        const p = inferPolicy(graph(log.edges), {
            app: 'db',
            owner: 'dba',
            members: [{ host: 'db', unit: 'redis.service' }],
        });
        const out = renderPolicy(p, ' from a flow log');
        const back = parsePolicy(out, 'db.palisade.yaml');
        expect(back.links.map((l) => l.client)).toEqual(
            expect.arrayContaining([
                { host: 'web' },
                { cidr: 'fe80::1/128' },
                { cidr: '10.213.0.1/32' },
                expect.objectContaining({ binary: '/usr/bin/node' }),
            ]),
        );
        const unknown = back.links.find(
            (l) => 'host' in l.client && Object.keys(l.client).length === 1,
        );
        expect(unknown?.note).toMatch(/owner unknown \(exited\)/);
        const noteOf = (cidr: string) =>
            back.links.find((l) => 'cidr' in l.client && l.client.cidr === cidr)?.note;
        expect(noteOf('fe80::1/128')).toMatch(/link-local peer \(interface eth0\)/);
        expect(noteOf('10.213.0.1/32')).toMatch(/matched by address only/);
        // The note reaches the file a person reviews, as a field of the link.
        expect(out).toMatch(/note: .*link-local peer/);
    });
});
