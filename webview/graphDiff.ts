// What changed between two element sets, so the webview patches the live graph instead of
// rebuilding it (a rebuild would lose the user's positions and cost a relayout).
import type { EdgeData, GraphElements, NodeData } from './graphModel';

export interface GraphDiff {
    addedNodes: NodeData[];
    updatedNodes: NodeData[];
    removedNodes: string[];
    addedEdges: EdgeData[];
    updatedEdges: EdgeData[];
    removedEdges: string[];
}

// Shallow on purpose: this runs over every element on every batch, and all fields but
// `members` are primitives.
function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    if (a === b) {
        return true;
    }
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) {
        return false;
    }
    for (const key of keys) {
        const x = a[key];
        const y = b[key];
        if (x === y) {
            continue;
        }
        if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) {
            return false;
        }
        if (x.some((item, i) => item !== y[i])) {
            return false;
        }
    }
    return true;
}

/**
 * What to apply to a graph showing `prev` so it shows `next`. A node whose parent changed is
 * removed and re-added: cytoscape cannot re-parent inside a plain data update.
 */
export function diffElements(prev: GraphElements, next: GraphElements): GraphDiff {
    const diff: GraphDiff = {
        addedNodes: [],
        updatedNodes: [],
        removedNodes: [],
        addedEdges: [],
        updatedEdges: [],
        removedEdges: [],
    };

    for (const [id, node] of next.nodes) {
        const old = prev.nodes.get(id);
        if (old === undefined) {
            diff.addedNodes.push(node);
        } else if (old.parent !== node.parent) {
            diff.removedNodes.push(id);
            diff.addedNodes.push(node);
        } else if (!sameData(old, node)) {
            diff.updatedNodes.push(node);
        }
    }
    for (const id of prev.nodes.keys()) {
        if (!next.nodes.has(id)) {
            diff.removedNodes.push(id);
        }
    }

    const reAdded = new Set(diff.removedNodes);
    for (const [id, edge] of next.edges) {
        const old = prev.edges.get(id);
        const endRecreated = reAdded.has(edge.source) || reAdded.has(edge.target);
        if (old === undefined || endRecreated) {
            diff.addedEdges.push(edge);
            // Removing a node takes its edges with it, so a kept edge must be re-added.
            if (old !== undefined) {
                diff.removedEdges.push(id);
            }
        } else if (!sameData(old, edge)) {
            diff.updatedEdges.push(edge);
        }
    }
    for (const id of prev.edges.keys()) {
        if (!next.edges.has(id)) {
            diff.removedEdges.push(id);
        }
    }
    return diff;
}

export function isEmptyDiff(diff: GraphDiff): boolean {
    return Object.values(diff).every((list: unknown[]) => list.length === 0);
}
