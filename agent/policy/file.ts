// `*.palisade.yaml` files: parse and validate with positions, and edit them without losing
// the user's comments, ordering or formatting (the yaml Document API keeps all three).
import Ajv, { ErrorObject } from 'ajv';
import { Document, isMap, isSeq, LineCounter, Node, parseDocument, YAMLMap } from 'yaml';
import schema from '../../schema/palisade.schema.json';
import type { LinkState, Policy, PolicyLink } from './types';

export interface PolicyIssue {
    file: string;
    line: number;
    col: number;
    /** Dotted path of the field, e.g. `links[2].state`. */
    field: string;
    message: string;
}

export class PolicyFileError extends Error {
    readonly kind = 'invalid-policy';

    constructor(readonly issues: PolicyIssue[]) {
        super(issues.map(formatIssue).join('\n'));
    }
}

export function formatIssue(i: PolicyIssue): string {
    const field = i.field ? `${i.field}: ` : '';
    return `${i.file}:${i.line}:${i.col}: ${field}${i.message}`;
}

// Closest to how people write these files by hand: `[6379]`, no line folding.
const STRINGIFY = { flowCollectionPadding: false, lineWidth: 0 } as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(schema);

interface Parsed {
    doc: Document;
    lines: LineCounter;
}

function load(text: string, file: string): Parsed {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const errors = [...doc.errors];
    if (errors.length > 0) {
        throw new PolicyFileError(
            errors.map((e) => {
                const pos = lines.linePos(e.pos[0]);
                return {
                    file,
                    line: pos.line,
                    col: pos.col,
                    field: '',
                    message: firstLine(e.message),
                };
            }),
        );
    }
    return { doc, lines };
}

function firstLine(s: string): string {
    return s.split('\n')[0] ?? s;
}

type PathPart = string | number;

