// Browser side of the service graph: receives FleetGraphs from the extension and patches a
// live cytoscape graph, keeping the user's pan, zoom and node positions.
import cytoscape, { type Core, type NodeSingular } from 'cytoscape';
import type { FleetGraph } from '../agent/protocol';
import { buildElements, diffElements, emptyElements, isEmptyDiff } from './graphModel';
import type { EdgeData, GraphDiff, GraphElements, NodeData } from './graphModel';
import { parentIds, placeNewNodes, type Position } from './graphPlacement';
import { graphStyle } from './graphStyle';
import { renderHeader } from './header';
import { isExtensionMessage } from './messages';
import { vscode, type SavedState } from './vscodeApi';

const SAVE_DELAY_MS = 300;

const header = requireElement('header');
const detail = requireElement('detail');
const saved: SavedState = vscode.getState() ?? {};

const cy: Core = cytoscape({
    container: requireElement('graph'),
    style: graphStyle(),
    wheelSensitivity: 0.3,
    minZoom: 0.1,
    maxZoom: 4,
});

let shown: GraphElements = emptyElements();
let firstGraph = true;

function requireElement(id: string): HTMLElement {
    const element = document.getElementById(id);
    if (element === null) {
        throw new Error(`webview markup lacks #${id}`);
    }
    return element;
}

function showGraph(graph: FleetGraph): void {
    renderHeader(header, graph.hosts);

    const next = buildElements(graph);
    const diff = diffElements(shown, next);
    shown = next;
    if (isEmptyDiff(diff)) {
        return;
    }

    const placed = placeNewNodes(diff, next, positionOf);
    const parents = parentIds(next);
    const leafPosition = (id: string) =>
        parents.has(id) ? undefined : (saved.positions?.[id] ?? placed.get(id));
    const needsLayout = diff.addedNodes.some(
        (n) => leafPosition(n.id) === undefined && !parents.has(n.id),
    );
    applyDiff(diff, leafPosition);

    if (needsLayout) {
        runLayout();
    } else if (firstGraph) {
        restoreViewport();
    }
    firstGraph = false;
}

// On the first graph after a reload the saved positions stand in for what was on screen.
function positionOf(id: string): Position | undefined {
    const node = cy.getElementById(id);
    if (node.nonempty() && !node.isParent()) {
        return { ...node.position() };
    }
    return saved.positions?.[id];
}

function applyDiff(diff: GraphDiff, positionFor: (id: string) => Position | undefined): void {
    cy.batch(() => {
        for (const id of [...diff.removedEdges, ...diff.removedNodes]) {
            cy.getElementById(id).remove();
        }
        for (const node of diff.updatedNodes) {
            cy.getElementById(node.id).data(mutableData(node));
        }
        for (const edge of diff.updatedEdges) {
            cy.getElementById(edge.id).data(mutableData(edge));
        }
        cy.add(
            diff.addedNodes.map((data) => ({
                group: 'nodes' as const,
                data,
                position: positionFor(data.id),
            })),
        );
        cy.add(diff.addedEdges.map((data) => ({ group: 'edges' as const, data })));
    });
}

// Cytoscape refuses to change an element's id, parent or ends through data().
function mutableData(data: NodeData | EdgeData): Record<string, unknown> {
    const { id: _id, parent: _parent, source: _source, target: _target, ...rest } = data;
    return rest;
}

function runLayout(): void {
    const layout = cy.layout({
        name: 'cose',
        animate: false,
        nodeDimensionsIncludeLabels: true,
        padding: 30,
        randomize: false,
    });
    layout.one('layoutstop', () => {
        cy.fit(undefined, 30);
        scheduleSave();
    });
    layout.run();
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
    vscode.setState(saved);
}

function showDetail(text: string): void {
    detail.textContent = text;
    detail.hidden = text === '';
}

cy.on('viewport dragfree', scheduleSave);
cy.on('tap', 'node', (event) => showDetail(String(event.target.data('detail') ?? '')));
cy.on('tap', 'edge', (event) => {
    const edge = event.target;
    showDetail(
        `${edge.source().data('label')} → ${edge.target().data('label')}\n${edge.data('label')}`,
    );
});
cy.on('tap', (event) => {
    if (event.target === cy) {
        showDetail('');
    }
});

// VS Code swaps the body's theme class; the canvas needs the new colours copied in.
new MutationObserver(() => cy.style(graphStyle())).observe(document.body, {
    attributes: true,
    attributeFilter: ['class'],
});

window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isExtensionMessage(event.data)) {
        showGraph(event.data.graph);
    }
});

window.addEventListener('error', (event) => {
    vscode.postMessage({ type: 'error', message: String(event.message) });
});

showDetail('');
vscode.postMessage({ type: 'ready' });
