import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../agent/flows';
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
