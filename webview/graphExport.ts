// PNG and SVG of what is on screen, and the graph as JSON; the extension saves the file.
import type { Core } from 'cytoscape';
import type { GraphElements } from './graphModel';
import { storeToGraph, type FleetStore } from './graphStore';
import { palette } from './graphStyle';
import type { ExportFormat } from './messages';

interface SvgCore {
    svg(options: { full: boolean; bg: string }): string;
}

export function exportView(
    cy: Core,
    format: ExportFormat,
    store: FleetStore,
    shown: GraphElements,
): string {
    const bg = palette().bg;
    switch (format) {
        case 'png':
            return cy.png({ output: 'base64uri', full: false, bg });
        case 'svg':
            // Labels go in as SVG text nodes (escaped by the serializer), never as markup.
            return (cy as unknown as SvgCore).svg({ full: false, bg });
        case 'json':
            return JSON.stringify(
                {
                    exportedAt: new Date().toISOString(),
                    graph: storeToGraph(store, Date.now()),
                    annotations: {
                        edges: Object.fromEntries(store.edgeNotes),
                        nodes: Object.fromEntries(store.nodeNotes),
                    },
                    view: { nodes: [...shown.nodes.values()], edges: [...shown.edges.values()] },
                },
                null,
                2,
            );
    }
}
