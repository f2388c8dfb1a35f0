// The readiness check shared by `palisade policy apply|mode` and the extension's Push Policy:
// an enforce policy that would drop recorded flows reaches no agent unless the caller agrees.
import { describe, expect, it } from 'vitest';
import { type FleetReplay, type HostClient, pushPolicyChecked } from '../../agent/fleet/push';
import type { Policy } from '../../agent/policy/types';
import type {
    AgentStatus,
    ApplyParams,
    FlowRecord,
    ReplayParams,
    ReplayResult,
} from '../../agent/protocol';
import type { AgentClient } from '../../agent/remote/agentClient';
import { acceptedBefore, replayLines } from '../../extension/model/replay';
import { processOn } from '../fixtures/identities';

function flow(id: number, unit: string, pid = id): FlowRecord {
    return {
        id,
        host: 'web',
        direction: 'egress',
        protocol: 'tcp',
        local: processOn('web', '/usr/bin/redis-cli', { unit }),
        pid,
        startNs: String(pid),
        remoteAddress: '10.213.0.4',
        port: 6379,
        count: 3,
        firstSeen: id,
        lastSeen: id,
    };
}

/** An agent that records what it was asked; its replay drops the given flows. */
function agent(host: string, dropped: FlowRecord[]) {
    const applied: ApplyParams[] = [];
    const replays: ReplayParams[] = [];
    const client = {
        host,
        status: async () => ({ host, addresses: ['10.213.0.2'] }) as AgentStatus,
        applyPolicy: async (p: ApplyParams) => {
            applied.push(p);
            return { app: p.policy.app, applied: !p.dryRun, entries: 1, warnings: [] };
        },
        replay: async (p: ReplayParams): Promise<ReplayResult> => {
            replays.push(p);
            return {
                app: p.policy.app,
                evaluated: dropped.length + 5,
                dropped: dropped.map((f) => ({ flow: f, verdict: 'deny', rule: 'intruder' })),
            };
        },
    } as unknown as AgentClient;
    return { host: { name: host, client } as HostClient, applied, replays };
}

const policy = (mode: Policy['mode']): Policy => ({
    apiVersion: 'palisade.dev/v1',
    kind: 'Policy',
    app: 'db',
    owner: 'dba',
    mode,
    members: [{ host: 'web', unit: 'redis.service' }],
    links: [],
});

describe('pushPolicyChecked', () => {
    it('does not push an enforce policy that would drop flows when the caller declines', async () => {
        const a = agent('web', [flow(1, 'intruder.service')]);
        const asked: FleetReplay[] = [];
        const out = await pushPolicyChecked([a.host], policy('enforce'), 'db.palisade.yaml', {
            allowDrops: (r) => {
                asked.push(r);
                return false;
            },
        });
        expect(out.pushed).toBe(false);
        expect(asked).toHaveLength(1);
        expect(asked[0]?.dropped.map((d) => [d.host, d.flow.id])).toEqual([['web', 1]]);
        expect(a.replays[0]?.policy.mode).toBe('enforce');
        // Not even the dry run: every host keeps the policy it had.
        expect(a.applied).toEqual([]);
    });

    it('pushes anyway when the caller agrees (the CLI’s --force, the editor’s button)', async () => {
        const a = agent('web', [flow(1, 'intruder.service')]);
        const out = await pushPolicyChecked([a.host], policy('enforce'), 'f', {
            allowDrops: async () => true,
        });
        expect(out.pushed).toBe(true);
        expect(a.applied.map((p) => p.dryRun ?? false)).toEqual([true, false]);
    });

    it('asks nobody when nothing would be dropped, and replays nothing outside enforce', async () => {
        const quiet = agent('web', []);
        const never = () => {
            throw new Error('asked');
        };
        const enforced = await pushPolicyChecked([quiet.host], policy('enforce'), 'f', {
            allowDrops: never,
        });
        expect(enforced).toMatchObject({ pushed: true, replay: { dropped: [] } });

        const noisy = agent('web', [flow(1, 'intruder.service')]);
        await pushPolicyChecked([noisy.host], policy('monitor'), 'f', { allowDrops: never });
        await pushPolicyChecked([noisy.host], policy('enforce'), 'f', {
            dryRun: true,
            allowDrops: never,
        });
        expect(noisy.replays).toEqual([]);
        expect(noisy.applied.map((p) => p.dryRun ?? false)).toEqual([true, false, true]);
    });

    it('asks nobody when the only drops are of links the file denies', async () => {
        const a = agent('web', [flow(1, 'intruder.service')]);
        const denying: Policy = {
            ...policy('enforce'),
            links: [
                {
                    id: 'intruder',
                    client: { unit: 'intruder.service' },
                    server: { unit: 'redis.service' },
                    ports: [6379],
                    protocol: 'tcp',
                    state: 'denied',
                },
            ],
        };
        const out = await pushPolicyChecked([a.host], denying, 'f', {
            allowDrops: () => {
                throw new Error('asked');
            },
        });
        expect(out).toMatchObject({ pushed: true, replay: { dropped: [{ intended: true }] } });

        // The same link under review (alert) is a drop nobody decided on: the caller is asked.
        const alerting = {
            ...denying,
            links: denying.links.map((l) => ({ ...l, state: 'alert' as const })),
        };
        const again = await pushPolicyChecked([a.host], alerting, 'f', { allowDrops: () => false });
        expect(again.pushed).toBe(false);
    });
});

describe('the replay a person is shown', () => {
    const replay = (...flows: FlowRecord[]): FleetReplay => ({
        evaluated: 10,
        dropped: flows.map((f) => ({ flow: f, verdict: 'deny', rule: 'intruder', host: 'db' })),
    });

    it('reads client first and says how many more there are', () => {
        const r = replay(flow(1, 'a.service'), flow(2, 'b.service'), flow(3, 'c.service'));
        r.dropped[0]!.note = 'the kernel knows this process by no script';
        r.dropped[1]!.intended = true;
        expect(replayLines(r, 2)).toEqual([
            'db: web/redis-cli (a.service) → 10.213.0.4:6379/tcp (3×, intruder) — ' +
                'the kernel knows this process by no script',
            'db: web/redis-cli (b.service) → 10.213.0.4:6379/tcp (3×, intruder, denied in the file)',
            '… and 1 more',
        ]);
    });

    it('counts a retry by a new process as accepted, a new connection as not', () => {
        const preview = replay(flow(1, 'intruder.service'));
        expect(acceptedBefore(preview, replay(flow(2, 'intruder.service', 99)))).toBe(true);
        expect(acceptedBefore(preview, replay(flow(3, 'batch.service')))).toBe(false);
    });
});
