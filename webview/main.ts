// Browser side of the service graph: merges what the extension streams, derives the view,
// and patches a live cytoscape graph in batches, keeping the user's pan, zoom and positions.
import cytoscape, { type Core, type NodeSingular } from 'cytoscape';
import fcose from 'cytoscape-fcose';
import cytoscapeSvg from 'cytoscape-svg';
import { coalesce, frameClock, UpdateBatcher } from './graphBatch';
import { applyDiff, highlight } from './graphCanvas';
import { diffElements, isEmptyDiff, type GraphDiff } from './graphDiff';
import { exportView } from './graphExport';
import { gridLayout } from './graphGrid';
import { fullLayout, GRID_ABOVE_NODES } from './graphLayout';
import { ElementBuilder } from './graphBuilder';
import { emptyElements } from './graphModel';
import type { EdgeData, GraphElements, NodeData } from './graphModel';
import { parentIds, placeNewNodes, type Position } from './graphPlacement';
import { applyMessage, changedEdges, coveringPatterns, emptyStore } from './graphStore';
import { graphStyle } from './graphStyle';
import { viewElements } from './graphView';
import { renderDetails, type DetailsContext } from './detailsPanel';
import { renderHeader } from './header';
import { renderLegend } from './legend';
import { isExtensionMessage, type ExtensionMessage, type LinkAction } from './messages';
import { defaultToolbarState, Toolbar, WINDOW_MS } from './toolbar';
import { vscode, type SavedState } from './vscodeApi';

cytoscape.use(fcose);
cytoscape.use(cytoscapeSvg);

const SAVE_DELAY_MS = 300;
const BATCH_INTERVAL_MS = 250;

const header = requireElement('header');
const details = requireElement('detail');
const legend = requireElement('legend');
const saved: SavedState = vscode.getState() ?? {};
const toolbarState = { ...defaultToolbarState(), ...saved.toolbar };
const hidden = new Set(saved.hidden ?? []);
const folded = new Set(saved.folded ?? []);
const expanded = new Set(saved.expanded ?? []);
const unfolded = new Set(saved.unfolded ?? []);

const cy: Core = cytoscape({
    container: requireElement('graph'),
    style: graphStyle(),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 4,
    // Tap selects one element; shift/ctrl-tap and box drag add to the selection.
    boxSelectionEnabled: true,
    selectionType: 'single',
});

let store = emptyStore();
let model: ElementBuilder | undefined;
/** Edges streamed in since the model was brought up to date; undefined when it must be rebuilt. */
let pendingEdges: string[] | undefined = [];
let fullVersion = -1;
let full = emptyElements();
let shown = emptyElements();
let laidOut = false;
let highlighted = false;

function requireElement(id: string): HTMLElement {
    const element = document.getElementById(id);
    if (element === null) {
        throw new Error(`webview markup lacks #${id}`);
    }
    return element;
}

const toolbar = new Toolbar(requireElement('toolbar'), toolbarState, {
    change: () => {
        render();
        scheduleSave();
    },
    fit: () => cy.fit(undefined, 30),
    relayout: () => fullLayout(cy, shown, false, scheduleSave),
    showHidden: () => {
        hidden.clear();
        render();
        scheduleSave();
    },
    exportAs: (format) => {
        vscode.postMessage({ type: 'export', format, data: exportView(cy, format, store, shown) });
    },
    act: (action) => act(action),
    toggleLegend: () => {
        legend.hidden = !legend.hidden;
        scheduleSave();
    },
});

const batcher = new UpdateBatcher<ExtensionMessage>(
    (messages) => {
        const batch = coalesce(messages);
        for (const message of batch) {
            store = applyMessage(store, message);
        }
        const edges = changedEdges(batch);
        pendingEdges = edges && pendingEdges ? [...pendingEdges, ...edges] : undefined;
        render();
    },
    frameClock,
    BATCH_INTERVAL_MS,
);

function render(): void {
    const started = performance.now();
    if (fullVersion !== store.version) {
        updateModel();
    }
    const next = viewElements(full, {
        states: toolbarState.states,
        host: toolbarState.host || undefined,
        app: toolbarState.app || undefined,
        windowMs: WINDOW_MS[toolbarState.window],
        hidden,
        collapsed: folded,
        expanded,
        unfolded,
    });
    const diff = diffElements(shown, next);
    shown = next;
    toolbar.setHiddenCount(hidden.size);
    if (!isEmptyDiff(diff)) {
        patch(diff, next);
    }
    // Clearing classes restyles every element: skip it when there is nothing to clear.
    if (toolbarState.search !== '' || highlighted) {
        highlight(cy, toolbarState.search);
        highlighted = toolbarState.search !== '';
    }
    refreshDetails(new Set([...diff.updatedEdges, ...diff.updatedNodes].map((d) => d.id)));
    document.dispatchEvent(
        new CustomEvent('palisade-rendered', {
            detail: {
                nodes: cy.nodes().length,
                edges: cy.edges().length,
                ms: performance.now() - started,
            },
        }),
    );
}

// A streamed batch of edges updates the model in place; anything else rebuilds it.
function updateModel(): void {
    let rebuilt = false;
    if (model === undefined || pendingEdges === undefined || !model.update(pendingEdges)) {
        model = new ElementBuilder(store);
        rebuilt = true;
        renderHeader(header, [...store.hosts.values()]);
    }
    pendingEdges = [];
    fullVersion = store.version;
    const next = model.elements;
    // An update that adds no node keeps the map, and every node keeps its host and app.
    if (rebuilt || next.nodes !== full.nodes) {
        toolbar.setHosts(
            [...new Set([...next.nodes.values()].map((n) => n.host))].filter(Boolean).sort(),
        );
        toolbar.setApps(
            [...new Set([...next.nodes.values()].map((n) => n.app))].filter(Boolean).sort(),
        );
    }
    full = next;
}

