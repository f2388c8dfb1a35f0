// Every flow's local identity on real processes under the cases that broke other tools:
// S1 (short-lived execs racing long-lived sockets of another binary) and S2 (exec wrappers,
// bash /dev/tcp, a renamed non-leader thread, a privilege change between fork and exec).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord, ProcessIdentity } from '../../agent/protocol';
import { Harness, isRoot, startHarness } from './agentHarness';

const CURL = '/usr/bin/curl';
const PYTHON = '/usr/bin/python3';
const NODE = process.execPath;
const missing = [CURL, PYTHON, '/bin/bash', '/usr/bin/setpriv'].filter((f) => !fs.existsSync(f));
const skip = !isRoot ? 'needs root' : missing.length ? `needs ${missing.join(', ')}` : '';

const SERVER_JS = `
const net = require('net');
const srv = net.createServer((s) => { s.on('error', () => {}); s.on('data', () =>
    s.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok')); });
srv.listen(0, '127.0.0.1', () => require('fs').writeFileSync(process.argv[2], String(srv.address().port)));
`;
// Opens 50 sockets, one every 10 ms, and holds them idle.
const IDLE_JS = `
const net = require('net'); const held = [];
let n = 0; const t = setInterval(() => { held.push(net.connect(+process.argv[2], '127.0.0.1').on('error', () => {}));
    if (++n === 50) { clearInterval(t); require('fs').writeFileSync(process.argv[3], 'held'); } }, 10);
`;
const THREAD_PY = `
import ctypes, os, socket, sys, threading
libc = ctypes.CDLL(None)
def run():
    libc.prctl(15, b"curl", 0, 0, 0)  # PR_SET_NAME: the thread now calls itself curl
    socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
print(os.getpid(), flush=True)
t = threading.Thread(target=run); t.start(); t.join()
`;
const SETUID_PY = `
import os, sys
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
    os.execv("${CURL}", ["curl", "-s", "-o", "/dev/null", sys.argv[1]])
print(pid, flush=True)
os.waitpid(pid, 0)
`;

