// Reaches a host's agent the way an operator would: ssh with the user's keys and known_hosts,
// then `palisade-agent rpc` on the far side bridging the channel to the agent's root-only
// socket. Nothing is forwarded or listened on; the session lives and dies with the channel.
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import {
    Client,
    OpenSSHAgent,
    utils,
    type AnyAuthMethod,
    type ClientChannel,
    type ParsedKey,
    type ServerHostKeyAlgorithm,
} from 'ssh2';
import { describeKey, listAgentKeys, publicBlobOf, SubsetAgent } from './agentKeys';
import { JsonRpcAgentClient, type AgentClient } from './agentClient';
import { RemoteError, describeError } from './errors';
import { hostKeyAlgorithmsFor } from './hostKeyAlgorithms';
import { jumpHosts } from './jump';
import { verifyHostKey, type UnknownHostInfo } from './knownHosts';
import type { SshTarget } from './sshConfig';

export interface SshConnectOptions {
    /** Asked when a host key is unknown and StrictHostKeyChecking is `ask` (the default). */
    onUnknownHost?: (info: UnknownHostInfo) => Promise<boolean>;
    /** Asked for each encrypted identity file; undefined skips that key. */
    passphrase?: (identityFile: string) => Promise<string | undefined>;
    /** Remote command; its stdin/stdout must speak JSON-RPC with the agent. */
    agentCommand?: string;
    readyTimeoutMs?: number;
    requestTimeoutMs?: number;
    /** Diagnostics without secrets (never keys, passphrases or message contents). */
    log?: (message: string) => void;
}

export const DEFAULT_AGENT_COMMAND = 'exec "${PALISADE_AGENT:-palisade-agent}" rpc';
const STDERR_TAIL = 2048;

export async function connectAgentOverSsh(
    target: SshTarget,
    opts: SshConnectOptions = {},
): Promise<AgentClient> {
    const conn = await connectSsh(target, opts);
    try {
        return await openAgentChannel(conn, target, opts);
    } catch (err) {
        conn.end();
        throw err;
    }
}

/**
 * An authenticated ssh2 connection to `target`, through its ProxyJump hops, every hop's
 * host key checked. Ending it ends the hops. Used for the agent channel and for SFTP.
 */
export async function connectSsh(target: SshTarget, opts: SshConnectOptions = {}): Promise<Client> {
    const chain = [...jumpHosts(target), target];
    const opened: Client[] = [];
    try {
        let sock: Duplex | undefined;
        for (const [i, hop] of chain.entries()) {
            const conn = await openSsh(hop, await authMethods(hop, opts), opts, sock);
            opened.push(conn);
            const next = chain[i + 1];
            if (next) sock = await forward(conn, hop, next);
        }
        const last = opened[opened.length - 1] as Client;
        // Closing the target's connection tears down the hops it ran through.
        last.once('close', () => opened.forEach((c) => c.end()));
        return last;
    } catch (err) {
        opened.forEach((c) => c.end());
        if (err instanceof RemoteError && err.host !== target.alias) {
            // A failing hop is reported under the host the user asked for, naming the hop.
            throw new RemoteError(err.kind, target.alias, `${target.alias}: via ${err.message}`, {
                ...err.details,
                jumpHost: err.host,
            });
        }
        throw err;
    }
}

function forward(conn: Client, via: SshTarget, to: SshTarget): Promise<Duplex> {
    return new Promise((resolve, reject) => {
        conn.forwardOut('127.0.0.1', 0, to.hostName, to.port, (err, stream) => {
            if (err) {
                const where = `${to.hostName}:${to.port}`;
                reject(
                    new RemoteError(
                        'unreachable',
                        to.alias,
                        `${to.alias}: jump host ${via.alias} cannot reach ${where}: ${err.message}`,
                    ),
                );
            } else resolve(stream);
        });
    });
}

