// Full layouts, run only when there is nothing on screen yet or the user asks for one: every
// later update places its new nodes itself (graphPlacement), so nobody's arrangement is lost.
import type { BoundingBox12, Core, LayoutOptions, NodeCollection } from 'cytoscape';
import { gridLayout } from './graphGrid';
import { EGRESS_SIDE_ID, INGRESS_SIDE_ID, type GraphElements } from './graphModel';

const SIDE_GAP = 120;
/**
 * Above this many nodes the grouped grid replaces fcose: force-directed layout of 2,000
 * compound nodes took over 10 s in Chromium, far past what a first render may cost.
 */
export const GRID_ABOVE_NODES = 300;

export function fullLayout(
    cy: Core,
    elements: GraphElements,
    randomize: boolean,
    done: () => void,
): void {
    if (elements.nodes.size > GRID_ABOVE_NODES) {
        const positions = gridLayout(elements);
        cy.batch(() => {
            cy.nodes()
                .filter((node) => !node.isParent())
                .positions((node) => positions.get(node.id()) ?? node.position());
        });
        cy.fit(undefined, 30);
        done();
        return;
    }
    const options = {
        name: 'fcose',
        quality: 'default',
        randomize,
        animate: false,
        fit: false,
        nodeDimensionsIncludeLabels: true,
        packComponents: true,
        padding: 30,
        idealEdgeLength: 70,
        nodeRepulsion: 6000,
        nestingFactor: 0.2,
        tile: true,
    } as LayoutOptions;
    const layout = cy.layout(options);
    layout.one('layoutstop', () => {
        arrangeSides(cy);
        cy.fit(undefined, 30);
        done();
    });
    layout.run();
}

/**
 * Network diagrams read left to right: who comes in, what we run, where it goes out. fcose
 * has no constraints for compound nodes, so the two side groups are moved after it.
 */
export function arrangeSides(cy: Core): void {
    const middle = cy.nodes('[kind = "zone"]');
    if (middle.empty()) {
        return;
    }
    const centre = middle.boundingBox();
    const ingress = cy.getElementById(INGRESS_SIDE_ID);
    if (ingress.nonempty()) {
        const box = ingress.boundingBox();
        shift(ingress.descendants(), centre.x1 - SIDE_GAP - box.x2, middleY(centre) - middleY(box));
    }
    const egress = cy.getElementById(EGRESS_SIDE_ID);
    if (egress.nonempty()) {
        const box = egress.boundingBox();
        shift(egress.descendants(), centre.x2 + SIDE_GAP - box.x1, middleY(centre) - middleY(box));
    }
}

function middleY(box: BoundingBox12): number {
    return (box.y1 + box.y2) / 2;
}

function shift(nodes: NodeCollection, dx: number, dy: number): void {
    nodes
        .filter((node) => !node.isParent())
        .positions((node) => ({ x: node.position('x') + dx, y: node.position('y') + dy }));
}
