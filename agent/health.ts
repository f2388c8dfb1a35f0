// Proves the hooks are effective on the guarded cgroup: a canary child in a fresh cgroup
// below it connects a UDP socket (no packet leaves: UDP connect only sets the peer) and the
// datapath must report it. Attached is not the same as effective; never report green on
// attachment alone.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CANARY_PORT = 9;

export interface CanaryResult {
    ok: boolean;
    problem?: string;
}

/**
 * Runs one canary. `waitForPid` resolves true when the datapath has seen a flow from the pid.
 */
export async function runCanary(
    cgroupRoot: string,
    waitForPid: (pid: number, timeoutMs: number) => Promise<boolean>,
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
    const code =
        `require('dgram').createSocket('udp4')` +
        `.connect(${CANARY_PORT}, '127.0.0.1', () => process.exit(0))`;
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
        const seen = await waitForPid(pid, 3000);
        return seen
            ? { ok: true }
            : {
                  ok: false,
                  problem: `canary connect from ${dir} was not observed: hooks not effective`,
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
