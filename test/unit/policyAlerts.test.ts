// Snooze semantics: a snoozed link's alerts are hidden from the moment an agent applies the
// snooze until a flow matches the link again; then it alerts anew, marked "seen again",
// while the file still says snoozed. Snoozing it again (a new snoozedAt) hides it again.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Datapath } from '../../agent/bpf/datapath';
import { Outcome, type RuleEntry } from '../../agent/bpf/layout';
import { createLogger } from '../../agent/log';
import { AlertBook, alertStateLabel, type AlertInput } from '../../agent/policy/alerts';
import { PolicyEngine } from '../../agent/policy/engine';
import type { LinkState, Policy } from '../../agent/policy/types';
import type { Alert } from '../../agent/protocol';
import { AlertStore } from '../../extension/model/alerts';
import { processOn } from '../fixtures/identities';

const input = (over: Partial<AlertInput> = {}): AlertInput => ({
    key: 'k1',
    app: 'db',
    owner: 'dba',
    severity: 'normal',
    verdict: 'would-deny',
    state: 'alert',
    rule: 'intruder',
    direction: 'ingress',
    protocol: 'tcp',
    local: { kind: 'unknown', reason: 'exited', host: 'db' },
    remote: { kind: 'external', name: 'cidr:10.213.0.2/32', address: '10.213.0.2' },
    remoteAddress: '10.213.0.2',
    port: 6379,
    host: 'db',
    at: 1,
    ...over,
});

describe('AlertBook snoozes', () => {
    it('hides a snoozed link until it is seen again, then alerts anew', () => {
        const book = new AlertBook();
        book.raise(input({ at: 1 }));
        book.raise(input({ key: 'k2', remoteAddress: '10.213.0.9', at: 2 }));
        book.raise(input({ key: 'other', rule: 'batch', at: 3 }));

        book.restate('db', 'intruder', 'snoozed');
        book.snoozed([{ app: 'db', link: 'intruder', stamp: 's1' }], 10);
        expect(book.list().map((a) => a.rule)).toEqual(['batch']);

        // A policy re-applied with the same snooze (another link reviewed) changes nothing.
        book.snoozed([{ app: 'db', link: 'intruder', stamp: 's1' }], 15);

        const { alert, isNew } = book.raise(input({ state: 'snoozed', at: 20 }));
        expect(isNew).toBe(true);
        expect(alert).toMatchObject({ count: 1, firstSeen: 20, snoozedAt: 10, state: 'snoozed' });
        expect(alertStateLabel(alert)).toBe('snoozed (seen again)');
        expect(book.raise(input({ state: 'snoozed', at: 21 })).alert.count).toBe(2);

        // Snoozed again after a look at it: a new stamp hides it again.
        book.snoozed([{ app: 'db', link: 'intruder', stamp: 's2' }], 30);
        expect(book.list().map((a) => a.rule)).toEqual(['batch']);
        expect(book.raise(input({ state: 'snoozed', at: 40 })).alert.snoozedAt).toBe(30);
    });

    it('drops the mark once the link is reviewed otherwise', () => {
        const book = new AlertBook();
        book.snoozed([{ app: 'db', link: 'intruder', stamp: '' }], 10);
        book.raise(input({ state: 'snoozed', at: 20 }));
        book.restate('db', 'intruder', 'denied');
        book.snoozed([], 30);
        const [a] = book.list();
        expect(a).toMatchObject({ state: 'denied', severity: 'high' });
        expect(a?.snoozedAt).toBeUndefined();
        expect(alertStateLabel(a!)).toBe('denied');

        // Snoozed once more without a stamp (edited by hand): the change of state is the snooze.
        book.snoozed([{ app: 'db', link: 'intruder', stamp: '' }], 40);
        expect(book.list()).toEqual([]);
    });
});

