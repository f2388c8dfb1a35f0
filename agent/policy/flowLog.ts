// A flow log for offline inference: JSON lines, one fleet edge each (`palisade graph --json`
// edges, or what other tools export in that shape). Lines that are not JSON or not an edge
// are skipped and counted; peers whose kind is unknown become address endpoints. One bad
// record never stops inference.
import type { FleetEdge, Identity } from '../protocol';

export interface EdgeLog {
    edges: FleetEdge[];
    skipped: number;
}

function identityFrom(raw: unknown): Identity | undefined {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const r = raw as Record<string, unknown>;
    if (r.kind === 'process' && typeof r.host === 'string' && typeof r.binary === 'string') {
        return raw as Identity;
    }
    if (r.kind === 'unknown' && typeof r.host === 'string') {
        const reason = r.reason === 'kernel' || r.reason === 'unattributed' ? r.reason : 'exited';
        return { kind: 'unknown', reason, host: r.host };
    }
    // Anything else with an address is a peer we can only name by that address.
    const address = typeof r.address === 'string' ? r.address : undefined;
    if (r.kind === 'external' && typeof r.name === 'string') {
        return { kind: 'external', name: r.name, address: address ?? '' };
    }
    if (address) return { kind: 'external', name: `cidr:${address}`, address };
    return undefined;
}

export function parseEdgeLog(text: string): EdgeLog {
    const edges: FleetEdge[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        let raw: Record<string, unknown>;
        try {
            raw = JSON.parse(line) as Record<string, unknown>;
        } catch {
            skipped++;
            continue;
        }
        const client = identityFrom(raw.client);
        const server = identityFrom(raw.server);
        const port = Number(raw.port);
        const protocol =
            raw.protocol === 'udp' ? 'udp' : raw.protocol === 'tcp' ? 'tcp' : undefined;
        if (
            !client ||
            !server ||
            !protocol ||
            !Number.isInteger(port) ||
            port < 0 ||
            port > 65535
        ) {
            skipped++;
            continue;
        }
        const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
        edges.push({
            id: typeof raw.id === 'string' ? raw.id : `log-${edges.length}`,
            client,
            server,
            protocol,
            port,
            count: num(raw.count) || 1,
            firstSeen: num(raw.firstSeen),
            lastSeen: num(raw.lastSeen),
            seenBy: Array.isArray(raw.seenBy)
                ? raw.seenBy.filter((s): s is string => typeof s === 'string')
                : [],
        });
    }
    return { edges, skipped };
}