function openSsh(
    target: SshTarget,
    { methods: auth, offered }: Auth,
    opts: SshConnectOptions,
    sock?: Duplex,
): Promise<Client> {
    const host = target.alias;
    if (auth.length === 0) {
        const agent = target.identitiesOnly ? '' : ' and SSH_AUTH_SOCK';
        const tried = `${target.identityFiles.join(', ')}${agent}`;
        return Promise.reject(
            new RemoteError('auth', host, `${host}: no usable key (tried ${tried})`),
        );
    }
    let serverHostKey: ServerHostKeyAlgorithm[] | undefined;
    try {
        const { userKnownHostsFiles, globalKnownHostsFiles, hostName, port } = target;
        const files = [...userKnownHostsFiles, ...globalKnownHostsFiles];
        serverHostKey = hostKeyAlgorithmsFor(files, host, hostName, port);
    } catch (err) {
        return Promise.reject(err);
    }

    const conn = new Client();
    let hostKeyError: RemoteError | undefined;

    const where = sock ? 'through the jump host' : `${target.hostName}:${target.port}`;
    opts.log?.(`${host}: ssh connecting to ${where}`);
    return new Promise((resolve, reject) => {
        conn.once('ready', () => {
            opts.log?.(`${host}: ssh authenticated`);
            conn.removeAllListeners('error');
            conn.on('error', (err) => opts.log?.(`${host}: ssh error: ${describeError(err)}`));
            resolve(conn);
        });
        conn.once('error', (err: Error & { level?: string; code?: string }) => {
            reject(hostKeyError ?? sshError(target, err, offered));
        });
        conn.connect({
            ...(sock ? { sock } : { host: target.hostName, port: target.port }),
            username: target.user,
            authHandler: auth,
            readyTimeout: opts.readyTimeoutMs ?? 20_000,
            keepaliveInterval: 15_000,
            // Known host key types first; any other type presented is refused by verifyHostKey.
            ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
            hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
                const policy = {
                    alias: host,
                    host: target.hostName,
                    port: target.port,
                    files: target.userKnownHostsFiles,
                    globalFiles: target.globalKnownHostsFiles,
                    strict: target.strictHostKeyChecking,
                    ...(opts.onUnknownHost ? { onUnknownHost: opts.onUnknownHost } : {}),
                };
                verifyHostKey(policy, key).then(
                    () => verify(true),
                    (err: unknown) => {
                        hostKeyError =
                            err instanceof RemoteError
                                ? err
                                : new RemoteError(
                                      'host-key-unknown',
                                      host,
                                      `${host}: ${describeError(err)}`,
                                  );
                        verify(false);
                    },
                );
            },
        });
    });
}

function sshError(
    target: SshTarget,
    err: Error & { level?: string; code?: string },
    offered: string[],
): RemoteError {
    const host = target.alias;
    const where = `${target.user}@${target.hostName}:${target.port}`;
    if (err.level === 'client-authentication') {
        return new RemoteError(
            'auth',
            host,
            `${host}: authentication failed for ${where} (offered: ${offered.join('; ')})`,
            { offered: offered.join('\n') },
        );
    }
    if (err.level === 'client-timeout') {
        return new RemoteError('timeout', host, `${host}: timed out connecting to ${where}`);
    }
    const code = err.code ? ` (${err.code})` : '';
    return new RemoteError(
        'unreachable',
        host,
        `${host}: cannot reach ${where}${code}: ${describeError(err)}`,
    );
}

interface Auth {
    methods: AnyAuthMethod[];
    /** What is offered, in order, for the message when the server refuses all of it. */
    offered: string[];
}

async function authMethods(target: SshTarget, opts: SshConnectOptions): Promise<Auth> {
    const username = target.user;
    const auth: Auth = { methods: [], offered: [] };
    const socket = process.env.SSH_AUTH_SOCK;
    const agent = socket ? new OpenSSHAgent(socket) : undefined;
    const agentKeys = agent ? await listAgentKeys(agent) : [];
    const used = new Set<ParsedKey>();

    for (const file of target.identityFiles) {
        // The agent's copy of a configured key first: no passphrase prompt, one attempt.
        const blob = agent ? publicBlobOf(file) : undefined;
        const inAgent = blob && agentKeys.find((k) => k.getPublicSSH().equals(blob));
        if (agent && inAgent) {
            used.add(inAgent);
            auth.methods.push({
                type: 'agent',
                username,
                agent: new SubsetAgent(agent, [inAgent]),
            });
            auth.offered.push(`agent key ${describeKey(inAgent)} for ${file}`);
            continue;
        }
        const key = await privateKey(target, file, opts);
        if (key) {
            auth.methods.push({ type: 'publickey', username, ...key });
            auth.offered.push(file);
        }
    }

    // Without IdentitiesOnly, the agent's other keys follow, as with OpenSSH.
    const rest = agentKeys.filter((k) => !used.has(k));
    if (agent && !target.identitiesOnly && rest.length > 0) {
        auth.methods.push({ type: 'agent', username, agent: new SubsetAgent(agent, rest) });
        auth.offered.push(...rest.map((k) => `agent key ${describeKey(k)}`));
    }
    return auth;
}

