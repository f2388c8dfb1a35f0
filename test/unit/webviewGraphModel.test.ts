import { describe, expect, it } from 'vitest';
import type { FleetEdge, FleetGraph, Identity, ProcessIdentity } from '../../agent/protocol';
import { diffElements, isEmptyDiff } from '../../webview/graphDiff';
import {
    EGRESS_SIDE_ID,
    appNodeId,
    domainNodeId,
    emptyElements,
    hostNodeId,
    identityNodeId,
    zoneNodeId,
} from '../../webview/graphModel';
import { buildElements as buildFromStore } from '../../webview/graphBuilder';
import { storeFromGraph } from '../../webview/graphStore';
import { fleetEdge } from '../fixtures/identities';

const buildElements = (g: FleetGraph) => buildFromStore(storeFromGraph(g));

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

const nginx = proc('web', '/usr/sbin/nginx', { unit: 'nginx.service' });
const api = proc('api', '/usr/bin/node', { script: '/srv/api/api.js', unit: 'api.service' });
const redis = proc('db', '/usr/bin/redis-server');
const stripe: Identity = { kind: 'external', name: 'dns:pay.example.lab', address: '10.0.0.9' };
const ghost: Identity = { kind: 'unknown', reason: 'exited', host: 'api' };

function graph(edges: FleetEdge[], hosts = ['web', 'api', 'db']): FleetGraph {
    return {
        hosts: hosts.map((name) => ({ name, addresses: [], health: 'ok', problems: [] })),
        edges,
        generatedAt: 0,
    };
}

const base = graph([
    fleetEdge('e1', nginx, api, 3000, 1234),
    fleetEdge('e2', api, redis, 6379, 10),
    fleetEdge('e3', api, stripe, 443),
]);

describe('buildElements', () => {
    it('nests zone ⊃ host ⊃ app ⊃ process, with unit-less processes directly in the host', () => {
        const { nodes } = buildElements(base);
        expect(nodes.get(zoneNodeId('lab'))).toMatchObject({ kind: 'zone', label: 'lab' });
        expect(nodes.get(hostNodeId('web'))).toMatchObject({
            kind: 'host',
            label: 'web',
            parent: zoneNodeId('lab'),
        });
        const app = appNodeId('web', 'nginx.service');
        expect(nodes.get(app)).toMatchObject({ kind: 'app', parent: hostNodeId('web') });
        expect(nodes.get(identityNodeId(nginx))?.parent).toBe(app);
        expect(nodes.get(identityNodeId(redis))?.parent).toBe(hostNodeId('db'));
    });

    it('labels processes by binary basename, interpreter script and unit', () => {
        const { nodes } = buildElements(base);
        expect(nodes.get(identityNodeId(nginx))?.label).toBe('nginx\nnginx.service');
        expect(nodes.get(identityNodeId(api))?.label).toBe('node api.js\napi.service');
        expect(nodes.get(identityNodeId(redis))?.label).toBe('★ redis-server');
    });

    it('groups egress targets by domain, named without the dns: prefix', () => {
        const { nodes } = buildElements(base);
        const domain = domainNodeId('out', 'example.lab');
        expect(nodes.get(EGRESS_SIDE_ID)?.kind).toBe('side');
        expect(nodes.get(domain)).toMatchObject({ kind: 'domain', parent: EGRESS_SIDE_ID });
        expect(nodes.get(identityNodeId(stripe))).toMatchObject({
            kind: 'external',
            label: 'pay.example.lab',
            parent: domain,
        });
    });

    it('draws an unknown owner as its own kind of node on its host', () => {
        const { nodes } = buildElements(graph([fleetEdge('e9', ghost, redis, 6379)]));
        const node = nodes.get(identityNodeId(ghost));
        expect(node).toMatchObject({ kind: 'unknown', parent: hostNodeId('api') });
        expect(node?.label).toContain('unknown');
        expect(node?.id).not.toBe(identityNodeId(api));
    });

    it('labels edges with port and a short count', () => {
        const { edges } = buildElements(base);
        const labels = [...edges.values()].map((e) => e.label);
        expect(labels).toEqual([':3000 ×1.2k', ':6379 ×10', ':443 ×1']);
    });

    it('gives a peer on an unconnected host a host box marked unobserved', () => {
        const { nodes } = buildElements(graph([fleetEdge('e1', nginx, api, 3000)], ['web']));
        expect(nodes.get(hostNodeId('api'))).toMatchObject({ kind: 'host', health: 'unobserved' });
    });

    it('lists every parent before its children', () => {
        const ids = [...buildElements(base).nodes.values()];
        ids.forEach((node, index) => {
            if (node.parent !== undefined) {
                expect(ids.findIndex((n) => n.id === node.parent)).toBeLessThan(index);
            }
        });
    });

    it('keeps hostile names as plain data in label fields', () => {
        const evil = '<img src=x onerror=alert(1)>';
        const hostile = proc(evil, `/tmp/${evil}`, { unit: evil });
        const { nodes } = buildElements(graph([fleetEdge('x', hostile, redis, 1)], [evil]));
        const node = nodes.get(identityNodeId(hostile));
        expect(node?.label).toBe(`${evil}\n${evil}`);
        expect(nodes.get(hostNodeId(evil))?.label).toBe(evil);
        // No field carries markup for cytoscape to interpret: labels are canvas text.
        expect(Object.keys(node ?? {})).not.toContain('html');
    });

    it('replaces control and bidi characters so a name cannot fake lines or direction', () => {
        const spoof = proc('web', '/usr/bin/ok\nunit: sshd.service\u202e');
        const { nodes } = buildElements(graph([fleetEdge('s', spoof, redis, 22)]));
        const label = nodes.get(identityNodeId(spoof))?.label ?? '';
        expect(label).not.toContain('\n');
        expect(label).not.toContain('\u202e');
    });
});

