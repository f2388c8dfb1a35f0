// The side panel for what is selected: identities, evidence, the rule and policy entry, and
// the actions. Every value shown came from a host, so it is set as text, never as markup.
import type { FleetEdge, Identity } from '../agent/protocol';
import { plainText } from './graphLabels';
import type { EdgeData, NodeData } from './graphModel';
import type { LinkAction, LinkPatternEdit, LinkPatterns, WebviewMessage } from './messages';
import { patternEditor } from './patternEditor';
import { button, tag, text } from './ui';

export interface Selection {
    nodes: NodeData[];
    edges: EdgeData[];
}

export interface DetailsContext {
    post(message: WebviewMessage): void;
    fleetEdge(id: string): FleetEdge | undefined;
    /** The patterns of the link covering a fleet edge, where its editor starts. */
    linkPatterns(id: string): LinkPatterns | undefined;
    hide(nodeId: string): void;
    toggleFold(groupId: string): void;
    expand(groupId: string): void;
}

const GROUP_KINDS: ReadonlySet<string> = new Set(['zone', 'host', 'app', 'side', 'domain']);

/**
 * Renders the panel for `selection`. When only the evidence of what is already shown changed
 * (a streamed flow), the values are updated in place and the buttons stay the same elements: a
 * click that began on a button must end on that button, or the browser drops it. `streamed`
 * says the change came from the agents rather than from the user.
 */
export function renderDetails(
    panel: HTMLElement,
    selection: Selection,
    ctx: DetailsContext,
    streamed = false,
): void {
    const shape = shapeOf(selection);
    if (panel.dataset['shape'] === shape && !panel.hidden) {
        updateEvidence(panel, selection, ctx);
        return;
    }
    // A streamed change of shape waits while the user is typing or pressing in the panel.
    if (streamed && panel.contains(document.activeElement)) {
        return;
    }
    panel.dataset['shape'] = shape;
    const { nodes, edges } = selection;
    panel.replaceChildren();
    panel.hidden = nodes.length === 0 && edges.length === 0;
    if (panel.hidden) {
        return;
    }
    if (edges.length === 1 && nodes.length === 0 && edges[0] !== undefined) {
        renderEdge(panel, edges[0], ctx);
    } else if (nodes.length === 1 && edges.length === 0 && nodes[0] !== undefined) {
        renderNode(panel, nodes[0], ctx);
    } else {
        renderMany(panel, selection, ctx);
    }
}

/** Edge fields that flows change; everything else shown is the panel's shape. */
const EVIDENCE = ['count', 'firstSeen', 'lastSeen', 'label'] as const;

function shapeOf({ nodes, edges }: Selection): string {
    const stable = edges.map((edge) => {
        const copy: Record<string, unknown> = { ...edge };
        for (const key of EVIDENCE) delete copy[key];
        return copy;
    });
    return JSON.stringify({ nodes, edges: stable });
}

function evidenceOf(edge: EdgeData, ctx: DetailsContext): Record<string, string> {
    const fleet = edge.members.length === 1 ? ctx.fleetEdge(edge.members[0] ?? '') : undefined;
    return {
        title: fleet ? `${fleet.protocol}/${fleet.port}` : edge.label,
        'seen by': fleet ? fleet.seenBy.join(', ') || '—' : '',
        connections: String(edge.count),
        'first seen': when(edge.firstSeen),
        'last seen': when(edge.lastSeen),
    };
}

function updateEvidence(
    panel: HTMLElement,
    { nodes, edges }: Selection,
    ctx: DetailsContext,
): void {
    const edge = edges[0];
    if (edges.length !== 1 || nodes.length !== 0 || edge === undefined) return;
    for (const [name, value] of Object.entries(evidenceOf(edge, ctx))) {
        const slot = panel.querySelector(`[data-evidence="${name}"]`);
        if (slot !== null) slot.textContent = plainText(value, 400);
    }
}

function field(panel: HTMLElement, name: string, value: string): void {
    const row = text('div', '', 'field');
    const shown = text('span', plainText(value, 400), 'value');
    shown.dataset['evidence'] = name;
    row.append(text('span', name, 'name'), shown);
    panel.append(row);
}

function when(ms: number): string {
    return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : '—';
}

