// Which observed edges a policy link covers, and which links of a file shadow or contradict
// each other. Pure, unit-tested; the agent's compiler is the authority on enforcement, this
// only feeds the editor (evidence in CodeLens, diagnostics, navigation).
import {
    isExternal,
    type EndpointPattern,
    type LinkState,
    type PolicyLink,
    type ProcessPattern,
} from '../../agent/policy/types';
import type { FleetEdge, Identity } from '../../agent/protocol';

const PROCESS_FIELDS: (keyof ProcessPattern)[] = [
    'zone',
    'host',
    'unit',
    'binary',
    'script',
    'user',
];

export function endpointMatches(pattern: EndpointPattern, id: Identity): boolean {
    if (isExternal(pattern)) {
        if (id.kind !== 'external') return false;
        if (pattern.dns !== undefined) return dnsMatches(pattern.dns, id.name.replace(/^dns:/, ''));
        if (pattern.cidr !== undefined) return id.name === `cidr:${pattern.cidr}`;
        return false;
    }
    if (id.kind !== 'process') return false;
    return PROCESS_FIELDS.every((f) => pattern[f] === undefined || pattern[f] === id[f]);
}

function dnsMatches(pattern: string, name: string): boolean {
    const host = name.replace(/:\d+$/, '').toLowerCase();
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
}

export function edgeMatchesLink(edge: FleetEdge, link: PolicyLink): boolean {
    return (
        edge.protocol === link.protocol &&
        link.ports.includes(edge.port) &&
        endpointMatches(link.client, edge.client) &&
        endpointMatches(link.server, edge.server)
    );
}

export interface LiveEvidence {
    flows: number;
    lastSeen: number;
    edges: FleetEdge[];
    hosts: string[];
}

export function liveEvidence(edges: FleetEdge[], link: PolicyLink): LiveEvidence | undefined {
    const matched = edges.filter((e) => edgeMatchesLink(e, link));
    if (matched.length === 0) return undefined;
    return {
        flows: matched.reduce((n, e) => n + e.count, 0),
        lastSeen: Math.max(...matched.map((e) => e.lastSeen)),
        edges: matched,
        hosts: [...new Set(matched.flatMap((e) => e.seenBy))].sort(),
    };
}

/** True when every identity `b` matches is also matched by `a`. */
export function patternCovers(a: EndpointPattern, b: EndpointPattern): boolean {
    if (isExternal(a) !== isExternal(b)) return false;
    if (isExternal(a) && isExternal(b)) {
        if (a.cidr !== undefined) return a.cidr === b.cidr;
        if (a.dns === undefined || b.dns === undefined) return false;
        return a.dns === b.dns || (a.dns.startsWith('*.') && b.dns.endsWith(a.dns.slice(1)));
    }
    const pa = a as ProcessPattern;
    const pb = b as ProcessPattern;
    return PROCESS_FIELDS.every((f) => pa[f] === undefined || pa[f] === pb[f]);
}

export interface LinkOverlap {
    kind: 'shadowed' | 'conflict';
    /** Index of the link the diagnostic is about. */
    link: number;
    /** Index of the broader or contradicting link. */
    other: number;
    message: string;
}

/**
 * `shadowed`: a broader link with the same state already covers this one, so it changes
 * nothing. `conflict`: an overlapping link says otherwise (allowed vs denied); which wins
 * is then a question of precedence the reader should not have to answer.
 */
export function linkOverlaps(links: PolicyLink[]): LinkOverlap[] {
    const out: LinkOverlap[] = [];
    links.forEach((b, j) => {
        links.forEach((a, i) => {
            if (i === j || a.protocol !== b.protocol) return;
            const covers = patternCovers(a.client, b.client) && patternCovers(a.server, b.server);
            if (!covers) return;
            const shared = b.ports.filter((p) => a.ports.includes(p));
            if (shared.length === 0) return;
            if (verdictOf(a.state) !== verdictOf(b.state)) {
                out.push({
                    kind: 'conflict',
                    link: j,
                    other: i,
                    message:
                        `link "${b.id}" (${b.state}) overlaps link "${a.id}" (${a.state}) on ` +
                        `port ${shared.join(', ')}/${b.protocol}`,
                });
            } else if (
                shared.length === b.ports.length &&
                (i < j || !patternCovers(b.client, a.client) || !patternCovers(b.server, a.server))
            ) {
                out.push({
                    kind: 'shadowed',
                    link: j,
                    other: i,
                    message: `link "${b.id}" is already covered by link "${a.id}" (${a.state})`,
                });
            }
        });
    });
    return out;
}

function verdictOf(state: LinkState): 'allow' | 'deny' | 'none' {
    return state === 'allowed' ? 'allow' : state === 'denied' ? 'deny' : 'none';
}
