// Times on the command line: `--since` takes an ISO time or an age (90s, 10m, 2h, 1d).
import { UsageError } from './args';

const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSince(text: string, now = Date.now()): number {
    const age = /^(\d+)([smhd])$/.exec(text);
    if (age) return now - Number(age[1]) * (UNIT[age[2] ?? 's'] ?? 1000);
    const t = Date.parse(text);
    if (Number.isNaN(t))
        throw new UsageError(
            `--since: ${JSON.stringify(text)} is neither an ISO time nor an age like 10m`,
        );
    return t;
}

/** "3 s", "4 min", "2 h": how long ago, roughly, for people. */
export function formatWhen(at: number, now = Date.now()): string {
    const s = Math.max(0, Math.round((now - at) / 1000));
    if (s < 120) return `${s} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172_800) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86_400)} d`;
}