describe('diffElements', () => {
    it('adds everything when starting from nothing', () => {
        const next = buildElements(base);
        const diff = diffElements(emptyElements(), next);
        expect(diff.addedNodes).toHaveLength(next.nodes.size);
        expect(diff.addedEdges).toHaveLength(3);
        expect(diff.removedNodes).toEqual([]);
    });

    it('is empty for the same graph rebuilt (ids are stable)', () => {
        const diff = diffElements(buildElements(base), buildElements(structuredClone(base)));
        expect(isEmptyDiff(diff)).toBe(true);
    });

    it('reports a count change as an edge update, not a re-add', () => {
        const more = graph([fleetEdge('e1', nginx, api, 3000, 5000), ...base.edges.slice(1)]);
        const diff = diffElements(buildElements(base), buildElements(more));
        expect(diff.updatedEdges.map((e) => [e.id, e.label])).toEqual([['edge:e1', ':3000 ×5k']]);
        expect(diff.addedEdges).toEqual([]);
        expect(diff.addedNodes).toEqual([]);
        expect(diff.updatedNodes).toEqual([]);
    });

    it('adds a new edge and its new process without touching the rest', () => {
        const batch = proc('db', '/usr/local/bin/backup');
        const grown = graph([...base.edges, fleetEdge('e4', batch, redis, 6379)]);
        const diff = diffElements(buildElements(base), buildElements(grown));
        expect(diff.addedNodes.map((n) => n.id)).toEqual([identityNodeId(batch)]);
        expect(diff.addedEdges.map((e) => e.id)).toEqual(['edge:e4']);
        expect(diff.removedNodes).toEqual([]);
        expect(diff.updatedNodes).toEqual([]);
    });

    it('removes edges and the nodes that only they referenced', () => {
        const shrunk = graph(base.edges.slice(0, 2));
        const diff = diffElements(buildElements(base), buildElements(shrunk));
        expect(diff.removedEdges).toEqual(['edge:e3']);
        expect(diff.removedNodes.sort()).toEqual(
            [EGRESS_SIDE_ID, domainNodeId('out', 'example.lab'), identityNodeId(stripe)].sort(),
        );
    });

    it('updates a host whose health changed', () => {
        const sick = structuredClone(base);
        sick.hosts[1] = { name: 'api', addresses: [], health: 'degraded', problems: ['no hooks'] };
        const diff = diffElements(buildElements(base), buildElements(sick));
        expect(diff.updatedNodes.map((n) => [n.id, n.health])).toEqual([
            [hostNodeId('api'), 'degraded'],
        ]);
    });
});