const proc = (f: FlowRecord) => f.local as ProcessIdentity;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== '')(`identity attribution (root: real eBPF) ${skip}`, () => {
    let h: Harness;
    let dir: string;
    let port: number;

    async function flowsUntil(pred: (f: FlowRecord) => boolean, n: number): Promise<FlowRecord[]> {
        let flows: FlowRecord[] = [];
        for (let i = 0; i < 100 && flows.length < n; i++) {
            flows = await h.flowsWhere(pred);
            if (flows.length < n) await sleep(100);
        }
        return flows;
    }

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-ids-'));
        for (const [name, text] of Object.entries({
            'server.js': SERVER_JS,
            'idle.js': IDLE_JS,
            'thread.py': THREAD_PY,
            'setuid.py': SETUID_PY,
            'wrap.sh': `#!/bin/sh\nexec ${CURL} -s -o /dev/null "$1"\n`,
            'tcp.sh': '#!/bin/bash\nexec 3<>"/dev/tcp/127.0.0.1/$1"\n',
        })) {
            fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
        }
        h = await startHarness('ids');
        const portFile = path.join(dir, 'port');
        await h.inCgroup(
            'server.service',
            `${NODE} ${dir}/server.js ${portFile} >/dev/null 2>&1 &`,
        );
        for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) await sleep(50);
        port = Number(fs.readFileSync(portFile, 'utf8'));
    }, 60_000);

    afterAll(async () => {
        await h?.stop(); // kills everything left in the test cgroup
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('S1: names 500 short-lived curls racing 50 idle sockets by binary, pid instance and cgroup', async () => {
        const before = (await h.client.status()).counters.identityMisses;
        const held = path.join(dir, 'held');
        const idle = h.inCgroup(
            'idle.service',
            `${NODE} ${dir}/idle.js ${port} ${held} >/dev/null 2>&1 & echo $!`,
        );
        // Each run prints its pid and start time (ticks), then execs curl as that process.
        const run = `sh -c 'echo $$ $(cut -d" " -f22 /proc/$$/stat); exec ${CURL} -s -o /dev/null http://127.0.0.1:${port}/'`;
        const loops = [1, 2, 3, 4].map(() =>
            h.inCgroup('burst.service', `for i in $(seq 125); do ${run}; done`),
        );
        const idlePid = Number((await idle).trim());
        const runs = (await Promise.all(loops)).join('').trim().split('\n');
        const started = new Map(runs.map((l) => l.split(' ').map(Number) as [number, number]));
        expect(started.size).toBe(500);
        for (let i = 0; i < 100 && !fs.existsSync(held); i++) await sleep(50);

        const fromBurst = (f: FlowRecord) =>
            f.direction === 'egress' && f.port === port && started.has(f.pid);
        const flows = await flowsUntil(fromBurst, 500);
        const unknown = flows.filter((f) => f.local.kind !== 'process');
        const named = flows.filter((f) => f.local.kind === 'process');
        for (const f of named) {
            expect(proc(f).binary).toBe(CURL);
            expect(proc(f).unit).toBe('burst.service');
            expect(proc(f).cgroup).toBe('/burst.service');
            // The flow's instance is the process that printed this pid, not a reuse of it.
            expect(BigInt(f.startNs) / 10_000_000n).toBe(BigInt(started.get(f.pid) ?? -1));
        }
        const misses = (await h.client.status()).counters.identityMisses - before;
        expect(misses).toBeGreaterThanOrEqual(unknown.length);
        expect(named.length).toBe(500);

        const idleFlows = await flowsUntil((f) => f.pid === idlePid, 1);
        expect(idleFlows).toHaveLength(1);
        expect(proc(idleFlows[0] as FlowRecord)).toMatchObject({
            binary: NODE,
            script: `${dir}/idle.js`,
            unit: 'idle.service',
        });
        expect(idleFlows[0]?.count).toBeGreaterThanOrEqual(1);

        // Accepts complete in softirq while a curl is current: the server must still be named.
        const inbound = await flowsUntil((f) => f.direction === 'ingress' && f.port === port, 1);
        expect(inbound.length).toBeGreaterThan(0);
        for (const f of inbound) {
            expect(proc(f)).toMatchObject({ binary: NODE, script: `${dir}/server.js` });
            expect(proc(f).unit).toBe('server.service');
        }
    }, 120_000);

    it('S2: a shell wrapper that execs curl is curl, not the shell or the script', async () => {
        const out = await h.inCgroup(
            'wrap.service',
            `cd ${dir} && sh -c 'echo $$; exec ./wrap.sh http://127.0.0.1:${port}/'`,
        );
        const [f] = await flowsUntil((x) => x.pid === Number(out.trim()), 1);
        expect(f && proc(f)).toMatchObject({ binary: CURL, unit: 'wrap.service', user: 'root' });
        expect(f && proc(f).script).toBeUndefined();
    });

    it('S2: bash opening /dev/tcp is bash with its inline program or its script', async () => {
        const inline = await h.inCgroup(
            'devtcp.service',
            `/bin/bash -c 'echo $$; exec 3<>/dev/tcp/127.0.0.1/${port}'`,
        );
        const [a] = await flowsUntil((x) => x.pid === Number(inline.trim()), 1);
        expect(a && proc(a)).toMatchObject({ binary: '/bin/bash', script: '(inline)' });
        expect(a && proc(a).exe).toBe(fs.realpathSync('/bin/bash'));

        const script = await h.inCgroup(
            'devtcp.service',
            `cd ${dir} && sh -c 'echo $$; exec ./tcp.sh ${port}'`,
        );
        const [b] = await flowsUntil((x) => x.pid === Number(script.trim()), 1);
        expect(b && proc(b)).toMatchObject({
            binary: fs.realpathSync('/bin/bash'),
            script: `${dir}/tcp.sh`,
            unit: 'devtcp.service',
        });
    });

    it('S2: a prctl-renamed non-leader thread is named by its process, never its thread name', async () => {
        const out = await h.inCgroup('thread.service', `${PYTHON} ${dir}/thread.py ${port}`);
        const [f] = await flowsUntil((x) => x.pid === Number(out.trim()), 1);
        expect(f && proc(f)).toMatchObject({
            binary: PYTHON,
            exe: fs.realpathSync(PYTHON),
            script: `${dir}/thread.py`,
            unit: 'thread.service',
        });
    });

    it('S2: a privilege change between fork and exec is the new user running the new binary', async () => {
        const url = `http://127.0.0.1:${port}/`;
        const out = await h.inCgroup('setuid.service', `${PYTHON} ${dir}/setuid.py ${url}`);
        const [f] = await flowsUntil((x) => x.pid === Number(out.trim()), 1);
        expect(f && proc(f)).toMatchObject({
            binary: CURL,
            uid: 65534,
            parent: fs.realpathSync(PYTHON),
            unit: 'setuid.service',
        });

        const viaSetpriv = await h.inCgroup(
            'setuid.service',
            `sh -c 'echo $$; exec setpriv --reuid=65534 --regid=65534 --clear-groups ${CURL} -s -o /dev/null ${url}'`,
        );
        const [g] = await flowsUntil((x) => x.pid === Number(viaSetpriv.trim()), 1);
        expect(g && proc(g)).toMatchObject({ binary: CURL, uid: 65534 });
    });

    it('renders each identity as a SPIFFE name with its unit and binary', async () => {
        const flows = await h.flowsWhere((f) => f.local.kind === 'process');
        const curl = flows.find((f) => proc(f).unit === 'burst.service');
        expect(curl && proc(curl).spiffe).toBe(
            `spiffe://test/host/ids/unit/burst.service/bin${CURL}`,
        );
    });
});
