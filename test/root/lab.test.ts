import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLabGone, labCgroup, labPids, running } from './labCheck';

const repo = path.resolve(__dirname, '../..');
const run = '/run/palisade-lab';
const hosts = { web: '10.213.0.2', api: '10.213.0.3', db: '10.213.0.4', ext: '10.213.0.5' };
const tools = ['ip', 'ss', 'nsenter', 'unshare', 'ssh', 'ssh-keygen', 'redis-cli', 'getent'];
const daemons = ['/usr/sbin/sshd', '/usr/sbin/nginx', '/usr/bin/redis-server', '/usr/sbin/dnsmasq'];

function skipReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root';
    const missing = [
        ...tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0),
        ...daemons.filter((d) => !existsSync(d)),
    ];
    if (missing.length > 0) return `missing ${missing.join(', ')}`;
    return undefined;
}

const reason = skipReason();

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        encoding: 'utf8',
        env: { ...process.env, PALISADE_NODE: process.execPath, ...env },
        timeout: 120_000,
    });
}

function lab(script: 'up' | 'down' | 'status', env: NodeJS.ProcessEnv = {}, args: string[] = []) {
    return sh('bash', [path.join(repo, 'lab/netns', `${script}.sh`), ...args], {
        PALISADE_ROOT: repo,
        PALISADE_LAB_AGENT: '0',
        PALISADE_LAB_TRAFFIC_SECONDS: '120',
        ...env,
    });
}

function get(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
    });
}

