// The identity patterns a user can edit before accepting a link: start from exactly what
// was seen, then widen a versioned path to a glob or pin the script an interpreter ran.
import type { Identity } from '../agent/protocol';
import type { EndpointPattern, ProcessPattern } from '../agent/policy/types';

/** The narrowest pattern that matches the identity as observed. */
export function exactPattern(id: Identity): EndpointPattern {
    switch (id.kind) {
        case 'process': {
            const pattern: ProcessPattern = { zone: id.zone, binary: id.binary, user: id.user };
            if (id.unit !== undefined) {
                pattern.unit = id.unit;
            }
            if (id.script !== undefined) {
                pattern.script = id.script;
            }
            return pattern;
        }
        case 'external':
            return id.name.startsWith('dns:')
                ? { dns: id.name.slice('dns:'.length) }
                : { cidr: id.name.replace(/^cidr:/, '') };
        case 'unknown':
            return { host: id.host };
    }
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

/** A pattern with its script pinned (or unpinned: any script run by that interpreter). */
export function withScript(pattern: ProcessPattern, script: string | undefined): ProcessPattern {
    const { script: _old, ...rest } = pattern;
    return script === undefined || script === '' ? rest : { ...rest, script };
}
