// The drawn elements of the whole fleet, kept current as flows stream in. A full build walks
// every edge; a streamed batch touches only its own edges and the identities at their ends.
// What a full build decides over all edges (a host's zone, the side an external peer sits on)
// is not redone per batch: a batch that would change it is refused, and the caller builds
// afresh. Either way the result is the same elements, in the same order.
import type { FleetEdge, Identity } from '../agent/protocol';
import { isCrownJewel } from './graphBadges';
import { plainText } from './graphLabels';
import {
    DEFAULT_ZONE,
    EGRESS_SIDE_ID,
    INGRESS_SIDE_ID,
    NO_NOTE,
    appNodeId,
    appOf,
    domainNodeId,
    domainOf,
    edgeData,
    hostNode,
    hostNodeId,
    identityNode,
    identityNodeId,
    keyOf,
    orderParentsFirst,
    zoneNodeId,
    type EdgeData,
    type GraphElements,
    type NodeData,
    type NodeKind,
} from './graphModel';
import type { FleetStore } from './graphStore';
import type { NodeAnnotation } from './messages';

interface GroupInit {
    id: string;
    kind: NodeKind;
    label: string;
    parent?: string;
    host: string;
    app: string;
    mode?: string;
}

/** A fleet edge's ends by identity key, and the port its server is reached on. */
interface Ends {
    client: string;
    server: string;
    port: number;
}

// Edge data by fleet edge object and annotation: a rebuild hands back the very objects of the
// edges that did not change, so diffing them against what is drawn costs a comparison each.
const edgeCache = new WeakMap<FleetEdge, { note: unknown; data: EdgeData }>();

export function buildElements(store: FleetStore): GraphElements {
    return new ElementBuilder(store).elements;
}

export class ElementBuilder {
    private readonly groups = new Map<string, NodeData>();
    private readonly identities = new Map<string, NodeData>();
    private readonly edges = new Map<string, EdgeData>();
    private nodes = new Map<string, NodeData>();
    private readonly zones: Map<string, string>;
    /** Hosts whose zone a process on them named (the others get the fleet's main zone). */
    private readonly zonedHosts: Set<string>;
    /** Per server identity key: how many edges reach it on each port. */
    private readonly served = new Map<string, Map<number, number>>();
    private readonly ends = new Map<string, Ends>();
    /** Per identity node: the fleet edge whose identity object the node was made from. */
    private readonly madeFrom = new Map<string, string>();

    constructor(private readonly store: FleetStore) {
        ({ zones: this.zones, zonedHosts: this.zonedHosts } = hostZones(store));
        for (const edge of store.edges.values()) {
            const ends = endsOf(edge);
            this.ends.set(edge.id, ends);
            this.count(ends, 1);
        }
        for (const host of [...store.hosts.keys()].sort()) {
            this.hostGroup(host);
        }
        for (const edge of store.edges.values()) {
            this.addEnds(edge);
            this.setEdge(edge);
        }
        this.nodes = this.ordered();
    }

    get elements(): GraphElements {
        return { nodes: this.nodes, edges: this.edges };
    }

    /**
     * Takes in edges the store has added or changed since the last build or update. Returns
     * false, having left this builder unusable, when a full build is needed instead.
     */
    update(edgeIds: Iterable<string>): boolean {
        const batch: FleetEdge[] = [];
        // Identities whose node may read differently: their served ports changed, or the
        // edge they were made from was replaced.
        const stale = new Set<string>();
        for (const id of new Set(edgeIds)) {
            const edge = this.store.edges.get(id);
            if (edge === undefined || !this.placeable(edge.client, edge.server)) {
                return false;
            }
            const ends = endsOf(edge);
            const old = this.ends.get(id);
            if (old !== undefined && (old.client !== ends.client || old.server !== ends.server)) {
                return false;
            }
            const serverNode = identityNodeId(edge.server);
            const wasServer = this.served.has(ends.server);
            if (old === undefined || old.port !== ends.port) {
                if (old !== undefined && this.count(old, -1)) {
                    stale.add(serverNode);
                }
                if (this.count(ends, 1)) {
                    stale.add(serverNode);
                }
            }
            // An ingress source that now also serves moves to the egress side.
            if (!wasServer && edge.server.kind === 'external' && this.madeFrom.has(serverNode)) {
                return false;
            }
            this.ends.set(id, ends);
            batch.push(edge);
        }

        const size = this.groups.size + this.identities.size;
        for (const edge of batch) {
            for (const id of [edge.client, edge.server]) {
                if (this.madeFrom.get(identityNodeId(id)) === edge.id) {
                    stale.add(identityNodeId(id));
                }
            }
            this.addEnds(edge);
            this.setEdge(edge);
        }
        const grown = this.groups.size + this.identities.size !== size;

        for (const nodeId of stale) {
            const old = this.identities.get(nodeId);
            const from = this.store.edges.get(this.madeFrom.get(nodeId) ?? '');
            if (old === undefined || from === undefined) {
                continue;
            }
            const node = this.identityNode(
                identityNodeId(from.client) === nodeId ? from.client : from.server,
            );
            if (node.parent !== old.parent) {
                return false;
            }
            this.identities.set(nodeId, node);
            this.nodes.set(nodeId, node);
        }
        if (grown) {
            this.nodes = this.ordered();
        }
        return true;
    }

