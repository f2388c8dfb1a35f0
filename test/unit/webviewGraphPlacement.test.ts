import { describe, expect, it } from 'vitest';
import type { FleetGraph, ProcessIdentity } from '../../agent/protocol';
import { diffElements } from '../../webview/graphDiff';
import { emptyElements, identityNodeId } from '../../webview/graphModel';
import { buildElements as buildFromStore } from '../../webview/graphBuilder';
import { storeFromGraph } from '../../webview/graphStore';
import { placeNewNodes, type Position } from '../../webview/graphPlacement';

function proc(host: string, binary: string): ProcessIdentity {
    return { kind: 'process', zone: 'lab', host, binary, user: 'u', uid: 1, cgroup: '/' };
}

const web = proc('web', '/usr/sbin/nginx');
const api = proc('api', '/usr/bin/node');
const batch = proc('api', '/usr/bin/batch');
const lonely = proc('far', '/usr/bin/lonely');

function graph(pairs: Array<[ProcessIdentity, ProcessIdentity]>): FleetGraph {
    return {
        hosts: [],
        edges: pairs.map(([client, server], i) => ({
            id: `e${i}`,
            client,
            server,
            protocol: 'tcp',
            port: 80,
            count: 1,
            firstSeen: 0,
            lastSeen: 0,
            seenBy: [],
        })),
        generatedAt: 0,
    };
}

const buildElements = (g: FleetGraph) => buildFromStore(storeFromGraph(g));

const distance = (a: Position, b: Position) => Math.hypot(a.x - b.x, a.y - b.y);

describe('placeNewNodes', () => {
    const before = buildElements(graph([[web, api]]));
    const onScreen = new Map<string, Position>([
        [identityNodeId(web), { x: 0, y: 0 }],
        [identityNodeId(api), { x: 400, y: 0 }],
    ]);

    it('places nothing when nothing is on screen, leaving it to a full layout', () => {
        const next = buildElements(graph([[web, api]]));
        expect(placeNewNodes(diffElements(emptyElements(), next), next, () => undefined).size).toBe(
            0,
        );
    });

    it('places a new node near the node it connects to and moves no existing node', () => {
        const next = buildElements(
            graph([
                [web, api],
                [batch, web],
            ]),
        );
        const placed = placeNewNodes(diffElements(before, next), next, (id) => onScreen.get(id));
        expect([...placed.keys()]).toEqual([identityNodeId(batch)]);
        const position = placed.get(identityNodeId(batch));
        expect(position).toBeDefined();
        expect(distance(position!, { x: 0, y: 0 })).toBeLessThan(150);
    });

    it('places a node with no placed neighbour right of everything on screen', () => {
        const next = buildElements(
            graph([
                [web, api],
                [lonely, lonely],
            ]),
        );
        const placed = placeNewNodes(diffElements(before, next), next, (id) => onScreen.get(id));
        expect(placed.get(identityNodeId(lonely))?.x).toBeGreaterThan(400);
    });
});
