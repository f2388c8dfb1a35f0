// What the user sees of the full graph: filters, hidden nodes, folded groups and the "N more"
// node that keeps a big group readable. Pure, so it is tested without a browser.
import { worstMode, worstState, worstVerdict, type EdgeStateKey } from './graphBadges';
import { formatCount } from './graphLabels';
import type { EdgeData, GraphElements, NodeData } from './graphModel';
import { orderParentsFirst } from './graphModel';

export interface ViewOptions {
    /** Edge states shown; all when undefined. */
    states?: readonly EdgeStateKey[];
    /** Only edges with an end on this host / in this app. */
    host?: string;
    app?: string;
    /** Only edges seen within this many ms before `now`. */
    windowMs?: number;
    now?: number;
    /** Nodes (identities or groups) the user hid as noise. */
    hidden?: ReadonlySet<string>;
    /** Groups the user folded into one node. */
    collapsed?: ReadonlySet<string>;
    /** Groups the user opened past the size limit. */
    expanded?: ReadonlySet<string>;
    /** Identities shown per group before the rest fold into "N more". */
    groupLimit?: number;
    /**
     * Above this many identities every host and domain starts folded: 10,000 edges cost a
     * fifth of a second per redraw, and nobody reads them at that size anyway.
     */
    autoFoldAbove?: number;
    /** Groups the user opened although auto-folding would fold them. */
    unfolded?: ReadonlySet<string>;
}

export const DEFAULT_AUTO_FOLD_ABOVE = 400;
const AUTO_FOLD_KINDS: ReadonlySet<string> = new Set(['host', 'domain']);

/** The groups folded for the current view: the user's, plus auto-folded ones in a big graph. */
export function foldedGroups(
    full: GraphElements,
    identities: number,
    options: ViewOptions,
): Set<string> {
    const folded = new Set(options.collapsed ?? []);
    if (identities > (options.autoFoldAbove ?? DEFAULT_AUTO_FOLD_ABOVE)) {
        for (const node of full.nodes.values()) {
            if (AUTO_FOLD_KINDS.has(node.kind) && !options.unfolded?.has(node.id)) {
                folded.add(node.id);
            }
        }
    }
    return folded;
}

export const DEFAULT_GROUP_LIMIT = 24;

export function moreNodeId(groupId: string): string {
    return `more:${groupId}`;
}

function ancestors(nodes: Map<string, NodeData>, id: string): string[] {
    const known = chains.get(nodes)?.get(id);
    if (known !== undefined) {
        return known;
    }
    const chain: string[] = [];
    let parent = nodes.get(id)?.parent;
    while (parent !== undefined && chain.length < 16) {
        chain.push(parent);
        parent = nodes.get(parent)?.parent;
    }
    const memo = chains.get(nodes) ?? new Map<string, string[]>();
    memo.set(id, chain);
    chains.set(nodes, memo);
    return chain;
}

// Ancestor chains per element set: asked for every edge end on every batch.
const chains = new WeakMap<Map<string, NodeData>, Map<string, string[]>>();

/** Whether an edge passes the toolbar's filters; `since` is the start of the time window. */
function edgePasses(edge: EdgeData, full: GraphElements, options: ViewOptions, since: number) {
    if (options.states !== undefined && !options.states.includes(edge.state)) {
        return false;
    }
    if (edge.lastSeen < since) {
        return false;
    }
    if (options.host === undefined && options.app === undefined) {
        return true;
    }
    const ends = [full.nodes.get(edge.source), full.nodes.get(edge.target)];
    if (options.host !== undefined && !ends.some((n) => n?.host === options.host)) {
        return false;
    }
    return options.app === undefined || ends.some((n) => n?.app === options.app);
}

