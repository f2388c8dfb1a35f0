// Deploy Agent end to end: a lab brought up without agents, the agent bundle installed on a
// lab host over real ssh, started under the supervisor (the lab has no systemd), and the
// host's graph fills with the lab's traffic. A second deploy upgrades in place.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../agent/fleet/fleet';
import { deployAgent } from '../../agent/remote/deploy/deploy';
import { connectAgentOverSsh, connectSsh } from '../../agent/remote/ssh';
import { resolveHost } from '../../agent/remote/sshConfig';
import { isRoot, ROOT } from './agentHarness';
import { expectLabGone, labPids } from './labCheck';

const SSH_CONFIG = '/run/palisade-lab/ssh_config';
const DIST = path.join(ROOT, 'dist');
const built =
    existsSync(path.join(DIST, 'agent.js')) && existsSync(path.join(DIST, 'palisade.bpf.o'));
const skip = !isRoot ? 'needs root' : !built ? 'needs dist/ (node scripts/build.mjs)' : '';

function lab(verb: string) {
    return spawnSync(process.execPath, [path.join(ROOT, 'bin/palisade'), 'lab', verb], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PALISADE_LAB_AGENT: '0', PALISADE_LAB_TRAFFIC_SECONDS: '300' },
    });
}

async function deployTo(alias: string) {
    const conn = await connectSsh(resolveHost(alias, SSH_CONFIG));
    try {
        return await deployAgent(conn, alias, { bundleDir: DIST });
    } finally {
        conn.end();
    }
}

describe.skipIf(skip !== '')(
    `Deploy Agent to a lab host ${skip ? `(skipped: ${skip})` : ''}`,
    () => {
        beforeAll(() => {
            lab('down');
            const up = lab('up');
            expect(up.status, up.stderr + up.stdout).toBe(0);
        });

        afterAll(() => {
            const pids = labPids();
            const down = lab('down');
            expect(down.status, down.stderr).toBe(0);
            expectLabGone(pids);
        });

        it('finds no agent on a lab host brought up without one', async () => {
            await expect(connectAgentOverSsh(resolveHost('db', SSH_CONFIG))).rejects.toThrow();
        });

        it('installs and starts the agent under the supervisor, and the graph fills', async () => {
            const result = await deployTo('db');
            expect(result.runner).toBe('supervisor');
            expect(result.upgraded).toBe(false);

            const client = await connectAgentOverSsh(resolveHost('db', SSH_CONFIG));
            const fleet = new Fleet({ debounceMs: 50 });
            try {
                await fleet.add('db', client);
                expect((await client.status()).host).toBe('db');
                let redisEdges = 0;
                for (let i = 0; i < 30 && redisEdges === 0; i++) {
                    await new Promise((r) => setTimeout(r, 1000));
                    const graph = await fleet.refresh();
                    redisEdges = graph.edges.filter(
                        (e) => e.port === 6379 && e.server.kind === 'process',
                    ).length;
                }
                expect(redisEdges).toBeGreaterThan(0);
            } finally {
                fleet.dispose();
            }
        });

        it('upgrades in place: the agent restarts and keeps its state directory', async () => {
            const result = await deployTo('db');
            expect(result.upgraded).toBe(true);
            expect(existsSync('/run/palisade-lab/db/state')).toBe(true);
            const client = await connectAgentOverSsh(resolveHost('db', SSH_CONFIG));
            try {
                expect((await client.status()).host).toBe('db');
            } finally {
                client.close();
            }
        });
    },
);