function identityLines(id: Identity): string {
    switch (id.kind) {
        case 'process':
            return [
                `${id.zone} / ${id.host}`,
                id.script ? `${id.binary} ${id.script}` : id.binary,
                id.unit ? `unit ${id.unit}` : undefined,
                `user ${id.user}`,
            ]
                .filter((line) => line !== undefined)
                .join(' · ');
        case 'external':
            return id.canonical !== undefined
                ? `${id.name} → ${id.canonical} (${id.address})`
                : `${id.name} (${id.address})`;
        case 'unknown':
            return `unknown on ${id.host} (${id.reason})`;
    }
}

function renderNode(panel: HTMLElement, node: NodeData, ctx: DetailsContext): void {
    panel.append(text('h3', node.label.replace(/\n/g, ' · ')));
    const badges = text('div', '', 'badges');
    badges.append(tag(node.kind));
    if (node.mode) {
        badges.append(tag(node.mode, `mode-${node.mode}`));
    }
    if (node.degraded) {
        badges.append(tag('degraded', 'degraded'));
    }
    if (node.crownJewel) {
        badges.append(tag('crown jewel', 'jewel'));
    }
    panel.append(badges, text('pre', node.detail));

    const actions = text('div', '', 'actions');
    if (node.kind === 'more' && node.parent !== undefined) {
        const group = node.parent;
        actions.append(button('Show all', () => ctx.expand(group), { appearance: 'primary' }));
    }
    if (GROUP_KINDS.has(node.kind) || node.collapsed !== undefined) {
        const label = node.collapsed !== undefined ? 'Unfold group' : 'Fold group';
        actions.append(button(label, () => ctx.toggleFold(node.id)));
    }
    if (node.kind !== 'more') {
        actions.append(button('Hide', () => ctx.hide(node.id), { title: 'Hide as noise' }));
    }
    panel.append(actions);
}

function renderEdge(panel: HTMLElement, edge: EdgeData, ctx: DetailsContext): void {
    const fleet = edge.members.length === 1 ? ctx.fleetEdge(edge.members[0] ?? '') : undefined;
    const evidence = evidenceOf(edge, ctx);
    const title = text('h3', evidence['title'] ?? '');
    title.dataset['evidence'] = 'title';
    panel.append(title);

    const badges = text('div', '', 'badges');
    badges.append(tag(edge.state === 'none' ? 'unreviewed' : edge.state, `state-${edge.state}`));
    if (edge.verdict) {
        badges.append(tag(edge.verdict, `verdict-${edge.verdict}`));
    }
    if (edge.mode) {
        badges.append(tag(edge.mode, `mode-${edge.mode}`));
    }
    panel.append(badges);

    if (fleet !== undefined) {
        field(panel, 'client', identityLines(fleet.client));
        field(panel, 'server', identityLines(fleet.server));
        field(panel, 'seen by', evidence['seen by'] ?? '');
    } else {
        field(panel, 'links', String(edge.members.length));
    }
    for (const name of ['connections', 'first seen', 'last seen']) {
        field(panel, name, evidence[name] ?? '');
    }
    field(panel, 'rule', edge.rule || '— (no link in any policy)');
    field(panel, 'policy file', edge.policyFile || '—');

    const editor =
        fleet === undefined ? undefined : patternEditor(panel, fleet, ctx.linkPatterns(fleet.id));
    panel.append(actionRow(edge.members, ctx, () => editor?.edited()));

    if (edge.members.length === 1 && (edge.rule || edge.policyFile)) {
        const id = edge.members[0] ?? '';
        panel.append(
            button('Open in policy file', () => ctx.post({ type: 'openInPolicy', edgeId: id })),
        );
    }
}

function renderMany(panel: HTMLElement, selection: Selection, ctx: DetailsContext): void {
    const members = [...new Set(selection.edges.flatMap((edge) => edge.members))];
    panel.append(
        text('h3', `${selection.edges.length} edges, ${selection.nodes.length} nodes selected`),
        text('p', `${members.length} links: an action applies to each of them.`),
    );
    if (members.length > 0) {
        panel.append(actionRow(members, ctx, () => undefined));
    }
}

function actionRow(
    edgeIds: string[],
    ctx: DetailsContext,
    pattern: () => LinkPatternEdit | undefined,
): HTMLElement {
    const row = text('div', '', 'actions');
    const act = (action: LinkAction) => () => {
        const edit = pattern();
        ctx.post(
            edit
                ? { type: 'action', action, edgeIds, pattern: edit }
                : { type: 'action', action, edgeIds },
        );
    };
    row.append(
        button('Allow', act('allow'), { appearance: 'primary' }),
        button('Snooze', act('snooze')),
        button('Deny', act('deny')),
    );
    return row;
}
