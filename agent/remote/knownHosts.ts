// Host-key verification in the OpenSSH known_hosts format, so that Palisade trusts exactly
// the keys `ssh` trusts and refuses what `ssh` refuses. A file we cannot read means we do
// not know what is trusted: that fails closed, never open.
import { matchesPatternList } from './patterns';
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RemoteError } from './errors';

export interface KnownHostEntry {
    marker?: 'cert-authority' | 'revoked';
    /** Comma-separated patterns, or one `|1|salt|hmac` hashed name. */
    hosts: string;
    keyType: string;
    key: Buffer;
    file: string;
    line: number;
}

export type HostKeyDecision =
    | { result: 'match'; entry: KnownHostEntry }
    | { result: 'mismatch'; known: KnownHostEntry[] }
    /** Keys are known for the host, but none of the type it presented. */
    | { result: 'other-type'; known: KnownHostEntry[] }
    | { result: 'revoked'; entry: KnownHostEntry }
    | { result: 'unknown' };

export interface UnknownHostInfo {
    host: string;
    port: number;
    keyType: string;
    fingerprint: string;
}

export interface HostVerifierOptions {
    /** Name used in errors (the alias the user knows). */
    alias: string;
    host: string;
    port: number;
    /** The user's files; the first is where accepted keys are appended. */
    files: string[];
    /** System-wide files (GlobalKnownHostsFile), trusted the same way, never written. */
    globalFiles?: string[];
    /**
     * `accept-new`/`no` accept unknown keys without asking. Mismatches are always refused, and
     * so is a key of a type not recorded for a host that has keys of other types recorded.
     */
    strict: 'yes' | 'ask' | 'accept-new' | 'no';
    /** Asked about unknown keys under `ask`; resolve true to trust and record the key. */
    onUnknownHost?: (info: UnknownHostInfo) => Promise<boolean>;
}

export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
    const entries: KnownHostEntry[] = [];
    text.split('\n').forEach((raw, index) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) return;
        const fields = line.split(/\s+/);
        let marker: KnownHostEntry['marker'];
        if (fields[0]?.startsWith('@')) {
            const m = fields.shift();
            if (m === '@cert-authority') marker = 'cert-authority';
            else if (m === '@revoked') marker = 'revoked';
            else return;
        }
        const [hosts, keyType, keyText] = fields;
        if (!hosts || !keyType || !keyText) return;
        const key = Buffer.from(keyText, 'base64');
        if (key.length === 0) return;
        entries.push({ ...(marker ? { marker } : {}), hosts, keyType, key, file, line: index + 1 });
    });
    return entries;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
    return port === 22 ? host : `[${host}]:${port}`;
}

export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
    const token = hostToken(host, port);
    if (entry.hosts.startsWith('|1|')) {
        const [, , salt, hmac] = entry.hosts.split('|');
        if (!salt || !hmac) return false;
        const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest();
        return digest.toString('base64') === hmac;
    }

    return matchesPatternList(entry.hosts.split(','), token);
}

/** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of the key blob's digest. */
export function fingerprint(key: Buffer): string {
    return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The algorithm name that opens an SSH public key blob. */
export function keyTypeOf(key: Buffer): string {
    if (key.length < 4) return 'unknown';
    const len = key.readUInt32BE(0);
    return len > 0 && len < 64 && key.length >= 4 + len
        ? key.subarray(4, 4 + len).toString('latin1')
        : 'unknown';
}

/** The trusted (unmarked) keys that known_hosts holds for `host:port`, of any type. */
export function knownKeysFor(
    entries: KnownHostEntry[],
    host: string,
    port: number,
): KnownHostEntry[] {
    return entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port));
}