    // Same order as a full build: groups as first needed, then identities as first seen.
    private ordered(): Map<string, NodeData> {
        return orderParentsFirst(new Map([...this.groups, ...this.identities]));
    }

    /**
     * A process on a host no process was seen on before may change that host's zone, or the
     * fleet's main zone; an unknown owner on a host without a box needs the box placed first.
     */
    private placeable(...ids: Identity[]): boolean {
        return ids.every((id) =>
            id.kind === 'process'
                ? this.zonedHosts.has(id.host)
                : id.kind !== 'unknown' || this.groups.has(hostNodeId(id.host)),
        );
    }

    /** Counts an edge in or out of its server's ports; true when the set of ports changed. */
    private count(ends: Ends, by: 1 | -1): boolean {
        const ports = this.served.get(ends.server) ?? new Map<number, number>();
        const before = ports.get(ends.port) ?? 0;
        const after = before + by;
        if (after > 0) {
            ports.set(ends.port, after);
        } else {
            ports.delete(ends.port);
        }
        if (ports.size > 0) {
            this.served.set(ends.server, ports);
        } else {
            this.served.delete(ends.server);
        }
        return before > 0 !== after > 0;
    }

    private addEnds(edge: FleetEdge): void {
        for (const id of [edge.client, edge.server]) {
            const nodeId = identityNodeId(id);
            if (!this.madeFrom.has(nodeId)) {
                this.madeFrom.set(nodeId, edge.id);
                this.identities.set(nodeId, this.identityNode(id));
            }
        }
    }

    private setEdge(edge: FleetEdge): void {
        const note = this.store.edgeNotes.get(edge.id);
        const cached = edgeCache.get(edge);
        if (cached !== undefined && cached.note === note) {
            this.edges.set(cached.data.id, cached.data);
            return;
        }
        const data = edgeData(edge, identityNodeId(edge.client), identityNodeId(edge.server), note);
        edgeCache.set(edge, { note, data });
        this.edges.set(data.id, data);
    }

    private note(key: string): NodeAnnotation {
        return this.store.nodeNotes.get(key) ?? NO_NOTE;
    }

    private identityNode(id: Identity): NodeData {
        const key = keyOf(id);
        const note = this.note(key);
        const parent = this.parentOf(id, this.served.has(key));
        const node = identityNode(id, identityNodeId(id), parent, note);
        node.crownJewel = note.crownJewel ?? isCrownJewel(id, this.served.get(key)?.keys() ?? []);
        if (node.crownJewel) {
            node.label = `★ ${node.label}`;
        }
        return node;
    }

    private group(data: GroupInit): string {
        if (!this.groups.has(data.id)) {
            this.groups.set(data.id, {
                detail: '',
                mode: '',
                degraded: false,
                crownJewel: false,
                ...data,
            });
        }
        return data.id;
    }

    private hostGroup(name: string): string {
        const zone = this.zones.get(name) ?? DEFAULT_ZONE;
        const zoneId = this.group({
            id: zoneNodeId(zone),
            kind: 'zone',
            label: plainText(zone),
            host: '',
            app: '',
        });
        const id = hostNodeId(name);
        if (!this.groups.has(id)) {
            const fleetHost = this.store.hosts.get(name);
            this.groups.set(id, hostNode(name, zoneId, fleetHost, this.note(`host:${name}`)));
        }
        return id;
    }

    private parentOf(id: Identity, isServer: boolean): string {
        if (id.kind === 'external') {
            const side = isServer ? 'out' : 'in';
            const sideId = this.group({
                id: side === 'out' ? EGRESS_SIDE_ID : INGRESS_SIDE_ID,
                kind: 'side',
                label: side === 'out' ? 'egress targets' : 'ingress sources',
                host: '',
                app: '',
            });
            const domain = domainOf(id.name);
            return this.group({
                id: domainNodeId(side, domain),
                kind: 'domain',
                label: plainText(domain),
                parent: sideId,
                host: '',
                app: '',
            });
        }
        const hostId = this.hostGroup(id.host);
        const app = appOf(id);
        if (app === '') {
            return hostId;
        }
        const mode = this.note(`app:${id.host}/${app}`).mode;
        return this.group({
            id: appNodeId(id.host, app),
            kind: 'app',
            label: plainText(app) + (mode ? ` · ${mode}` : ''),
            parent: hostId,
            host: id.host,
            app,
            mode: mode ?? '',
        });
    }
}

function endsOf(edge: FleetEdge): Ends {
    return { client: keyOf(edge.client), server: keyOf(edge.server), port: edge.port };
}

function hostZones(store: FleetStore): { zones: Map<string, string>; zonedHosts: Set<string> } {
    const zones = new Map<string, string>();
    for (const edge of store.edges.values()) {
        for (const id of [edge.client, edge.server]) {
            if (id.kind === 'process' && !zones.has(id.host)) {
                zones.set(id.host, id.zone);
            }
        }
    }
    const zonedHosts = new Set(zones.keys());
    // Hosts whose processes were never seen go with the fleet's main zone.
    const main = zones.values().next().value ?? DEFAULT_ZONE;
    for (const host of store.hosts.keys()) {
        if (!zones.has(host)) {
            zones.set(host, main);
        }
    }
    return { zones, zonedHosts };
}
