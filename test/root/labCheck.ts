// What `lab down` must leave behind: nothing. Shared by the lab suites.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';

const run = '/run/palisade-lab';
const cg2 = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((f) => f[2] === 'cgroup2')?.[1];
export const labCgroup = `${cg2}/palisade-lab`;

function sh(cmd: string, args: string[]) {
    return spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
}

export function labPids(): number[] {
    if (!existsSync(labCgroup)) return [];
    const out = sh('find', [labCgroup, '-name', 'cgroup.procs', '-exec', 'cat', '{}', '+']);
    return out.stdout.split('\n').filter(Boolean).map(Number);
}

/** Still running: present in /proc and not a zombie waiting for init to reap it. */
export function running(pid: number): boolean {
    try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
        return false;
    }
}

export function expectLabGone(pids: number[]): void {
    expect(sh('ip', ['netns', 'list']).stdout).not.toMatch(/palisade-/);
    const links = sh('ip', ['-o', 'link', 'show']).stdout;
    expect(links).not.toMatch(/\bpal-br0\b/);
    expect(links).not.toMatch(/\bpal-(web|api|db|ext)\b/);
    expect(existsSync(labCgroup)).toBe(false);
    expect(existsSync('/sys/fs/bpf/palisade-lab')).toBe(false);
    expect(existsSync(run)).toBe(false);
    const etcNetns = existsSync('/etc/netns') ? readdirSync('/etc/netns') : [];
    expect(etcNetns.filter((n) => n.startsWith('palisade-'))).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toMatch(/palisade-lab/);
    expect(pids.filter(running)).toEqual([]);
}
