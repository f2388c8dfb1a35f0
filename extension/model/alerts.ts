// Open alerts of the whole fleet, grouped owner → app → link for the Alerts view. Pure (no
// vscode import) so grouping, counting and the "last seen" wording are unit-tested.
import { identityLabel } from '../../agent/fleet/identity';
import type { Alert } from '../../agent/protocol';

export interface AlertLinkGroup {
    /** Stable across hosts: the same link seen by two agents is one row. */
    key: string;
    label: string;
    alerts: Alert[];
    count: number;
    lastSeen: number;
    severity: Alert['severity'];
}

export interface AlertAppGroup {
    app: string;
    links: AlertLinkGroup[];
    count: number;
}

export interface AlertOwnerGroup {
    owner: string;
    apps: AlertAppGroup[];
    count: number;
}

export class AlertStore {
    private readonly byKey = new Map<string, Alert>();

    /** Replaces everything known from one host (after a (re)connect). */
    replaceHost(host: string, alerts: Alert[]): void {
        for (const [key, a] of this.byKey) if (a.host === host) this.byKey.delete(key);
        for (const a of alerts) this.byKey.set(storeKey(a), a);
    }

    /**
     * Returns true when the alert is new: not an update of one already open, or a snoozed
     * link seen again (the person is told again).
     */
    upsert(alert: Alert): boolean {
        const key = storeKey(alert);
        const prev = this.byKey.get(key);
        if (alert.snoozedAt !== undefined) this.closeSnoozed(alert, alert.snoozedAt);
        this.byKey.set(key, alert);
        return !prev || (alert.snoozedAt !== undefined && prev.snoozedAt !== alert.snoozedAt);
    }

    /**
     * The agent hid the alerts its link had before the snooze; copies this view still holds
     * from before it (the link was snoozed elsewhere, by the CLI say) go too.
     */
    private closeSnoozed(seen: Alert, snoozedAt: number): void {
        for (const [key, a] of this.byKey) {
            const sameLink = a.host === seen.host && a.app === seen.app && a.rule === seen.rule;
            if (sameLink && a.snoozedAt === undefined && a.lastSeen <= snoozedAt) {
                this.byKey.delete(key);
            }
        }
    }

    /** Alerts whose link the user just allowed, snoozed or denied are no longer open. */
    removeRule(app: string, rule: string): void {
        for (const [key, a] of this.byKey) {
            if (a.app === app && a.rule === rule) this.byKey.delete(key);
        }
    }

    get size(): number {
        return this.byKey.size;
    }

    all(): Alert[] {
        return [...this.byKey.values()];
    }

    groups(): AlertOwnerGroup[] {
        return groupAlerts(this.all());
    }
}

function storeKey(a: Alert): string {
    return `${a.host}\u0000${a.key}`;
}

export function alertLinkLabel(a: Alert): string {
    const [client, server] = a.direction === 'egress' ? [a.local, a.remote] : [a.remote, a.local];
    return `${identityLabel(client)} → ${identityLabel(server)}:${a.port}/${a.protocol}`;
}

export function groupAlerts(alerts: Alert[]): AlertOwnerGroup[] {
    const owners = new Map<string, Map<string, Map<string, AlertLinkGroup>>>();
    for (const a of alerts) {
        const apps = getOr(owners, a.owner || '(no owner)', () => new Map());
        const links = getOr(apps, a.app, () => new Map());
        const label = alertLinkLabel(a);
        const group = getOr(links, `${a.rule}\u0000${label}`, () => ({
            key: `${a.owner}\u0000${a.app}\u0000${a.rule}\u0000${label}`,
            label,
            alerts: [] as Alert[],
            count: 0,
            lastSeen: 0,
            severity: 'normal' as Alert['severity'],
        }));
        group.alerts.push(a);
        group.count += a.count;
        group.lastSeen = Math.max(group.lastSeen, a.lastSeen);
        if (a.severity === 'high') group.severity = 'high';
    }

    const byName = <T>(m: Map<string, T>) =>
        [...m.entries()].sort(([x], [y]) => x.localeCompare(y));
    return byName(owners).map(([owner, apps]) => {
        const appGroups = byName(apps).map(([app, links]) => {
            const linkGroups = [...links.values()].sort((x, y) => y.lastSeen - x.lastSeen);
            return { app, links: linkGroups, count: sum(linkGroups.map((l) => l.count)) };
        });
        return { owner, apps: appGroups, count: sum(appGroups.map((g) => g.count)) };
    });
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago": short enough for a CodeLens or a row. */
export function ago(at: number, now = Date.now()): string {
    const s = Math.max(0, Math.round((now - at) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86_400)} d ago`;
}

/** "1,204 flows" with the grouping people read fastest. */
export function flowCount(n: number): string {
    return `${n.toLocaleString('en-US')} ${n === 1 ? 'flow' : 'flows'}`;
}

/** Owners match case-insensitively, the way e-mail addresses are compared in practice. */
export function isOwnedBy(owner: string, me: string | undefined): boolean {
    return me !== undefined && me !== '' && owner.trim().toLowerCase() === me.trim().toLowerCase();
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
    let v = m.get(k);
    if (v === undefined) {
        v = make();
        m.set(k, v);
    }
    return v;
}

function sum(xs: number[]): number {
    return xs.reduce((a, b) => a + b, 0);
}