/** The elements to draw for `full` under `options`. */
export function viewElements(full: GraphElements, options: ViewOptions = {}): GraphElements {
    const hidden = options.hidden ?? new Set<string>();
    const expanded = options.expanded ?? new Set<string>();
    const limit = options.groupLimit ?? DEFAULT_GROUP_LIMIT;

    const isHidden = (id: string) =>
        hidden.size > 0 && (hidden.has(id) || ancestors(full.nodes, id).some((a) => hidden.has(a)));
    const since =
        options.windowMs === undefined
            ? Number.NEGATIVE_INFINITY
            : (options.now ?? Date.now()) - options.windowMs;
    const edges: EdgeData[] = [];
    for (const edge of full.edges.values()) {
        if (
            edgePasses(edge, full, options, since) &&
            !isHidden(edge.source) &&
            !isHidden(edge.target)
        ) {
            edges.push(edge);
        }
    }

    // Traffic per identity decides who stays visible when a group is over its limit.
    const traffic = new Map<string, number>();
    for (const edge of edges) {
        traffic.set(edge.source, (traffic.get(edge.source) ?? 0) + edge.count);
        traffic.set(edge.target, (traffic.get(edge.target) ?? 0) + edge.count);
    }

    const collapsed = foldedGroups(full, traffic.size, options);

    // Each visible identity is drawn as itself, as its folded ancestor, or as "N more".
    const stand = new Map<string, string>();
    const byGroup = new Map<string, string[]>();
    for (const id of traffic.keys()) {
        const chain = ancestors(full.nodes, id);
        const fold = outermost(chain, collapsed);
        if (fold !== undefined) {
            stand.set(id, fold);
            continue;
        }
        const parent = chain[0] ?? '';
        const members = byGroup.get(parent);
        if (members === undefined) {
            byGroup.set(parent, [id]);
        } else {
            members.push(id);
        }
    }
    const moreCounts = new Map<string, number>();
    for (const [group, members] of byGroup) {
        const overLimit = group !== '' && members.length > limit && !expanded.has(group);
        members.sort((a, b) => (traffic.get(b) ?? 0) - (traffic.get(a) ?? 0) || a.localeCompare(b));
        members.forEach((id, index) => {
            if (overLimit && index >= limit - 1) {
                stand.set(id, moreNodeId(group));
                moreCounts.set(group, (moreCounts.get(group) ?? 0) + 1);
            } else {
                stand.set(id, id);
            }
        });
    }

    const foldedCounts = new Map<string, number>();
    for (const to of stand.values()) {
        if (collapsed.has(to)) {
            foldedCounts.set(to, (foldedCounts.get(to) ?? 0) + 1);
        }
    }
    const nodes = new Map<string, NodeData>();
    const keep = (id: string): void => {
        const node = full.nodes.get(id);
        if (node === undefined || nodes.has(id)) {
            return;
        }
        const folded = collapsed.has(id) ? (foldedCounts.get(id) ?? 0) : undefined;
        nodes.set(id, folded === undefined ? node : foldedNode(node, folded));
        if (node.parent !== undefined) {
            keep(node.parent);
        }
    };
    // Host boxes stay even when empty: a host with nothing to show is news in itself.
    for (const node of full.nodes.values()) {
        if ((node.kind === 'host' || node.kind === 'zone') && !isHidden(node.id)) {
            keep(node.id);
        }
    }
    for (const id of new Set(stand.values())) {
        keep(id);
    }
    for (const [group, count] of moreCounts) {
        const parent = full.nodes.get(group);
        nodes.set(moreNodeId(group), {
            id: moreNodeId(group),
            kind: 'more',
            label: `${count} more`,
            parent: group,
            detail: `${count} more in ${parent?.label ?? group}; open the group to show them`,
            host: parent?.host ?? '',
            app: parent?.app ?? '',
            mode: '',
            degraded: false,
            crownJewel: false,
        });
    }
    // A folded group's children are drawn as the group itself.
    for (const id of [...nodes.keys()]) {
        if (ancestors(full.nodes, id).some((a) => collapsed.has(a) && nodes.has(a))) {
            nodes.delete(id);
        }
    }

    return { nodes: orderParentsFirst(nodes), edges: foldEdges(edges, stand) };
}

/** The outermost of `chain` (innermost first) that is in `set`. */
function outermost(chain: readonly string[], set: ReadonlySet<string>): string | undefined {
    for (let i = chain.length - 1; i >= 0; i--) {
        if (set.has(chain[i] as string)) {
            return chain[i];
        }
    }
    return undefined;
}

function foldedNode(node: NodeData, count: number): NodeData {
    return { ...node, collapsed: count, label: `${node.label} (${count})` };
}

/** Edges between folded nodes become one edge per pair, carrying the worst state. */
function foldEdges(edges: EdgeData[], stand: Map<string, string>): Map<string, EdgeData> {
    const out = new Map<string, EdgeData>();
    // Folded edges by source, then target: the id is spelled out once per pair, not per edge.
    const pairs = new Map<string, Map<string, EdgeData>>();
    for (const edge of edges) {
        const source = stand.get(edge.source) ?? edge.source;
        const target = stand.get(edge.target) ?? edge.target;
        if (source === edge.source && target === edge.target) {
            out.set(edge.id, edge);
            continue;
        }
        if (source === target) {
            continue;
        }
        let row = pairs.get(source);
        if (row === undefined) {
            row = new Map();
            pairs.set(source, row);
        }
        const old = row.get(target);
        if (old === undefined) {
            const id = `fold:${JSON.stringify([source, target])}`;
            const folded = { ...edge, id, source, target, members: [...edge.members] };
            row.set(target, folded);
            out.set(id, folded);
            continue;
        }
        old.count += edge.count;
        old.members.push(...edge.members);
        old.state = worstState(old.state, edge.state);
        old.verdict = worstVerdict(old.verdict, edge.verdict);
        old.mode = worstMode(old.mode, edge.mode);
        old.firstSeen = Math.min(old.firstSeen, edge.firstSeen);
        old.lastSeen = Math.max(old.lastSeen, edge.lastSeen);
        old.rule = old.rule === edge.rule ? old.rule : '';
        old.policyFile = old.policyFile === edge.policyFile ? old.policyFile : '';
    }
    for (const edge of out.values()) {
        if (edge.members.length > 1) {
            edge.label = `${edge.members.length} links ×${formatCount(edge.count)}`;
            edge.port = 0;
        }
    }
    return out;
}
