// Where things are in a policy file's text: each link's line range and the lines of its
// fields. Pure (yaml only) so CodeLens placement and navigation are unit-tested.
import { isMap, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

export interface Span {
    /** 0-based lines, as editors count. */
    line: number;
    col: number;
    endLine: number;
}

export interface LinkLayout extends Span {
    id: string;
    index: number;
    /** Spans of the link's own fields (`client`, `server`, `state`, ...). */
    fields: Record<string, Span>;
}

export interface PolicyLayout {
    /** The top-level `mode:` value, when present. */
    mode?: Span;
    links: LinkLayout[];
}

export function policyLayout(text: string): PolicyLayout {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    const span = (node: Node | null | undefined): Span | undefined => {
        if (!node?.range) return undefined;
        const start = lines.linePos(node.range[0]);
        // range[1] is the end of the value; range[2] includes trailing comments/newline.
        const end = lines.linePos(Math.max(node.range[0], node.range[1] - 1));
        return { line: start.line - 1, col: start.col - 1, endLine: end.line - 1 };
    };

    const out: PolicyLayout = { links: [] };
    if (!isMap(doc.contents)) return out;
    const mode = span(doc.contents.get('mode', true) as Node | undefined);
    if (mode) out.mode = mode;

    const links = doc.contents.get('links', true);
    if (!isSeq(links)) return out;
    links.items.forEach((item, index) => {
        if (!isMap(item)) return;
        const whole = span(item as YAMLMap);
        const id = (item as YAMLMap).get('id');
        if (!whole || typeof id !== 'string') return;
        const fields: Record<string, Span> = {};
        for (const pair of (item as YAMLMap).items) {
            const key = pair.key as Node | null;
            const k = key && 'value' in key ? String((key as { value: unknown }).value) : '';
            const keySpan = span(key);
            const valueSpan = span(pair.value as Node | null);
            if (k && keySpan)
                fields[k] = { ...keySpan, endLine: valueSpan?.endLine ?? keySpan.endLine };
        }
        out.links.push({ ...whole, id, index, fields });
    });
    return out;
}

/** The link whose lines contain `line` (0-based). */
export function linkAtLine(layout: PolicyLayout, line: number): LinkLayout | undefined {
    return layout.links.find((l) => l.line <= line && line <= l.endLine);
}