function patch(diff: GraphDiff, next: GraphElements): void {
    // A big first graph gets its grid positions before it is added: adding 2,000 nodes at
    // the origin and moving them after costs a second of overlap work in cytoscape.
    const grid =
        !laidOut && next.nodes.size > GRID_ABOVE_NODES && saved.positions === undefined
            ? gridLayout(next)
            : undefined;
    const placed = grid ?? placeNewNodes(diff, next, positionOf);
    const parents = parentIds(next);
    const leafPosition = (id: string) =>
        parents.has(id) ? undefined : (saved.positions?.[id] ?? placed.get(id));
    const needsLayout = diff.addedNodes.some(
        (n) => !parents.has(n.id) && leafPosition(n.id) === undefined,
    );
    applyDiff(cy, diff, next, leafPosition);

    if (needsLayout) {
        fullLayout(cy, next, !laidOut, scheduleSave);
    } else if (grid !== undefined) {
        cy.fit(undefined, 30);
        scheduleSave();
    } else if (!laidOut) {
        restoreViewport();
    }
    laidOut = true;
}

// On the first graph after a reload the saved positions stand in for what was on screen.
function positionOf(id: string): Position | undefined {
    const node = cy.getElementById(id);
    if (node.nonempty() && !node.isParent()) {
        return { ...node.position() };
    }
    return saved.positions?.[id];
}

function restoreViewport(): void {
    if (saved.zoom !== undefined && saved.pan !== undefined) {
        cy.viewport({ zoom: saved.zoom, pan: saved.pan });
    } else {
        cy.fit(undefined, 30);
    }
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;

function scheduleSave(): void {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveState, SAVE_DELAY_MS);
}

function saveState(): void {
    const positions: Record<string, Position> = {};
    cy.nodes().forEach((node: NodeSingular) => {
        if (!node.isParent()) {
            positions[node.id()] = { ...node.position() };
        }
    });
    saved.zoom = cy.zoom();
    saved.pan = { ...cy.pan() };
    saved.positions = positions;
    saved.toolbar = toolbarState;
    saved.hidden = [...hidden];
    saved.folded = [...folded];
    saved.expanded = [...expanded];
    saved.unfolded = [...unfolded];
    saved.legend = !legend.hidden;
    vscode.setState(saved);
}

function selection(): { nodes: NodeData[]; edges: EdgeData[] } {
    const selected = cy.$(':selected');
    return {
        nodes: selected
            .nodes()
            .map((n) => shown.nodes.get(n.id()))
            .filter((n) => n !== undefined),
        edges: selected
            .edges()
            .map((e) => shown.edges.get(e.id()))
            .filter((e) => e !== undefined),
    };
}

function selectedLinks(): string[] {
    return [...new Set(selection().edges.flatMap((edge) => edge.members))];
}

function act(action: LinkAction): void {
    const edgeIds = selectedLinks();
    if (edgeIds.length > 0) {
        vscode.postMessage({ type: 'action', action, edgeIds });
    }
}

const detailsContext: DetailsContext = {
    post: (message) => vscode.postMessage(message),
    fleetEdge: (id) => store.edges.get(id),
    linkPatterns: (id) => coveringPatterns(store, id),
    hide: (id) => {
        hidden.add(id);
        cy.$(':selected').unselect();
        render();
        scheduleSave();
    },
    toggleFold: (id) => {
        const isFolded = shown.nodes.get(id)?.collapsed !== undefined;
        if (isFolded && !folded.delete(id)) {
            // Folded by the big-graph default rather than by the user.
            unfolded.add(id);
        } else if (!isFolded) {
            folded.add(id);
            unfolded.delete(id);
        }
        render();
        scheduleSave();
    },
    expand: (id) => {
        expanded.add(id);
        cy.$(':selected').unselect();
        render();
        scheduleSave();
    },
};

function showSelection(streamed = false): void {
    renderDetails(details, selection(), detailsContext, streamed);
    toolbar.setSelectedLinks(selectedLinks().length);
}

// A streamed update of what is selected refreshes the panel.
function refreshDetails(updated: Set<string>): void {
    const touched = cy
        .$(':selected')
        .filter((element) => updated.has(element.id()))
        .nonempty();
    if (touched) {
        showSelection(true);
    }
}

let selectionTimer: ReturnType<typeof setTimeout> | undefined;
cy.on('select unselect', () => {
    // A box selection fires once per element: show the result once.
    clearTimeout(selectionTimer);
    selectionTimer = setTimeout(showSelection, 30);
});
cy.on('viewport dragfree', scheduleSave);

// VS Code swaps the body's theme class; the canvas needs the new colours copied in.
new MutationObserver(() => cy.style(graphStyle())).observe(document.body, {
    attributes: true,
    attributeFilter: ['class'],
});

window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isExtensionMessage(event.data)) {
        batcher.push(event.data);
    }
});

window.addEventListener('error', (event) => {
    vscode.postMessage({ type: 'error', message: String(event.message) });
});

renderLegend(legend);
legend.hidden = saved.legend === false;
renderHeader(header, []);
showSelection();
vscode.postMessage({ type: 'ready' });
