// Policy across a fleet, shared by the CLI and the extension: the address table every agent
// compiles against, an all-or-nothing push, a replay joined over hosts, and the readiness
// check that puts the two together before anything is enforced.
import type { Policy } from '../policy/types';
import type { ApplyResult, ReplayedFlow } from '../protocol';
import type { AgentClient } from '../remote/agentClient';
import { describeError } from '../remote/errors';

export interface HostClient {
    /** The name used in messages (ssh alias or socket path). */
    name: string;
    client: AgentClient;
}

export class PushError extends Error {
    readonly kind = 'push-failed';

    constructor(
        message: string,
        readonly failures: { host: string; error: string }[],
    ) {
        super(message);
    }
}

/** Each agent's host name and addresses, as the agents themselves report them. */
export async function fleetAddresses(hosts: HostClient[]): Promise<Record<string, string[]>> {
    const table: Record<string, string[]> = {};
    await Promise.all(
        hosts.map(async ({ client }) => {
            const s = await client.status();
            table[s.host] = s.addresses;
        }),
    );
    return table;
}

export interface PushResult {
    host: string;
    result: ApplyResult;
}

/**
 * Two phases: every agent validates and compiles (dry run) first; only when all of them
 * accept does any of them swap the policy in. A host that cannot be reached, or that rejects
 * the policy, leaves every host on the policy it had.
 */
export async function pushPolicy(
    hosts: HostClient[],
    policy: Policy,
    source: string,
    opts: { dryRun?: boolean } = {},
): Promise<PushResult[]> {
    if (hosts.length === 0) throw new PushError('no agents to push to', []);
    const hostAddresses = await fleetAddresses(hosts);
    // A member on a host the fleet does not have governs nothing: a typo would switch
    // enforcement off while the file still says enforce.
    const strangers = policy.members
        .map((m, i) => ({ m, i }))
        .filter(({ m }) => m.host !== undefined && !(m.host in hostAddresses));
    if (strangers.length > 0) {
        const known = Object.keys(hostAddresses).sort().join(', ');
        throw new PushError(
            strangers
                .map(
                    ({ m, i }) =>
                        `${source}: members[${i}].host "${m.host}" is not a host of this ` +
                        `fleet (${known})`,
                )
                .join('; '),
            [],
        );
    }
    const params = { policy, source, hostAddresses };

    const checks = await Promise.allSettled(
        hosts.map((h) => h.client.applyPolicy({ ...params, dryRun: true })),
    );
    const failures = checks.flatMap((c, i) =>
        c.status === 'rejected' ? [{ host: hosts[i]!.name, error: describeError(c.reason) }] : [],
    );
    if (failures.length > 0) {
        throw new PushError(
            `policy ${policy.app} not applied anywhere: ` +
                failures.map((f) => `${f.host}: ${f.error}`).join('; '),
            failures,
        );
    }
    if (opts.dryRun) {
        return checks.map((c, i) => ({
            host: hosts[i]!.name,
            result: (c as PromiseFulfilledResult<ApplyResult>).value,
        }));
    }

    const applied = await Promise.allSettled(hosts.map((h) => h.client.applyPolicy(params)));
    const late = applied.flatMap((c, i) =>
        c.status === 'rejected' ? [{ host: hosts[i]!.name, error: describeError(c.reason) }] : [],
    );
    if (late.length > 0) {
        // Every host accepted the dry run, so this is a transport failure mid-push.
        throw new PushError(
            `policy ${policy.app} applied on some hosts only; failed on ` +
                late.map((f) => `${f.host}: ${f.error}`).join('; ') +
                ' (push again once they are reachable)',
            late,
        );
    }
    return applied.map((c, i) => ({
        host: hosts[i]!.name,
        result: (c as PromiseFulfilledResult<ApplyResult>).value,
    }));
}

export interface FleetReplay {
    evaluated: number;
    /** `intended`: dropped by a link the file says is `denied`, a drop someone decided on. */
    dropped: (ReplayedFlow & { host: string; intended?: true })[];
    lastAlertAt?: number;
}

export async function replayPolicy(
    hosts: HostClient[],
    policy: Policy,
    since?: number,
): Promise<FleetReplay> {
    const hostAddresses = await fleetAddresses(hosts);
    const results = await Promise.all(
        hosts.map(async (h) => ({
            host: h.name,
            r: await h.client.replay({ policy, hostAddresses, ...(since ? { since } : {}) }),
        })),
    );
    const denied = new Set(policy.links.filter((l) => l.state === 'denied').map((l) => l.id));
    const out: FleetReplay = { evaluated: 0, dropped: [] };
    for (const { host, r } of results) {
        out.evaluated += r.evaluated;
        out.dropped.push(
            ...r.dropped.map((d) =>
                d.rule !== undefined && denied.has(d.rule)
                    ? { ...d, host, intended: true as const }
                    : { ...d, host },
            ),
        );
        if (r.lastAlertAt !== undefined) {
            out.lastAlertAt = Math.max(out.lastAlertAt ?? 0, r.lastAlertAt);
        }
    }
    out.dropped.sort((a, b) => a.flow.firstSeen - b.flow.firstSeen);
    return out;
}

/**
 * Asked when enforcing a policy would drop flows the agents recorded: true pushes anyway.
 * The CLI answers with --force, the extension by asking the person.
 */
export type DropsDecision = (replay: FleetReplay) => boolean | Promise<boolean>;

export type CheckedPush =
    | { pushed: true; results: PushResult[]; replay?: FleetReplay }
    | { pushed: false; replay: FleetReplay };

/** Drops nobody decided on: those of links the file does not say are `denied`. */
export function unreviewedDrops(replay: FleetReplay): FleetReplay['dropped'] {
    return replay.dropped.filter((d) => !d.intended);
}

/**
 * The one way a policy file reaches the fleet: an enforce policy is first replayed over
 * every agent's recorded flows, and pushed only when nothing would be dropped but what the
 * file denies, or `allowDrops` says to go on. A dry run validates and compiles only, so it
 * skips the replay.
 */
export async function pushPolicyChecked(
    hosts: HostClient[],
    policy: Policy,
    source: string,
    opts: { dryRun?: boolean; allowDrops: DropsDecision },
): Promise<CheckedPush> {
    let replay: FleetReplay | undefined;
    if (policy.mode === 'enforce' && !opts.dryRun) {
        replay = await replayPolicy(hosts, policy);
        if (unreviewedDrops(replay).length > 0 && !(await opts.allowDrops(replay))) {
            return { pushed: false, replay };
        }
    }
    const results = await pushPolicy(hosts, policy, source, { dryRun: opts.dryRun ?? false });
    return { pushed: true, results, ...(replay ? { replay } : {}) };
}
