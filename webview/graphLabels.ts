// Text shown on graph nodes and edges. Every input string comes from a host and may be
// hostile, so the output is plain text meant for cytoscape data fields, never for markup.
import type {
    ExternalIdentity,
    FleetEdge,
    ProcessIdentity,
    UnknownIdentity,
} from '../agent/protocol';

const MAX_LABEL_PART = 48;

// C0/C1 controls would let a process name fake extra label lines; bidi overrides and
// isolates would let it display as a different name (the "trojan source" trick).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Makes one untrusted string safe to show on a single line, bounded in length. */
export function plainText(value: string, max = MAX_LABEL_PART): string {
    const clean = value.replace(UNSAFE_CHARS, '\ufffd');
    const chars = Array.from(clean);
    return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : clean;
}

export function basename(path: string): string {
    const trimmed = path.replace(/\/+$/, '');
    const slash = trimmed.lastIndexOf('/');
    return slash < 0 ? trimmed : trimmed.slice(slash + 1);
}

/** `nginx`, `node api.js`, with the unit on a second line when there is one. */
export function processLabel(id: ProcessIdentity): string {
    const program = id.script
        ? `${plainText(basename(id.binary))} ${plainText(basename(id.script))}`
        : plainText(basename(id.binary));
    return id.unit ? `${program}\n${plainText(id.unit)}` : program;
}

export function externalLabel(id: ExternalIdentity): string {
    if (id.name.startsWith('dns:')) {
        // The name asked for, then where its CNAME chain ends: `db.example → host.example`.
        const asked = id.name.slice('dns:'.length);
        const chain = id.canonical !== undefined ? `${asked} → ${id.canonical}` : asked;
        return plainText(id.stale ? `${chain} (stale)` : chain);
    }
    const cidr = id.name.startsWith('cidr:') ? id.name.slice('cidr:'.length) : id.name;
    // A single-address prefix reads better as the bare address.
    return plainText(cidr.replace(/\/(32|128)$/, ''));
}

export function unknownLabel(id: UnknownIdentity): string {
    return `unknown (${plainText(id.reason)})`;
}

/** 999, 1k, 1.2k, 12k, 3.4M: short enough to sit on an edge. */
export function formatCount(count: number): string {
    if (!Number.isFinite(count) || count < 0) {
        return '?';
    }
    const units: Array<[number, string]> = [
        [1e9, 'G'],
        [1e6, 'M'],
        [1e3, 'k'],
    ];
    for (const [size, suffix] of units) {
        if (count >= size) {
            const scaled = count / size;
            const text =
                scaled >= 10 ? String(Math.floor(scaled)) : String(Math.floor(scaled * 10) / 10);
            return `${text}${suffix}`;
        }
    }
    return String(Math.floor(count));
}

export function edgeLabel(edge: Pick<FleetEdge, 'port' | 'count' | 'protocol'>): string {
    const proto = edge.protocol === 'udp' ? '/udp' : '';
    return `:${edge.port}${proto} ×${formatCount(edge.count)}`;
}

/** Multi-line details for the side panel; shown with textContent. */
export function processDetail(id: ProcessIdentity): string {
    const lines = [
        `host: ${id.host}`,
        `binary: ${id.binary}`,
        id.exe && id.exe !== id.binary ? `exe: ${id.exe}` : undefined,
        id.script ? `script: ${id.script}` : undefined,
        id.parent ? `parent: ${id.parent}` : undefined,
        id.unit ? `unit: ${id.unit}` : undefined,
        `user: ${id.user} (${id.uid})`,
        `cgroup: ${id.cgroup}`,
    ];
    return lines
        .filter((line): line is string => line !== undefined)
        .map((line) => plainText(line, 200))
        .join('\n');
}
