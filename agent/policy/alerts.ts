// Alerts: every flow outside the allowed links, deduplicated per link, routed to the app's
// owner, and optionally POSTed to the owner's webhook — queued, retried with backoff, never
// blocking the agent. A snoozed link's alerts are hidden until a flow matches it again.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Logger } from '../log';
import type { Alert } from '../protocol';

export type AlertInput = Omit<Alert, 'count' | 'firstSeen' | 'lastSeen' | 'snoozedAt'> & {
    at: number;
};

/** A link in state snoozed, as one applied policy file has it. */
export interface Snooze {
    app: string;
    link: string;
    /** The file's `snoozedAt`, or '' when it has none: a new value is a new snooze. */
    stamp: string;
}

export class AlertBook {
    private readonly alerts = new Map<string, Alert>();
    private readonly lastByApp = new Map<string, number>();
    /** app + link → the stamp of its snooze and when this agent applied it. */
    private snoozes = new Map<string, { stamp: string; since: number }>();

    /** Returns the alert and whether it is new (first sighting of this key). */
    raise(input: AlertInput): { alert: Alert; isNew: boolean } {
        const { at, ...rest } = input;
        this.lastByApp.set(input.app, at);
        const prev = this.alerts.get(input.key);
        if (prev) {
            prev.count++;
            prev.lastSeen = at;
            prev.verdict = input.verdict;
            return { alert: prev, isNew: false };
        }
        // Alerts from before a snooze were closed by it: whatever is raised now came after.
        const snooze = input.state === 'snoozed' ? this.snoozes.get(linkKey(input)) : undefined;
        const alert: Alert = {
            ...rest,
            count: 1,
            firstSeen: at,
            lastSeen: at,
            ...(snooze ? { snoozedAt: snooze.since } : {}),
        };
        this.alerts.set(input.key, alert);
        return { alert, isNew: true };
    }

    /** A re-applied policy changed a link's state: open alerts on that link say so. */
    restate(app: string, rule: string, state: Alert['state']): void {
        for (const a of this.alerts.values()) {
            if (a.app === app && a.rule === rule) {
                a.state = state;
                a.severity = state === 'denied' ? 'high' : 'normal';
                if (state !== 'snoozed') delete a.snoozedAt;
            }
        }
    }

    /**
     * The snoozed links of every applied policy. A link snoozed anew (it was not snoozed, or
     * its stamp changed) closes its open alerts: the person has seen them. Until a flow matches
     * it again, it raises nothing; then it alerts like a new link, marked `snoozedAt`.
     */
    snoozed(links: Snooze[], now: number): void {
        const next = new Map<string, { stamp: string; since: number }>();
        for (const s of links) {
            const key = linkKey({ app: s.app, rule: s.link });
            const prev = this.snoozes.get(key);
            if (prev?.stamp === s.stamp) {
                next.set(key, prev);
                continue;
            }
            next.set(key, { stamp: s.stamp, since: now });
            for (const [k, a] of this.alerts) {
                if (a.app === s.app && a.rule === s.link) this.alerts.delete(k);
            }
        }
        this.snoozes = next;
    }

    list(): Alert[] {
        return [...this.alerts.values()];
    }

    lastAlertAt(app: string): number | undefined {
        return this.lastByApp.get(app);
    }
}

/** The state as people should read it: a snoozed link seen again says so. */
export function alertStateLabel(a: Pick<Alert, 'state' | 'snoozedAt'>): string {
    return a.state === 'snoozed' && a.snoozedAt !== undefined ? 'snoozed (seen again)' : a.state;
}

function linkKey(a: { app: string; rule: string }): string {
    return JSON.stringify([a.app, a.rule]);
}

interface Pending {
    url: string;
    body: string;
    attempt: number;
}

export class Webhooks {
    private readonly queue: Pending[] = [];
    private inFlight = 0;
    private stopped = false;

    constructor(
        private readonly log: Logger,
        private readonly opts = {
            maxQueue: 1000,
            maxAttempts: 6,
            baseDelayMs: 500,
            timeoutMs: 3000,
        },
    ) {}

    send(url: string, alert: Alert): void {
        if (this.queue.length >= this.opts.maxQueue) {
            this.log.warn('webhook queue full; dropping an alert delivery', { url: redact(url) });
            return;
        }
        this.queue.push({
            url,
            body: JSON.stringify({ type: 'palisade.alert', alert }),
            attempt: 0,
        });
        this.pump();
    }

    stop(): void {
        this.stopped = true;
    }

    private pump(): void {
        while (!this.stopped && this.inFlight < 4 && this.queue.length > 0) {
            const p = this.queue.shift()!;
            this.inFlight++;
            void this.deliver(p).finally(() => {
                this.inFlight--;
                this.pump();
            });
        }
    }

    private async deliver(p: Pending): Promise<void> {
        try {
            await post(p.url, p.body, this.opts.timeoutMs);
        } catch (err) {
            p.attempt++;
            if (p.attempt >= this.opts.maxAttempts || this.stopped) {
                this.log.warn('webhook delivery failed; giving up', {
                    url: redact(p.url),
                    attempts: p.attempt,
                    error: String(err),
                });
                return;
            }
            const delay = this.opts.baseDelayMs * 2 ** (p.attempt - 1);
            const t = setTimeout(() => {
                this.queue.push(p);
                this.pump();
            }, delay);
            t.unref();
        }
    }
}

function post(url: string, body: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const mod = u.protocol === 'https:' ? https : http;
        const req = mod.request(
            u,
            {
                method: 'POST',
                headers: {
                    'content-type': 'application/json',
                    'content-length': Buffer.byteLength(body),
                },
                timeout: timeoutMs,
            },
            (res) => {
                res.resume();
                const code = res.statusCode ?? 0;
                if (code >= 200 && code < 300) resolve();
                else reject(new Error(`HTTP ${code}`));
            },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

/** Webhook URLs may carry tokens: logs get the origin only. */
function redact(url: string): string {
    try {
        return new URL(url).origin;
    } catch {
        return '(invalid url)';
    }
}
