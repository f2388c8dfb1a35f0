import { describe, expect, it } from 'vitest';
import type { FleetEdge } from '../../agent/protocol';
import { coalesce, UpdateBatcher, type BatchClock } from '../../webview/graphBatch';
import {
    applyMessage,
    changedEdges,
    emptyStore,
    mergeEdge,
    storeFromGraph,
} from '../../webview/graphStore';
import type { ExtensionMessage } from '../../webview/messages';
import { labGraph } from '../bench/graphFixtures';

const lab = labGraph();
const first = lab.graph.edges[0] as FleetEdge;

describe('fleet store merge', () => {
    it('moves counts and times only forward when deltas arrive out of order', () => {
        const newer = { ...first, count: 500, firstSeen: 10, lastSeen: 900, seenBy: ['web'] };
        const older = { ...first, count: 20, firstSeen: 5, lastSeen: 100, seenBy: ['api'] };
        expect(mergeEdge(newer, older)).toMatchObject({
            count: 500,
            firstSeen: 5,
            lastSeen: 900,
            seenBy: ['api', 'web'],
        });
    });

    it('upserts streamed edges and hosts and merges annotations field by field', () => {
        const store = storeFromGraph(lab.graph, lab.annotations);
        const before = store.version;
        const added = { ...first, id: 'new-edge', count: 1 };
        const next = applyMessage(store, {
            type: 'delta',
            edges: [added],
            hosts: [{ name: 'web', addresses: [], health: 'degraded', problems: ['x'] }],
            annotations: { edges: { in: { state: 'denied' } } },
        });
        expect(next.edges.get('new-edge')).toEqual(added);
        expect(next.edges.size).toBe(lab.graph.edges.length + 1);
        expect(next.hosts.get('web')?.health).toBe('degraded');
        // The rule stays; only the state changed.
        expect(next.edgeNotes.get('in')).toMatchObject({ state: 'denied', rule: 'web-ingress' });
        expect(next.version).toBeGreaterThan(before);
    });

    it('replaces everything on a snapshot', () => {
        const store = storeFromGraph(lab.graph, lab.annotations);
        const next = applyMessage(store, {
            type: 'graph',
            graph: { hosts: [], edges: [first], generatedAt: 0 },
        });
        expect([...next.edges.keys()]).toEqual([first.id]);
        expect(next.edgeNotes.size).toBe(0);
        expect(next.version).toBeGreaterThan(store.version);
    });
});

describe('update batching', () => {
    function fakeClock() {
        let now = 0;
        const queue: Array<{ at: number; fn: () => void }> = [];
        const clock: BatchClock = {
            now: () => now,
            schedule: (fn, delay) => queue.push({ at: now + delay, fn }),
        };
        const advance = (ms: number) => {
            now += ms;
            const due = queue.filter((j) => j.at <= now);
            queue.splice(0, queue.length, ...queue.filter((j) => j.at > now));
            for (const job of due) {
                job.fn();
            }
        };
        return { clock, advance, pending: () => queue.length };
    }

    it('applies a burst of messages in one flush, at most once per interval', () => {
        const { clock, advance } = fakeClock();
        const flushes: number[][] = [];
        const batcher = new UpdateBatcher<number>((items) => flushes.push(items), clock, 250);
        batcher.push(1);
        batcher.push(2);
        advance(0);
        expect(flushes).toEqual([[1, 2]]);
        for (let i = 3; i <= 50; i++) {
            batcher.push(i);
        }
        advance(100);
        expect(flushes).toHaveLength(1);
        advance(150);
        expect(flushes).toHaveLength(2);
        expect(flushes[1]).toHaveLength(48);
    });

    it('drops deltas queued before a snapshot, which replaces them', () => {
        const delta: ExtensionMessage = { type: 'delta', edges: [first] };
        const snapshot: ExtensionMessage = { type: 'graph', graph: lab.graph };
        expect(coalesce([delta, delta, snapshot, delta])).toEqual([snapshot, delta]);
        expect(coalesce([delta, delta])).toEqual([delta, delta]);
    });

    it('names the edges a batch of deltas changed, and nothing when it changed more', () => {
        const delta: ExtensionMessage = { type: 'delta', edges: [first] };
        expect(changedEdges([delta, { type: 'delta', edges: [] }, delta])).toEqual([
            first.id,
            first.id,
        ]);
        const host = { name: 'web', addresses: [], health: 'ok' as const, problems: [] };
        for (const more of [
            { type: 'graph', graph: lab.graph },
            { type: 'delta', hosts: [host] },
            { type: 'delta', annotations: { edges: { [first.id]: { state: 'allowed' } } } },
        ] as ExtensionMessage[]) {
            expect(changedEdges([delta, more])).toBeUndefined();
        }
    });

    it('starts from an empty store', () => {
        expect(emptyStore().edges.size).toBe(0);
    });
});
