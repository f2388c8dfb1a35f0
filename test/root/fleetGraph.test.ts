// The walking skeleton end to end: `palisade lab up` with real agents, real traffic between
// real services, then `palisade graph --json` (over SSH to every lab host) must name each
// edge by the right binary on the right host, and `palisade lab down` must leave nothing.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEdge, FleetGraph, Identity, ProcessIdentity } from '../../agent/protocol';
import { isRoot, NEEDS_ROOT, ROOT } from './agentHarness';
import { expectLabGone, labPids } from './labCheck';

const NODE = process.execPath;

function palisade(...args: string[]) {
    return spawnSync(NODE, [path.join(ROOT, 'bin/palisade'), ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PALISADE_LAB_TRAFFIC_SECONDS: '300' },
    });
}

function proc(id: Identity): ProcessIdentity | undefined {
    return id.kind === 'process' ? id : undefined;
}

function find(
    graph: FleetGraph,
    client: Partial<ProcessIdentity>,
    server: Partial<ProcessIdentity>,
    port: number,
): FleetEdge | undefined {
    return graph.edges.find((e) => {
        const c = proc(e.client);
        const s = proc(e.server);
        return (
            !!c &&
            !!s &&
            e.port === port &&
            e.protocol === 'tcp' &&
            Object.entries(client).every(([k, v]) => c[k as keyof ProcessIdentity] === v) &&
            Object.entries(server).every(([k, v]) => s[k as keyof ProcessIdentity] === v)
        );
    });
}

const api = { host: 'api', binary: NODE, script: path.join(ROOT, 'lab/demo/api.js') };
const nginx = { host: 'web', binary: '/usr/sbin/nginx', unit: 'nginx.service' };
const redis = { host: 'db', binary: '/usr/bin/redis-server', unit: 'redis.service' };
const batch = { host: 'api', binary: '/usr/bin/redis-cli', unit: 'batch.service' };
const intruder = { host: 'web', binary: '/usr/bin/redis-cli', unit: 'intruder.service' };

// What each lab unit may run when it talks to the network. Anything else is a misattribution.
const PROGRAMS: Record<string, string[]> = {
    'nginx.service': ['/usr/sbin/nginx'],
    'api.service': [`${NODE} ${api.script}`],
    'payments.service': [`${NODE} ${path.join(ROOT, 'lab/demo/payments.js')}`],
    'batch.service': ['/usr/bin/redis-cli'],
    'intruder.service': ['/usr/bin/redis-cli'],
    'redis.service': ['/usr/bin/redis-server'],
    'sshd.service': ['/usr/sbin/sshd'],
};

describe.skipIf(!isRoot)(
    `fleet graph of the embedded lab (root: real agents, sshd, services)${NEEDS_ROOT}`,
    () => {
        let graph: FleetGraph;

        beforeAll(async () => {
            palisade('lab', 'down');
            const up = palisade('lab', 'up');
            expect(up.status, up.stderr + up.stdout).toBe(0);

            // Traffic runs every 250 ms, the batch job every 2 s, the intruder every 3 s.
            for (let i = 0; i < 40; i++) {
                await new Promise((r) => setTimeout(r, 1000));
                const out = palisade('graph', '--json');
                if (out.status !== 0) continue;
                graph = JSON.parse(out.stdout) as FleetGraph;
                if (find(graph, intruder, redis, 6379) && find(graph, batch, redis, 6379)) break;
            }
        });

        afterAll(() => {
            palisade('lab', 'down');
        });

        it('reaches every lab host agent over ssh, all healthy', () => {
            expect(graph.hosts.map((h) => [h.name, h.health]).sort()).toEqual([
                ['api', 'ok'],
                ['db', 'ok'],
                ['ext', 'ok'],
                ['web', 'ok'],
            ]);
        });

        it('joins nginx on web to the api script on api', () => {
            const edge = find(graph, nginx, { ...api, unit: 'api.service' }, 3000);
            expect(edge?.count).toBeGreaterThan(0);
            expect(edge?.seenBy.sort()).toEqual(['api', 'web']);
        });

        it('joins the api, the batch job and the intruder to redis on db', () => {
            expect(find(graph, { ...api, unit: 'api.service' }, redis, 6379)).toBeDefined();
            expect(find(graph, batch, redis, 6379)).toBeDefined();
            const edge = find(graph, intruder, redis, 6379);
            expect(edge).toBeDefined();
            expect(proc(edge!.client)?.parent).toMatch(/\/bash$/);
        });

        it('names the external payment service call by the calling script', () => {
            const edge = find(graph, { ...api, unit: 'api.service' }, { host: 'ext' }, 8080);
            expect(proc(edge!.server)?.script).toBe(path.join(ROOT, 'lab/demo/payments.js'));
        });

        it('attributes no flow to a program its unit does not run', () => {
            const seen = new Set<string>();
            for (const e of graph.edges) {
                for (const id of [e.client, e.server]) {
                    const p = proc(id);
                    if (!p?.unit) continue;
                    const program = p.script ? `${p.binary} ${p.script}` : p.binary;
                    seen.add(`${p.unit} ${program}`);
                    expect(PROGRAMS[p.unit], `unexpected unit ${p.unit}`).toBeDefined();
                    expect(PROGRAMS[p.unit], `${p.host}/${p.unit} ran ${program}`).toContain(
                        program,
                    );
                }
            }
            expect(seen.size).toBeGreaterThanOrEqual(6);
        });

        it('leaves no namespace, link, cgroup, pin or process after lab down', () => {
            const pids = labPids();
            expect(pids.length).toBeGreaterThan(10);
            const down = palisade('lab', 'down');
            expect(down.status, down.stderr).toBe(0);
            expectLabGone(pids);
        });
    },
);
