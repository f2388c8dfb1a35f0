// S7: an agent started after nginx and an `ssh -N -L` forward already hold their sockets
// still names every flow over them, and a process that predates the agent and connects and
// exits at once is named from the startup seed, not lost as `exited`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroup2Mount } from '../../agent/identity/system';
import type { FlowRecord, ProcessIdentity } from '../../agent/protocol';
import { Harness, isRoot, removeCgroupTree, startHarness } from './agentHarness';

const NAME = 'seed';
const missing = ['/usr/sbin/nginx', '/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/curl'].filter(
    (f) => !fs.existsSync(f),
);
const skip = !isRoot ? 'needs root' : missing.length ? `needs ${missing.join(', ')}` : '';

const proc = (f: FlowRecord) => f.local as ProcessIdentity;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise((ok) => srv.close(ok));
    return port;
}

/** Runs `argv` with its processes in cgroup `cg`; returns when the command returns. */
function inCgroupSync(cg: string, argv: string[]): string {
    fs.mkdirSync(cg, { recursive: true });
    return execFileSync(
        '/bin/sh',
        ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, ...argv],
        { encoding: 'utf8', timeout: 30_000 },
    );
}

describe.skipIf(skip !== '')(`identity of what predates the agent (root) ${skip}`, () => {
    // Must match startHarness(): the processes are placed in its cgroup before it starts.
    const cgroup = path.join(cgroup2Mount(), `palisade-test-${NAME}-${process.pid}`);
    let h: Harness;
    let dir: string;
    let webPort: number;
    let sshPort: number;
    let fwdPort: number;
    let sshPid: number;
    let latePid: number;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-seed-'));
        fs.chmodSync(dir, 0o700);
        fs.mkdirSync('/run/sshd', { recursive: true });
        [webPort, sshPort, fwdPort] = [await freePort(), await freePort(), await freePort()];

        fs.writeFileSync(
            path.join(dir, 'nginx.conf'),
            `worker_processes 2; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${webPort}; location / { return 200 "ok\\n"; } } }
`,
        );
        inCgroupSync(path.join(cgroup, 'nginx.service'), [
            '/usr/sbin/nginx',
            ...['-c', `${dir}/nginx.conf`, '-p', dir],
        ]);

        for (const key of ['host_key', 'client_key']) {
            execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/${key}`]);
        }
        fs.copyFileSync(`${dir}/client_key.pub`, `${dir}/authorized_keys`);
        inCgroupSync(path.join(cgroup, 'sshd.service'), [
            '/usr/sbin/sshd',
            ...['-f', '/dev/null', '-o', `ListenAddress=127.0.0.1:${sshPort}`],
            ...['-o', `HostKey=${dir}/host_key`, '-o', `PidFile=${dir}/sshd.pid`],
            ...['-o', `AuthorizedKeysFile=${dir}/authorized_keys`, '-o', 'StrictModes=no'],
            ...['-o', 'PermitRootLogin=prohibit-password', '-o', 'UsePAM=no'],
            ...['-o', 'PasswordAuthentication=no', '-o', 'AllowTcpForwarding=yes'],
        ]);
        for (let i = 0; i < 100 && !fs.existsSync(`${dir}/sshd.pid`); i++) await sleep(50);

        // `-f` backgrounds ssh once the forward listens.
        inCgroupSync(path.join(cgroup, 'tunnel.service'), [
            '/usr/bin/ssh',
            ...['-f', '-N', '-L', `127.0.0.1:${fwdPort}:127.0.0.1:${webPort}`],
            ...['-i', `${dir}/client_key`, '-p', String(sshPort), '-o', 'BatchMode=yes'],
            ...['-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=/dev/null`],
            ...['-o', 'ExitOnForwardFailure=yes', '-o', 'LogLevel=ERROR', 'root@127.0.0.1'],
        ]);
        sshPid = Number(
            execFileSync('sh', ['-c', `cat ${cgroup}/tunnel.service/cgroup.procs`], {
                encoding: 'utf8',
            }).trim(),
        );

        // Connects a few seconds from now, after the agent started, and exits at once.
        latePid = Number(
            inCgroupSync(path.join(cgroup, 'late.service'), [
                '/bin/sh',
                '-c',
                `/bin/bash -c 'sleep 4; exec 3<>/dev/tcp/127.0.0.1/${webPort}' >/dev/null 2>&1 & echo $!`,
            ]).trim(),
        );

        h = await startHarness(NAME);
        expect(h.cgroup).toBe(cgroup);
    }, 60_000);

    afterAll(async () => {
        if (h) await h.stop();
        else removeCgroupTree(cgroup); // kills nginx, sshd and ssh: only ours live there
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function flowsUntil(pred: (f: FlowRecord) => boolean): Promise<FlowRecord[]> {
        for (let i = 0; i < 60; i++) {
            const flows = await h.flowsWhere(pred);
            if (flows.length > 0) return flows;
            await sleep(100);
        }
        return [];
    }

    it('names nginx, the ssh forward and the sshd behind it for traffic over both', async () => {
        const viaTunnel = execFileSync('curl', ['-s', `http://127.0.0.1:${fwdPort}/`]).toString();
        expect(viaTunnel).toBe('ok\n');
        const direct = execFileSync('curl', ['-s', `http://127.0.0.1:${webPort}/`]).toString();
        expect(direct).toBe('ok\n');

        const tunnel = await flowsUntil((f) => f.direction === 'ingress' && f.port === fwdPort);
        expect(tunnel).toHaveLength(1);
        expect(tunnel[0]?.pid).toBe(sshPid);
        expect(proc(tunnel[0] as FlowRecord)).toMatchObject({
            kind: 'process',
            binary: '/usr/bin/ssh',
            unit: 'tunnel.service',
            cgroup: '/tunnel.service',
        });

        const web = await flowsUntil((f) => f.direction === 'ingress' && f.port === webPort);
        expect(web.length).toBeGreaterThan(0);
        for (const f of web) {
            expect(proc(f)).toMatchObject({ binary: '/usr/sbin/nginx', unit: 'nginx.service' });
        }

        const forward = await flowsUntil(
            (f) =>
                f.direction === 'egress' &&
                f.port === webPort &&
                f.local.kind === 'process' &&
                f.local.unit === 'sshd.service',
        );
        expect(forward).toHaveLength(1);
        expect(proc(forward[0] as FlowRecord).binary).toBe('/usr/sbin/sshd');
    });

    it('names a process that predates the agent and exits right after connecting', async () => {
        const flows = await flowsUntil((f) => f.pid === latePid);
        expect(flows).toHaveLength(1);
        expect(proc(flows[0] as FlowRecord)).toMatchObject({
            kind: 'process',
            binary: '/bin/bash',
            script: '(inline)',
            unit: 'late.service',
        });
        // Gone, or a zombie whose /proc entry no longer names its program.
        expect(() => fs.readlinkSync(`/proc/${latePid}/exe`)).toThrow();
    }, 15_000);

    it('counts no identity misses for any of it', async () => {
        const flows = await h.flowsWhere(() => true);
        expect(flows.filter((f) => f.local.kind !== 'process')).toEqual([]);
        expect((await h.client.status()).counters.identityMisses).toBe(0);
    });
});
