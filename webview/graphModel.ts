// Cytoscape element data for the fleet: identities inside the groups people read a network
// diagram by (zone ⊃ host ⊃ app ⊃ process; external peers by domain, ingress sources on one
// side and egress targets on the other). graphBuilder puts them together from the store.
import type { FleetEdge, FleetHost, Identity } from '../agent/protocol';
import { identityKey } from '../agent/fleet/identity';
import { effectiveVerdict, type EdgeStateKey } from './graphBadges';
import {
    edgeLabel,
    externalLabel,
    plainText,
    processDetail,
    processLabel,
    unknownLabel,
} from './graphLabels';
import type { Mode, Verdict } from '../agent/policy/types';
import type { EdgeAnnotation, NodeAnnotation } from './messages';

export type NodeKind =
    'zone' | 'host' | 'app' | 'side' | 'domain' | 'process' | 'external' | 'unknown' | 'more';
export type HostHealth = FleetHost['health'] | 'unobserved';

export interface NodeData {
    id: string;
    kind: NodeKind;
    label: string;
    parent?: string;
    detail: string;
    health?: HostHealth;
    /** Host and app the node belongs to, for filters ('' when none). */
    host: string;
    app: string;
    mode: string;
    degraded: boolean;
    crownJewel: boolean;
    /** Set on a group drawn as one node: how many identities it stands for. */
    collapsed?: number;
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
    state: EdgeStateKey;
    verdict: Verdict | '';
    mode: Mode | '';
    rule: string;
    policyFile: string;
    firstSeen: number;
    lastSeen: number;
    /** FleetEdge ids this drawn edge stands for: one, or many when groups are folded. */
    members: string[];
    [key: string]: unknown;
}

export interface GraphElements {
    /** Parents always come before their children (cytoscape needs them first). */
    nodes: Map<string, NodeData>;
    edges: Map<string, EdgeData>;
}

export const INGRESS_SIDE_ID = 'side:ingress';
export const EGRESS_SIDE_ID = 'side:egress';

export function zoneNodeId(zone: string): string {
    return `zone:${zone}`;
}

export function hostNodeId(host: string): string {
    return `host:${host}`;
}

export function appNodeId(host: string, app: string): string {
    return `app:${JSON.stringify([host, app])}`;
}

export function domainNodeId(side: 'in' | 'out', domain: string): string {
    return `domain:${side}:${domain}`;
}

// Streamed deltas replace only the edges that changed, so most identity objects survive from
// one batch to the next: keys cached by object are computed once per identity.
const keys = new WeakMap<Identity, string>();
const nodeIds = new WeakMap<Identity, string>();

export function keyOf(id: Identity): string {
    let key = keys.get(id);
    if (key === undefined) {
        key = identityKey(id);
        keys.set(id, key);
    }
    return key;
}

export function identityNodeId(id: Identity): string {
    let nodeId = nodeIds.get(id);
    if (nodeId === undefined) {
        nodeId = `id:${keyOf(id)}`;
        nodeIds.set(id, nodeId);
    }
    return nodeId;
}

export function edgeId(fleetEdgeId: string): string {
    return `edge:${fleetEdgeId}`;
}

export function emptyElements(): GraphElements {
    return { nodes: new Map(), edges: new Map() };
}

/** The app a process belongs to: its unit, else its cgroup; none for the root cgroup. */
export function appOf(id: Identity): string {
    if (id.kind !== 'process') {
        return '';
    }
    return id.unit ?? (id.cgroup !== '/' && id.cgroup !== '' ? id.cgroup : '');
}

/** `api.stripe.com` → `stripe.com`; addresses share one group. */
export function domainOf(name: string): string {
    if (!name.startsWith('dns:')) {
        return 'addresses';
    }
    const labels = name.slice('dns:'.length).replace(/\.$/, '').split('.');
    return labels.slice(-2).join('.');
}

export const NO_NOTE: NodeAnnotation = {};
export const DEFAULT_ZONE = 'fleet';

export function edgeData(
    edge: FleetEdge,
    source: string,
    target: string,
    note: EdgeAnnotation | undefined,
): EdgeData {
    return {
        id: edgeId(edge.id),
        source,
        target,
        label: edgeLabel(edge),
        protocol: edge.protocol,
        port: edge.port,
        count: edge.count,
        state: note?.state ?? 'none',
        verdict: effectiveVerdict(note) ?? '',
        mode: note?.mode ?? '',
        rule: plainText(note?.rule ?? '', 200),
        policyFile: plainText(note?.policyFile ?? '', 400),
        firstSeen: edge.firstSeen,
        lastSeen: edge.lastSeen,
        members: [edge.id],
    };
}

export function hostNode(
    name: string,
    parent: string,
    host: FleetHost | undefined,
    note: NodeAnnotation,
): NodeData {
    const health: HostHealth = host?.health ?? 'unobserved';
    const problems = host?.problems ?? [];
    const lines = [`host: ${name}`, `health: ${health}`, ...problems.map((p) => `• ${p}`)];
    const degraded = note.degraded ?? health === 'degraded';
    return {
        id: hostNodeId(name),
        kind: 'host',
        label: plainText(name) + (degraded ? ' ⚠' : ''),
        parent,
        detail: lines.map((line) => plainText(line, 200)).join('\n'),
        health,
        host: name,
        app: '',
        mode: note.mode ?? '',
        degraded,
        crownJewel: false,
    };
}

export function identityNode(
    id: Identity,
    nodeId: string,
    parent: string,
    note: NodeAnnotation,
): NodeData {
    const common = {
        id: nodeId,
        parent,
        mode: note.mode ?? '',
        degraded: note.degraded ?? false,
        crownJewel: false,
        app: appOf(id),
    };
    switch (id.kind) {
        case 'process':
            return {
                ...common,
                kind: 'process',
                label: processLabel(id),
                detail: processDetail(id),
                host: id.host,
            };
        case 'external':
            return {
                ...common,
                kind: 'external',
                label: externalLabel(id),
                detail: [
                    id.name,
                    ...(id.canonical !== undefined ? [`canonical name: ${id.canonical}`] : []),
                    `address: ${id.address}${id.stale ? ' (answer expired; name kept)' : ''}`,
                ]
                    .map((l) => plainText(l, 200))
                    .join('\n'),
                host: '',
            };
        case 'unknown':
            return {
                ...common,
                kind: 'unknown',
                label: unknownLabel(id),
                detail: plainText(`owner unknown on ${id.host}: ${id.reason}`, 200),
                host: id.host,
            };
    }
}

/** Reorders so that every parent precedes its children, whatever order they were made in. */
export function orderParentsFirst(nodes: Map<string, NodeData>): Map<string, NodeData> {
    const ordered = new Map<string, NodeData>();
    const visit = (node: NodeData, depth: number): void => {
        if (ordered.has(node.id) || depth > 16) {
            return;
        }
        const parent = node.parent === undefined ? undefined : nodes.get(node.parent);
        if (parent !== undefined) {
            visit(parent, depth + 1);
        }
        ordered.set(node.id, node);
    };
    for (const node of nodes.values()) {
        visit(node, 0);
    }
    return ordered;
}
