import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowHistory } from '../../agent/flowHistory';
import { FlowTable } from '../../agent/flows';
import { createLogger } from '../../agent/log';
import { processOn } from '../fixtures/identities';

const curl = processOn('web', '/usr/bin/curl', { unit: 'job.service' });

function observe(table: FlowTable, pid: number, key: string, at: number) {
    return table.add({
        direction: 'egress',
        protocol: 'tcp',
        local: curl,
        pid,
        startNs: BigInt(pid),
        remoteAddress: '10.213.0.4',
        port: 6379,
        kernelKey: Buffer.from(key),
        count: 1,
        at,
    });
}

describe('flow table', () => {
    it('aggregates process instances into one link and folds kernel repeat counts in', () => {
        const table = new FlowTable('web');
        observe(table, 1, 'k1', 0);
        observe(table, 2, 'k2', 0);
        const counts: Record<string, bigint> = { k1: 5n, k2: 1n };
        table.refresh((raw) => ({ count: counts[raw.toString()] ?? 0n }), 10);
        expect(table.flows().map((f) => [f.pid, f.count])).toEqual([
            [1, 5],
            [2, 1],
        ]);
        expect(table.links()).toHaveLength(1);
        expect(table.links()[0]?.count).toBe(6);
        expect(table.takeChanged()).toHaveLength(1);
        expect(table.takeChanged()).toHaveLength(0);
    });

    it('counts a refused attempt the kernel reported again once, by the kernel count', () => {
        // Refused attempts reach the agent each time, repeats of a counted key included.
        const table = new FlowTable('web');
        observe(table, 1, 'k1', 0);
        observe(table, 1, 'k1', 5);
        observe(table, 1, 'k1', 9);
        expect(table.flows().map((f) => [f.count, f.lastSeen])).toEqual([[1, 9]]);
        table.refresh(() => ({ count: 3n }), 10);
        expect(table.flows()[0]?.count).toBe(3);
        expect(table.links()[0]?.count).toBe(3);
    });

    it('stops polling keys idle for a minute and drops them in the kernel', () => {
        const table = new FlowTable('web');
        observe(table, 1, 'k1', 0);
        const polled: string[] = [];
        const forgotten: string[] = [];
        const lookup = (raw: Buffer) => {
            polled.push(raw.toString());
            return { count: 1n };
        };
        table.refresh(lookup, 30_000, (raw) => forgotten.push(raw.toString()));
        expect(forgotten).toEqual([]);
        table.refresh(lookup, 61_000, (raw) => forgotten.push(raw.toString()));
        expect(forgotten).toEqual(['k1']);
        polled.length = 0;
        table.refresh(lookup, 62_000);
        expect(polled).toEqual([]);
    });
});

describe('flow table across agent runs', () => {
    it('continues a flow seen again after the kernel forgot its key, as one record', () => {
        const table = new FlowTable('web');
        observe(table, 1, 'k1', 0);
        table.refresh(
            () => ({ count: 1n }),
            61_000,
            () => undefined,
        );
        observe(table, 1, 'k1', 70_000);
        expect(table.flows().map((f) => [f.pid, f.count, f.firstSeen, f.lastSeen])).toEqual([
            [1, 2, 0, 70_000],
        ]);
        expect(table.links()[0]?.count).toBe(2);
    });

    it('takes back an earlier run with its ids; a running process continues its record', () => {
        const before = new FlowTable('web');
        observe(before, 1, 'k1', 0);
        observe(before, 2, 'k2', 5);
        const saved = before.snapshot().flows.map((f) => ({ ...f }));

        const after = new FlowTable('web');
        after.restore(saved);
        expect(after.flows().map((f) => f.id)).toEqual([1, 2]);
        expect(after.links()[0]?.count).toBe(2);
        // pid 2 is still running and connects again; pid 3 is new.
        observe(after, 2, 'k2', 100);
        const third = observe(after, 3, 'k3', 100);
        expect(third.id).toBe(3);
        expect(after.flows().map((f) => [f.id, f.pid, f.count])).toEqual([
            [1, 1, 1],
            [2, 2, 2],
            [3, 3, 1],
        ]);
        expect(after.links()[0]?.count).toBe(4);
    });
});

describe('flow history', () => {
    const log = createLogger('test', 'error', { write: () => undefined });
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'palisade-history-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('saves the table when it changed and loads it into the next run', () => {
        const table = new FlowTable('web');
        const history = new FlowHistory(dir, 'web', table, log);
        observe(table, 1, 'k1', 0);
        history.save();
        const file = path.join(dir, 'flows.json');
        const copy = readFileSync(file, 'utf8');
        // Nothing changed since: no write (the file removed here stays removed).
        rmSync(file);
        history.save();
        expect(existsSync(file)).toBe(false);
        writeFileSync(file, copy);

        const next = new FlowTable('web');
        expect(new FlowHistory(dir, 'web', next, log).load()).toBe(1);
        expect(next.flows()).toEqual(table.flows());
    });

    it("sets a damaged file aside and ignores another host's history", () => {
        writeFileSync(path.join(dir, 'flows.json'), '{"format":1,"host":"web","flows":[');
        expect(new FlowHistory(dir, 'web', new FlowTable('web'), log).load()).toBe(0);
        expect(existsSync(path.join(dir, 'flows.json.damaged'))).toBe(true);

        const table = new FlowTable('db');
        observe(table, 1, 'k1', 0);
        new FlowHistory(dir, 'db', table, log).save();
        const other = new FlowTable('web');
        expect(new FlowHistory(dir, 'web', other, log).load()).toBe(0);
        expect(other.flows()).toEqual([]);
    });
});
