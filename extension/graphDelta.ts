// What the graph webview must be told to go from the fleet graph it was last sent to the next
// one. A fleet update usually bumps a few edges' counts out of thousands, and a full snapshot
// makes the page parse and rebuild everything; a delta lets it patch only those edges. Pure, so
// the claim "the delta applied to the old graph gives the new one" is tested against the
// webview's own merge (graphStore).
import { isDeepStrictEqual } from 'node:util';
import type { FleetEdge, FleetGraph, FleetHost } from '../agent/protocol';
import { mergeEdge } from '../webview/graphStore';
import type { ExtensionMessage } from '../webview/messages';

export type DeltaMessage = Extract<ExtensionMessage, { type: 'delta' }>;

export type GraphUpdate =
    | { kind: 'unchanged' }
    /** The change is one a delta cannot carry; `why` is for the log. */
    | { kind: 'snapshot'; why: string }
    | { kind: 'delta'; message: DeltaMessage };

export function graphUpdate(old: FleetGraph, next: FleetGraph): GraphUpdate {
    const nextHosts = new Map(next.hosts.map((host) => [host.name, host]));
    // Deltas upsert hosts by name; nothing in them removes one.
    const goneHost = old.hosts.find((host) => !nextHosts.has(host.name));
    if (goneHost !== undefined) {
        return { kind: 'snapshot', why: `host ${goneHost.name} left the graph` };
    }
    const oldHosts = new Map(old.hosts.map((host) => [host.name, host]));
    const changed = (host: FleetHost) => !isDeepStrictEqual(oldHosts.get(host.name), host);
    const hosts = next.hosts.filter(changed);

    const oldEdges = new Map(old.edges.map((edge) => [edge.id, edge]));
    const edges: FleetEdge[] = [];
    for (const edge of next.edges) {
        const before = oldEdges.get(edge.id);
        oldEdges.delete(edge.id);
        if (before === undefined) {
            edges.push(edge);
            continue;
        }
        if (isDeepStrictEqual(before, edge)) {
            continue;
        }
        // The page merges a streamed edge so counts and times only move forward; an agent
        // that restarted (counts from zero) or a host that left seenBy cannot be said that way.
        if (!isDeepStrictEqual(mergeEdge(before, edge), edge)) {
            return { kind: 'snapshot', why: `edge ${edge.id} went back` };
        }
        edges.push(edge);
    }
    const removedEdges = [...oldEdges.keys()];

    if (hosts.length === 0 && edges.length === 0 && removedEdges.length === 0) {
        return { kind: 'unchanged' };
    }
    const message: DeltaMessage = { type: 'delta' };
    if (edges.length > 0) message.edges = edges;
    if (hosts.length > 0) message.hosts = hosts;
    if (removedEdges.length > 0) message.removedEdges = removedEdges;
    return { kind: 'delta', message };
}
