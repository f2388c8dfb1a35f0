// What colours, line styles and shapes mean. Swatches take their colours from the same theme
// variables as the graph (see the page's stylesheet), so the legend follows light and dark.
import { text } from './ui';

const ENTRIES: Array<[string, string]> = [
    ['edge alert', 'alert: seen, not reviewed'],
    ['edge allowed', 'allowed by policy'],
    ['edge snoozed', 'snoozed until seen again'],
    ['edge denied', 'denied'],
    ['edge none', 'no policy yet'],
    ['edge would-deny', 'would be dropped (monitor)'],
    ['edge deny', 'dropped (enforce)'],
    ['node process', 'process'],
    ['node external', 'external peer'],
    ['node unknown', 'owner unknown'],
    ['node jewel', '★ crown jewel (database, metadata)'],
    ['node more', 'N more: open to show'],
    ['box degraded', '⚠ host or agent degraded'],
    ['box enforce', 'app in enforce mode'],
    ['box monitor', 'app in monitor mode'],
];

export function renderLegend(container: HTMLElement): void {
    container.replaceChildren(
        text('h4', 'Legend'),
        ...ENTRIES.map(([swatch, meaning]) => {
            const row = text('div', '', 'legend-row');
            row.append(text('span', '', `swatch ${swatch}`), text('span', meaning));
            return row;
        }),
    );
}
