// cgroup paths recorded from each container runtime and cgroup driver parse to the right
// unit, slice, container and pod.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupContext, cgroupFromProcFile } from '../../agent/identity/context';

interface Case {
    source: string;
    line: string;
    expect: Record<string, unknown>;
}

const cases = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../fixtures/cgroups/runtimes.json'), 'utf8'),
) as Case[];

describe('cgroup context', () => {
    it.each(cases.map((c) => [c.source, c] as const))('%s', (_source, c) => {
        const cgroup = cgroupFromProcFile(`1:name=systemd:/ignored\n${c.line}\n`);
        expect(cgroup).toBeDefined();
        expect(cgroupContext(cgroup ?? '')).toEqual(c.expect);
    });

    it('reads no v2 path from a v1-only /proc/<pid>/cgroup', () => {
        expect(cgroupFromProcFile('12:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n')).toBe(
            undefined,
        );
    });

    it('takes the real cgroup of this test process apart without throwing', () => {
        const text = fs.readFileSync('/proc/self/cgroup', 'utf8');
        const cgroup = cgroupFromProcFile(text);
        if (cgroup !== undefined) expect(typeof cgroupContext(cgroup)).toBe('object');
    });

    it('treats a hostile unit name as data', () => {
        const ctx = cgroupContext('/system.slice/<img src=x onerror=alert(1)>.service');
        expect(ctx.unit).toBe('<img src=x onerror=alert(1)>.service');
    });
});
