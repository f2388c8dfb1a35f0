// The graph panel sends the webview only what changed; these check that the page, merging a
// delta with its own code (graphStore), ends up holding exactly the next graph, and that a
// change a delta cannot say falls back to a snapshot.
import { describe, expect, it } from 'vitest';
import type { FleetEdge, FleetGraph, FleetHost } from '../../agent/protocol';
import { graphUpdate } from '../../extension/graphDelta';
import { applyMessage, storeFromGraph, type FleetStore } from '../../webview/graphStore';
import { fleetEdge, processOn } from '../fixtures/identities';

const host = (name: string, health: FleetHost['health'] = 'ok'): FleetHost => ({
    name,
    addresses: [],
    health,
    problems: [],
});
const api = processOn('api', '/usr/bin/node', { unit: 'api.service' });
const redis = processOn('db', '/usr/bin/redis-server', { unit: 'redis.service' });
const cli = processOn('web', '/usr/bin/redis-cli', { unit: 'intruder.service' });

function seen(edge: FleetEdge, count: number, by: string[] = ['api', 'db']): FleetEdge {
    return { ...edge, count, lastSeen: count, seenBy: by };
}

const before: FleetGraph = {
    hosts: [host('api'), host('db'), host('web')],
    edges: Array.from({ length: 200 }, (_, i) => seen(fleetEdge(`e${i}`, api, redis, 6379 + i), 3)),
    generatedAt: 1,
};

function held(store: FleetStore) {
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    return { hosts: sorted(store.hosts), edges: sorted(store.edges) };
}

/** What the page holds after the update the panel would send. */
function pageAfter(old: FleetGraph, next: FleetGraph) {
    const update = graphUpdate(old, next);
    if (update.kind !== 'delta') throw new Error(`expected a delta, got ${update.kind}`);
    return {
        message: update.message,
        held: held(applyMessage(storeFromGraph(old), update.message)),
    };
}

describe('graph updates for the webview', () => {
    it('sends nothing when the fleet graph did not change', () => {
        const again = { ...before, edges: before.edges.map((e) => ({ ...e })), generatedAt: 2 };
        expect(graphUpdate(before, again)).toEqual({ kind: 'unchanged' });
    });

    it('sends only the edges that moved, and the page then holds the next graph', () => {
        const next: FleetGraph = {
            ...before,
            edges: [
                ...before.edges.map((e) => (e.id === 'e7' ? seen(e, 9) : e)),
                seen(fleetEdge('new', cli, redis, 6379), 1, ['web']),
            ],
        };
        const { message, held: page } = pageAfter(before, next);
        expect(message.edges?.map((e) => e.id)).toEqual(['e7', 'new']);
        expect(message.hosts).toBeUndefined();
        expect(page).toEqual(held(storeFromGraph(next)));
    });

    it('removes an edge that left the graph and upserts a host whose health changed', () => {
        const next: FleetGraph = {
            hosts: [host('api'), host('db', 'degraded'), host('web')],
            edges: before.edges.filter((e) => e.id !== 'e3'),
            generatedAt: 2,
        };
        const { message, held: page } = pageAfter(before, next);
        expect(message.removedEdges).toEqual(['e3']);
        expect(message.hosts?.map((h) => h.name)).toEqual(['db']);
        expect(page).toEqual(held(storeFromGraph(next)));
    });

    it('sends the whole graph for what a merge cannot say: a host gone, a count gone back', () => {
        const noWeb = { ...before, hosts: before.hosts.filter((h) => h.name !== 'web') };
        expect(graphUpdate(before, noWeb)).toMatchObject({ kind: 'snapshot', why: /web/ });

        // An agent restarted and counts from zero: merging would keep the old, larger count.
        const restarted = {
            ...before,
            edges: before.edges.map((e) => (e.id === 'e5' ? seen(e, 1) : e)),
        };
        expect(graphUpdate(before, restarted)).toMatchObject({ kind: 'snapshot', why: /e5/ });

        const lostHalf = {
            ...before,
            edges: before.edges.map((e) => (e.id === 'e6' ? seen(e, 3, ['api']) : e)),
        };
        expect(graphUpdate(before, lostHalf)).toMatchObject({ kind: 'snapshot', why: /e6/ });
    });
});
