// Pushing a policy file to the agents of the hosts it concerns, in two phases: every
// agent validates and compiles it (dry run) first, and only if all accept is it applied.
// TODO: switch to agent/fleet/push.ts `pushPolicy` once it lands; it owns the same rule.
import type { Policy } from '../../agent/policy/types';
import type { ApplyResult } from '../../agent/protocol';
import type { AgentClient } from '../../agent/remote/agentClient';
import { describeError } from '../../agent/remote/errors';

export interface PushOutcome {
    applied: { host: string; result: ApplyResult }[];
    /** Hosts that refused in the dry run: nothing was applied anywhere. */
    refused: { host: string; error: string }[];
    /** Hosts that failed after the dry run passed everywhere. */
    failed: { host: string; error: string }[];
}

export async function pushToHosts(
    clients: Map<string, AgentClient>,
    policy: Policy,
    source: string,
    hostAddresses: Record<string, string[]>,
): Promise<PushOutcome> {
    const outcome: PushOutcome = { applied: [], refused: [], failed: [] };
    const entries = [...clients.entries()];
    const params = { policy, source, hostAddresses };

    await Promise.all(
        entries.map(async ([host, client]) => {
            try {
                const r = await client.applyPolicy({ ...params, dryRun: true });
                if (!r.applied && r.warnings.length > 0) {
                    outcome.refused.push({ host, error: r.warnings.join('; ') });
                }
            } catch (err) {
                outcome.refused.push({ host, error: describeError(err) });
            }
        }),
    );
    if (outcome.refused.length > 0) return outcome;

    await Promise.all(
        entries.map(async ([host, client]) => {
            try {
                outcome.applied.push({ host, result: await client.applyPolicy(params) });
            } catch (err) {
                outcome.failed.push({ host, error: describeError(err) });
            }
        }),
    );
    return outcome;
}
