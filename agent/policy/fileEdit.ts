// Edits of `*.palisade.yaml` files that keep the user's comments, ordering and formatting:
// each change is spliced into the text where the yaml Document says the node stands, so
// nothing around it moves; the result is parsed and checked before it is returned.
import { Document, isMap, isSeq, Node, parseDocument, YAMLMap } from 'yaml';
import { keyPosition, load, parsePolicy, PolicyFileError, STRINGIFY, type PathPart } from './file';
import type { LinkState, Policy, PolicyLink } from './types';

function linkIndex(doc: Document, id: string): number {
    const links = doc.get('links', true);
    if (!isSeq(links)) return -1;
    return links.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('id') === id);
}

/** How many of a file's link ids a message lists before it says how many more there are. */
const IDS_SHOWN = 8;

/**
 * Throws, at the `links:` key, when the valid policy in `text` has no link with some of `ids`;
 * the message lists the ids it does have.
 */
export function checkLinkIds(text: string, file: string, ids: string[]): void {
    const policy = parsePolicy(text, file);
    const known = policy.links.map((l) => l.id);
    const unknown = [...new Set(ids)].filter((id) => !known.includes(id));
    if (unknown.length === 0) return;

    // JSON quoting: an id typed on the command line may hold any character.
    const quoted = unknown.map((id) => JSON.stringify(id)).join(', ');
    const shown = known.slice(0, IDS_SHOWN).join(', ');
    const more = known.length > IDS_SHOWN ? ` and ${known.length - IDS_SHOWN} more` : '';
    const has = known.length > 0 ? `links in the file: ${shown}${more}` : 'the file has no links';
    const which = unknown.length > 1 ? 'links with ids' : 'link with id';
    const message = `no ${which} ${quoted}; ${has}`;
    const pos = keyPosition(load(text, file), ['links']) ?? { line: 1, col: 1 };
    throw new PolicyFileError([{ file, ...pos, field: 'links', message }]);
}

/**
 * Change one link's state in place; everything else in the file stays as it was. Snoozing
 * also stamps the link with `snoozedAt`, so that snoozing it again (after the agents saw it
 * again) is a change they notice; any other state drops the stamp.
 */
export function setLinkState(
    text: string,
    file: string,
    id: string,
    state: LinkState,
    now = new Date(),
): string {
    checkLinkIds(text, file, [id]);
    const { doc } = load(text, file);
    const i = linkIndex(doc, id);
    const stamped = setLinkField(text, file, i, 'snoozedAt', state === 'snoozed' ? now : undefined);
    const again = load(stamped, file).doc;
    return replaceScalar(stamped, again, ['links', i, 'state'], state);
}

/**
 * Sets, replaces or (value undefined) removes one field of links[i], touching only its own
 * line in a block map; a flow map (`{ id: x, ... }`) is rewritten by the yaml library.
 */
function setLinkField(
    text: string,
    file: string,
    i: number,
    key: 'snoozedAt',
    value: Date | undefined,
): string {
    const { doc } = load(text, file);
    const link = doc.getIn(['links', i], true) as YAMLMap;
    const pair = link.items.find((it) => String((it.key as Node)?.toString()) === key);
    const scalar = value?.toISOString();
    if (scalar !== undefined && pair) return replaceScalar(text, doc, ['links', i, key], scalar);
    if (scalar === undefined && !pair) return text;
    const keyAt = (pair?.key as Node | undefined)?.range?.[0] ?? 0;
    // A key that opens its sequence item (`- snoozedAt: ...`) cannot go with its line.
    const opensItem = pair !== undefined && text.slice(lineStart(text, keyAt), keyAt).includes('-');
    if (link.flow || opensItem) {
        if (scalar === undefined) doc.deleteIn(['links', i, key]);
        else doc.setIn(['links', i, key], scalar);
        return doc.toString(STRINGIFY);
    }

    if (scalar === undefined) {
        const value = (pair?.value as Node | undefined)?.range?.[1] ?? keyAt;
        return text.slice(0, lineStart(text, keyAt)) + text.slice(endOfLine(text, value));
    }
    // After the state line, at the indentation of the state key.
    const state = link.items.find((it) => String((it.key as Node)?.toString()) === 'state');
    const stateKey = state?.key as Node | undefined;
    const stateValue = state?.value as Node | undefined;
    if (!stateKey?.range || !stateValue?.range) {
        doc.setIn(['links', i, key], scalar);
        return doc.toString(STRINGIFY);
    }
    const indent = ' '.repeat(column(text, stateKey.range[0]));
    return insertLines(text, stateValue.range[1], [`${indent}${key}: ${scalar}`]);
}

/**
 * Splice a new plain scalar over an existing one in the source text: not one byte around it
 * changes, so alignment, quoting elsewhere and trailing comments all stay as written.
 */
function replaceScalar(text: string, doc: Document, path: PathPart[], value: string): string {
    const node = doc.getIn(path, true) as Node | undefined;
    if (!node?.range) {
        doc.setIn(path, value);
        return doc.toString(STRINGIFY);
    }
    const [start, end] = node.range;
    return text.slice(0, start) + value + text.slice(end);
}

/**
 * Add links whose ids are new and refresh the evidence of those already in the file. With
 * `reviewed`, the links are what a person just decided (in the graph): for ids already in the
 * file, their patterns, state and snooze stamp replace the file's too. Every change is spliced
 * into the text, so the rest of the file stays byte for byte as written, and the result is
 * checked: a pattern the schema refuses throws instead of being written.
 */
