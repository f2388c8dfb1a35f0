// Turns a FleetGraph into cytoscape element definitions and computes what changed between
// two graphs, so the webview can patch the live graph instead of re-laying it out.
import type { FleetEdge, FleetGraph, FleetHost, Identity } from '../agent/protocol';
import { identityKey } from '../agent/fleet/identity';
import {
    edgeLabel,
    externalLabel,
    plainText,
    processDetail,
    processLabel,
    unknownLabel,
} from './graphLabels';

export type NodeKind = 'host' | 'external-group' | 'process' | 'external' | 'unknown';
export type HostHealth = FleetHost['health'] | 'unobserved';

export interface NodeData {
    id: string;
    kind: NodeKind;
    label: string;
    parent?: string;
    detail: string;
    health?: HostHealth;
    [key: string]: unknown;
}

export interface EdgeData {
    id: string;
    source: string;
    target: string;
    label: string;
    protocol: FleetEdge['protocol'];
    port: number;
    count: number;
    [key: string]: unknown;
}

export interface GraphElements {
    /** Parents always come before their children (cytoscape needs them first). */
    nodes: Map<string, NodeData>;
    edges: Map<string, EdgeData>;
}

export interface GraphDiff {
    addedNodes: NodeData[];
    updatedNodes: NodeData[];
    removedNodes: string[];
    addedEdges: EdgeData[];
    updatedEdges: EdgeData[];
    removedEdges: string[];
}

export const EXTERNAL_GROUP_ID = 'group:external';

export function hostNodeId(host: string): string {
    return `host:${host}`;
}

export function identityNodeId(id: Identity): string {
    return `id:${identityKey(id)}`;
}

export function edgeId(edge: FleetEdge): string {
    return `edge:${edge.id}`;
}

export function emptyElements(): GraphElements {
    return { nodes: new Map(), edges: new Map() };
}

export function buildElements(graph: FleetGraph): GraphElements {
    const nodes = new Map<string, NodeData>();
    const edges = new Map<string, EdgeData>();

    for (const host of graph.hosts) {
        nodes.set(hostNodeId(host.name), hostNode(host.name, host.health, host.problems));
    }

    // Kept apart until the end so every parent lands in `nodes` before any child.
    const identities = new Map<string, NodeData>();
    const addIdentity = (id: Identity): string => {
        const node = identityNode(id);
        if (!identities.has(node.id)) {
            ensureParent(nodes, node.parent);
            identities.set(node.id, node);
        }
        return node.id;
    };

    for (const edge of graph.edges) {
        const source = addIdentity(edge.client);
        const target = addIdentity(edge.server);
        const id = edgeId(edge);
        edges.set(id, {
            id,
            source,
            target,
            label: edgeLabel(edge),
            protocol: edge.protocol,
            port: edge.port,
            count: edge.count,
        });
    }

    for (const [id, node] of identities) {
        nodes.set(id, node);
    }
    return { nodes, edges };
}

function hostNode(name: string, health: HostHealth, problems: string[]): NodeData {
    const lines = [`host: ${name}`, `health: ${health}`, ...problems.map((p) => `• ${p}`)];
    return {
        id: hostNodeId(name),
        kind: 'host',
        label: plainText(name),
        detail: lines.map((line) => plainText(line, 200)).join('\n'),
        health,
    };
}

// A peer on a host we are not connected to still gets a host box, marked as unobserved.
function ensureParent(nodes: Map<string, NodeData>, parent: string | undefined): void {
    if (parent === undefined || nodes.has(parent)) {
        return;
    }
    if (parent === EXTERNAL_GROUP_ID) {
        nodes.set(parent, {
            id: parent,
            kind: 'external-group',
            label: 'external',
            detail: 'Peers outside the observed hosts',
        });
        return;
    }
    nodes.set(parent, hostNode(parent.slice('host:'.length), 'unobserved', []));
}

function identityNode(id: Identity): NodeData {
    switch (id.kind) {
        case 'process':
            return {
                id: identityNodeId(id),
                kind: 'process',
                label: processLabel(id),
                parent: hostNodeId(id.host),
                detail: processDetail(id),
            };
        case 'external':
            return {
                id: identityNodeId(id),
                kind: 'external',
                label: externalLabel(id),
                parent: EXTERNAL_GROUP_ID,
                detail: plainText(`${id.name}\naddress: ${id.address}`, 400),
            };
        case 'unknown':
            return {
                id: identityNodeId(id),
                kind: 'unknown',
                label: unknownLabel(id),
                parent: hostNodeId(id.host),
                detail: plainText(`owner unknown on ${id.host}: ${id.reason}`, 200),
            };
    }
}

function sameData(a: object, b: object): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What to apply to a graph showing `prev` so it shows `next`. A node whose parent changed is
 * removed and re-added: cytoscape cannot re-parent inside a plain data update.
 */
export function diffElements(prev: GraphElements, next: GraphElements): GraphDiff {
    const diff: GraphDiff = {
        addedNodes: [],
        updatedNodes: [],
        removedNodes: [],
        addedEdges: [],
        updatedEdges: [],
        removedEdges: [],
    };

    for (const [id, node] of next.nodes) {
        const old = prev.nodes.get(id);
        if (old === undefined) {
            diff.addedNodes.push(node);
        } else if (old.parent !== node.parent) {
            diff.removedNodes.push(id);
            diff.addedNodes.push(node);
        } else if (!sameData(old, node)) {
            diff.updatedNodes.push(node);
        }
    }
    for (const id of prev.nodes.keys()) {
        if (!next.nodes.has(id)) {
            diff.removedNodes.push(id);
        }
    }

    const reAdded = new Set(diff.removedNodes);
    for (const [id, edge] of next.edges) {
        const old = prev.edges.get(id);
        const endRecreated = reAdded.has(edge.source) || reAdded.has(edge.target);
        if (old === undefined || endRecreated) {
            diff.addedEdges.push(edge);
            // Removing a node takes its edges with it, so a kept edge must be re-added.
            if (old !== undefined) {
                diff.removedEdges.push(id);
            }
        } else if (!sameData(old, edge)) {
            diff.updatedEdges.push(edge);
        }
    }
    for (const id of prev.edges.keys()) {
        if (!next.edges.has(id)) {
            diff.removedEdges.push(id);
        }
    }
    return diff;
}

export function isEmptyDiff(diff: GraphDiff): boolean {
    return Object.values(diff).every((list: unknown[]) => list.length === 0);
}
