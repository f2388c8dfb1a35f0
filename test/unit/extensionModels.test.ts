import { describe, expect, it } from 'vitest';
import type { Alert, AgentStatus, FleetEdge, ProcessIdentity } from '../../agent/protocol';
import type { PolicyLink } from '../../agent/policy/types';
import { ago, flowCount, groupAlerts, isOwnedBy } from '../../extension/model/alerts';
import { edgeToLink } from '../../extension/model/edgeToLink';
import { backoffMs, hostDescription } from '../../extension/model/hostState';
import { edgeMatchesLink, linkOverlaps, liveEvidence } from '../../extension/model/linkMatch';

const status = {
    version: '0.1.0',
    health: 'ok',
    problems: [],
} as unknown as AgentStatus;

function proc(host: string, binary: string, unit?: string): ProcessIdentity {
    return {
        kind: 'process',
        zone: 'lab',
        host,
        binary,
        user: 'root',
        uid: 0,
        cgroup: `/${unit ?? 'x'}`,
        ...(unit ? { unit } : {}),
    };
}

const edge: FleetEdge = {
    id: 'e1',
    client: proc('api', '/usr/bin/redis-cli', 'batch.service'),
    server: proc('db', '/usr/bin/redis-server', 'redis.service'),
    protocol: 'tcp',
    port: 6379,
    count: 1204,
    firstSeen: 1000,
    lastSeen: 5000,
    seenBy: ['api', 'db'],
};

function link(id: string, over: Partial<PolicyLink> = {}): PolicyLink {
    return {
        id,
        client: { host: 'api', unit: 'batch.service' },
        server: { host: 'db', binary: '/usr/bin/redis-server' },
        ports: [6379],
        protocol: 'tcp',
        state: 'allowed',
        ...over,
    };
}

describe('host state for the Hosts view', () => {
    it('says connected with agent version, mode and degraded', () => {
        const text = hostDescription({
            alias: 'web',
            configFile: 'c',
            state: 'connected',
            attempt: 0,
            status: { ...status, health: 'degraded' },
            modes: ['monitor'],
        });
        expect(text).toBe('connected · agent 0.1.0 · monitor · degraded');
    });

    it('counts down a reconnect and never says connected while it is not', () => {
        const now = 10_000;
        const text = hostDescription(
            {
                alias: 'db',
                configFile: 'c',
                state: 'reconnecting',
                attempt: 3,
                retryAt: now + 4000,
            },
            now,
        );
        expect(text).toBe('reconnecting in 4 s (attempt 3)');
        expect(text).not.toContain('connected ');
    });

    it('backs off by doubling from 1 s up to the cap, with bounded jitter', () => {
        const mid = () => 0.5;
        expect([1, 2, 3, 4].map((a) => backoffMs(a, 60_000, mid))).toEqual([
            1000, 2000, 4000, 8000,
        ]);
        expect(backoffMs(20, 60_000, mid)).toBe(60_000);
        expect(backoffMs(1, 60_000, () => 0)).toBe(800);
        expect(backoffMs(1, 60_000, () => 1)).toBe(1200);
    });
});

describe('alerts grouped owner → app → link', () => {
    const alert = (over: Partial<Alert>): Alert => ({
        key: 'k',
        app: 'cache',
        owner: 'ops@example.com',
        severity: 'normal',
        verdict: 'would-deny',
        state: 'unlisted',
        rule: 'default-deny',
        direction: 'ingress',
        protocol: 'tcp',
        local: edge.server,
        remote: proc('web', '/usr/bin/redis-cli', 'intruder.service'),
        remoteAddress: '10.213.0.2',
        port: 6379,
        count: 3,
        firstSeen: 1,
        lastSeen: 10,
        host: 'db',
        ...over,
    });

    it('merges the same link seen by two hosts and sums its counts', () => {
        const groups = groupAlerts([
            alert({ host: 'db', count: 3, lastSeen: 10 }),
            alert({
                host: 'web',
                direction: 'egress',
                local: alert({}).remote,
                remote: edge.server,
                count: 4,
                lastSeen: 20,
            }),
            alert({ app: 'api', owner: 'dev@example.com', key: 'k2' }),
        ]);
        expect(groups.map((g) => g.owner)).toEqual(['dev@example.com', 'ops@example.com']);
        const cache = groups[1]?.apps[0];
        expect(cache?.app).toBe('cache');
        expect(cache?.links).toHaveLength(1);
        expect(cache?.links[0]?.count).toBe(7);
        expect(cache?.links[0]?.lastSeen).toBe(20);
        expect(cache?.links[0]?.label).toBe(
            'web/redis-cli (intruder.service) → db/redis-server (redis.service):6379/tcp',
        );
    });

    it('notifies only owners, compared without case', () => {
        expect(isOwnedBy('Ops@Example.com', 'ops@example.com')).toBe(true);
        expect(isOwnedBy('ops@example.com', 'dev@example.com')).toBe(false);
        expect(isOwnedBy('ops@example.com', undefined)).toBe(false);
    });

    it('words counts and ages the way the CodeLens shows them', () => {
        expect(flowCount(1204)).toBe('1,204 flows');
        expect(flowCount(1)).toBe('1 flow');
        expect(ago(7000, 10_000)).toBe('3 s ago');
        expect(ago(0, 3 * 3600_000)).toBe('3 h ago');
    });
});

describe('policy links against live edges', () => {
    it('matches an edge by patterns, port and protocol', () => {
        expect(edgeMatchesLink(edge, link('a'))).toBe(true);
        expect(edgeMatchesLink(edge, link('a', { ports: [6380] }))).toBe(false);
        expect(edgeMatchesLink(edge, link('a', { protocol: 'udp' }))).toBe(false);
        expect(edgeMatchesLink(edge, link('a', { client: { host: 'web' } }))).toBe(false);
        expect(liveEvidence([edge], link('a'))).toMatchObject({
            flows: 1204,
            lastSeen: 5000,
            hosts: ['api', 'db'],
        });
    });

    it('reports a narrower link with the same state as shadowed', () => {
        const broad = link('broad', { client: { host: 'api' } });
        const overlaps = linkOverlaps([broad, link('narrow')]);
        expect(overlaps).toEqual([
            expect.objectContaining({ kind: 'shadowed', link: 1, other: 0 }),
        ]);
    });

    it('reports overlapping links with opposite states as a conflict', () => {
        const overlaps = linkOverlaps([
            link('ok'),
            link('no', { state: 'denied', ports: [6379, 6380] }),
        ]);
        expect(overlaps.map((o) => o.kind)).toContain('conflict');
    });

    it('writes an edge as an exact link that matches it back', () => {
        const written = edgeToLink(edge, 'allowed');
        expect(written?.id).toBe('api-redis-cli-to-db-redis-server-6379');
        expect(written && edgeMatchesLink(edge, written)).toBe(true);
        expect(
            edgeToLink({ ...edge, client: { kind: 'unknown', reason: 'exited', host: 'api' } }),
        ).toBeUndefined();
    });
});