function fieldName(path: PathPart[]): string {
    return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Position of the node at `path` (of its key, for a map entry), or of its nearest ancestor. */
function positionOf(p: Parsed, path: PathPart[], atKey = false): { line: number; col: number } {
    const last = path[path.length - 1];
    const parent = p.doc.getIn(path.slice(0, -1), true);
    if (atKey && typeof last === 'string' && isMap(parent)) {
        const pair = parent.items.find(
            (it) => (it.key as Node & { value?: unknown })?.toString() === last,
        );
        const key = pair?.key as Node | undefined;
        if (key?.range) {
            const pos = p.lines.linePos(key.range[0]);
            return { line: pos.line, col: pos.col };
        }
    }
    for (let n = path.length; n >= 0; n--) {
        const node = p.doc.getIn(path.slice(0, n), true) as Node | undefined;
        if (node && node.range) {
            const pos = p.lines.linePos(node.range[0]);
            return { line: pos.line, col: pos.col };
        }
        if (n === 0) break;
    }
    return { line: 1, col: 1 };
}

function pointerToPath(pointer: string): PathPart[] {
    if (!pointer) return [];
    return pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function param<T>(e: ErrorObject, name: string): T {
    return (e.params as Record<string, T>)[name] as T;
}

function describe(e: ErrorObject): string {
    switch (e.keyword) {
        case 'enum':
            return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues
                .map((v) => JSON.stringify(v))
                .join(', ')}`;
        case 'const':
            return `must be ${JSON.stringify(param<unknown>(e, 'allowedValue'))}`;
        case 'additionalProperties':
            return `unknown field "${param<string>(e, 'additionalProperty')}"`;
        case 'required':
            return `missing required field "${param<string>(e, 'missingProperty')}"`;
        default:
            return e.message ?? 'is invalid';
    }
}

/** One message per place: the most specific errors, endpoint alternatives folded. */
function schemaIssues(p: Parsed, file: string, errors: ErrorObject[]): PolicyIssue[] {
    const seen = new Set<string>();
    const out: PolicyIssue[] = [];
    // oneOf failures report each branch; the branch errors are more useful than the summary.
    const useful = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
    for (const e of useful) {
        let path = pointerToPath(e.instancePath);
        if (e.keyword === 'additionalProperties') {
            path = [...path, (e.params as { additionalProperty: string }).additionalProperty];
        }
        const message = describe(e);
        const key = `${fieldName(path)}|${message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const atKey = e.keyword === 'additionalProperties';
        out.push({ file, ...positionOf(p, path, atKey), field: fieldName(path), message });
    }
    return out;
}

function semanticIssues(p: Parsed | undefined, file: string, policy: Policy): PolicyIssue[] {
    const out: PolicyIssue[] = [];
    const at = (path: PathPart[]) => (p ? positionOf(p, path) : { line: 0, col: 0 });
    policy.members.forEach((m, i) => {
        if (m.unit === undefined) {
            const path = ['members', i];
            out.push({
                file,
                ...at(path),
                field: fieldName(path),
                message: 'needs "unit": the kernel knows an app by the cgroup of its unit',
            });
        }
    });
    const ids = new Map<string, number>();
    policy.links.forEach((link, i) => {
        const prev = ids.get(link.id);
        if (prev !== undefined) {
            const path = ['links', i, 'id'];
            out.push({
                file,
                ...at(path),
                field: fieldName(path),
                message: `duplicate link id "${link.id}" (also links[${prev}])`,
            });
        }
        ids.set(link.id, i);
    });
    return out;
}

export function parsePolicy(text: string, file: string): Policy {
    const p = load(text, file);
    const value: unknown = p.doc.toJS();
    if (value === null || value === undefined) {
        const message = 'empty file: expected a Policy (apiVersion, kind, app, owner, mode, ...)';
        throw new PolicyFileError([{ file, line: 1, col: 1, field: '', message }]);
    }
    if (!validateSchema(value)) {
        throw new PolicyFileError(schemaIssues(p, file, validateSchema.errors ?? []));
    }
    const policy = value as unknown as Policy;
    const issues = semanticIssues(p, file, policy);
    if (issues.length > 0) throw new PolicyFileError(issues);
    return policy;
}

/** Validates a policy that arrived as data (over RPC): same rules, no positions. */
export function checkPolicy(value: unknown, source: string): Policy {
    if (!validateSchema(value)) {
        const issues = (validateSchema.errors ?? [])
            .filter((e) => e.keyword !== 'oneOf')
            .map((e) => ({
                file: source,
                line: 0,
                col: 0,
                field: fieldName(pointerToPath(e.instancePath)),
                message: describe(e),
            }));
        throw new PolicyFileError(issues);
    }
    const policy = value as unknown as Policy;
    const issues = semanticIssues(undefined, source, policy);
    if (issues.length > 0) throw new PolicyFileError(issues);
    return policy;
}

function linkIndex(doc: Document, id: string): number {
    const links = doc.get('links', true);
    if (!isSeq(links)) return -1;
    return links.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('id') === id);
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
    parsePolicy(text, file);
    const { doc } = load(text, file);
    const i = linkIndex(doc, id);
    if (i < 0) {
        const message = `no link with id "${id}"`;
        throw new PolicyFileError([{ file, line: 1, col: 1, field: 'links', message }]);
    }
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
    const lineStart = (pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
    const keyAt = (pair?.key as Node | undefined)?.range?.[0] ?? 0;
    // A key that opens its sequence item (`- snoozedAt: ...`) cannot go with its line.
    const opensItem = pair !== undefined && text.slice(lineStart(keyAt), keyAt).includes('-');
    if (link.flow || opensItem) {
        if (scalar === undefined) doc.deleteIn(['links', i, key]);
        else doc.setIn(['links', i, key], scalar);
        return doc.toString(STRINGIFY);
    }

    const nextLine = (pos: number) => {
        const nl = text.indexOf('\n', pos);
        return nl < 0 ? text.length : nl + 1;
    };
    if (scalar === undefined) {
        const value = (pair?.value as Node | undefined)?.range?.[1] ?? keyAt;
        return text.slice(0, lineStart(keyAt)) + text.slice(nextLine(value));
    }
    // After the state line, at the indentation of the state key.
    const state = link.items.find((it) => String((it.key as Node)?.toString()) === 'state');
    const stateKey = state?.key as Node | undefined;
    const stateValue = state?.value as Node | undefined;
    if (!stateKey?.range || !stateValue?.range) {
        doc.setIn(['links', i, key], scalar);
        return doc.toString(STRINGIFY);
    }
    const indent = ' '.repeat(stateKey.range[0] - lineStart(stateKey.range[0]));
    const at = nextLine(stateValue.range[1]);
    const eol = at === text.length && !text.endsWith('\n') ? '\n' : '';
    return text.slice(0, at) + `${eol}${indent}${key}: ${scalar}\n` + text.slice(at);
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

/** Add links whose ids are new and refresh the evidence of those already in the file. */
export function mergeLinks(text: string, file: string, links: PolicyLink[]): string {
    parsePolicy(text, file);
    const { doc } = load(text, file);
    for (const link of links) {
        const i = linkIndex(doc, link.id);
        if (i < 0) {
            doc.addIn(['links'], doc.createNode(link));
        } else if (link.evidence) {
            doc.setIn(['links', i, 'evidence'], doc.createNode(link.evidence));
        }
    }
    return doc.toString(STRINGIFY);
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
