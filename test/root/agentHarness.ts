// Starts a real palisade-agent (dist/agent.js) on a throwaway cgroup, with its own pin dir
// and socket, and removes all of it afterwards. Processes run "inside" that cgroup through
// inCgroup(), which moves the shell into the cgroup before it execs anything.
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroup2Mount } from '../../agent/identity/system';
import type { FlowRecord } from '../../agent/protocol';
import { AgentClient, connectLocalAgent } from '../../agent/remote/agentClient';

export const ROOT = path.resolve(__dirname, '../..');
export const isRoot = process.getuid?.() === 0;
/** Appended to a root suite's title, so a skip says what the machine lacks. */
export const NEEDS_ROOT = isRoot ? '' : ' (skipped: needs root for eBPF, cgroups and namespaces)';

export interface Harness {
    name: string;
    cgroup: string;
    pinDir: string;
    socket: string;
    agent: ChildProcess;
    client: AgentClient;
    log(): string;
    /** Runs a shell script whose processes live in `<cgroup>/<unit>`; resolves with stdout. */
    inCgroup(unit: string, script: string, env?: Record<string, string>): Promise<string>;
    flowsWhere(pred: (f: FlowRecord) => boolean): Promise<FlowRecord[]>;
    restart(signal: NodeJS.Signals): Promise<void>;
    stop(): Promise<void>;
}

function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
    const until = Date.now() + ms;
    return new Promise((resolve, reject) => {
        const tick = () => {
            if (cond()) return resolve();
            if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
            setTimeout(tick, 50);
        };
        tick();
    });
}

export async function startHarness(name: string): Promise<Harness> {
    const mount = cgroup2Mount();
    const cgroup = path.join(mount, `palisade-test-${name}-${process.pid}`);
    const pinDir = `/sys/fs/bpf/palisade-test-${name}-${process.pid}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `palisade-${name}-`));
    const socket = path.join(dir, 'agent.sock');
    const logFile = path.join(dir, 'agent.log');
    fs.mkdirSync(cgroup, { recursive: true });

    const launch = async () => {
        fs.rmSync(socket, { force: true });
        const out = fs.openSync(logFile, 'a');
        const child = spawn(
            process.execPath,
            [
                path.join(ROOT, 'dist/agent.js'),
                ...['--host-name', name, '--zone', 'test', '--cgroup', cgroup],
                ...[
                    '--pin-dir',
                    pinDir,
                    '--socket',
                    socket,
                    '--state-dir',
                    path.join(dir, 'state'),
                ],
            ],
            { stdio: ['ignore', out, out] },
        );
        fs.closeSync(out);
        await waitFor(
            () => fs.existsSync(socket) || child.exitCode !== null,
            20_000,
            'agent socket',
        );
        if (child.exitCode !== null) {
            throw new Error(`agent exited ${child.exitCode}:\n${fs.readFileSync(logFile, 'utf8')}`);
        }
        return child;
    };

    let first: ChildProcess;
    try {
        first = await launch();
    } catch (err) {
        // A harness that never started still leaves nothing behind.
        removeCgroupTree(cgroup);
        fs.rmSync(pinDir, { recursive: true, force: true });
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
    }
    const h: Harness = {
        name,
        cgroup,
        pinDir,
        socket,
        agent: first,
        client: undefined as unknown as AgentClient,
        log: () => fs.readFileSync(logFile, 'utf8'),
        inCgroup(unit, script, env = {}) {
            const cg = path.join(cgroup, unit);
            fs.mkdirSync(cg, { recursive: true });
            // Async: servers in this test process must keep answering meanwhile.
            return new Promise((resolve, reject) => {
                execFile(
                    '/bin/sh',
                    ['-c', 'echo $$ > "$0/cgroup.procs" && exec /bin/sh -c "$1"', cg, script],
                    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
                    (err, stdout) => (err ? reject(err) : resolve(stdout)),
                );
            });
        },
        async flowsWhere(pred) {
            const all: FlowRecord[] = [];
            let after = 0;
            for (;;) {
                const page = await h.client.flows({ after, limit: 10_000 });
                all.push(...page);
                if (page.length < 10_000) break;
                after = page[page.length - 1]?.id ?? after;
            }
            return all.filter(pred);
        },
        async restart(signal) {
            h.client.close();
            if (h.agent.exitCode === null && h.agent.signalCode === null) {
                const exited = new Promise((r) => h.agent.once('exit', r));
                h.agent.kill(signal);
                await exited;
            }
            h.agent = await launch();
            h.client = await connectLocalAgent(socket);
        },
        async stop() {
            h.client?.close();
            if (h.agent.exitCode === null && h.agent.signalCode === null) {
                const exited = new Promise((r) => h.agent.once('exit', r));
                h.agent.kill('SIGTERM');
                await exited;
            }
            removeCgroupTree(cgroup);
            fs.rmSync(pinDir, { recursive: true, force: true });
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    h.client = await connectLocalAgent(socket);
    return h;
}

/** Kill what is left in our cgroup subtree (only our own processes live there), then rmdir. */
export function removeCgroupTree(dir: string): void {
    if (!fs.existsSync(dir)) return;
    try {
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    } catch {
        // cgroup.kill needs Linux 5.14; the tree is empty in the normal case anyway.
    }
    const rm = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) rm(path.join(d, e.name));
        }
        for (let i = 0; i < 100; i++) {
            try {
                fs.rmdirSync(d);
                return;
            } catch {
                execFileSync('sleep', ['0.05']);
            }
        }
    };
    rm(dir);
}

const CGROUP_HOOKS = [
    'inet_ingress',
    'inet_sock_create',
    'inet4_connect',
    'inet6_connect',
    'udp4_sendmsg',
    'udp6_sendmsg',
    'sock_ops',
];

/** Each of the datapath's cgroup hooks is attached to `cgroup` exactly once. */
export function expectOneAttachmentPerHook(cgroup: string): void {
    const shown = execFileSync('bpftool', ['cgroup', 'show', cgroup]).toString();
    for (const hook of CGROUP_HOOKS) {
        const lines = shown.split('\n').filter((l) => new RegExp(`cgroup_${hook}\\s`).test(l));
        expect(lines, `${hook} in:\n${shown}`).toHaveLength(1);
    }
}
