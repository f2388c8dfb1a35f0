// Deploy Agent: check the target's prerequisites, upload the self-contained bundle over
// SFTP, install it (systemd unit, or the supervisor where there is no systemd) and start
// it. The state directory is never touched, so an upgrade keeps the applied policy.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { RemoteError } from '../errors';
import { missingPrereqs, parsePrereqs, PREREQ_SCRIPT, type Prereqs } from './prereqs';
import { SUPERVISOR_SCRIPT, systemdUnit } from './supervisor';

export interface DeployOptions {
    /** Local folder with agent.js, palisade.bpf.o and node_modules/ (the built dist/). */
    bundleDir: string;
    /** Progress for the person: one short line per step. */
    step?: (message: string) => void;
    log?: (message: string) => void;
    socketTimeoutMs?: number;
}

export interface DeployResult {
    prereqs: Prereqs;
    runner: 'systemd' | 'supervisor';
    installDir: string;
    socket: string;
    /** True when an agent of ours was already installed and got replaced. */
    upgraded: boolean;
}

const BUNDLE_FILES = ['agent.js', 'palisade.bpf.o'];
const BUNDLE_DIRS = ['node_modules'];

interface Layout {
    installDir: string;
    args: string[];
    socket: string;
    /** cgroup the supervised agent joins (lab: its unit's cgroup). */
    unitCgroup: string;
}

export async function deployAgent(
    conn: Client,
    alias: string,
    opts: DeployOptions,
): Promise<DeployResult> {
    const step = opts.step ?? (() => undefined);
    const absent = [...BUNDLE_FILES, ...BUNDLE_DIRS].filter(
        (f) => !existsSync(join(opts.bundleDir, f)),
    );
    if (absent.length > 0) {
        throw new RemoteError(
            'config',
            alias,
            `the agent bundle ${opts.bundleDir} lacks ${absent.join(', ')}; ` +
                'run node scripts/build.mjs',
        );
    }
    step('checking prerequisites');
    const prereqs = parsePrereqs((await run(conn, alias, PREREQ_SCRIPT)).stdout);
    const missing = missingPrereqs(prereqs);
    if (missing.length > 0) {
        throw new RemoteError(
            'unsupported',
            alias,
            `${alias}: cannot run the agent: ${missing.join('; ')}`,
            { missing: missing.join('\n') },
        );
    }
    const layout = await layoutFor(conn, alias, prereqs);
    const node = prereqs.node as string;
    if (!prereqs.bpffs) await run(conn, alias, 'mount -t bpf bpf /sys/fs/bpf');

    step(`uploading the agent to ${layout.installDir}`);
    const upgraded =
        (await run(conn, alias, `test -e ${q(layout.installDir)}/current`, true)).code === 0;
    const staging = `${layout.installDir}/current.new`;
    await run(conn, alias, `rm -rf ${q(staging)} && mkdir -p ${q(staging)}`);
    const files = await openFiles(conn, alias, opts.log);
    try {
        await uploadTree(files, opts.bundleDir, staging, true);
        await files.write(`${layout.installDir}/palisade-supervise`, SUPERVISOR_SCRIPT, 0o755);
    } finally {
        files.end();
    }
    const d = q(layout.installDir);
    await run(
        conn,
        alias,
        `cd ${d} && rm -rf current.old && { [ ! -e current ] || mv current current.old; } && ` +
            'mv current.new current',
    );

    const runner = prereqs.systemd && !prereqs.lab ? 'systemd' : 'supervisor';
    step(`${upgraded ? 'restarting' : 'starting'} the agent (${runner})`);
    if (runner === 'systemd') {
        await startSystemd(conn, alias, node, layout);
    } else {
        await startSupervised(conn, alias, node, layout);
    }
    if (!prereqs.lab) await installLauncher(conn, alias, node, layout);

    step('waiting for the agent socket');
    await waitForSocket(conn, alias, layout, opts.socketTimeoutMs ?? 30_000);
    opts.log?.(`${alias}: agent ${upgraded ? 'upgraded' : 'installed'} (${runner})`);
    return { prereqs, runner, installDir: layout.installDir, socket: layout.socket, upgraded };
}

