// `*.palisade.yaml` files: parse and validate with positions. Edits that keep the user's
// comments, ordering and formatting are in fileEdit.ts.
import Ajv, { ErrorObject } from 'ajv';
import { Document, isMap, LineCounter, Node, parseDocument } from 'yaml';
import schema from '../../schema/palisade.schema.json';
import type { Policy } from './types';

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
export const STRINGIFY = { flowCollectionPadding: false, lineWidth: 0 } as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(schema);

export interface Parsed {
    doc: Document;
    lines: LineCounter;
}

export function load(text: string, file: string): Parsed {
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

export type PathPart = string | number;

function fieldName(path: PathPart[]): string {
    return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Position of the node at `path` (of its key, for a map entry), or of its nearest ancestor. */
function positionOf(p: Parsed, path: PathPart[], atKey = false): { line: number; col: number } {
    const key = atKey ? keyPosition(p, path) : undefined;
    if (key) return key;
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

/** Position of the key of the map entry at `path`, if the file has that entry. */
export function keyPosition(
    p: Parsed,
    path: PathPart[],
): { line: number; col: number } | undefined {
    const last = path[path.length - 1];
    const parent = p.doc.getIn(path.slice(0, -1), true);
    if (typeof last !== 'string' || !isMap(parent)) return undefined;
    const pair = parent.items.find(
        (it) => (it.key as Node & { value?: unknown })?.toString() === last,
    );
    const key = pair?.key as Node | undefined;
    if (!key?.range) return undefined;
    const pos = p.lines.linePos(key.range[0]);
    return { line: pos.line, col: pos.col };
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
