// SPIFFE-style names for process identities:
//   spiffe://<zone>/host/<host>[/unit/<unit>][/script/<script>]/bin/<path>
//   spiffe://<zone>/ns/<namespace>/sa/<account>[/script/<script>]/bin/<path>
// The binary path is the tail, one URI segment per path segment. Every other field is one
// segment, percent-encoded where it holds characters outside SPIFFE's segment alphabet
// (`user@1000.service`, a script path's slashes). Identities are compared field by field:
// a string prefix test would let `/bin/usr/bin/node` match `/bin/usr/bin/node-evil`.

export interface SpiffeFields {
    zone: string;
    host?: string;
    unit?: string;
    namespace?: string;
    account?: string;
    script?: string;
    /** Absolute binary path. */
    binary: string;
}

export class SpiffeError extends Error {
    readonly kind = 'spiffe-parse';
}

const SEGMENT_OK = /^[A-Za-z0-9._-]+$/;
const ZONE_OK = /^[a-z0-9._-]+$/;

function encodeSegment(s: string): string {
    // `.` and `..` are not allowed as segments; encode them so they survive the round trip.
    if (s === '.' || s === '..') return s.replace(/\./g, '%2E');
    if (SEGMENT_OK.test(s)) return s;
    return Array.from(Buffer.from(s, 'utf8'))
        .map((b) => {
            const ch = String.fromCharCode(b);
            return b < 0x80 && /[A-Za-z0-9._-]/.test(ch)
                ? ch
                : '%' + b.toString(16).toUpperCase().padStart(2, '0');
        })
        .join('');
}

function decodeSegment(s: string): string {
    if (s === '') throw new SpiffeError('empty path segment');
    try {
        return decodeURIComponent(s);
    } catch {
        throw new SpiffeError(`bad percent-encoding in segment ${JSON.stringify(s)}`);
    }
}

export function renderSpiffe(f: SpiffeFields): string {
    const zone = f.zone.toLowerCase();
    if (!ZONE_OK.test(zone))
        throw new SpiffeError(`zone ${JSON.stringify(f.zone)} is not a trust domain`);
    const parts: string[] = [];
    if (f.namespace !== undefined) {
        parts.push('ns', encodeSegment(f.namespace), 'sa', encodeSegment(f.account ?? 'default'));
    } else {
        parts.push('host', encodeSegment(f.host ?? ''));
        if (f.unit) parts.push('unit', encodeSegment(f.unit));
    }
    if (f.script) parts.push('script', encodeSegment(f.script));
    const bin = f.binary.split('/').filter(Boolean).map(encodeSegment);
    parts.push('bin', ...bin);
    return `spiffe://${zone}/${parts.join('/')}`;
}

export function parseSpiffe(uri: string): SpiffeFields {
    const m = /^spiffe:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m?.[1] || !m[2]) throw new SpiffeError('not a spiffe:// URI with a path');
    if (!ZONE_OK.test(m[1])) throw new SpiffeError(`bad trust domain ${JSON.stringify(m[1])}`);
    if (/[?#]/.test(m[2])) throw new SpiffeError('query and fragment are not allowed');
    const segs = m[2].split('/');
    const f: SpiffeFields = { zone: m[1], binary: '' };

    let i = 0;
    const take = (what: string): string => {
        const s = segs[i++];
        if (s === undefined) throw new SpiffeError(`missing ${what}`);
        return decodeSegment(s);
    };
    const head = segs[i++];
    if (head === 'host') {
        f.host = take('host');
        if (segs[i] === 'unit') {
            i++;
            f.unit = take('unit');
        }
    } else if (head === 'ns') {
        f.namespace = take('namespace');
        if (segs[i++] !== 'sa') throw new SpiffeError('expected /sa/ after the namespace');
        f.account = take('service account');
    } else {
        throw new SpiffeError('expected /host/ or /ns/ after the trust domain');
    }
    if (segs[i] === 'script') {
        i++;
        f.script = take('script');
    }
    if (segs[i++] !== 'bin') throw new SpiffeError('expected /bin/<path>');
    const bin = segs.slice(i);
    if (bin.length === 0) throw new SpiffeError('missing binary path');
    f.binary = '/' + bin.map(decodeSegment).join('/');
    return f;
}

const FIELDS: (keyof SpiffeFields)[] = [
    'zone',
    'host',
    'unit',
    'namespace',
    'account',
    'script',
    'binary',
];

/** Same identity: every field equal (an absent field only equals an absent field). */
export function sameSpiffe(a: string | SpiffeFields, b: string | SpiffeFields): boolean {
    const x = typeof a === 'string' ? parseSpiffe(a) : a;
    const y = typeof b === 'string' ? parseSpiffe(b) : b;
    return FIELDS.every((k) => x[k] === y[k]);
}

/**
 * A pattern matches when each of its fields equals the identity's, or is `*`. A field the
 * pattern leaves out matches only an identity that leaves it out too: an identity with
 * more context is a different, narrower identity, not a prefix match.
 */
export function spiffeMatches(pattern: string | SpiffeFields, id: string | SpiffeFields): boolean {
    const p = typeof pattern === 'string' ? parseSpiffe(pattern) : pattern;
    const x = typeof id === 'string' ? parseSpiffe(id) : id;
    return FIELDS.every(
        (k) => p[k] === '*' || (k === 'binary' && p.binary === '/*') || p[k] === x[k],
    );
}
