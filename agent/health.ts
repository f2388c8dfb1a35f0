// Proves the hooks are effective on the guarded cgroup: a canary child in a fresh cgroup
// below it connects a UDP socket (connect4), sends one datagram to loopback's discard port
// (sendmsg4), and accepts a loopback TCP connection from itself (sock_ops, with the owner
// taken from socket storage set at sock_create); the datapath must report all three.
// Attached is not the same as effective; never report green on attachment alone.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const CONNECT_PORT = 9;
const SENDTO_PORT = 7;

export type Probe = 'connect4' | 'sendmsg4' | 'sock_ops';
const PROBES: Probe[] = ['connect4', 'sendmsg4', 'sock_ops'];

/** Which hook an event of the canary proves, if any. */
export function probeOf(direction: number, proto: number, port: number): Probe | undefined {
    if (direction === 1 && proto === 6) return 'sock_ops';
    if (direction === 0 && proto === 17 && port === CONNECT_PORT) return 'connect4';
    if (direction === 0 && proto === 17 && port === SENDTO_PORT) return 'sendmsg4';
    return undefined;
}

export function allProbed(seen: Set<Probe>): boolean {
    return PROBES.every((p) => seen.has(p));
}

export interface CanaryResult {
    ok: boolean;
    problem?: string;
}

/**
 * Runs one canary. `watch` resolves with the probes the datapath reported for the pid, once
 * all of them arrived or the time is up.
 */
export async function runCanary(
    cgroupRoot: string,
    watch: (pid: number, timeoutMs: number) => Promise<Set<Probe>>,
): Promise<CanaryResult> {
    if (!fs.existsSync(path.join(cgroupRoot, 'cgroup.procs'))) {
        return { ok: false, problem: `guarded cgroup ${cgroupRoot} no longer exists` };
    }
    const dir = path.join(cgroupRoot, `palisade-canary-${process.pid}-${Date.now()}`);
    try {
        fs.mkdirSync(dir);
    } catch (err) {
        return { ok: false, problem: `cannot create canary cgroup: ${String(err)}` };
    }
    const code = [
        "const d = require('dgram'), n = require('net');",
        `d.createSocket('udp4').connect(${CONNECT_PORT}, '127.0.0.1', () => {`,
        `  d.createSocket('udp4').send('x', ${SENDTO_PORT}, '127.0.0.1', () => {`,
        "    const s = n.createServer((c) => c.destroy()).listen(0, '127.0.0.1', () => {",
        "      n.connect(s.address().port, '127.0.0.1').on('error', () => {});",
        '    });',
        '  });',
        '});',
        'setTimeout(() => process.exit(0), 10000);',
    ].join('\n');
    // The child moves itself into the canary cgroup before exec, so its connect is made there.
    const child = spawn(
        '/bin/sh',
        [
            '-c',
            'echo $$ > "$1/cgroup.procs" && exec "$2" -e "$3"',
            'canary',
            dir,
            process.execPath,
            code,
        ],
        { stdio: 'ignore' },
    );
    const pid = child.pid ?? -1;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
        const seen = await watch(pid, 6000);
        const missing = PROBES.filter((p) => !seen.has(p));
        return missing.length === 0
            ? { ok: true }
            : {
                  ok: false,
                  problem:
                      `canary in ${dir}: ${missing.join(', ')} not observed: ` +
                      'hooks not effective',
              };
    } finally {
        child.kill('SIGKILL');
        await exited;
        removeCgroup(dir);
    }
}

function removeCgroup(dir: string): void {
    // rmdir fails while the last task is still being reaped; retry briefly.
    for (let i = 0; i < 50; i++) {
        try {
            fs.rmdirSync(dir);
            return;
        } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
    }
}
