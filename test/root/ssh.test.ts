// A real sshd on loopback, a real ssh2 client with real host-key checks, and the real
// stdio⇄socket bridge on the far side. The JSON-RPC server on the socket stands in for the
// agent (written concurrently) so that this suite tests only the transport.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { utils } from 'ssh2';
import {
    createMessageConnection,
    StreamMessageReader,
    StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Methods, Notifications, type AgentStatus, type HostLink } from '../../agent/protocol';
import type { AgentClient } from '../../agent/remote/agentClient';
import { RemoteError } from '../../agent/remote/errors';
import { fingerprint } from '../../agent/remote/knownHosts';
import { connectAgentOverSsh } from '../../agent/remote/ssh';
import { resolveHost, type SshTarget } from '../../agent/remote/sshConfig';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const isRoot = process.getuid?.() === 0;
const haveSshd = (() => {
    try {
        execFileSync('/usr/sbin/sshd', ['-V'], { stdio: 'ignore' });
        return true;
    } catch (err) {
        // `sshd -V` exits non-zero on older OpenSSH but still proves the binary runs.
        return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
})();
const skip = !isRoot
    ? 'needs root (sshd as root, root login)'
    : !haveSshd
      ? 'needs openssh-server'
      : '';

const status: AgentStatus = {
    protocolVersion: 1,
    version: 'transport-test',
    host: 'ssh-test-host',
    zone: 'test',
    addresses: ['127.0.0.1'],
    cgroup: '/',
    pinDir: '/sys/fs/bpf/palisade',
    health: 'ok',
    problems: [],
    attached: [],
    startedAt: 1,
    counters: { events: 0, lostEvents: 0, identityMisses: 0, flows: 0, links: 0 },
};

const link: HostLink = {
    key: 'k1',
    host: 'ssh-test-host',
    direction: 'egress',
    protocol: 'tcp',
    local: { kind: 'unknown', reason: 'exited', host: 'ssh-test-host' },
    remoteAddress: '127.0.0.1',
    port: 6379,
    count: 1,
    firstSeen: 1,
    lastSeen: 2,
};

let dir = '';
let port = 0;
let sshd: ChildProcess | undefined;
let rpcServer: Server | undefined;
let hostKeyBlob = Buffer.alloc(0);
let clientKeyPath = '';

async function freePort(): Promise<number> {
    const srv = createServer();
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const p = (srv.address() as AddressInfo).port;
    await new Promise<void>((ok) => srv.close(() => ok()));
    return p;
}

function startAgentStandIn(socketPath: string): Server {
    const server = createServer((socket) => {
        const conn = createMessageConnection(
            new StreamMessageReader(socket),
            new StreamMessageWriter(socket),
        );
        conn.onRequest(Methods.status, () => status);
        conn.onRequest(Methods.links, () => [link]);
        conn.onRequest(Methods.flows, () => []);
        conn.onRequest(Methods.subscribe, () => {
            setTimeout(() => {
                // The CLI may have hung up already; a closed session is not a failure here.
                try {
                    void conn
                        .sendNotification(Notifications.linksChanged, {
                            host: status.host,
                            links: [{ ...link, count: 2 }],
                        })
                        .catch(() => undefined);
                } catch {
                    // closed synchronously
                }
            }, 50);
            return null;
        });
        socket.on('error', () => conn.dispose());
        conn.listen();
    });
    server.listen(socketPath);
    return server;
}

async function waitForPort(p: number): Promise<void> {
    const { connect } = await import('node:net');
    for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((done) => {
            const s = connect(p, '127.0.0.1');
            s.once('connect', () => (s.destroy(), done(true)));
            s.once('error', () => done(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${p}`);
}

function target(
    knownHosts: string,
    overrides: Partial<SshTarget> = {},
    alias = 'lab-test',
): SshTarget {
    const config = join(dir, `ssh_config_${Math.random().toString(36).slice(2)}`);
    writeFileSync(
        config,
        [
            'Host lab-test',
            '    HostName 127.0.0.1',
            `    Port ${port}`,
            '    User root',
            `    IdentityFile ${clientKeyPath}`,
            '    IdentitiesOnly yes',
            `    UserKnownHostsFile ${knownHosts}`,
            '    StrictHostKeyChecking yes',
            'Host via-jump',
            '    HostName 127.0.0.1',
            `    Port ${port}`,
            '    User root',
            `    IdentityFile ${clientKeyPath}`,
            '    IdentitiesOnly yes',
            `    UserKnownHostsFile ${knownHosts}`,
            '    ProxyJump lab-test',
            '',
        ].join('\n'),
    );
    return { ...resolveHost(alias, config), ...overrides };
}

function knownHostsWith(name: string, line: string): string {
    const file = join(dir, name);
    writeFileSync(file, line);
    return file;
}

async function expectRefused(t: SshTarget, kind: RemoteError['kind']): Promise<RemoteError> {
    const err = await connectAgentOverSsh(t).then(
        (c) => (c.close(), new Error('connected')),
        (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).kind).toBe(kind);
    expect((err as RemoteError).message).toContain(t.alias);
    return err as RemoteError;
}

describe.skipIf(skip !== '')(`agent over a real sshd ${skip ? `(skipped: ${skip})` : ''}`, () => {
    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'palisade-ssh-'));
        chmodSync(dir, 0o700);
        mkdirSync('/run/sshd', { recursive: true });
        port = await freePort();

        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
        execFileSync('ssh-keygen', [
            '-q',
            '-t',
            'ed25519',
            '-N',
            '',
            '-f',
            join(dir, 'client_key'),
        ]);
        clientKeyPath = join(dir, 'client_key');
        const hostPub = execFileSync('cat', [join(dir, 'host_key.pub')], { encoding: 'utf8' });
        hostKeyBlob = Buffer.from(hostPub.split(' ')[1] ?? '', 'base64');
        execFileSync('cp', [`${clientKeyPath}.pub`, join(dir, 'authorized_keys')]);

        const socketPath = join(dir, 'agent.sock');
        rpcServer = startAgentStandIn(socketPath);

        // The bridge is bundled like the real agent will be, and started by a launcher that
        // stands in for bin/palisade-agent until the agent's own `rpc` subcommand exists.
        await esbuild.build({
            stdin: {
                contents:
                    "import { runRpcBridge } from './agent/rpcBridge';\n" +
                    "if (process.argv[2] !== 'rpc') process.exit(64);\n" +
                    'runRpcBridge(process.env.PALISADE_SOCKET ?? "").then((c) => process.exit(c));\n',
                resolveDir: ROOT,
                loader: 'ts',
            },
            bundle: true,
            platform: 'node',
            format: 'cjs',
            outfile: join(dir, 'bridge.cjs'),
            logLevel: 'silent',
        });
        const launcher = join(dir, 'palisade-agent');
        writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${dir}/bridge.cjs" "$@"\n`);
        chmodSync(launcher, 0o755);

        sshd = spawn(
            '/usr/sbin/sshd',
            [
                '-D',
                '-e',
                '-f',
                '/dev/null',
                '-o',
                `ListenAddress=127.0.0.1:${port}`,
                '-o',
                `HostKey=${dir}/host_key`,
                '-o',
                `PidFile=${dir}/sshd.pid`,
                '-o',
                `AuthorizedKeysFile=${dir}/authorized_keys`,
                '-o',
                'PermitRootLogin=prohibit-password',
                '-o',
                'PasswordAuthentication=no',
                '-o',
                'KbdInteractiveAuthentication=no',
                '-o',
                'StrictModes=no',
                '-o',
                'UsePAM=no',
                '-o',
                `SetEnv=PALISADE_SOCKET=${socketPath} PALISADE_AGENT=${launcher}`,
            ],
            { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let log = '';
        sshd.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
        await waitForPort(port).catch((e: Error) => {
            throw new Error(`${e.message}\n${log}`);
        });
    });

    afterAll(async () => {
        if (sshd?.pid) process.kill(sshd.pid, 'SIGTERM');
        await new Promise<void>((ok) => (rpcServer ? rpcServer.close(() => ok()) : ok()));
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('round-trips status, links and a linksChanged notification over ssh', async () => {
        const known = knownHostsWith(
            'kh_ok',
            `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`,
        );
        const client: AgentClient = await connectAgentOverSsh(target(known));
        try {
            expect(client.host).toBe('lab-test');
            expect(await client.status()).toEqual(status);
            expect(await client.links()).toEqual([link]);
            const changed = new Promise<number>((ok) => {
                void client.subscribe((p) => ok(p.links[0]?.count ?? -1));
            });
            expect(await changed).toBe(2);
        } finally {
            client.close();
        }
    });

    it('reaches the agent through a ProxyJump hop, checking both host keys', async () => {
        const line = `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`;
        const client = await connectAgentOverSsh(
            target(knownHostsWith('kh_jump', line), {}, 'via-jump'),
        );
        try {
            expect(client.host).toBe('via-jump');
            expect((await client.status()).host).toBe('ssh-test-host');
        } finally {
            client.close();
        }
        await expectRefused(
            target(knownHostsWith('kh_jump_empty', ''), {}, 'via-jump'),
            'host-key-unknown',
        );
    });

    it('refuses a changed host key and names both fingerprints', async () => {
        const other = utils.generateKeyPairSync('ed25519').public.split(' ')[1] ?? '';
        const known = knownHostsWith('kh_changed', `[127.0.0.1]:${port} ssh-ed25519 ${other}\n`);
        const err = await expectRefused(target(known), 'host-key-mismatch');
        expect(err.message).toContain(fingerprint(hostKeyBlob));
        expect(err.message).toContain(fingerprint(Buffer.from(other, 'base64')));
    });

    it('refuses an unknown host key', async () => {
        const known = knownHostsWith('kh_empty', '');
        const err = await expectRefused(target(known), 'host-key-unknown');
        expect(err.message).toContain(fingerprint(hostKeyBlob));
    });

    it('fails closed when known_hosts cannot be read', async () => {
        const notAFile = join(dir, 'kh_dir');
        mkdirSync(notAFile);
        await expectRefused(
            target(notAFile, { strictHostKeyChecking: 'accept-new' }),
            'known-hosts-unreadable',
        );
    });

    it('reports a host without palisade-agent as agent-missing', async () => {
        const known = knownHostsWith(
            'kh_ok2',
            `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`,
        );
        const err = await connectAgentOverSsh(target(known), {
            agentCommand: 'exec /nonexistent/palisade-agent rpc',
        }).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'agent-missing' });
    });

    it('serves palisade status and graph over ssh from the bundled CLI', async () => {
        const known = knownHostsWith(
            'kh_cli',
            `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`,
        );
        const config = target(known).configFile;
        await esbuild.build({
            entryPoints: [join(ROOT, 'agent/cli/main.ts')],
            bundle: true,
            platform: 'node',
            format: 'cjs',
            outfile: join(dir, 'cli.js'),
            external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
            logLevel: 'silent',
        });
        // Async: the agent stand-in lives in this process and must keep answering.
        const cli = async (...args: string[]) =>
            (
                await execFileAsync(process.execPath, [join(dir, 'cli.js'), ...args], {
                    encoding: 'utf8',
                    env: { ...process.env, SSH_AUTH_SOCK: '' },
                })
            ).stdout;

        const statuses = JSON.parse(
            await cli('status', '--host', 'lab-test', '--ssh-config', config, '--json'),
        );
        expect(statuses).toEqual([{ target: 'lab-test', ...status }]);
        const graph = await cli('graph', '--host', 'lab-test', '--ssh-config', config);
        expect(graph).toContain('ssh-test-host ok 127.0.0.1');
        expect(graph).toContain('ssh-test-host/? (exited) → cidr:127.0.0.1/32 :6379/tcp ×1');

        // PALISADE_DEBUG: each step of reaching the agent, in order, on stderr.
        const traced = await execFileAsync(
            process.execPath,
            [join(dir, 'cli.js'), 'status', '--host', 'lab-test', '--ssh-config', config],
            { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '', PALISADE_DEBUG: '1' } },
        );
        const steps = traced.stderr.split('\n').filter((l) => l.startsWith('palisade: debug: '));
        expect(steps.map((l) => l.replace(/^palisade: debug: lab-test: /, ''))).toEqual([
            `ssh connecting to 127.0.0.1:${port}`,
            'ssh authenticated',
            expect.stringMatching(/^running /),
            'agent answered',
        ]);
    });

    it('reports a key the server does not accept as an auth error', async () => {
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
        const known = knownHostsWith(
            'kh_ok3',
            `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`,
        );
        await expectRefused(target(known, { identityFiles: [join(dir, 'stranger')] }), 'auth');
    });
});
