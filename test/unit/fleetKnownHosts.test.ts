// Named fleet* because this engineer's test files share that prefix; covers agent/remote/knownHosts.ts.
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../agent/remote/errors';
import {
    hostKeyAlgorithmsFor,
    orderHostKeyAlgorithms,
    SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
} from '../../agent/remote/hostKeyAlgorithms';
import {
    decideHostKey,
    fingerprint,
    keyTypeOf,
    parseKnownHosts,
    verifyHostKey,
} from '../../agent/remote/knownHosts';

function newKey(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): { line: string; blob: Buffer } {
    const pair =
        type === 'ecdsa'
            ? utils.generateKeyPairSync('ecdsa', { bits: 256 })
            : type === 'rsa'
              ? utils.generateKeyPairSync('rsa', { bits: 2048 })
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

    it('reports a different key of the same type as a mismatch', () => {
        const entries = parseKnownHosts(`web ${a.line}\n`);
        expect(decideHostKey(entries, 'web', 22, b.blob).result).toBe('mismatch');
    });

    it('reports another key type as other-type for a host with keys, else unknown', () => {
        const entries = parseKnownHosts(
            `web ${a.line}\n${hashed('[db]:2222')} ${a.line}\n[api]:2222 ${b.line}\n`,
        );
        const ecdsa = newKey('ecdsa').blob;
        expect(decideHostKey(entries, 'web', 22, ecdsa)).toMatchObject({
            result: 'other-type',
            known: [{ keyType: 'ssh-ed25519', line: 1 }],
        });
        expect(decideHostKey(entries, 'db', 2222, ecdsa).result).toBe('other-type');
        expect(decideHostKey(entries, 'api', 2222, ecdsa).result).toBe('other-type');
        expect(decideHostKey(entries, 'api', 22, ecdsa).result).toBe('unknown');
        expect(decideHostKey(entries, 'mail', 22, ecdsa).result).toBe('unknown');
    });

    it('does not count @revoked or @cert-authority lines as keys known for the host', () => {
        const entries = parseKnownHosts(`@revoked web ${a.line}\n@cert-authority web ${b.line}\n`);
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

    it.each(['accept-new', 'no', 'ask'] as const)(
        'under %s refuses a key of another type for a known host, without asking or recording',
        async (strict) => {
            const file = join(dir, `other-type-${strict}`);
            const before = `${hashed('[127.0.0.1]:2201')} ${a.line}\n`;
            writeFileSync(file, before);
            const ecdsa = newKey('ecdsa');
            let asked = false;
            const onUnknownHost = async () => (asked = true);

            const err = await verifyHostKey(
                { ...base, strict, files: [file], onUnknownHost },
                ecdsa.blob,
            ).catch((e: unknown) => e);

            expect(err).toBeInstanceOf(RemoteError);
            const { kind, message } = err as RemoteError;
            expect(kind).toBe('host-key-mismatch');
            expect(message).toMatch(/^web: .*\[127\.0\.0\.1\]:2201/);
            expect(message).toContain(`offered ecdsa-sha2-nistp256 ${fingerprint(ecdsa.blob)}`);
            expect(message).toContain(`ssh-ed25519 ${fingerprint(a.blob)}`);
            expect(asked).toBe(false);
            expect(readFileSync(file, 'utf8')).toBe(before);
        },
    );

    it('lists every known key when an RSA key meets a host known by two other types', async () => {
        const file = join(dir, 'other-type-rsa');
        const ecdsa = newKey('ecdsa');
        writeFileSync(file, `[127.0.0.1]:2201 ${a.line}\n[127.0.0.1]:2201 ${ecdsa.line}\n`);
        const rsa = newKey('rsa').blob;
        const err = await verifyHostKey(
            { ...base, strict: 'accept-new', files: [file] },
            rsa,
        ).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'host-key-mismatch' });
        const { message } = err as RemoteError;
        expect(message).toContain(`offered ssh-rsa ${fingerprint(rsa)}`);
        expect(message).toContain(`ssh-ed25519 ${fingerprint(a.blob)}`);
        expect(message).toContain(`ecdsa-sha2-nistp256 ${fingerprint(ecdsa.blob)}`);
    });

    it('still trusts on first use a host with no keys while other hosts have some', async () => {
        const file = join(dir, 'tofu-beside-others');
        writeFileSync(file, `[127.0.0.1]:2202 ${a.line}\n`);
        const ecdsa = newKey('ecdsa');
        await verifyHostKey({ ...base, strict: 'accept-new', files: [file] }, ecdsa.blob);
        expect(readFileSync(file, 'utf8')).toContain(`[127.0.0.1]:2201 ${ecdsa.line}`);
    });

    it('fails closed when a known_hosts file cannot be read', async () => {
        const notAFile = join(dir, 'is-a-dir');
        mkdirSync(notAFile);
        await expect(
            verifyHostKey({ ...base, strict: 'accept-new', files: [notAFile] }, a.blob),
        ).rejects.toMatchObject({ kind: 'known-hosts-unreadable' });
    });
});

describe('host key algorithms asked for', () => {
    it('asks first for the types known for the host and keeps the rest after them', () => {
        const order = orderHostKeyAlgorithms(['ecdsa-sha2-nistp384', 'ssh-ed25519']);
        expect(order?.slice(0, 2)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp384']);
        expect([...(order ?? [])].sort()).toEqual([...SSH2_DEFAULT_HOST_KEY_ALGORITHMS].sort());
    });

    it('asks for every signature name of a known ssh-rsa key', () => {
        expect(orderHostKeyAlgorithms(['ssh-rsa'])?.slice(0, 3)).toEqual([
            'rsa-sha2-512',
            'rsa-sha2-256',
            'ssh-rsa',
        ]);
    });

    it("leaves ssh2's default alone when no type ssh2 offers is known", () => {
        expect(orderHostKeyAlgorithms([])).toBeUndefined();
        expect(orderHostKeyAlgorithms(['ssh-dss', 'sk-ssh-ed25519@openssh.com'])).toBeUndefined();
    });

    it('finds the known types through hashed [host]:port entries', () => {
        const file = join(dir, 'order');
        writeFileSync(file, `${hashed('[127.0.0.1]:2201')} ${newKey('ecdsa').line}\n`);
        const order = hostKeyAlgorithmsFor([file], 'web', '127.0.0.1', 2201);
        expect(order?.[0]).toBe('ecdsa-sha2-nistp256');
        expect(hostKeyAlgorithmsFor([file], 'web', '127.0.0.1', 2202)).toBeUndefined();
    });

    it("mirrors ssh2's own default list, so reordering never adds or drops one", () => {
        // ssh2 does not export its lists; an upgrade that changes them must fail here.
        const constants = createRequire(__filename)('ssh2/lib/protocol/constants.js') as {
            DEFAULT_SERVER_HOST_KEY: string[];
        };
        expect([...SSH2_DEFAULT_HOST_KEY_ALGORITHMS]).toEqual(constants.DEFAULT_SERVER_HOST_KEY);
    });
});
