import { describe, expect, it } from 'vitest';
import type { Identity } from '../../agent/protocol';
import { effectiveVerdict, isCrownJewel, worstState } from '../../webview/graphBadges';
import { gridLayout } from '../../webview/graphGrid';
import {
    appNodeId,
    EGRESS_SIDE_ID,
    edgeId,
    hostNodeId,
    identityNodeId,
    INGRESS_SIDE_ID,
} from '../../webview/graphModel';
import { buildElements } from '../../webview/graphBuilder';
import { storeFromGraph } from '../../webview/graphStore';
import { moreNodeId, viewElements } from '../../webview/graphView';
import { labGraph, proc, syntheticFleet } from '../bench/graphFixtures';

const lab = labGraph();
const full = buildElements(storeFromGraph(lab.graph, lab.annotations));

describe('policy meaning on the graph', () => {
    it('carries each edge state, and derives would-deny under monitor and deny under enforce', () => {
        expect(full.edges.get(edgeId('web-api'))).toMatchObject({
            state: 'allowed',
            verdict: 'allow',
        });
        expect(full.edges.get(edgeId('api-pay'))).toMatchObject({
            state: 'alert',
            verdict: 'would-deny',
        });
        expect(full.edges.get(edgeId('intruder-db'))).toMatchObject({
            state: 'denied',
            verdict: 'deny',
            rule: 'deny-unknown-db',
        });
        expect(full.edges.get(edgeId('api-dns'))).toMatchObject({ state: 'snoozed', verdict: '' });
        expect(effectiveVerdict({ state: 'snoozed', mode: 'enforce', verdict: 'allow' })).toBe(
            'allow',
        );
    });

    it('marks app modes, degraded hosts and databases as badges', () => {
        expect(full.nodes.get(appNodeId('web', 'nginx.service'))).toMatchObject({
            mode: 'enforce',
            label: 'nginx.service · enforce',
        });
        expect(full.nodes.get(hostNodeId('batch'))).toMatchObject({ degraded: true });
        const metadata: Identity = {
            kind: 'external',
            name: 'cidr:169.254.169.254/32',
            address: '169.254.169.254',
        };
        expect(isCrownJewel(metadata, [])).toBe(true);
        expect(isCrownJewel(proc('db', '/usr/lib/postgresql/16/bin/postgres'), [])).toBe(true);
        expect(isCrownJewel(proc('x', '/srv/app'), [5432])).toBe(true);
        expect(isCrownJewel(proc('x', '/srv/app'), [8080])).toBe(false);
    });

    it('puts ingress sources and egress targets in their own side groups', () => {
        const client = [...full.nodes.values()].find((n) => n.label === '10.213.0.1');
        expect(full.nodes.get(client?.parent ?? '')?.parent).toBe(INGRESS_SIDE_ID);
        const pay = [...full.nodes.values()].find((n) => n.label === 'pay.example.lab');
        expect(full.nodes.get(pay?.parent ?? '')?.parent).toBe(EGRESS_SIDE_ID);
    });

    it('lays the ingress side left of the fleet and the egress side right of it', () => {
        const positions = gridLayout(full);
        const x = (label: string) => {
            const node = [...full.nodes.values()].find((n) => n.label === label);
            return positions.get(node?.id ?? '')?.x ?? NaN;
        };
        expect(x('10.213.0.1')).toBeLessThan(x('nginx\nnginx.service'));
        expect(x('pay.example.lab')).toBeGreaterThan(x('nginx\nnginx.service'));
    });
});

describe('viewElements', () => {
    it('filters by state, host and time window, dropping nodes left without edges', () => {
        const alerts = viewElements(full, { states: ['alert'] });
        expect([...alerts.edges.keys()].sort()).toEqual(
            [edgeId('api-pay'), edgeId('batch-db')].sort(),
        );
        expect(alerts.nodes.has(identityNodeId(lab.graph.edges[0]!.client))).toBe(false);
        // Host boxes stay, even empty.
        expect(alerts.nodes.has(hostNodeId('web'))).toBe(true);

        const onWeb = viewElements(full, { host: 'web' });
        expect([...onWeb.edges.keys()].sort()).toEqual([edgeId('in'), edgeId('web-api')].sort());

        const future = viewElements(full, { windowMs: 1000, now: Date.now() + 3_600_000 });
        expect(future.edges.size).toBe(0);
    });

    it('hides a noisy node with its edges, and a hidden group with everything inside', () => {
        const redis = identityNodeId(lab.graph.edges[2]!.server);
        const view = viewElements(full, { hidden: new Set([redis]) });
        expect(view.nodes.has(redis)).toBe(false);
        expect([...view.edges.values()].some((e) => e.target === redis)).toBe(false);
        const noWeb = viewElements(full, { hidden: new Set([hostNodeId('web')]) });
        expect(noWeb.nodes.has(hostNodeId('web'))).toBe(false);
        expect(noWeb.edges.has(edgeId('web-api'))).toBe(false);
    });

    it('folds a group into one node whose edges carry the worst state of their members', () => {
        const view = viewElements(full, { collapsed: new Set([hostNodeId('batch')]) });
        const batch = view.nodes.get(hostNodeId('batch'));
        expect(batch?.collapsed).toBe(2);
        const folded = [...view.edges.values()].filter((e) => e.source === hostNodeId('batch'));
        expect(folded).toHaveLength(1);
        expect(folded[0]).toMatchObject({ state: 'denied', verdict: 'deny', count: 15 });
        expect(folded[0]?.members.sort()).toEqual(['batch-db', 'intruder-db']);
        expect(worstState('allowed', 'alert')).toBe('alert');
    });

    it('shows the busiest identities of a large group and folds the rest into "N more"', () => {
        const fleet = syntheticFleet(2000, 3000, 3);
        const big = buildElements(storeFromGraph(fleet.graph));
        const view = viewElements(big, { groupLimit: 5, autoFoldAbove: Infinity });
        const more = [...view.nodes.values()].filter((n) => n.kind === 'more');
        expect(more.length).toBeGreaterThan(0);
        const group = more[0]!.parent!;
        expect([...view.nodes.values()].filter((n) => n.parent === group)).toHaveLength(5);
        const opened = viewElements(big, {
            groupLimit: 5,
            autoFoldAbove: Infinity,
            expanded: new Set([group]),
        });
        expect(opened.nodes.has(moreNodeId(group))).toBe(false);
    });

    it('folds hosts and domains of a big graph by default, except those the user opened', () => {
        const fleet = syntheticFleet(600, 1200, 4);
        const big = buildElements(storeFromGraph(fleet.graph));
        const view = viewElements(big, { autoFoldAbove: 400 });
        expect(view.nodes.get(hostNodeId('host-0'))?.collapsed).toBeGreaterThan(0);
        expect(view.edges.size).toBeLessThan(big.edges.size);
        const open = viewElements(big, {
            autoFoldAbove: 400,
            unfolded: new Set([hostNodeId('host-0')]),
        });
        expect(open.nodes.get(hostNodeId('host-0'))?.collapsed).toBeUndefined();
    });
});
