// The identity patterns a person can edit before deciding on a link: start from the link that
// covers the edge (else exactly what was seen), then unpin a field, pin one the identity has,
// or widen a versioned path to a glob. Pure; the panel that shows them is patternEditor.
import type { Identity, ProcessIdentity } from '../agent/protocol';
import type { EndpointPattern, ProcessPattern } from '../agent/policy/types';
import { patternOf } from '../extension/model/edgeToLink';

/** What a process pattern can pin, in the order the editor lists them. */
export const PATTERN_FIELDS = ['host', 'zone', 'unit', 'binary', 'script', 'user'] as const;
export type PatternField = (typeof PATTERN_FIELDS)[number];

/**
 * The pattern the extension writes for an identity no link covers yet; one definition for
 * both, so an edit keeps every field the written link would pin (the host above all).
 * Undefined for an unknown owner: no pattern can name a process that was not seen.
 */
export function exactPattern(id: Identity): EndpointPattern | undefined {
    return patternOf(id);
}

/** One field the editor offers, with the value it would pin. */
export interface PatternRow {
    field: PatternField;
    value: string;
    pinned: boolean;
}

/**
 * The fields the editor offers for a process: what the pattern pins, with its values, and
 * what else the identity has, unpinned until the person pins it.
 */
export function pinnable(pattern: ProcessPattern, id: Identity): PatternRow[] {
    const seen: Partial<ProcessIdentity> = id.kind === 'process' ? id : {};
    return PATTERN_FIELDS.flatMap((field) => {
        const value = pattern[field] ?? seen[field];
        return value === undefined ? [] : [{ field, value, pinned: pattern[field] !== undefined }];
    });
}

/** The pattern the rows say: each pinned field with a value; an emptied one is unpinned. */
export function patternOfRows(rows: readonly PatternRow[]): ProcessPattern {
    const pattern: ProcessPattern = {};
    for (const { field, value, pinned } of rows) {
        if (pinned && value !== '') {
            pattern[field] = value;
        }
    }
    return pattern;
}

/** True when both pin the same fields to the same values, whatever the order of the keys. */
export function samePattern(a: EndpointPattern, b: EndpointPattern): boolean {
    const fields = (p: EndpointPattern) => Object.entries(p).sort(([x], [y]) => (x < y ? -1 : 1));
    return JSON.stringify(fields(a)) === JSON.stringify(fields(b));
}

/**
 * In `/opt/app/releases/1.4.2/bin/api` the `1.4.2` becomes a glob: segments that carry a
 * version or an id vary between deployments without changing who the program is. With none
 * of those, the file name itself is widened (`python3.11` → `python3` and a glob).
 */
export function widenPath(path: string): string {
    const segments = path.split('/');
    const last = segments.length - 1;
    let changed = false;
    const widened = segments.map((segment, index) => {
        if (index === last || !/\d/.test(segment)) {
            return segment;
        }
        changed = true;
        return '*';
    });
    if (changed) {
        return widened.join('/');
    }
    const name = segments[last] ?? '';
    const stem = name.replace(/[\d.\-_]+$/, '');
    segments[last] = stem !== name && stem !== '' ? `${stem}*` : '*';
    return segments.join('/');
}
