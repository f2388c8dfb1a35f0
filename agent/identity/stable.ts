// Stable program keys. Some paths change on every upgrade while the program stays the same:
// snap revisions, nix store hashes, AppImage mount points, versioned install directories.
// The key replaces only the part that varies; the exact path is kept as evidence, and a
// program seen under a second build is flagged rather than silently merged or split.

export interface StablePath {
    /** The path with its build-varying parts replaced. */
    key: string;
    /** The exact path, when it differs from `key`. */
    build?: string;
}

// A whole segment that is a version: `1.2.3`, `v20.11.1`, `3.11.4-rc1`.
const VERSION = /^v?\d+(\.\d+)+([-+~._][0-9A-Za-z.+~_-]*)?$/;
// A name followed by a version: `foo-1.2.3`, `node-v20.11.1-linux-x64`, `idea-IU-233.11799.241`.
const NAMED_VERSION = /^(.*?[A-Za-z][A-Za-z0-9]*)[-_]v?\d+(\.\d+)+([-+~._][0-9A-Za-z.+~_-]*)?$/;
// Content hashes used as directory names (VS Code server commits, build ids).
const HASH = /^[0-9a-f]{32,}$/;
// `/nix/store/<32 base32 chars>-<name>[-<version>]`.
const NIX = /^[0-9a-df-np-sv-z]{32}-(.+)$/;
const DELETED = ' (deleted)';

export function stablePath(exact: string): StablePath {
    // /proc shows a replaced executable as `<path> (deleted)`: the same program, old build.
    let p = exact;
    if (p.endsWith(DELETED)) p = p.slice(0, -DELETED.length);
    const parts = p.split('/');

    // Directories only: the file name is the program's own name (python3.11 is not python3.12).
    for (let i = 1; i < parts.length - 1; i++) {
        const seg = parts[i] ?? '';
        const prev = parts[i - 1] ?? '';
        if (prev === 'snap' && i === 2 && parts.length > 4) {
            // `/snap/<name>/<revision>/...`; `current` is snapd's own stable link.
            const rev = parts[3] ?? '';
            if (/^(x?\d+)$/.test(rev)) parts[3] = 'current';
        } else if (i === 3 && parts[1] === 'nix' && prev === 'store') {
            const m = NIX.exec(seg);
            if (m?.[1]) parts[i] = '*-' + nixName(m[1]);
        } else if (seg.startsWith('.mount_') && seg.length > 13) {
            // AppImage runtime: `.mount_` + the image name's first chars + 6 random chars.
            parts[i] = seg.slice(0, -6) + '*';
        } else if (VERSION.test(seg) || HASH.test(seg)) {
            parts[i] = '*';
        } else {
            const m = NAMED_VERSION.exec(seg);
            if (m?.[1]) parts[i] = `${m[1]}-*`;
        }
    }

    const key = parts.join('/');
    return key === exact ? { key } : { key, build: exact };
}

/** `python3-3.11.6` → `python3`; `hello` → `hello`. */
function nixName(nameVersion: string): string {
    const m = /^(.*?)-\d/.exec(nameVersion);
    return m?.[1] || nameVersion;
}

/**
 * Remembers the first build each program was seen as, so that an upgrade is reported as
 * "same program, new build" instead of passing unnoticed.
 */
export class BuildHistory {
    private readonly first = new Map<string, string>();

    constructor(private readonly max = 10_000) {}

    /** The earlier build when `build` is not the one first seen for `program`. */
    observe(program: string, build: string): string | undefined {
        const seen = this.first.get(program);
        if (seen === undefined) {
            // NOTE: bounded by forgetting the oldest programs; a forgotten program's next
            // build then becomes its first.
            if (this.first.size >= this.max) {
                const oldest = this.first.keys().next().value;
                if (oldest !== undefined) this.first.delete(oldest);
            }
            this.first.set(program, build);
            return undefined;
        }
        return seen === build ? undefined : seen;
    }
}
