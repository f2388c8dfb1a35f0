// Everything the webview knows about the fleet, merged from snapshots and streamed deltas.
// The drawn elements are derived from this (graphModel), never patched by hand.
import type { FleetEdge, FleetGraph, FleetHost } from '../agent/protocol';
import {
    linkNoteKey,
    type EdgeAnnotation,
    type ExtensionMessage,
    type GraphAnnotations,
    type LinkPatterns,
    type NodeAnnotation,
} from './messages';

export interface FleetStore {
    hosts: Map<string, FleetHost>;
    /** By FleetEdge.id. */
    edges: Map<string, FleetEdge>;
    edgeNotes: Map<string, EdgeAnnotation>;
    nodeNotes: Map<string, NodeAnnotation>;
    /** By linkNoteKey(policyFile, rule). */
    linkNotes: Map<string, LinkPatterns>;
    /** Bumped on every change, so views can skip work when nothing happened. */
    version: number;
}

export function emptyStore(): FleetStore {
    return {
        hosts: new Map(),
        edges: new Map(),
        edgeNotes: new Map(),
        nodeNotes: new Map(),
        linkNotes: new Map(),
        version: 0,
    };
}

export function storeFromGraph(graph: FleetGraph, annotations?: GraphAnnotations): FleetStore {
    const store = emptyStore();
    for (const host of graph.hosts) {
        store.hosts.set(host.name, host);
    }
    for (const edge of graph.edges) {
        store.edges.set(edge.id, edge);
    }
    mergeAnnotations(store, annotations);
    store.version = 1;
    return store;
}

/**
 * A streamed edge is the fleet's latest aggregate for that id, but deltas can arrive out of
 * order after a reconnect: counts and times only move forward.
 */
export function mergeEdge(old: FleetEdge | undefined, next: FleetEdge): FleetEdge {
    if (old === undefined) {
        return next;
    }
    return {
        ...next,
        count: Math.max(old.count, next.count),
        firstSeen: Math.min(old.firstSeen, next.firstSeen),
        lastSeen: Math.max(old.lastSeen, next.lastSeen),
        seenBy: [...new Set([...old.seenBy, ...next.seenBy])].sort(),
    };
}

export function mergeAnnotations(store: FleetStore, annotations?: GraphAnnotations): void {
    for (const [id, note] of Object.entries(annotations?.edges ?? {})) {
        store.edgeNotes.set(id, { ...store.edgeNotes.get(id), ...note });
    }
    for (const [id, note] of Object.entries(annotations?.nodes ?? {})) {
        store.nodeNotes.set(id, { ...store.nodeNotes.get(id), ...note });
    }
    for (const [key, patterns] of Object.entries(annotations?.links ?? {})) {
        store.linkNotes.set(key, patterns);
    }
}

/** The patterns of the link the edge is annotated with, when the extension sent them. */
export function coveringPatterns(store: FleetStore, edgeId: string): LinkPatterns | undefined {
    const note = store.edgeNotes.get(edgeId);
    if (note?.rule === undefined || note.policyFile === undefined) {
        return undefined;
    }
    return store.linkNotes.get(linkNoteKey(note.policyFile, note.rule));
}

/** Applies one message; a snapshot replaces the store, a delta is merged into it. */
export function applyMessage(store: FleetStore, message: ExtensionMessage): FleetStore {
    if (message.type === 'graph') {
        const next = storeFromGraph(message.graph, message.annotations);
        next.version = store.version + 1;
        return next;
    }
    for (const id of message.removedEdges ?? []) {
        store.edges.delete(id);
    }
    for (const host of message.hosts ?? []) {
        store.hosts.set(host.name, host);
    }
    for (const edge of message.edges ?? []) {
        store.edges.set(edge.id, mergeEdge(store.edges.get(edge.id), edge));
    }
    mergeAnnotations(store, message.annotations);
    store.version += 1;
    return store;
}

/**
 * Ids of the edges a batch of messages upserted, or undefined when it did more than upsert
 * edges (a snapshot, hosts, annotations, removed edges): then everything derived from the store
 * is rebuilt.
 */
export function changedEdges(messages: readonly ExtensionMessage[]): string[] | undefined {
    const ids: string[] = [];
    for (const message of messages) {
        if (
            message.type === 'graph' ||
            (message.hosts?.length ?? 0) > 0 ||
            (message.removedEdges?.length ?? 0) > 0 ||
            message.annotations !== undefined
        ) {
            return undefined;
        }
        ids.push(...(message.edges ?? []).map((edge) => edge.id));
    }
    return ids;
}

export function storeToGraph(store: FleetStore, generatedAt: number): FleetGraph {
    return { hosts: [...store.hosts.values()], edges: [...store.edges.values()], generatedAt };
}
