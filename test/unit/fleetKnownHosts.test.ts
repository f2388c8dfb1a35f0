// Named fleet* because this engineer's test files share that prefix; covers agent/remote/knownHosts.ts.
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../agent/remote/errors';
import {
    decideHostKey,
    fingerprint,
    keyTypeOf,
    parseKnownHosts,
    verifyHostKey,
} from '../../agent/remote/knownHosts';

function newKey(type: 'ed25519' | 'ecdsa' = 'ed25519'): { line: string; blob: Buffer } {
    const pair =
        type === 'ecdsa'
            ? utils.generateKeyPairSync('ecdsa', { bits: 256 })
            : utils.generateKeyPairSync('ed25519');
    const [algo, b64] = pair.public.split(' ');
    return { line: `${algo} ${b64}`, blob: Buffer.from(b64 ?? '', 'base64') };
}

function hashed(host: string): string {
    const salt = randomBytes(20);
    const mac = createHmac('sha1', salt).update(host).digest();
    return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = newKey();
const b = newKey();

describe('known_hosts matching', () => {
    it('matches plain names, comma lists, [host]:port and wildcards', () => {
        const entries = parseKnownHosts(
            [
                `web,10.0.0.2 ${a.line}`,
                `[db]:2222 ${a.line}`,
                `*.lab,!evil.lab ${a.line}`,
                '# comment',
                '',
            ].join('\n'),
        );
        expect(decideHostKey(entries, 'web', 22, a.blob).result).toBe('match');
        expect(decideHostKey(entries, '10.0.0.2', 22, a.blob).result).toBe('match');
        expect(decideHostKey(entries, 'db', 2222, a.blob).result).toBe('match');
        expect(decideHostKey(entries, 'db', 22, a.blob).result).toBe('unknown');
        expect(decideHostKey(entries, 'api.lab', 22, a.blob).result).toBe('match');
        expect(decideHostKey(entries, 'evil.lab', 22, a.blob).result).toBe('unknown');
    });

    it('matches hashed |1|salt|hmac entries by HMAC-SHA1 of the host token', () => {
        const entries = parseKnownHosts(`${hashed('[127.0.0.1]:2201')} ${a.line}\n`);
        expect(decideHostKey(entries, '127.0.0.1', 2201, a.blob).result).toBe('match');
        expect(decideHostKey(entries, '127.0.0.1', 2202, a.blob).result).toBe('unknown');
    });

    it('matches entries written by ssh-keygen -H', () => {
        const file = join(dir, 'hashed');
        writeFileSync(file, `web.lab ${a.line}\n[web.lab]:2222 ${b.line}\n`);
        execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
        const text = readFileSync(file, 'utf8');
        expect(text).not.toContain('web.lab');
        const entries = parseKnownHosts(text);
        expect(decideHostKey(entries, 'web.lab', 22, a.blob).result).toBe('match');
        expect(decideHostKey(entries, 'web.lab', 2222, b.blob).result).toBe('match');
    });

    it('reports a different key of the same type as a mismatch and another type as unknown', () => {
        const entries = parseKnownHosts(`web ${a.line}\n`);
        expect(decideHostKey(entries, 'web', 22, b.blob).result).toBe('mismatch');
        expect(decideHostKey(entries, 'web', 22, newKey('ecdsa').blob).result).toBe('unknown');
    });

    it('refuses keys marked @revoked even when also listed as trusted', () => {
        const entries = parseKnownHosts(`web ${a.line}\n@revoked * ${a.line}\n`);
        expect(decideHostKey(entries, 'web', 22, a.blob).result).toBe('revoked');
    });

    it('prints fingerprints the way ssh-keygen -l does', () => {
        const file = join(dir, 'key.pub');
        writeFileSync(file, `${a.line} test\n`);
        const out = execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' });
        expect(out).toContain(fingerprint(a.blob));
        expect(keyTypeOf(a.blob)).toBe('ssh-ed25519');
    });
});

describe('verifyHostKey', () => {
    const base = { alias: 'web', host: '127.0.0.1', port: 2201, strict: 'ask' as const };

    it('refuses a changed key and names both fingerprints', async () => {
        const file = join(dir, 'changed');
        writeFileSync(file, `[127.0.0.1]:2201 ${a.line}\n`);
        const err = await verifyHostKey({ ...base, files: [file] }, b.blob).catch(
            (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(RemoteError);
        expect((err as RemoteError).kind).toBe('host-key-mismatch');
        expect((err as RemoteError).message).toContain(fingerprint(a.blob));
        expect((err as RemoteError).message).toContain(fingerprint(b.blob));
        expect((err as RemoteError).message).toContain('web');
    });

    it('refuses an unknown key unless the callback accepts, then records it', async () => {
        const file = join(dir, 'sub', 'known_hosts');
        await expect(verifyHostKey({ ...base, files: [file] }, a.blob)).rejects.toMatchObject({
            kind: 'host-key-unknown',
        });
        const asked: string[] = [];
        await verifyHostKey(
            {
                ...base,
                files: [file],
                onUnknownHost: async (info) => {
                    asked.push(info.fingerprint);
                    return true;
                },
            },
            a.blob,
        );
        expect(asked).toEqual([fingerprint(a.blob)]);
        expect(readFileSync(file, 'utf8')).toContain(`[127.0.0.1]:2201 ${a.line}`);
        await verifyHostKey({ ...base, files: [file] }, a.blob);
    });

    it('refuses an unknown key when the callback declines, and under strict yes without asking', async () => {
        const file = join(dir, 'declined');
        await expect(
            verifyHostKey({ ...base, files: [file], onUnknownHost: async () => false }, a.blob),
        ).rejects.toMatchObject({ kind: 'host-key-unknown' });
        let asked = false;
        await expect(
            verifyHostKey(
                {
                    ...base,
                    strict: 'yes',
                    files: [file],
                    onUnknownHost: async () => (asked = true),
                },
                a.blob,
            ),
        ).rejects.toMatchObject({ kind: 'host-key-unknown' });
        expect(asked).toBe(false);
    });

    it('fails closed when a known_hosts file cannot be read', async () => {
        const notAFile = join(dir, 'is-a-dir');
        mkdirSync(notAFile);
        await expect(
            verifyHostKey({ ...base, strict: 'accept-new', files: [notAFile] }, a.blob),
        ).rejects.toMatchObject({ kind: 'known-hosts-unreadable' });
    });
});
