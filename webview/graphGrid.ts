// A linear-time layout for big graphs: identities on a grid inside their group, groups packed
// in rows inside their parent, ingress sources left of the fleet and egress targets right.
// Force-directed layout of 2,000 compound nodes takes seconds; this takes milliseconds and
// reads like the hierarchy it draws.
import type { GraphElements } from './graphModel';
import { EGRESS_SIDE_ID, INGRESS_SIDE_ID } from './graphModel';
import type { Position } from './graphPlacement';

const CELL = 80;
const PAD = 40;
const GAP = 30;
const SIDE_GAP = 160;

interface Block {
    width: number;
    height: number;
    /** Leaf positions relative to the block's top-left corner. */
    place(x: number, y: number, out: Map<string, Position>): void;
}

export function gridLayout(elements: GraphElements): Map<string, Position> {
    const children = new Map<string, string[]>();
    const roots: string[] = [];
    for (const node of elements.nodes.values()) {
        if (node.parent === undefined || !elements.nodes.has(node.parent)) {
            roots.push(node.id);
        } else {
            const list = children.get(node.parent) ?? [];
            list.push(node.id);
            children.set(node.parent, list);
        }
    }

    const blockOf = (id: string): Block => {
        const kids = children.get(id);
        return kids === undefined ? leafBlock([id]) : groupBlock(kids.map(blockOf), kids, children);
    };

    const ingress = roots.filter((id) => id === INGRESS_SIDE_ID);
    const egress = roots.filter((id) => id === EGRESS_SIDE_ID);
    const middle = roots.filter((id) => id !== INGRESS_SIDE_ID && id !== EGRESS_SIDE_ID);
    const columns = [ingress, middle, egress]
        .filter((ids) => ids.length > 0)
        .map((ids) => packRows(ids.map(blockOf)));

    const out = new Map<string, Position>();
    const tallest = Math.max(0, ...columns.map((c) => c.height));
    let x = 0;
    for (const column of columns) {
        column.place(x, (tallest - column.height) / 2, out);
        x += column.width + SIDE_GAP;
    }
    return out;
}

/** A group's own leaves sit in one grid; its sub-groups are blocks packed beside it. */
function groupBlock(blocks: Block[], kids: string[], children: Map<string, string[]>): Block {
    const leaves = kids.filter((id) => !children.has(id));
    const groups = blocks.filter((_, i) => children.has(kids[i] ?? ''));
    const parts = leaves.length > 0 ? [leafBlock(leaves), ...groups] : groups;
    const inner = packRows(parts);
    return {
        width: inner.width + PAD * 2,
        height: inner.height + PAD * 2,
        place: (x, y, out) => inner.place(x + PAD, y + PAD, out),
    };
}

function leafBlock(ids: string[]): Block {
    const cols = Math.ceil(Math.sqrt(ids.length));
    const rows = Math.ceil(ids.length / cols);
    return {
        width: cols * CELL,
        height: rows * CELL,
        place: (x, y, out) => {
            ids.forEach((id, i) => {
                out.set(id, {
                    x: x + (i % cols) * CELL + CELL / 2,
                    y: y + Math.floor(i / cols) * CELL + CELL / 2,
                });
            });
        },
    };
}

/** Shelf packing into rows about as wide as the whole is tall, so the result is squarish. */
function packRows(blocks: Block[]): Block {
    const area = blocks.reduce((sum, b) => sum + (b.width + GAP) * (b.height + GAP), 0);
    const widest = Math.max(0, ...blocks.map((b) => b.width));
    const limit = Math.max(widest, Math.sqrt(area) * 1.3);
    const rows: Block[][] = [[]];
    let rowWidth = 0;
    for (const block of blocks) {
        const row = rows[rows.length - 1] as Block[];
        if (row.length > 0 && rowWidth + block.width > limit) {
            rows.push([block]);
            rowWidth = block.width + GAP;
        } else {
            row.push(block);
            rowWidth += block.width + GAP;
        }
    }
    const rowHeights = rows.map((row) => Math.max(0, ...row.map((b) => b.height)));
    const rowWidths = rows.map((row) => row.reduce((w, b) => w + b.width + GAP, -GAP));
    return {
        width: Math.max(0, ...rowWidths),
        height: rowHeights.reduce((h, r) => h + r + GAP, -GAP),
        place: (x, y, out) => {
            let top = y;
            rows.forEach((row, r) => {
                let left = x;
                for (const block of row) {
                    block.place(left, top, out);
                    left += block.width + GAP;
                }
                top += (rowHeights[r] ?? 0) + GAP;
            });
        },
    };
}
