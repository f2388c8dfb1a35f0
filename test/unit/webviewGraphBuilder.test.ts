import { describe, expect, it } from 'vitest';
import type { FleetEdge, Identity } from '../../agent/protocol';
import { buildElements, ElementBuilder } from '../../webview/graphBuilder';
import { identityNodeId, type GraphElements } from '../../webview/graphModel';
import { applyMessage, storeFromGraph, type FleetStore } from '../../webview/graphStore';
import { flowsFor } from '../bench/benchPage';
import { labGraph, proc, syntheticFleet } from '../bench/graphFixtures';
import { fleetEdge } from '../fixtures/identities';

/** Same nodes and edges, in the same order, as a build from scratch of the same store. */
function expectFullBuild(actual: GraphElements, store: FleetStore): void {
    const expected = buildElements(store);
    expect([...actual.nodes.keys()]).toEqual([...expected.nodes.keys()]);
    expect([...actual.nodes.values()]).toEqual([...expected.nodes.values()]);
    expect([...actual.edges.keys()]).toEqual([...expected.edges.keys()]);
    expect([...actual.edges.values()]).toEqual([...expected.edges.values()]);
}

function stream(store: FleetStore, builder: ElementBuilder, edges: FleetEdge[]): boolean {
    applyMessage(store, { type: 'delta', edges });
    return builder.update(edges.map((e) => e.id));
}

describe('ElementBuilder', () => {
    it('keeps a streamed fleet identical to a full build, batch after batch', () => {
        const fleet = syntheticFleet(300, 1200);
        const store = storeFromGraph(fleet.graph);
        const builder = new ElementBuilder(store);
        const flows = flowsFor(fleet.graph.edges, fleet.identities, 600, 3);
        for (let i = 0; i < flows.length; i += 12) {
            expect(stream(store, builder, flows.slice(i, i + 12))).toBe(true);
            expectFullBuild(builder.elements, store);
        }
    });

    it('adds a new process, a new app and a new egress domain in place', () => {
        const lab = labGraph();
        const store = storeFromGraph(lab.graph, lab.annotations);
        const builder = new ElementBuilder(store);
        const api = lab.graph.edges[1]?.server as Identity;
        const cron = proc('api', '/usr/sbin/cron', { unit: 'cron.service' });
        const cdn: Identity = { kind: 'external', name: 'dns:a.cdn.example', address: '10.0.0.7' };
        expect(
            stream(store, builder, [
                fleetEdge('n1', cron, api, 3000),
                fleetEdge('n2', api, cdn, 443),
            ]),
        ).toBe(true);
        expect(builder.elements.nodes.get(identityNodeId(cron))).toBeDefined();
        expectFullBuild(builder.elements, store);
    });

    it('marks a process as a database once it serves a database port', () => {
        const lab = labGraph();
        const store = storeFromGraph(lab.graph);
        const builder = new ElementBuilder(store);
        const [nginx, api] = [lab.graph.edges[1]?.client, lab.graph.edges[1]?.server];
        expect(
            stream(store, builder, [fleetEdge('pg', nginx as Identity, api as Identity, 5432)]),
        ).toBe(true);
        expect(builder.elements.nodes.get(identityNodeId(api as Identity))?.crownJewel).toBe(true);
        expectFullBuild(builder.elements, store);
    });

    it('shows what changed about a peer when the edge it was first seen on is resent', () => {
        const lab = labGraph();
        const store = storeFromGraph(lab.graph);
        const builder = new ElementBuilder(store);
        const payEdge = lab.graph.edges.find((e) => e.id === 'api-pay') as FleetEdge;
        const renamed: Identity = { ...payEdge.server, canonical: 'edge.cdn.example' } as Identity;
        expect(stream(store, builder, [{ ...payEdge, server: renamed, count: 41 }])).toBe(true);
        expect(builder.elements.nodes.get(identityNodeId(renamed))?.label).toContain('edge.cdn');
        expectFullBuild(builder.elements, store);
    });

    it('refuses what only a full build decides: a new host, a peer changing sides, new ends', () => {
        const lab = labGraph();
        const api = lab.graph.edges[1]?.server as Identity;
        const ingress = lab.graph.edges[0]?.client as Identity;
        const cases: FleetEdge[] = [
            fleetEdge('h', proc('new-host', '/bin/sh'), api, 22),
            fleetEdge('side', api, ingress, 80),
            { ...(lab.graph.edges[2] as FleetEdge), server: proc('db', '/usr/bin/other') },
        ];
        for (const changed of cases) {
            const store = storeFromGraph(lab.graph, lab.annotations);
            const builder = new ElementBuilder(store);
            expect(stream(store, builder, [changed])).toBe(false);
        }
    });
});