export function mergeLinks(
    text: string,
    file: string,
    links: PolicyLink[],
    opts: { reviewed?: boolean } = {},
): string {
    parsePolicy(text, file);
    let out = text;
    for (const link of links) {
        const { doc } = load(out, file);
        const i = linkIndex(doc, link.id);
        if (i < 0) {
            out = appendLink(out, doc, link);
            continue;
        }
        if (link.evidence) out = setLinkValue(out, file, i, 'evidence', link.evidence);
        if (!opts.reviewed) continue;
        out = setLinkValue(out, file, i, 'client', link.client);
        out = setLinkValue(out, file, i, 'server', link.server);
        const stamp = link.snoozedAt === undefined ? undefined : new Date(link.snoozedAt);
        out = setLinkState(out, file, link.id, link.state, stamp);
    }
    parsePolicy(out, file);
    return out;
}

/** A new item at the end of `links`, one `key: value` line per field, like the items there. */
function appendLink(text: string, doc: Document, link: PolicyLink): string {
    const links = doc.get('links', true);
    const last = isSeq(links) && !links.flow ? (links.items.at(-1) as Node | undefined) : undefined;
    if (!last?.range) {
        // No block list to extend (`links: []`, or none at all): the library writes it.
        doc.addIn(['links'], doc.createNode(link));
        return doc.toString(STRINGIFY);
    }
    const indent = ' '.repeat(column(text, text.lastIndexOf('-', last.range[0])));
    const fields = Object.entries(link).filter(([, v]) => v !== undefined);
    const lines = fields.map(
        ([k, v], n) => `${indent}${n === 0 ? '- ' : '  '}${k}: ${flowText(v)}`,
    );
    return insertLines(text, last.range[1], lines);
}

/** `lines` inserted after the line `pos` is on. */
function insertLines(text: string, pos: number, lines: string[]): string {
    const at = endOfLine(text, pos);
    const eol = at === text.length && !text.endsWith('\n') ? '\n' : '';
    return text.slice(0, at) + eol + lines.map((line) => `${line}\n`).join('') + text.slice(at);
}

/**
 * Set the value of one field of links[i] (a pattern or the evidence) where it stands: a flow
 * map is written as one, a block map as lines in its own indentation, a missing field as a
 * line after the link's last. A value equal to what the file says is left alone, comments
 * inside it included.
 */
function setLinkValue(
    text: string,
    file: string,
    i: number,
    key: 'client' | 'server' | 'evidence',
    value: object,
): string {
    const { doc } = load(text, file);
    const link = doc.getIn(['links', i], true) as YAMLMap;
    const old = link.get(key, true) as Node | undefined;
    if (old !== undefined && JSON.stringify(old.toJSON()) === JSON.stringify(value)) return text;
    const firstKey = (link.items[0]?.key as Node | undefined)?.range;
    if (link.flow || !link.range || !firstKey || (old !== undefined && !old.range)) {
        doc.setIn(['links', i, key], doc.createNode(value));
        return doc.toString(STRINGIFY);
    }
    if (!old?.range) {
        const lastValue = link.items.at(-1)?.value as Node | undefined;
        const end = lastValue?.range?.[1] ?? link.range[1];
        return insertLines(text, end, [
            `${' '.repeat(column(text, firstKey[0]))}${key}: ${flowText(value)}`,
        ]);
    }
    const [start, end] = old.range;
    if (!isMap(old) || old.flow) return text.slice(0, start) + flowText(value) + text.slice(end);
    const lines = Object.entries(value).map(([k, v]) => `${k}: ${flowText(v)}`);
    // Up to the end of the map's last line; a trailing comment there goes with the old value.
    const nl = text.indexOf('\n', end - 1);
    const blockEnd = nl < 0 ? text.length : nl;
    return (
        text.slice(0, start) +
        lines.join(`\n${' '.repeat(column(text, start))}`) +
        text.slice(blockEnd)
    );
}

/** Where the line `pos` is on starts. */
function lineStart(text: string, pos: number): number {
    return text.lastIndexOf('\n', pos - 1) + 1;
}

/** How far into its line `pos` is: the indentation of a key that starts there. */
function column(text: string, pos: number): number {
    return pos - lineStart(text, pos);
}

/** The offset just past the newline that ends the line `pos` is on (or ends, at pos - 1). */
function endOfLine(text: string, pos: number): number {
    const nl = text.indexOf('\n', Math.max(0, pos - 1));
    return nl < 0 ? text.length : nl + 1;
}

/** A value as one line of YAML flow text: `{ host: web, binary: "/opt/a b" }`, `[6379]`. */
function flowText(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
    if (typeof value === 'object' && value !== null) {
        const pairs = Object.entries(value).filter(([, v]) => v !== undefined);
        return `{ ${pairs.map(([k, v]) => `${flowScalar(k)}: ${flowText(v)}`).join(', ')} }`;
    }
    return typeof value === 'string' ? flowScalar(value) : String(value);
}

/** Plain when that reads back as the same string in a flow collection, else double-quoted. */
function flowScalar(value: string): string {
    const plain = /^[A-Za-z0-9_/.][A-Za-z0-9_./@+*-]*$/.test(value);
    return plain && parseDocument(value).toJS() === value ? value : JSON.stringify(value);
}

export function setMode(text: string, file: string, mode: Policy['mode']): string {
    parsePolicy(text, file);
    const { doc } = load(text, file);
    return replaceScalar(text, doc, ['mode'], mode);
}

/** A new policy file, with a header that says what the file is. */
export function renderPolicy(policy: Policy, header: string): string {
    const doc = new Document(policy);
    doc.commentBefore = header;
    return doc.toString(STRINGIFY);
}
