// Positions for nodes that appear in a live graph. Existing nodes never move: the user may
// have arranged them, so new ones are dropped near what they connect to instead.
import type { GraphDiff } from './graphDiff';
import type { GraphElements, NodeData } from './graphModel';

export interface Position {
    x: number;
    y: number;
}

const SPREAD = 90;
const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));

/** Ids of nodes that hold others: their extent comes from their children, never a position. */
export function parentIds(elements: GraphElements): Set<string> {
    const parents = new Set<string>();
    for (const node of elements.nodes.values()) {
        if (node.parent !== undefined) {
            parents.add(node.parent);
        }
    }
    return parents;
}

function centre(points: Position[]): Position {
    const sum = points.reduce((acc, p) => ({ x: acc.x + p.x, y: acc.y + p.y }), { x: 0, y: 0 });
    return { x: sum.x / points.length, y: sum.y / points.length };
}

/**
 * Picks a position for each added leaf node (an empty host box is one too): near its placed
 * neighbours, else near its siblings in the same box, else right of everything. `positionOf`
 * answers for nodes already on screen. Returns nothing when nothing is on screen yet: a full
 * layout fits better then.
 */
export function placeNewNodes(
    diff: GraphDiff,
    next: GraphElements,
    positionOf: (id: string) => Position | undefined,
): Map<string, Position> {
    const placed = new Map<string, Position>();
    const known = (id: string): Position | undefined => placed.get(id) ?? positionOf(id);

    const onScreen = [...next.nodes.keys()].map(positionOf).filter((p) => p !== undefined);
    if (onScreen.length === 0) {
        return placed;
    }
    const right = Math.max(...onScreen.map((p) => p.x)) + SPREAD * 2;
    const top = Math.min(...onScreen.map((p) => p.y));

    const parents = parentIds(next);
    let placedCount = 0;
    let strayCount = 0;
    for (const node of diff.addedNodes) {
        if (parents.has(node.id)) {
            continue;
        }
        const anchor = neighbourCentre(node.id, next, known) ?? siblingCentre(node, next, known);
        let position: Position;
        if (anchor !== undefined) {
            // Successive new nodes around one anchor fan out instead of stacking.
            const angle = GOLDEN_ANGLE * (placedCount + 1);
            position = {
                x: anchor.x + SPREAD * Math.cos(angle),
                y: anchor.y + SPREAD * Math.sin(angle),
            };
        } else {
            position = { x: right, y: top + strayCount * SPREAD };
            strayCount += 1;
        }
        placed.set(node.id, position);
        placedCount += 1;
    }
    return placed;
}

function neighbourCentre(
    id: string,
    next: GraphElements,
    known: (id: string) => Position | undefined,
): Position | undefined {
    const points: Position[] = [];
    for (const edge of next.edges.values()) {
        const other =
            edge.source === id ? edge.target : edge.target === id ? edge.source : undefined;
        const position = other === undefined || other === id ? undefined : known(other);
        if (position !== undefined) {
            points.push(position);
        }
    }
    return points.length > 0 ? centre(points) : undefined;
}

function siblingCentre(
    node: NodeData,
    next: GraphElements,
    known: (id: string) => Position | undefined,
): Position | undefined {
    if (node.parent === undefined) {
        return undefined;
    }
    const points: Position[] = [];
    for (const other of next.nodes.values()) {
        const position =
            other.id !== node.id && other.parent === node.parent ? known(other.id) : undefined;
        if (position !== undefined) {
            points.push(position);
        }
    }
    return points.length > 0 ? centre(points) : undefined;
}
