// A flow whose owner cannot be known is `unknown (exited)` or `kernel`, and never borrows a
// live process's name: a pid reused by another process, or a listener port held by two
// different programs, is a miss.
import { describe, expect, it } from 'vitest';
import { EventFlags } from '../../agent/bpf/layout';
import { IdentityResolver, OwnerEvent } from '../../agent/identity/resolver';
import { cgroup2Mount, isKernelThread, procStartNs } from '../../agent/identity/system';

const mount = (() => {
    try {
        return cgroup2Mount();
    } catch {
        return undefined;
    }
})();

function event(tgid: number, startNs: bigint, flags = 0, port = 80): OwnerEvent {
    return {
        flags,
        key: {
            startNs,
            imageId: 0n,
            tgid,
            family: 4,
            proto: 6,
            direction: 0,
            port,
            address: '127.0.0.1',
            raw: Buffer.alloc(48),
        },
        cgroupId: 0n,
        euid: 0,
    };
}

describe.skipIf(mount === undefined)('unknown owners (needs a cgroup2 mount)', () => {
    const resolver = new IdentityResolver({
        host: 'h',
        zone: 'test',
        cgroupMount: mount ?? '/',
        cgroupRoot: mount ?? '/',
        seedAtStart: false,
    });

    it('names this live process from /proc when its instance matches', () => {
        const start = procStartNs(process.pid) ?? 0n;
        const r = resolver.resolve(event(process.pid, start));
        expect(r.miss).toBe(false);
        expect(r.identity).toMatchObject({ kind: 'process', binary: process.execPath });
    });

    it('refuses a live pid whose start time is another instance', () => {
        const start = procStartNs(process.pid) ?? 0n;
        const r = resolver.resolve(event(process.pid, start - 5_000_000_000n));
        expect(r).toMatchObject({ miss: true, identity: { kind: 'unknown', reason: 'exited' } });
    });

    it('calls a process that is gone unknown (exited)', () => {
        const r = resolver.resolve(event(4_194_303, 1n));
        expect(r).toMatchObject({ miss: true, identity: { kind: 'unknown', reason: 'exited' } });
    });

    it('calls pid 0 and kernel threads the kernel', () => {
        expect(resolver.resolve(event(0, 0n)).identity).toMatchObject({ reason: 'kernel' });
        // kthreadd is pid 2 wherever a pid namespace does not hide it.
        const kthreadd = procStartNs(2);
        if (kthreadd !== undefined && isKernelThread(2)) {
            expect(resolver.resolve(event(2, kthreadd)).identity).toMatchObject({
                kind: 'unknown',
                reason: 'kernel',
            });
        }
    });

    it('leaves an accepted socket with no listener unattributed', () => {
        const r = resolver.resolve(event(0, 0n, EventFlags.noOwner, 1));
        expect(r).toMatchObject({ miss: true, identity: { reason: 'unattributed' } });
    });
});
