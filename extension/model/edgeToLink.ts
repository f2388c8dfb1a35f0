// A fleet edge written as a policy link: exact patterns for both ends (the person widens
// them when reviewing), the edge's port and protocol, and its evidence. Pure.
import type { LinkState, PolicyLink, ProcessPattern } from '../../agent/policy/types';
import type { FleetEdge, Identity } from '../../agent/protocol';

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
