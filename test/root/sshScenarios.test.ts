// S12, S13 and S14 against real sshd in the lab's namespaces: agent keys offered in the
// right order, Include/ProxyJump through a lab bastion on port 2222, Include cycles and
// unsupported directives, hashed and bracketed known_hosts, changed and unknown keys, a key
// of a type not known for a known host (sshd on 2223 and 2224), and a known_hosts that
// cannot be read.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../agent/remote/errors';
import { fingerprint } from '../../agent/remote/knownHosts';
import { connectAgentOverSsh, connectSsh, type SshConnectOptions } from '../../agent/remote/ssh';
import { resolveHost } from '../../agent/remote/sshConfig';
import { sshConfigWarnings } from '../../agent/remote/sshConfigCheck';
import { isRoot, ROOT } from './agentHarness';
import { expectLabGone, labPids } from './labCheck';

const LAB = '/run/palisade-lab';
const BASTION = { addr: '10.213.0.2', port: 2222 };
const TARGET = '10.213.0.4';
const haveTools = spawnSync('ssh-agent', ['-h']).error === undefined;
const skip = !isRoot ? 'needs root' : !haveTools ? 'needs openssh-client (ssh-agent)' : '';

let dir = '';
const sshds: ChildProcess[] = [];
let agent: ChildProcess | undefined;
const savedAuthSock = process.env.SSH_AUTH_SOCK;

function lab(verb: string) {
    return spawnSync(process.execPath, [path.join(ROOT, 'bin/palisade'), 'lab', verb], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PALISADE_LAB_TRAFFIC_SECONDS: '300' },
    });
}

function pubBlob(file: string): Buffer {
    return Buffer.from(readFileSync(file, 'utf8').split(' ')[1] ?? '', 'base64');
}

function hashed(token: string): string {
    const salt = randomBytes(20);
    const hmac = createHmac('sha1', salt).update(token).digest('base64');
    return `|1|${salt.toString('base64')}|${hmac}`;
}

function write(name: string, text: string): string {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
}

