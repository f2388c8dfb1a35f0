// Applying element diffs and highlights to the live cytoscape graph.
import type { Core } from 'cytoscape';
import type { GraphDiff } from './graphDiff';
import type { EdgeData, GraphElements, NodeData } from './graphModel';
import type { Position } from './graphPlacement';

export function applyDiff(
    cy: Core,
    diff: GraphDiff,
    next: GraphElements,
    positionFor: (id: string) => Position | undefined,
): void {
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
        // Removing a group takes its children with it: whatever `next` still has goes back.
        const adding = new Set(diff.addedNodes.map((n) => n.id));
        const nodes =
            diff.removedNodes.length === 0
                ? diff.addedNodes
                : [...next.nodes.values()].filter(
                      (n) => adding.has(n.id) || cy.getElementById(n.id).empty(),
                  );
        cy.add(
            nodes.map((data) => ({
                group: 'nodes' as const,
                data,
                position: positionFor(data.id),
            })),
        );
        const edges =
            diff.removedNodes.length === 0
                ? diff.addedEdges
                : [...next.edges.values()].filter((e) => cy.getElementById(e.id).empty());
        cy.add(edges.map((data) => ({ group: 'edges' as const, data })));
    });
}

// Cytoscape refuses to change an element's id, parent or ends through data().
function mutableData(data: NodeData | EdgeData): Record<string, unknown> {
    const { id: _id, parent: _parent, source: _source, target: _target, ...rest } = data;
    return rest;
}

/** Marks nodes whose name or details contain `query` and dims what is unrelated. */
export function highlight(cy: Core, query: string): number {
    const needle = query.trim().toLowerCase();
    cy.batch(() => {
        cy.elements().removeClass('match dimmed');
        if (needle === '') {
            return;
        }
        const matches = cy.nodes().filter((node) => {
            const label = String(node.data('label') ?? '').toLowerCase();
            const detail = String(node.data('detail') ?? '').toLowerCase();
            return label.includes(needle) || detail.includes(needle);
        });
        matches.addClass('match');
        const related = matches.union(matches.connectedEdges()).union(matches.ancestors());
        const linked = matches.connectedEdges().connectedNodes();
        cy.elements().not(related.union(linked).union(linked.ancestors())).addClass('dimmed');
    });
    return cy.nodes('.match').length;
}