describe.skipIf(reason !== undefined)(
    `embedded lab${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
        beforeAll(() => {
            lab('down');
            const up = lab('up');
            expect(up.status, up.stderr).toBe(0);
        });

        afterAll(() => {
            lab('down');
        });

        it('serves GET / through nginx, the api and redis', async () => {
            const first = await get(`http://${hosts.web}/`);
            const second = await get(`http://${hosts.web}/`);
            expect(first.status).toBe(200);
            expect(second.status).toBe(200);
            expect(JSON.parse(first.body).host).toBe('api');
            expect(JSON.parse(second.body).hits).toBeGreaterThan(JSON.parse(first.body).hits);

            const redis = sh('ip', ['netns', 'exec', 'palisade-db', 'redis-cli', '-h', hosts.db]);
            expect(redis.status).toBe(0);
            const hits = sh('ip', [
                'netns',
                'exec',
                'palisade-db',
                'redis-cli',
                '-h',
                hosts.db,
                'GET',
                'api:hits',
            ]);
            expect(Number(hits.stdout.trim())).toBeGreaterThanOrEqual(JSON.parse(second.body).hits);
        });

        it('resolves payments.ext.lab to the ext host through the lab resolver', () => {
            const out = sh('ip', [
                'netns',
                'exec',
                'palisade-api',
                'getent',
                'hosts',
                'payments.ext.lab',
            ]);
            expect(out.status, out.stderr).toBe(0);
            expect(out.stdout.split(/\s+/)[0]).toBe(hosts.ext);
        });

        it('keeps hosts on the lab network: no default route, no forwarded DNS', () => {
            for (const host of Object.keys(hosts)) {
                const routes = sh('ip', ['-n', `palisade-${host}`, 'route', 'show', 'default']);
                expect(routes.stdout.trim(), host).toBe('');
            }
            const outside = sh('ip', [
                'netns',
                'exec',
                'palisade-api',
                'getent',
                'hosts',
                'example.com',
            ]);
            expect(outside.status).not.toBe(0);
            expect(readFileSync(`${run}/_lab/resolver.service.log`, 'utf8')).toMatch(
                /example\.com/,
            );
        });

        it('gives each host its own hostname', () => {
            for (const host of Object.keys(hosts)) {
                const out = sh('nsenter', [`--uts=${run}/ns/${host}.uts`, 'hostname']);
                expect(out.stdout.trim()).toBe(host);
            }
        });

        it('lets the lab key into every sshd and pins each host key in known_hosts', () => {
            const knownHosts = readFileSync(`${run}/known_hosts`, 'utf8');
            for (const [host, address] of Object.entries(hosts)) {
                const out = sh('ssh', [
                    '-F',
                    `${run}/ssh_config`,
                    '-o',
                    'BatchMode=yes',
                    host,
                    'hostname',
                ]);
                expect(out.status, out.stderr).toBe(0);
                expect(out.stdout.trim()).toBe(host);

                const pub = readFileSync(`${run}/${host}/ssh_host_ed25519_key.pub`, 'utf8');
                const [type, key] = pub.split(' ');
                expect(knownHosts).toContain(`${address} ${type} ${key}\n`);
            }
        });

        it('refuses a host whose key differs from known_hosts', () => {
            const dir = mkdtempSync(path.join(tmpdir(), 'palisade-lab-test-'));
            try {
                sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/other`]);
                const other = readFileSync(`${dir}/other.pub`, 'utf8')
                    .split(' ')
                    .slice(0, 2)
                    .join(' ');
                writeFileSync(`${dir}/known_hosts`, `${hosts.web} ${other}\n`);
                const out = sh('ssh', [
                    '-F',
                    `${run}/ssh_config`,
                    '-o',
                    'BatchMode=yes',
                    '-o',
                    `UserKnownHostsFile=${dir}/known_hosts`,
                    'web',
                    'true',
                ]);
                expect(out.status).not.toBe(0);
                expect(out.stderr).toMatch(
                    /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/,
                );
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });

        it('reports every unit running in status --json', () => {
            const out = lab('status', {}, ['--json']);
            expect(out.status, out.stderr).toBe(0);
            const status = JSON.parse(out.stdout);
            expect(status.up).toBe(true);
            expect(status.hosts.map((h: { name: string }) => h.name)).toEqual(Object.keys(hosts));
            for (const h of [...status.hosts, status.lab]) {
                for (const unit of h.units)
                    expect(unit.running, `${h.name} ${unit.name}`).toBe(true);
            }
        });

        it('puts every lab process in its unit cgroup', () => {
            const procs = readFileSync(`${labCgroup}/db/redis.service/cgroup.procs`, 'utf8').trim();
            const comm = readFileSync(`/proc/${procs.split('\n')[0]}/comm`, 'utf8').trim();
            expect(comm).toBe('redis-server');
            expect(
                readFileSync(`${labCgroup}/_lab/resolver.service/cgroup.procs`, 'utf8'),
            ).not.toBe('');
        });

        it('says so and changes nothing when up runs again', () => {
            const before = labPids()
                .filter((p) => running(p))
                .sort();
            const again = lab('up');
            expect(again.status, again.stderr).toBe(0);
            expect(again.stderr).toMatch(/already up/);
            const sshd = readFileSync(`${labCgroup}/web/sshd.service/cgroup.procs`, 'utf8').trim();
            expect(before).toContain(Number(sshd.split('\n')[0]));
        });

        it('removes every namespace, link, cgroup, file and process on down', () => {
            const pids = labPids();
            expect(pids.length).toBeGreaterThan(10);
            const down = lab('down');
            expect(down.status, down.stderr).toBe(0);
            expectLabGone(pids);
        });
    },
);

describe.skipIf(reason !== undefined)('lab cleanup after a broken up', () => {
    afterAll(() => {
        lab('down');
    });

    it('removes what exists when only a netns was created', () => {
        expect(sh('ip', ['netns', 'add', 'palisade-web']).status).toBe(0);
        const down = lab('down');
        expect(down.status, down.stderr).toBe(0);
        expectLabGone([]);
    });

    it('cleans up after up.sh is killed midway', async () => {
        const child = spawn('bash', [path.join(repo, 'lab/netns/up.sh')], {
            env: {
                ...process.env,
                PALISADE_ROOT: repo,
                PALISADE_NODE: process.execPath,
                PALISADE_LAB_AGENT: '0',
            },
            stdio: 'ignore',
        });
        const exited = new Promise((resolve) => child.on('exit', resolve));

        // Kill it once some services run but before it finished (no `up` marker yet).
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && !existsSync(`${labCgroup}/db/sshd.service`)) {
            await new Promise((r) => setTimeout(r, 5));
        }
        child.kill('SIGKILL');
        await exited;
        expect(existsSync(`${run}/up`)).toBe(false);

        const pids = labPids();
        expect(pids.length).toBeGreaterThan(0);
        const down = lab('down');
        expect(down.status, down.stderr).toBe(0);
        expectLabGone(pids);
    });

    it('undoes itself when an agent fails to start, naming the host and its log', () => {
        const fake = mkdtempSync(path.join(tmpdir(), 'palisade-lab-root-'));
        try {
            symlinkSync(path.join(repo, 'lab'), path.join(fake, 'lab'));
            mkdirSync(path.join(fake, 'bin'));
            const agent = path.join(fake, 'bin/palisade-agent');
            writeFileSync(agent, '#!/bin/sh\necho "refusing to start" >&2\nexit 1\n');
            chmodSync(agent, 0o755);

            const up = lab('up', { PALISADE_ROOT: fake, PALISADE_LAB_AGENT: '1' });
            expect(up.status).not.toBe(0);
            expect(up.stderr).toMatch(/palisade-agent\.service on web: agent exited/);
            expect(up.stderr).toContain(`${run}/web/palisade-agent.service.log`);
            expect(up.stderr).toContain('refusing to start');
            expectLabGone([]);
        } finally {
            rmSync(fake, { recursive: true, force: true });
        }
    });
});

const agentBinary = path.join(repo, 'bin/palisade-agent');
const agentReason = reason ?? (existsSync(agentBinary) ? undefined : `no ${agentBinary} built yet`);

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat). */
function startTicks(pid: string): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

describe.skipIf(agentReason !== undefined)(
    `lab with agents${agentReason ? ` (skipped: ${agentReason})` : ''}`,
    () => {
        afterAll(() => {
            lab('down');
        });

        it('starts each host agent before its services and waits for its socket', () => {
            lab('down');
            const up = lab('up', { PALISADE_LAB_AGENT: '1' });
            expect(up.status, up.stderr).toBe(0);

            for (const host of Object.keys(hosts)) {
                expect(existsSync(`${run}/${host}/agent.sock`), host).toBe(true);
                const agent = readFileSync(
                    `${labCgroup}/${host}/palisade-agent.service/cgroup.procs`,
                    'utf8',
                );
                const sshd = readFileSync(`${labCgroup}/${host}/sshd.service/cgroup.procs`, 'utf8');
                const [agentPid, sshdPid] = [agent.split('\n')[0] ?? '', sshd.split('\n')[0] ?? ''];
                expect(startTicks(agentPid)).toBeLessThanOrEqual(startTicks(sshdPid));
            }
            const status = JSON.parse(lab('status', {}, ['--json']).stdout);
            expect(status.hosts.every((h: { socket: boolean }) => h.socket)).toBe(true);

            const pids = labPids();
            expect(lab('down').status).toBe(0);
            expectLabGone(pids);
        });
    },
);