async function waitListening(host: string, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((done) => {
            const s = connect(port, host);
            s.once('connect', () => (s.destroy(), done(true)));
            s.once('error', () => done(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing listens on ${host}:${port}`);
}

/** The known_hosts of S14: a hashed bracketed bastion entry and a plain target entry. */
function knownHosts(name: string, targetKey: Buffer): string {
    const web = pubBlob(`${LAB}/web/ssh_host_ed25519_key.pub`);
    const token = `[${BASTION.addr}]:${BASTION.port}`;
    return write(
        name,
        `${hashed(token)} ssh-ed25519 ${web.toString('base64')}\n` +
            `${TARGET} ssh-ed25519 ${targetKey.toString('base64')}\n`,
    );
}

/** The S13 layout: Host * first, then an Include of config.d/*.conf. */
function userConfig(known: string, strict = 'yes', global = 'none'): string {
    write(
        'ssh/config.d/lab.conf',
        [
            'Host lab-agent',
            `    HostName ${TARGET}`,
            '    User root',
            '    ProxyJump bastion',
            'Host bastion',
            `    HostName ${BASTION.addr}`,
            `    Port ${BASTION.port}`,
            '    User root',
            'Host *',
            `    IdentityFile ${LAB}/id_ed25519`,
            '    IdentitiesOnly yes',
            `    UserKnownHostsFile ${known}`,
            `    GlobalKnownHostsFile ${global}`,
            `    StrictHostKeyChecking ${strict}`,
            '',
        ].join('\n'),
    );
    return write(
        `ssh/config-${path.basename(known)}-${strict}-${path.basename(global)}`,
        'Host *\n    ForwardAgent no\nInclude config.d/*.conf\n',
    );
}

/** An sshd in web's namespace on the bastion's address, presenting only `hostKeys`. */
async function startSshd(port: number, hostKeys: string[]): Promise<void> {
    const options = [
        ...hostKeys.map((k) => `HostKey=${k}`),
        `ListenAddress=${BASTION.addr}:${port}`,
        'PermitRootLogin=prohibit-password',
        'PasswordAuthentication=no',
        'UsePAM=no',
        `AuthorizedKeysFile=${LAB}/authorized_keys`,
        `PidFile=${dir}/sshd-${port}.pid`,
    ];
    const args = ['netns', 'exec', 'palisade-web', '/usr/sbin/sshd', '-D', '-e', '-f', '/dev/null'];
    sshds.push(spawn('ip', [...args, ...options.flatMap((o) => ['-o', o])], { stdio: 'ignore' }));
    await waitListening(BASTION.addr, port);
}

async function connectAndStatus(alias: string, config: string, opts: SshConnectOptions = {}) {
    const client = await connectAgentOverSsh(resolveHost(alias, config), opts);
    try {
        return await client.status();
    } finally {
        client.close();
    }
}

async function refusal(p: Promise<unknown>): Promise<RemoteError> {
    const err = await p.then(
        () => new Error('connected'),
        (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
}

describe.skipIf(skip !== '')(
    `ssh scenarios S12-S14 on the lab ${skip ? `(skipped: ${skip})` : ''}`,
    () => {
        beforeAll(async () => {
            lab('down');
            const up = lab('up');
            expect(up.status, up.stderr + up.stdout).toBe(0);
            dir = mkdtempSync(path.join(tmpdir(), 'palisade-ssh-scenarios-'));

            // The bastion: a second sshd in web's namespace, on 2222, with web's host key.
            await startSshd(BASTION.port, [`${LAB}/web/ssh_host_ed25519_key`]);
        });

        afterAll(() => {
            for (const sshd of sshds) if (sshd.pid) process.kill(sshd.pid, 'SIGTERM');
            if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
            if (savedAuthSock === undefined) delete process.env.SSH_AUTH_SOCK;
            else process.env.SSH_AUTH_SOCK = savedAuthSock;
            if (dir) rmSync(dir, { recursive: true, force: true });
            const pids = labPids();
            const down = lab('down');
            expect(down.status, down.stderr).toBe(0);
            expectLabGone(pids);
        });

        describe('S13: Include, Host * ordering and ProxyJump', () => {
            it('resolves a host from an included file, first value winning', () => {
                const config = userConfig(
                    knownHosts('kh-resolve', pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`)),
                );
                const t = resolveHost('lab-agent', config);
                expect(t).toMatchObject({ hostName: TARGET, user: 'root', proxyJump: 'bastion' });
                expect(resolveHost('bastion', config)).toMatchObject({ port: BASTION.port });
            });

            it('reaches the agent of lab-agent through bastion:2222 with forwardOut', async () => {
                const config = userConfig(
                    knownHosts('kh-ok', pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`)),
                );
                expect((await connectAndStatus('lab-agent', config)).host).toBe('db');
            });

            it('detects and names an Include cycle', () => {
                write('ssh/a.conf', 'Include b.conf\nHost x\n    HostName 10.213.0.9\n');
                write('ssh/b.conf', 'Include a.conf\n');
                const err = (() => {
                    try {
                        resolveHost('x', path.join(dir, 'ssh/a.conf'));
                    } catch (e) {
                        return e;
                    }
                    return undefined;
                })();
                expect(err).toBeInstanceOf(RemoteError);
                expect((err as Error).message).toMatch(
                    /Include cycle.*a\.conf → b\.conf → a\.conf/,
                );
            });

            it('warns about Match exec and ProxyCommand instead of skipping them', () => {
                const config = write(
                    'ssh/unsupported.conf',
                    'Match exec "true"\n    User bob\nHost odd\n    ProxyCommand nc %h %p\n',
                );
                const warnings = sshConfigWarnings(config, ['odd']).map((w) => w.directive);
                expect(warnings).toContain('Match exec');
                expect(warnings).toContain('ProxyCommand');
            });
        });

        describe('S14: host keys', () => {
            it('matches hashed [host]:port and plain entries for every hop', async () => {
                const config = userConfig(
                    knownHosts('kh-hashed', pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`)),
                );
                await expect(connectAndStatus('lab-agent', config)).resolves.toMatchObject({
                    host: 'db',
                });
            });

            it('refuses a changed key of the target and shows both fingerprints', async () => {
                const wrong = pubBlob(`${LAB}/api/ssh_host_ed25519_key.pub`);
                const config = userConfig(knownHosts('kh-changed', wrong));
                const err = await refusal(connectAndStatus('lab-agent', config));
                expect(err.kind).toBe('host-key-mismatch');
                expect(err.message).toContain(fingerprint(wrong));
                expect(err.message).toContain(
                    fingerprint(pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`)),
                );
            });

            it('fails closed when known_hosts cannot be read', async () => {
                // Root reads mode-000 files, so unreadable is made a directory here.
                const known = path.join(dir, 'kh-unreadable');
                mkdirSync(known);
                const err = await refusal(connectAndStatus('lab-agent', userConfig(known)));
                expect(err.kind).toBe('known-hosts-unreadable');
            });

            it('trusts keys of the GlobalKnownHostsFile and never writes to it', async () => {
                const global = knownHosts(
                    'kh-global',
                    pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`),
                );
                const before = readFileSync(global, 'utf8');
                const known = write('kh-user-empty', '');
                const asked: string[] = [];
                const opts: SshConnectOptions = {
                    onUnknownHost: async (info) => (asked.push(info.host), false),
                };
                const config = userConfig(known, 'ask', global);
                await expect(connectAndStatus('lab-agent', config, opts)).resolves.toMatchObject({
                    host: 'db',
                });
                expect(asked).toEqual([]);
                expect(readFileSync(known, 'utf8')).toBe('');
                expect(readFileSync(global, 'utf8')).toBe(before);
            });

            it('refuses a changed key that only the GlobalKnownHostsFile knows', async () => {
                const wrong = pubBlob(`${LAB}/api/ssh_host_ed25519_key.pub`);
                const known = write('kh-user-empty2', '');
                const config = userConfig(
                    known,
                    'accept-new',
                    knownHosts('kh-global-changed', wrong),
                );
                const err = await refusal(connectAndStatus('lab-agent', config));
                expect(err.kind).toBe('host-key-mismatch');
                expect(err.message).toContain('kh-global-changed');
                expect(readFileSync(known, 'utf8')).not.toContain(`${TARGET} `);
            });

            it('asks about an unknown key and appends it on acceptance', async () => {
                const known = write('kh-tofu', '');
                const config = userConfig(known, 'ask');
                const asked: string[] = [];
                const opts: SshConnectOptions = {
                    onUnknownHost: async (info) => (asked.push(`${info.host}:${info.port}`), true),
                };
                await expect(connectAndStatus('lab-agent', config, opts)).resolves.toMatchObject({
                    host: 'db',
                });
                expect(asked).toEqual([`${BASTION.addr}:${BASTION.port}`, `${TARGET}:22`]);
                const text = readFileSync(known, 'utf8');
                expect(text).toContain(`[${BASTION.addr}]:${BASTION.port} ssh-ed25519 `);
                expect(text).toContain(`${TARGET} ssh-ed25519 `);
                asked.length = 0;
                await connectAndStatus('lab-agent', config, opts);
                expect(asked).toEqual([]);
            });
        });

        describe('S14: a host key type not known for a known host', () => {
            const ONLY_ECDSA = 2223;
            const BOTH = 2224;
            let ed25519 = '';
            let ecdsa = '';

            beforeAll(async () => {
                ed25519 = path.join(dir, 'hostkeys/ed25519');
                ecdsa = path.join(dir, 'hostkeys/ecdsa');
                mkdirSync(path.dirname(ed25519));
                for (const [file, type] of [
                    [ed25519, 'ed25519'],
                    [ecdsa, 'ecdsa'],
                ] as const) {
                    const k = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
                    expect(k.status, String(k.stderr)).toBe(0);
                }
                await startSshd(ONLY_ECDSA, [ecdsa]);
                await startSshd(BOTH, [ed25519, ecdsa]);
            });

            /** A known_hosts line as ssh would write it for the lab's address on `port`. */
            function entry(port: number, keyFile: string): string {
                const [type, b64] = readFileSync(`${keyFile}.pub`, 'utf8').split(' ');
                return `[${BASTION.addr}]:${port} ${type} ${b64}\n`;
            }

            function hostsConfig(known: string, strict: string): string {
                const host = (alias: string, hostName: string, port: number, jump = '') =>
                    [
                        `Host ${alias}`,
                        `    HostName ${hostName}`,
                        `    Port ${port}`,
                        ...(jump ? [`    ProxyJump ${jump}`] : []),
                    ].join('\n');
                return write(
                    `ssh/other-type-${path.basename(known)}`,
                    [
                        host('only-ecdsa', BASTION.addr, ONLY_ECDSA),
                        host('both-types', BASTION.addr, BOTH),
                        host('via-only-ecdsa', TARGET, 22, 'only-ecdsa'),
                        host('via-both-types', TARGET, 22, 'both-types'),
                        'Host *',
                        '    User root',
                        `    IdentityFile ${LAB}/id_ed25519`,
                        '    IdentitiesOnly yes',
                        `    UserKnownHostsFile ${known}`,
                        `    StrictHostKeyChecking ${strict}`,
                        '',
                    ].join('\n'),
                );
            }

            async function sshReady(alias: string, config: string, opts: SshConnectOptions) {
                (await connectSsh(resolveHost(alias, config), opts)).end();
            }

            it.each(['accept-new', 'ask'])(
                'under %s refuses a server with only ecdsa when ed25519 is known, naming both',
                async (strict) => {
                    const known = write(`kh-only-ecdsa-${strict}`, entry(ONLY_ECDSA, ed25519));
                    const before = readFileSync(known, 'utf8');
                    const asked: string[] = [];
                    const opts: SshConnectOptions = {
                        onUnknownHost: async (info) => (asked.push(info.fingerprint), true),
                    };

                    const err = await refusal(
                        sshReady('only-ecdsa', hostsConfig(known, strict), opts),
                    );

                    expect(err.kind).toBe('host-key-mismatch');
                    expect(err.message).toMatch(/^only-ecdsa: /);
                    expect(err.message).toContain(
                        `offered ecdsa-sha2-nistp256 ${fingerprint(pubBlob(`${ecdsa}.pub`))}`,
                    );
                    expect(err.message).toContain(
                        `ssh-ed25519 ${fingerprint(pubBlob(`${ed25519}.pub`))}`,
                    );
                    expect(asked).toEqual([]);
                    expect(readFileSync(known, 'utf8')).toBe(before);
                },
            );

            it('connects by the known type to a server with both, adding no key', async () => {
                // ssh2 would ask for ed25519 first; only ecdsa is known, so ecdsa must be asked.
                const known = write('kh-both-types', entry(BOTH, ecdsa));
                const config = hostsConfig(known, 'accept-new');
                await sshReady('both-types', config, {});
                expect(readFileSync(known, 'utf8')).toBe(entry(BOTH, ecdsa));
            });

            it('checks each ProxyJump hop against its own name', async () => {
                const db = pubBlob(`${LAB}/db/ssh_host_ed25519_key.pub`);
                const text =
                    `${TARGET} ssh-ed25519 ${db.toString('base64')}\n` +
                    entry(ONLY_ECDSA, ed25519) +
                    entry(BOTH, ecdsa);
                const known = write('kh-hops', text);
                const config = hostsConfig(known, 'accept-new');

                const err = await refusal(connectAndStatus('via-only-ecdsa', config));
                expect(err).toMatchObject({
                    kind: 'host-key-mismatch',
                    host: 'via-only-ecdsa',
                    details: { jumpHost: 'only-ecdsa' },
                });
                expect(err.message).toContain(fingerprint(pubBlob(`${ecdsa}.pub`)));
                expect(err.message).toContain(fingerprint(pubBlob(`${ed25519}.pub`)));

                await expect(connectAndStatus('via-both-types', config)).resolves.toMatchObject({
                    host: 'db',
                });
                expect(readFileSync(known, 'utf8')).toBe(text);
            });
        });

        describe('S12: an agent holding many keys', () => {
            let encrypted = '';
            const passphrase = 'correct horse';

            beforeAll(async () => {
                const sock = path.join(dir, 'agent.sock');
                agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
                for (let i = 0; i < 50 && spawnSync('test', ['-S', sock]).status !== 0; i++) {
                    await new Promise((r) => setTimeout(r, 100));
                }
                const env = { ...process.env, SSH_AUTH_SOCK: sock };
                // Six keys the server does not know, then the right one last.
                for (let i = 0; i < 6; i++) {
                    const k = path.join(dir, `decoy${i}`);
                    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
                    expect(spawnSync('ssh-add', ['-q', k], { env }).status).toBe(0);
                }
                expect(spawnSync('ssh-add', ['-q', `${LAB}/id_ed25519`], { env }).status).toBe(0);
                process.env.SSH_AUTH_SOCK = sock;

                encrypted = path.join(dir, 'id_ed25519');
                writeFileSync(encrypted, readFileSync(`${LAB}/id_ed25519`), { mode: 0o600 });
                writeFileSync(`${encrypted}.pub`, readFileSync(`${LAB}/id_ed25519.pub`));
                const p = spawnSync('ssh-keygen', [
                    '-q',
                    '-p',
                    '-P',
                    '',
                    '-N',
                    passphrase,
                    '-f',
                    encrypted,
                ]);
                expect(p.status, String(p.stderr)).toBe(0);
                expect(utils.parseKey(readFileSync(encrypted))).toBeInstanceOf(Error);
            });

            function config(identityFile: string, only = 'yes'): string {
                return write(
                    `ssh/s12-${path.basename(identityFile)}-${only}`,
                    [
                        'Host *',
                        `    IdentitiesOnly ${only}`,
                        `    IdentityFile ${identityFile}`,
                        'Host s12',
                        `    HostName ${TARGET}`,
                        '    User root',
                        `    UserKnownHostsFile ${LAB}/known_hosts`,
                        '    StrictHostKeyChecking yes',
                        '',
                    ].join('\n'),
                );
            }

            it('offers the agent key matching the IdentityFile first, without a passphrase prompt', async () => {
                const prompts: string[] = [];
                const status = await connectAndStatus('s12', config(encrypted), {
                    passphrase: async (f) => (prompts.push(f), undefined),
                });
                expect(status.host).toBe('db');
                expect(prompts).toEqual([]);
            });

            it('without IdentitiesOnly still offers the matching key before the six others', async () => {
                const status = await connectAndStatus('s12', config(encrypted, 'no'));
                expect(status.host).toBe('db');
            });

            it('names every key it offered when the server refuses them, and offered no other', async () => {
                const decoy = path.join(dir, 'decoy0');
                const err = await refusal(connectAndStatus('s12', config(decoy)));
                expect(err.kind).toBe('auth');
                expect(err.message).toContain(fingerprint(pubBlob(`${decoy}.pub`)));
                // IdentitiesOnly: the agent's other keys, the server's own included, were not
                // offered at all.
                const others = [1, 2, 3, 4, 5].map((i) => path.join(dir, `decoy${i}.pub`));
                for (const pub of [...others, `${LAB}/id_ed25519.pub`]) {
                    expect(err.message).not.toContain(fingerprint(pubBlob(pub)));
                }
            });

            it('asks for the passphrase once when the agent lacks the key', async () => {
                delete process.env.SSH_AUTH_SOCK;
                try {
                    const prompts: string[] = [];
                    const status = await connectAndStatus('s12', config(encrypted), {
                        passphrase: async (f) => (prompts.push(f), passphrase),
                    });
                    expect(status.host).toBe('db');
                    expect(prompts).toEqual([encrypted]);
                } finally {
                    process.env.SSH_AUTH_SOCK = path.join(dir, 'agent.sock');
                }
            });
        });
    },
);
