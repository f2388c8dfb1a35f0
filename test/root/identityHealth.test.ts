// S8: hooks that stop being effective (their links detached behind the agent's back, or the
// guarded cgroup removed) turn status to `degraded` with the reason, in the RPC status and in
// the CLI's text, within one self-check interval. The real Agent runs in this process so the
// interval can be short (the daemon's default is 60 s).
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent';
import { formatStatus } from '../../agent/cli/format';
import { cgroup2Mount } from '../../agent/identity/system';
import { createLogger } from '../../agent/log';
import type { AgentStatus } from '../../agent/protocol';
import { isRoot, removeCgroupTree, ROOT } from './agentHarness';

const OBJECT = path.join(ROOT, 'dist/palisade.bpf.o');
const CLI = path.join(ROOT, 'dist/cli.js');
const skip = !isRoot
    ? 'needs root'
    : !fs.existsSync(OBJECT)
      ? 'needs a built dist/palisade.bpf.o'
      : '';

interface Running {
    agent: Agent;
    cgroup: string;
    pinDir: string;
    dir: string;
}

const running: Running[] = [];

/** `palisade status` against an agent of this process (so not spawnSync: it would stall it). */
function cliStatus(dir: string): Promise<{ status: number; stdout: string; stderr: string }> {
    const args = [CLI, 'status', '--local', '--socket', path.join(dir, 'agent.sock')];
    return new Promise((resolve) => {
        execFile(process.execPath, args, { timeout: 20_000 }, (err, stdout, stderr) => {
            const status = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
            resolve({ status, stdout, stderr });
        });
    });
}

async function startAgent(name: string): Promise<Running> {
    const cgroup = path.join(cgroup2Mount(), `palisade-test-${name}-${process.pid}`);
    const pinDir = `/sys/fs/bpf/palisade-test-${name}-${process.pid}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `palisade-${name}-`));
    fs.mkdirSync(cgroup, { recursive: true });
    const lines: string[] = [];
    const agent = new Agent({
        host: name,
        zone: 'test',
        objectPath: OBJECT,
        cgroupMount: cgroup2Mount(),
        cgroupPath: cgroup,
        pinDir,
        socketPath: path.join(dir, 'agent.sock'),
        stateDir: path.join(dir, 'state'),
        log: createLogger('agent', 'info', { write: (l) => void lines.push(l) }),
        healthIntervalMs: 250,
    });
    const r = { agent, cgroup, pinDir, dir };
    running.push(r);
    await agent.start();
    return r;
}

async function statusWhen(agent: Agent, pred: (s: AgentStatus) => boolean): Promise<AgentStatus> {
    let s = agent.status();
    // A canary that misses a hook waits its full timeout (6 s) before reporting.
    for (let i = 0; i < 250 && !pred(s); i++) {
        await new Promise((r) => setTimeout(r, 100));
        s = agent.status();
    }
    return s;
}

/** bpf links attached to the cgroup whose directory inode is `ino`. */
function linksOn(cgroup: string, attachType?: string): number[] {
    const ino = fs.statSync(cgroup).ino;
    const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show']).toString()) as {
        id: number;
        cgroup_id?: number;
        attach_type?: string;
    }[];
    return links
        .filter((l) => l.cgroup_id === ino && (!attachType || l.attach_type === attachType))
        .map((l) => l.id);
}

describe.skipIf(skip !== '')(`self-check (root: real eBPF) ${skip}`, () => {
    afterEach(async () => {
        for (const r of running.splice(0)) {
            await r.agent.stop().catch(() => undefined);
            removeCgroupTree(r.cgroup);
            fs.rmSync(r.pinDir, { recursive: true, force: true });
            fs.rmSync(r.dir, { recursive: true, force: true });
        }
    });

    it('reports ok only after the canary proved the hooks effective', async () => {
        const { agent, dir } = await startAgent('hok');
        expect(agent.status()).toMatchObject({ health: 'ok', problems: [] });
        const cli = await cliStatus(dir);
        expect(cli.status, cli.stderr).toBe(0);
    });

    it('turns degraded when the links are detached behind its back', async () => {
        const { agent, cgroup, dir } = await startAgent('hdetach');
        const ids = linksOn(cgroup);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) execFileSync('bpftool', ['link', 'detach', 'id', String(id)]);

        const s = await statusWhen(agent, (x) => x.health === 'degraded');
        expect(s.health).toBe('degraded');
        expect(s.problems.join('\n')).toMatch(/not observed: hooks not effective/);
        const text = formatStatus('local', s);
        expect(text).toContain('degraded');
        expect(text).toMatch(/problem: .*hooks not effective/);

        // The CLI, over the agent's socket, says so and exits non-zero for scripts.
        const cli = await cliStatus(dir);
        expect(cli.stdout).toMatch(/degraded/);
        expect(cli.status, cli.stderr).toBe(4);
    }, 30_000);

    it('names the one hook that stopped working when only it is detached', async () => {
        const { agent, cgroup } = await startAgent('hone');
        const ids = linksOn(cgroup, 'cgroup_udp4_sendmsg');
        expect(ids).toHaveLength(1);
        execFileSync('bpftool', ['link', 'detach', 'id', String(ids[0])]);

        const s = await statusWhen(agent, (x) => x.health === 'degraded');
        expect(s.problems.join('\n')).toMatch(/sendmsg4 not observed: hooks not effective/);
        expect(s.problems.join('\n')).not.toMatch(/connect4|sock_ops/);
    }, 60_000);

    it('turns degraded when the guarded cgroup disappears', async () => {
        const { agent, cgroup } = await startAgent('hgone');
        removeCgroupTree(cgroup);
        const s = await statusWhen(agent, (x) => x.health === 'degraded');
        expect(s.health).toBe('degraded');
        expect(s.problems.join('\n')).toMatch(/no longer exists/);
        expect(formatStatus('local', s)).toContain('degraded');
    }, 30_000);
});
