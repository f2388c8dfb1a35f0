// What a replay shows a person before a policy is enforced, and which would-be-dropped
// flows they already accepted. Pure (no vscode import), so it is unit-tested.
import { flowLabel, identityKey } from '../../agent/fleet/identity';
import type { FleetReplay } from '../../agent/fleet/push';

type Dropped = FleetReplay['dropped'][number];

/** One line per dropped flow, client first, with the kernel's note; at most `max`. */
export function replayLines(replay: FleetReplay, max = 12): string[] {
    const lines = replay.dropped.slice(0, max).map((d) => {
        const rule = d.rule ?? 'default-deny';
        const denied = d.intended ? ', denied in the file' : '';
        const line = `${d.host}: ${flowLabel(d.flow)} (${d.flow.count}×, ${rule}${denied})`;
        return d.note ? `${line} — ${d.note}` : line;
    });
    if (replay.dropped.length > max) lines.push(`… and ${replay.dropped.length - max} more`);
    return lines;
}

/**
 * The connection a dropped flow stands for: a new process instance making the same
 * connection (the lab's intruder retries every few seconds) is not something new to accept.
 */
function dropKey(d: Dropped): string {
    const f = d.flow;
    return JSON.stringify([
        d.host,
        f.direction,
        f.protocol,
        identityKey(f.local),
        f.remoteAddress,
        f.port,
        d.rule ?? '',
    ]);
}

/** Whether every flow `next` would drop is a connection the person accepted in `accepted`. */
export function acceptedBefore(accepted: FleetReplay, next: FleetReplay): boolean {
    const keys = new Set(accepted.dropped.map(dropKey));
    return next.dropped.every((d) => keys.has(dropKey(d)));
}