describe('policy engine: snoozed links and decisions', () => {
    let dir: string;
    let engine: PolicyEngine;
    let rules: RuleEntry[] = [];
    const raised: Alert[] = [];

    const client = processOn('web', '/usr/bin/redis-cli', { unit: 'intruder.service' });

    const apply = (state: LinkState, snoozedAt?: string) => {
        const policy: Policy = {
            apiVersion: 'palisade.dev/v1',
            kind: 'Policy',
            app: 'web',
            owner: 'ops',
            mode: 'monitor',
            members: [{ host: 'web', unit: 'intruder.service' }],
            links: [
                {
                    id: 'intruder-to-redis',
                    client: { host: 'web', unit: 'intruder.service' },
                    server: { cidr: '10.213.0.4/32' },
                    ports: [6379],
                    protocol: 'tcp',
                    state,
                    ...(snoozedAt ? { snoozedAt } : {}),
                },
            ],
        };
        engine.apply({ policy, source: 'web.palisade.yaml', hostAddresses: {} });
    };

    const attempt = () =>
        engine.decide({
            outcome: Outcome.wouldDeny,
            rule: rules[0]!.rule,
            direction: 'egress',
            protocol: 'tcp',
            cgroupId: 30n,
            local: client,
            remoteAddress: '10.213.0.4',
            port: 6379,
            pid: 7,
            at: Date.now(),
        });

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-alerts-'));
        raised.length = 0;
        const datapath = {
            namePatterns: () => [],
            swapPolicy: (_c: unknown, r: RuleEntry[]) => (rules = r),
        } as unknown as Datapath;
        engine = new PolicyEngine({
            stateDir: dir,
            host: 'web',
            zone: 'lab',
            datapath,
            hostCgroups: () => [{ id: 30n, path: '/intruder.service', unit: 'intruder.service' }],
            cgroupIdOf: () => 30n,
            dnsAddresses: () => [],
            log: createLogger('test', 'error'),
            onAlert: (a) => raised.push(a),
            onAudit: () => undefined,
        });
    });

    afterEach(() => {
        engine.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists nothing for a link snoozed after its alerts, and alerts again when it is used', () => {
        apply('alert');
        attempt();
        expect(engine.alerts.list()).toHaveLength(1);

        apply('snoozed', '2026-12-03T10:00:00.000Z');
        expect(engine.alerts.list()).toEqual([]);

        attempt();
        expect(engine.alerts.list()).toEqual([
            expect.objectContaining({ state: 'snoozed', count: 1, snoozedAt: expect.any(Number) }),
        ]);
        expect(raised.at(-1)?.snoozedAt).toBeDefined();

        // The same file pushed again (say, another link reviewed) keeps it showing.
        apply('snoozed', '2026-12-03T10:00:00.000Z');
        expect(engine.alerts.list()).toHaveLength(1);
        // Snoozed again: hidden again.
        apply('snoozed', '2026-12-03T11:00:00.000Z');
        expect(engine.alerts.list()).toEqual([]);
    });
});

describe('Alerts view store', () => {
    const alert = (over: Partial<Alert>): Alert => {
        const { at, ...rest } = input();
        return { ...rest, count: 1, firstSeen: at, lastSeen: at, ...over };
    };

    it('tells the person again when a snoozed link is seen again, and drops the stale copies', () => {
        const store = new AlertStore();
        expect(store.upsert(alert({ key: 'k1', lastSeen: 5 }))).toBe(true);
        store.upsert(alert({ key: 'k2', remoteAddress: '10.213.0.9', lastSeen: 6 }));
        store.upsert(alert({ key: 'k3', rule: 'batch', lastSeen: 7 }));

        // Snoozed at 10 (from the CLI: this view did not see it); k1 is used again at 20.
        const again = alert({ key: 'k1', state: 'snoozed', snoozedAt: 10, lastSeen: 20 });
        expect(store.upsert(again)).toBe(true);
        const open = store.all().map((a) => `${a.key} ${a.state}`);
        expect(open.sort()).toEqual(['k1 snoozed', 'k3 alert']);
        expect(store.upsert({ ...again, count: 2, lastSeen: 21 })).toBe(false);
    });
});
