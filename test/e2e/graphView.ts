// Reads the service graph from inside its webview frame and clicks its elements where they
// are drawn. The graph is a canvas, so the page's cytoscape instance (registered on its
// container) is the only reader of what is on screen; clicks go through the real mouse.
import type { Frame, Page } from 'playwright-core';

/** Where the graph runs: a webview's frame in the workbench, or a test page of its own. */
export type GraphDocument = Frame | Page;

export interface ShownNode {
    id: string;
    kind: string;
    label: string;
    parent?: string;
    detail: string;
    [key: string]: unknown;
}

export interface ShownEdge {
    id: string;
    source: string;
    target: string;
    label: string;
    [key: string]: unknown;
}

export interface ShownGraph {
    nodes: ShownNode[];
    edges: ShownEdge[];
}

export async function readGraph(frame: GraphDocument): Promise<ShownGraph> {
    return frame.evaluate(() => {
        const container = document.getElementById('graph') as
            (HTMLElement & { _cyreg?: { cy?: import('cytoscape').Core } }) | null;
        const cy = container?._cyreg?.cy;
        if (cy === undefined) return { nodes: [], edges: [] };
        return {
            nodes: cy.nodes().map((n) => ({ ...n.data() }) as ShownNode),
            edges: cy.edges().map((e) => ({ ...e.data() }) as ShownEdge),
        };
    });
}

/** A process node by its host and the lines of its label (`redis-cli\nintruder.service`). */
export function findNode(
    graph: ShownGraph,
    host: string,
    label: (lines: string[]) => boolean,
): ShownNode | undefined {
    return graph.nodes.find(
        (n) => n.kind === 'process' && n.host === host && label(n.label.split('\n')),
    );
}

export function edgeBetween(
    graph: ShownGraph,
    source: ShownNode | undefined,
    target: ShownNode | undefined,
): ShownEdge | undefined {
    return graph.edges.find((e) => e.source === source?.id && e.target === target?.id);
}

/** Polls the drawn graph until `pick` finds what the test is waiting for. */
export async function waitForGraph<T>(
    frame: Frame,
    pick: (graph: ShownGraph) => T | undefined,
    timeout = 90_000,
): Promise<{ graph: ShownGraph; found: T }> {
    const deadline = Date.now() + timeout;
    let graph: ShownGraph = { nodes: [], edges: [] };
    while (Date.now() < deadline) {
        graph = await readGraph(frame);
        const found = pick(graph);
        if (found !== undefined) return { graph, found };
        await new Promise((r) => setTimeout(r, 500));
    }
    const labels = graph.nodes.map((n) => n.label.replace(/\n/g, ' / '));
    throw new Error(`the webview never drew it; nodes shown: ${JSON.stringify(labels)}`);
}

/** Clicks an element at the point where the canvas draws it. */
export async function clickElement(page: Page, frame: GraphDocument, id: string): Promise<void> {
    const canvasBox = await (await frame.$('#graph'))?.boundingBox();
    if (!canvasBox) throw new Error('the graph container is not on screen');
    // New elements start a layout; a click must wait until things stop moving.
    let point: { x: number; y: number } | undefined;
    for (let i = 0; i < 20; i++) {
        const next = await renderedPoint(frame, id);
        if (next && point && Math.abs(next.x - point.x) < 1 && Math.abs(next.y - point.y) < 1) {
            break;
        }
        point = next;
        await new Promise((r) => setTimeout(r, 300));
    }
    if (point === undefined) throw new Error(`${id} is not in the graph`);
    // A press shorter than cytoscape's tap threshold is no tap at all.
    await page.mouse.click(canvasBox.x + point.x, canvasBox.y + point.y, { delay: 50 });
}

async function renderedPoint(
    frame: GraphDocument,
    id: string,
): Promise<{ x: number; y: number } | undefined> {
    return frame.evaluate((elementId) => {
        const container = document.getElementById('graph') as HTMLElement & {
            _cyreg?: { cy?: import('cytoscape').Core };
        };
        const cy = container._cyreg?.cy;
        const element = cy?.getElementById(elementId);
        if (!cy || !element || element.empty()) return undefined;
        // The middle of the view: the details panel covers the right-hand side and the
        // legend the bottom left, and a random layout may have put the element under either.
        cy.center(element);
        return element.isEdge()
            ? element.renderedMidpoint()
            : (element as import('cytoscape').NodeSingular).renderedPosition();
    }, id);
}

/** The details panel's text, as a person reads it. */
export async function readDetail(frame: Frame): Promise<string> {
    return frame.evaluate(() => {
        const detail = document.getElementById('detail');
        return detail === null || detail.hidden ? '' : (detail.textContent ?? '');
    });
}

/**
 * Elements a hostile name would have created had it ever been parsed as markup: active
 * tags, or any inline event handler. Names set as text or attribute values are fine.
 */
export async function injectedElements(frame: Frame): Promise<string[]> {
    return frame.evaluate(() =>
        Array.from(document.querySelectorAll('*'))
            .filter(
                (e) =>
                    ['IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED'].includes(e.tagName.toUpperCase()) ||
                    (e.tagName === 'SCRIPT' && (e.textContent ?? '').includes('alert(')) ||
                    Array.from(e.attributes).some((a) => a.name.toLowerCase().startsWith('on')),
            )
            .map((e) => e.outerHTML.slice(0, 120)),
    );
}
