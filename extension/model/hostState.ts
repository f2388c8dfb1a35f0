// What the Hosts view shows for one host. Pure (no vscode import) so it is unit-tested.
import type { AgentStatus } from '../../agent/protocol';
import type { Mode } from '../../agent/policy/types';

export type ConnectionState =
    'connecting' | 'connected' | 'reconnecting' | 'unreachable' | 'offline';

export interface HostState {
    /** The ssh alias: what the user picked and what every message names. */
    alias: string;
    /** The ssh config the alias was resolved from. */
    configFile: string;
    state: ConnectionState;
    status?: AgentStatus;
    /** Modes of the policies applied on the host, when known. */
    modes?: Mode[];
    error?: string;
    /** Failed attempts since the last success. */
    attempt: number;
    /** Epoch ms of the next reconnect attempt while reconnecting. */
    retryAt?: number;
}

/** Short text after the alias: connection first, then version, mode and health. */
export function hostDescription(host: HostState, now = Date.now()): string {
    const parts: string[] = [];
    switch (host.state) {
        case 'connected':
            parts.push('connected');
            if (host.status) parts.push(`agent ${host.status.version}`);
            if (host.modes && host.modes.length > 0) parts.push(modeText(host.modes));
            if (host.status?.health === 'degraded') parts.push('degraded');
            break;
        case 'reconnecting': {
            const seconds = Math.max(0, Math.ceil(((host.retryAt ?? now) - now) / 1000));
            parts.push(`reconnecting in ${seconds} s (attempt ${host.attempt})`);
            break;
        }
        case 'connecting':
            parts.push('connecting…');
            break;
        case 'unreachable':
            parts.push(`unreachable: ${host.error ?? 'unknown error'}`);
            break;
        case 'offline':
            parts.push('offline');
            break;
    }
    return parts.join(' · ');
}

/** Tooltip lines: everything the description had no room for. */
export function hostDetails(host: HostState): string[] {
    const lines = [`${host.alias} (${host.configFile})`];
    const s = host.status;
    if (s) {
        lines.push(`hostname ${s.host}, zone ${s.zone}, agent ${s.version}`);
        lines.push(`health ${s.health}${s.problems.length ? `: ${s.problems.join('; ')}` : ''}`);
        lines.push(`hooks: ${s.attached.join(', ') || 'none'}`);
        lines.push(`flows ${s.counters.flows}, links ${s.counters.links}`);
    }
    if (host.error) lines.push(`last error: ${host.error}`);
    return lines;
}

function modeText(modes: Mode[]): string {
    const unique = [...new Set(modes)];
    return unique.length === 1 ? (unique[0] as Mode) : 'mixed modes';
}

/**
 * Delay before reconnect attempt `attempt` (1-based): doubling from 1 s, capped, with
 * ±20% jitter so a fleet that lost its network does not come back in lockstep.
 */
export function backoffMs(attempt: number, capMs = 60_000, random = Math.random): number {
    const base = Math.min(capMs, 1000 * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.8 + 0.4 * random()));
}