async function privateKey(
    target: SshTarget,
    file: string,
    opts: SshConnectOptions,
): Promise<{ key: Buffer; passphrase?: string } | undefined> {
    let key: Buffer;
    try {
        key = readFileSync(file);
    } catch {
        if (target.identityFilesExplicit) opts.log?.(`${target.alias}: cannot read ${file}`);
        return undefined;
    }
    const parsed = utils.parseKey(key);
    if (!(parsed instanceof Error)) return { key };
    if (!/passphrase|encrypted/i.test(parsed.message)) {
        opts.log?.(`${target.alias}: ${file} is not a usable private key`);
        return undefined;
    }
    const passphrase = await opts.passphrase?.(file);
    if (passphrase === undefined) return undefined;
    if (utils.parseKey(key, passphrase) instanceof Error) {
        throw new RemoteError(
            'auth',
            target.alias,
            `${target.alias}: wrong passphrase for ${file}`,
        );
    }
    return { key, passphrase };
}

const CHANNEL_TIMEOUT_MS = 15_000;

function openAgentChannel(
    conn: Client,
    target: SshTarget,
    opts: SshConnectOptions,
): Promise<AgentClient> {
    const host = target.alias;
    const command = opts.agentCommand ?? DEFAULT_AGENT_COMMAND;

    opts.log?.(`${host}: running ${command}`);
    const waitMs = opts.requestTimeoutMs ?? CHANNEL_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
        // The server may never answer the channel request; nothing else would end the wait.
        const timer = setTimeout(() => {
            const why = `${host}: the ssh server opened no channel for the agent in ${waitMs} ms`;
            reject(new RemoteError('agent-failed', host, why));
        }, waitMs);
        conn.exec(command, (err, channel: ClientChannel) => {
            clearTimeout(timer);
            if (err) {
                reject(
                    new RemoteError(
                        'agent-failed',
                        host,
                        `${host}: cannot run agent: ${err.message}`,
                    ),
                );
                return;
            }
            let stderr = '';
            channel.stderr.on('data', (chunk: Buffer) => {
                stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
            });
            const exited = new Promise<RemoteError>((resolveExit) => {
                channel.once('exit', (code: number | null, signal?: string) => {
                    resolveExit(exitError(host, code, signal, stderr));
                });
            });

            const client = new JsonRpcAgentClient(
                host,
                channel,
                channel,
                () => {
                    channel.close();
                    conn.end();
                },
                opts.requestTimeoutMs,
            );
            void exited.then((e) => client.fail(e));
            conn.once('close', () => {
                client.fail(new RemoteError('closed', host, `${host}: ssh connection closed`));
            });

            // Probe once so a missing or broken agent is a connect error, not a later surprise.
            client.status().then(
                () => {
                    opts.log?.(`${host}: agent answered`);
                    resolve(client);
                },
                async (probeErr: unknown) => {
                    const exit = await Promise.race([exited, delay(2000)]);
                    client.close();
                    reject(exit ?? probeErr);
                },
            );
        });
    });
}

function exitError(host: string, code: number | null, signal: string | undefined, stderr: string) {
    const tail = describeError(stderr).slice(-300);
    if (code === 127) {
        return new RemoteError(
            'agent-missing',
            host,
            `${host}: palisade-agent is not installed on the host (exit 127)` +
                (tail ? `: ${tail}` : ''),
        );
    }
    const how = signal ? `signal ${signal}` : `exit ${code ?? '?'}`;
    return new RemoteError(
        'agent-failed',
        host,
        `${host}: agent rpc ended (${how})${tail ? `: ${tail}` : ''}`,
    );
}

function delay(ms: number): Promise<undefined> {
    return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
