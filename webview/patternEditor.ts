// The pattern editor in the details panel: both ends of a link, each field a pin the person
// can take out (or put in, for a field the identity has), a binary path that can be widened,
// an external name that can be rewritten. Nothing is dropped that was not unpinned by hand.
import type { FleetEdge, Identity } from '../agent/protocol';
import {
    isExternal,
    type EndpointPattern,
    type ExternalPattern,
    type ProcessPattern,
} from '../agent/policy/types';
import { plainText } from './graphLabels';
import { exactPattern, patternOfRows, pinnable, samePattern, widenPath } from './graphPatterns';
import type { LinkPatternEdit, LinkPatterns } from './messages';
import { button, checkbox, text, textField } from './ui';

export interface PatternEditor {
    /** The sides the person changed, or nothing when both are as they started. */
    edited(): LinkPatternEdit | undefined;
}

/** `start` is the covering link's patterns; without them each side starts exact. */
export function patternEditor(
    panel: HTMLElement,
    fleet: FleetEdge,
    start: LinkPatterns | undefined,
): PatternEditor {
    const sides = [
        { side: 'client', id: fleet.client, from: start?.client },
        { side: 'server', id: fleet.server, from: start?.server },
    ] as const;
    const editors = sides.flatMap(({ side, id, from }) => {
        const initial = from ?? exactPattern(id);
        if (initial === undefined) {
            return [];
        }
        panel.append(text('h4', side === 'client' ? 'Client pattern' : 'Server pattern'));
        const current = isExternal(initial)
            ? externalEditor(panel, side, initial)
            : processEditor(panel, side, initial, id);
        return [{ side, initial, current }];
    });

    return {
        edited: () => {
            const edit: LinkPatternEdit = {};
            for (const { side, initial, current } of editors) {
                const pattern = current();
                if (!samePattern(pattern, initial)) {
                    edit[side] = pattern;
                }
            }
            return Object.keys(edit).length > 0 ? edit : undefined;
        },
    };
}

function processEditor(
    panel: HTMLElement,
    side: string,
    initial: ProcessPattern,
    id: Identity,
): () => EndpointPattern {
    const rows = pinnable(initial, id);
    for (const row of rows) {
        const label =
            row.field === 'binary' ? 'binary' : `${row.field} ${plainText(row.value, 120)}`;
        const line = text('div', '', 'pattern');
        line.dataset['field'] = `${side}.${row.field}`;
        line.append(
            checkbox(label, row.pinned, (on) => {
                row.pinned = on;
            }),
        );
        if (row.field === 'binary') {
            const path = textField('binary path or glob', row.value, (next) => {
                row.value = next.trim();
            });
            path.className = 'pattern-binary';
            const widen = button('Widen to glob', () => {
                row.value = widenPath(row.value);
                path.value = row.value;
            });
            line.append(path, widen);
        }
        panel.append(line);
    }
    return () => patternOfRows(rows);
}

function externalEditor(
    panel: HTMLElement,
    side: string,
    initial: ExternalPattern,
): () => EndpointPattern {
    const key = 'dns' in initial ? 'dns' : 'cidr';
    let value = (key === 'dns' ? initial.dns : initial.cidr) ?? '';
    const placeholder = key === 'dns' ? 'name or *.domain' : 'address block';
    const field = textField(placeholder, value, (next) => {
        value = next.trim();
    });
    const row = text('div', '', 'pattern');
    row.dataset['field'] = `${side}.${key}`;
    row.append(text('span', key, 'name'), field);
    panel.append(row);
    return () => (value === '' ? initial : { [key]: value });
}