export function decideHostKey(
    entries: KnownHostEntry[],
    host: string,
    port: number,
    key: Buffer,
): HostKeyDecision {
    const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
    if (revoked) return { result: 'revoked', entry: revoked };

    const known = knownKeysFor(entries, host, port);
    const same = known.find((e) => e.key.equals(key));
    if (same) return { result: 'match', entry: same };

    const sameType = known.filter((e) => e.keyType === keyTypeOf(key));
    if (sameType.length > 0) return { result: 'mismatch', known: sameType };

    // ssh calls a key of a type it has not recorded "new" and accept-new takes it, so whoever
    // sits in the middle need only offer another type. A host we hold any key for is not new.
    return known.length > 0 ? { result: 'other-type', known } : { result: 'unknown' };
}

/** Reads all files; a missing file is empty (as for ssh), any other read error throws. */
export function loadKnownHosts(files: string[], alias: string): KnownHostEntry[] {
    return files.flatMap((file) => {
        try {
            return parseKnownHosts(readFileSync(file, 'utf8'), file);
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') return [];
            throw new RemoteError(
                'known-hosts-unreadable',
                alias,
                `${alias}: cannot read known_hosts file ${file} (${code ?? 'error'}); ` +
                    'refusing to connect',
                { file },
            );
        }
    });
}

export function appendKnownHost(file: string, host: string, port: number, key: Buffer): void {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const line = `${hostToken(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
    appendFileSync(file, line, { mode: 0o600 });
}

/**
 * Verifies `key` for a host; resolves when trusted, rejects with a RemoteError otherwise.
 * The ssh2 hostVerifier callback only carries a boolean, so callers keep this error.
 */
export async function verifyHostKey(opts: HostVerifierOptions, key: Buffer): Promise<void> {
    const { alias, host, port } = opts;
    const files = [...opts.files, ...(opts.globalFiles ?? [])];
    const decision = decideHostKey(loadKnownHosts(files, alias), host, port, key);
    const offered = fingerprint(key);

    switch (decision.result) {
        case 'match':
            return;
        case 'revoked':
            throw new RemoteError(
                'host-key-revoked',
                alias,
                `${alias}: host key ${offered} is marked @revoked in ${decision.entry.file}`,
                { offered },
            );
        case 'mismatch': {
            const known = decision.known.map((e) => fingerprint(e.key));
            const where = decision.known.map((e) => `${e.file}:${e.line}`).join(', ');
            throw new RemoteError(
                'host-key-mismatch',
                alias,
                `${alias}: HOST KEY CHANGED for ${hostToken(host, port)}: offered ${offered}, ` +
                    `known ${known.join(', ')} (${where}); refusing to connect`,
                { offered, known: known.join(',') },
            );
        }
        case 'other-type': {
            const type = keyTypeOf(key);
            const known = decision.known.map((e) => `${e.keyType} ${fingerprint(e.key)}`);
            const where = decision.known.map((e) => `${e.file}:${e.line}`).join(', ');
            throw new RemoteError(
                'host-key-mismatch',
                alias,
                `${alias}: HOST KEY TYPE NOT KNOWN for ${hostToken(host, port)}: offered ${type} ` +
                    `${offered}, known only ${known.join(', ')} (${where}); refusing to connect ` +
                    'rather than trust a new key type for a known host',
                { offered, keyType: type, known: known.join(',') },
            );
        }
        case 'unknown':
            break;
    }

    const info = { host, port, keyType: keyTypeOf(key), fingerprint: offered };
    const accepted =
        opts.strict === 'accept-new' || opts.strict === 'no'
            ? true
            : opts.strict === 'ask' && opts.onUnknownHost
              ? await opts.onUnknownHost(info)
              : false;
    if (!accepted) {
        throw new RemoteError(
            'host-key-unknown',
            alias,
            `${alias}: unknown host key ${offered} (${info.keyType}) for ${hostToken(host, port)}` +
                ' is not in known_hosts; refusing to connect',
            { offered, keyType: info.keyType },
        );
    }
    const target = opts.files[0];
    if (target) appendKnownHost(target, host, port, key);
}
