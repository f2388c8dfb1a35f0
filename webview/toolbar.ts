// Filters, search and commands above the graph. Host and app names in the dropdowns come from
// hosts: they go in as option text only.
import { EDGE_STATE_KEYS, type EdgeStateKey } from './graphBadges';
import type { ExportFormat, LinkAction } from './messages';
import { button, checkbox, dropdown, setChoices, setDisabled, text, textField } from './ui';

export interface ToolbarState {
    states: EdgeStateKey[];
    host: string;
    app: string;
    window: TimeWindow;
    search: string;
}

export type TimeWindow = 'all' | '5m' | '1h' | '24h';
export const WINDOW_MS: Record<TimeWindow, number | undefined> = {
    all: undefined,
    '5m': 5 * 60_000,
    '1h': 60 * 60_000,
    '24h': 24 * 60 * 60_000,
};

export function defaultToolbarState(): ToolbarState {
    return { states: [...EDGE_STATE_KEYS], host: '', app: '', window: 'all', search: '' };
}

export interface ToolbarHandlers {
    change(state: ToolbarState): void;
    fit(): void;
    relayout(): void;
    showHidden(): void;
    exportAs(format: ExportFormat): void;
    act(action: LinkAction): void;
    toggleLegend(): void;
}

const STATE_LABELS: Record<EdgeStateKey, string> = {
    alert: 'alert',
    allowed: 'allowed',
    snoozed: 'snoozed',
    denied: 'denied',
    none: 'unreviewed',
};

export class Toolbar {
    private readonly hostPick: HTMLElement;
    private readonly appPick: HTMLElement;
    private readonly hiddenButton: HTMLElement;
    private readonly actButtons: HTMLElement[];
    private hosts = '';
    private apps = '';

    constructor(
        container: HTMLElement,
        private readonly state: ToolbarState,
        handlers: ToolbarHandlers,
    ) {
        const changed = () => handlers.change(this.state);

        const states = text('div', '', 'group states');
        for (const key of EDGE_STATE_KEYS) {
            const box = checkbox(STATE_LABELS[key], state.states.includes(key), (on) => {
                this.state.states = on
                    ? [...this.state.states, key]
                    : this.state.states.filter((s) => s !== key);
                changed();
            });
            box.classList.add(`state-${key}`);
            states.append(box);
        }

        this.hostPick = dropdown(
            [{ value: '', label: 'all hosts' }],
            state.host,
            (value) => {
                this.state.host = value;
                changed();
            },
            'Only edges touching this host',
        );
        this.appPick = dropdown(
            [{ value: '', label: 'all apps' }],
            state.app,
            (value) => {
                this.state.app = value;
                changed();
            },
            'Only edges touching this app',
        );
        const windowPick = dropdown(
            [
                { value: 'all', label: 'any time' },
                { value: '5m', label: 'last 5 min' },
                { value: '1h', label: 'last hour' },
                { value: '24h', label: 'last day' },
            ],
            state.window,
            (value) => {
                this.state.window = value as TimeWindow;
                changed();
            },
            'Only edges seen in this window',
        );
        const search = textField('Search names', state.search, (value) => {
            this.state.search = value;
            changed();
        });
        search.id = 'search';

        this.hiddenButton = button('Show hidden', () => handlers.showHidden());
        this.actButtons = (['allow', 'snooze', 'deny'] as const).map((action) =>
            button(`${action[0]?.toUpperCase()}${action.slice(1)} selected`, () =>
                handlers.act(action),
            ),
        );
        const views = text('div', '', 'group');
        views.append(
            button('Fit', () => handlers.fit(), { title: 'Fit the graph to the window' }),
            button('Re-layout', () => handlers.relayout(), { title: 'Lay everything out again' }),
            this.hiddenButton,
            button('Legend', () => handlers.toggleLegend()),
        );
        const exports = text('div', '', 'group');
        exports.append(
            ...(['png', 'svg', 'json'] as const).map((format) =>
                button(format.toUpperCase(), () => handlers.exportAs(format), {
                    title: `Export the current view as ${format.toUpperCase()}`,
                }),
            ),
        );
        const acts = text('div', '', 'group');
        acts.append(...this.actButtons);

        const filters = text('div', '', 'group');
        filters.append(this.hostPick, this.appPick, windowPick, search);
        container.replaceChildren(filters, states, views, acts, exports);
        this.setHiddenCount(0);
        this.setSelectedLinks(0);
    }

    setHosts(hosts: string[]): void {
        const key = JSON.stringify(hosts);
        if (key !== this.hosts) {
            this.hosts = key;
            const choices = hosts.map((host) => ({ value: host, label: host }));
            setChoices(
                this.hostPick,
                [{ value: '', label: 'all hosts' }, ...choices],
                this.state.host,
            );
        }
    }

    setApps(apps: string[]): void {
        const key = JSON.stringify(apps);
        if (key !== this.apps) {
            this.apps = key;
            const choices = apps.map((app) => ({ value: app, label: app }));
            setChoices(
                this.appPick,
                [{ value: '', label: 'all apps' }, ...choices],
                this.state.app,
            );
        }
    }

    setHiddenCount(count: number): void {
        this.hiddenButton.textContent = `Show hidden (${count})`;
        setDisabled(this.hiddenButton, count === 0);
    }

    setSelectedLinks(count: number): void {
        for (const b of this.actButtons) {
            setDisabled(b, count === 0);
        }
    }
}
