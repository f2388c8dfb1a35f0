// A fleet edge written as a policy link: exact patterns for both ends (the person widens
// them when reviewing), the edge's port and protocol, and its evidence. Pure.
import type { LinkState, PolicyLink, ProcessPattern } from '../../agent/policy/types';
import type { FleetEdge, Identity } from '../../agent/protocol';
import type { LinkPatternEdit } from '../../webview/messages';

/**
 * The exact pattern of an identity: what a link from the graph names it by, and where the
 * graph's pattern editor starts for an edge no link covers (webview/graphPatterns), so an
 * edit changes only what the person changed.
 */
export function patternOf(id: Identity): PolicyLink['client'] | undefined {
    switch (id.kind) {
        case 'process': {
            const p: ProcessPattern = { host: id.host, binary: id.binary };
            if (id.unit) p.unit = id.unit;
            if (id.script) p.script = id.script;
            return p;
        }
        case 'external':
            return id.name.startsWith('dns:')
                ? { dns: id.name.slice(4).replace(/:\d+$/, '') }
                : { cidr: id.name.replace(/^cidr:/, '') };
        case 'unknown':
            return undefined;
    }
}

/** Readable and unique enough inside one file: `web-nginx-to-api-node-3000`. */
export function linkIdOf(edge: FleetEdge): string {
    const part = (id: Identity): string =>
        id.kind === 'process'
            ? `${id.host}-${id.binary.split('/').pop() ?? 'proc'}`
            : id.kind === 'external'
              ? id.name.replace(/^(dns|cidr):/, '')
              : 'unknown';
    const raw = `${part(edge.client)}-to-${part(edge.server)}-${edge.port}`;
    return raw
        .replace(/[^A-Za-z0-9._-]+/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '')
        .slice(0, 100);
}

/** Undefined when an end is unknown: no pattern can name a process that was not seen. */
export function edgeToLink(edge: FleetEdge, state: LinkState = 'alert'): PolicyLink | undefined {
    const client = patternOf(edge.client);
    const server = patternOf(edge.server);
    if (!client || !server) return undefined;
    return {
        id: linkIdOf(edge),
        client,
        server,
        ports: [edge.port],
        protocol: edge.protocol,
        state,
        evidence: {
            flows: edge.count,
            firstSeen: new Date(edge.firstSeen).toISOString(),
            lastSeen: new Date(edge.lastSeen).toISOString(),
            hosts: edge.seenBy,
        },
    };
}

/**
 * The link an edited review of `edge` writes, for mergeLinks' `reviewed` mode: the link that
 * covers the edge, rewritten in place (same id, ports and note), else the edge's own exact
 * link. The graph's editor starts from the covering link's patterns (GraphAnnotations.links),
 * so whatever it pins and the person left alone is kept.
 */
export function reviewedLink(
    edge: FleetEdge,
    state: LinkState,
    edit: LinkPatternEdit,
    covering?: PolicyLink,
    now = new Date(),
): PolicyLink | undefined {
    const base = covering ?? edgeToLink(edge, state);
    if (!base) return undefined;
    const { snoozedAt: _old, ...rest } = base;
    return {
        ...rest,
        client: edit.client ?? base.client,
        server: edit.server ?? base.server,
        state,
        ...(state === 'snoozed' ? { snoozedAt: now.toISOString() } : {}),
    };
}