async function layoutFor(conn: Client, alias: string, p: Prereqs): Promise<Layout> {
    if (!p.lab) {
        return {
            installDir: '/opt/palisade',
            args: ['--state-dir', '/var/lib/palisade'],
            socket: '/run/palisade/agent.sock',
            unitCgroup: '',
        };
    }
    // The embedded lab: the same arguments lab/netns/services.sh gives its agents.
    const hosts = JSON.parse(
        (await run(conn, alias, 'cat /run/palisade-lab/hosts.json')).stdout,
    ) as {
        name: string;
        socket: string;
        cgroup: string;
        pinDir: string;
    }[];
    const me = hosts.find((h) => h.name === p.lab);
    if (!me) {
        throw new RemoteError('config', alias, `${alias}: lab host ${p.lab} not in hosts.json`);
    }
    const run_ = posix.dirname(posix.dirname(me.socket));
    const dir = `${run_}/${me.name}`;
    return {
        installDir: `${dir}/agent-install`,
        args: [
            '--host-name',
            me.name,
            '--zone',
            'lab',
            '--cgroup',
            me.cgroup,
            '--pin-dir',
            me.pinDir,
            '--socket',
            me.socket,
            '--state-dir',
            `${dir}/state`,
        ],
        socket: me.socket,
        unitCgroup: `${me.cgroup}/palisade-agent.service`,
    };
}

async function startSystemd(conn: Client, alias: string, node: string, l: Layout): Promise<void> {
    const unit = systemdUnit(node, l.installDir, l.args);
    const files = await openFiles(conn, alias);
    try {
        await files.write('/etc/systemd/system/palisade-agent.service', unit, 0o644);
    } finally {
        files.end();
    }
    await run(
        conn,
        alias,
        'systemctl daemon-reload && systemctl enable --quiet palisade-agent.service && ' +
            'systemctl restart palisade-agent.service',
    );
}

async function startSupervised(
    conn: Client,
    alias: string,
    node: string,
    l: Layout,
): Promise<void> {
    const dir = q(l.installDir);
    const pidfile = `${dir}/supervise.pid`;
    // Upgrade: stop the previous supervisor (and its agent) and wait until it is gone.
    await run(
        conn,
        alias,
        `if [ -s ${pidfile} ] && kill -TERM "$(cat ${pidfile})" 2>/dev/null; then ` +
            `for i in $(seq 1 100); do [ -e ${pidfile} ] || break; sleep 0.1; done; fi; ` +
            `rm -f ${pidfile}`,
    );
    const agent = [node, `${l.installDir}/current/agent.js`, ...l.args].map(q).join(' ');
    await run(
        conn,
        alias,
        `setsid ${dir}/palisade-supervise ${pidfile} ${q(l.unitCgroup)} -- ${agent} ` +
            `</dev/null >>${dir}/agent.log 2>&1 & echo started`,
    );
}

/** `palisade-agent` on PATH, which is what sessions run (`palisade-agent rpc`). */
async function installLauncher(
    conn: Client,
    alias: string,
    node: string,
    l: Layout,
): Promise<void> {
    const script = `#!/bin/sh\nexec ${q(node)} ${q(`${l.installDir}/current/agent.js`)} "$@"\n`;
    const files = await openFiles(conn, alias);
    try {
        await files.write('/usr/local/bin/palisade-agent', script, 0o755);
    } finally {
        files.end();
    }
}

async function waitForSocket(conn: Client, alias: string, l: Layout, timeoutMs: number) {
    const tries = Math.ceil(timeoutMs / 250);
    const r = await run(
        conn,
        alias,
        `for i in $(seq 1 ${tries}); do [ -S ${q(l.socket)} ] && exit 0; sleep 0.25; done; exit 1`,
        true,
    );
    if (r.code !== 0) {
        throw new RemoteError(
            'agent-failed',
            alias,
            `${alias}: the agent did not open ${l.socket} within ${timeoutMs / 1000} s; ` +
                `see ${l.installDir}/agent.log or journalctl -u palisade-agent`,
        );
    }
}

interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export function run(
    conn: Client,
    alias: string,
    command: string,
    allowFail = false,
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        conn.exec(command, (err, ch) => {
            if (err) {
                reject(
                    new RemoteError('agent-failed', alias, `${alias}: exec failed: ${err.message}`),
                );
                return;
            }
            let stdout = '';
            let stderr = '';
            ch.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
            ch.stderr.on(
                'data',
                (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)),
            );
            ch.once('close', (code: number | null) => {
                const c = code ?? -1;
                if (c !== 0 && !allowFail) {
                    const what = command.trim().split('\n')[0]?.slice(0, 80);
                    reject(
                        new RemoteError(
                            'agent-failed',
                            alias,
                            `${alias}: "${what}" failed (exit ${c}): ${stderr.trim().slice(-300)}`,
                        ),
                    );
                } else resolve({ code: c, stdout, stderr });
            });
        });
    });
}

/** What the upload needs from a file transport: SFTP, or plain exec where there is none. */
interface FileSink {
    mkdir(remote: string): Promise<void>;
    put(local: string, remote: string, mode: number): Promise<void>;
    write(remote: string, text: string, mode: number): Promise<void>;
    end(): void;
}

async function openFiles(
    conn: Client,
    alias: string,
    log?: (message: string) => void,
): Promise<FileSink> {
    try {
        return sftpSink(await openSftp(conn));
    } catch (err) {
        // An sshd without a Subsystem line (the embedded lab runs `sshd -f /dev/null`)
        // refuses SFTP; streaming through `cat` moves the same bytes.
        log?.(`${alias}: no SFTP (${(err as Error).message}); uploading through exec`);
        return execSink(conn, alias);
    }
}

function openSftp(conn: Client): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) =>
        conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
    );
}

function sftpSink(sftp: SFTPWrapper): FileSink {
    const done =
        (what: string, resolve: () => void, reject: (e: Error) => void) => (err?: Error | null) =>
            err ? reject(new Error(`${what}: ${err.message}`)) : resolve();
    return {
        mkdir: (remote) =>
            new Promise((res, rej) =>
                sftp.mkdir(remote, { mode: 0o755 }, done(`mkdir ${remote}`, res, rej)),
            ),
        put: (local, remote, mode) =>
            new Promise((res, rej) =>
                sftp.fastPut(local, remote, { mode }, done(`upload ${remote}`, res, rej)),
            ),
        write: (remote, text, mode) =>
            new Promise((res, rej) =>
                sftp.writeFile(remote, text, { mode }, done(`write ${remote}`, res, rej)),
            ),
        end: () => sftp.end(),
    };
}

function execSink(conn: Client, alias: string): FileSink {
    const send = (data: Buffer, remote: string, mode: number) =>
        new Promise<void>((resolve, reject) => {
            const cmd = `cat >${q(remote)} && chmod ${mode.toString(8)} ${q(remote)}`;
            conn.exec(cmd, (err, ch) => {
                if (err)
                    return reject(
                        new RemoteError('agent-failed', alias, `${alias}: ${err.message}`),
                    );
                ch.resume();
                ch.once('close', (code: number | null) =>
                    code === 0
                        ? resolve()
                        : reject(new Error(`${alias}: writing ${remote} failed (exit ${code})`)),
                );
                ch.end(data);
            });
        });
    return {
        mkdir: async (remote) => {
            await run(conn, alias, `mkdir -p ${q(remote)}`);
        },
        put: (local, remote, mode) => send(readFileSync(local), remote, mode),
        write: (remote, text, mode) => send(Buffer.from(text, 'utf8'), remote, mode),
        end: () => undefined,
    };
}

/** The bundle: top-level files of BUNDLE_FILES and trees of BUNDLE_DIRS, modes kept. */
async function uploadTree(
    files: FileSink,
    local: string,
    remote: string,
    top = false,
): Promise<void> {
    if (!top) await files.mkdir(remote);
    for (const name of readdirSync(local)) {
        if (top && !BUNDLE_FILES.includes(name) && !BUNDLE_DIRS.includes(name)) continue;
        const path = join(local, name);
        const st = statSync(path);
        if (st.isDirectory()) await uploadTree(files, path, `${remote}/${name}`);
        else if (st.isFile()) await files.put(path, `${remote}/${name}`, st.mode & 0o777);
    }
}

/** Single-quoted for sh; every path and argument goes through this. */
function q(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
