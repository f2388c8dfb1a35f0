// JSON-RPC 2.0 on a root-only unix socket. Each method is a boundary: errors become one
// JSON-RPC error for the caller and one detailed log line, never a crashed agent.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
    createMessageConnection,
    MessageConnection,
    ResponseError,
    StreamMessageReader,
    StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import type { Logger } from '../log';

export type Handler = (params: unknown) => unknown | Promise<unknown>;

export interface RpcServer {
    /** Send a notification to every connection that asked for it. */
    broadcast(method: string, params: unknown): void;
    close(): Promise<void>;
}

const SERVER_ERROR = -32000;

/** Refuse to start over a live agent; clear a socket file left by a dead one. */
async function clearStaleSocket(socketPath: string): Promise<void> {
    if (!fs.existsSync(socketPath)) return;
    const alive = await new Promise<boolean>((resolve) => {
        const probe = net.connect(socketPath);
        probe.once('connect', () => {
            probe.destroy();
            resolve(true);
        });
        probe.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`another agent is already serving ${socketPath}`);
    fs.rmSync(socketPath, { force: true });
}

export async function startRpcServer(
    socketPath: string,
    handlers: Record<string, Handler>,
    subscribeMethod: string,
    log: Logger,
): Promise<RpcServer> {
    fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
    await clearStaleSocket(socketPath);

    const subscribers = new Set<MessageConnection>();
    const connections = new Set<MessageConnection>();
    const sockets = new Set<net.Socket>();

    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        const conn = createMessageConnection(
            new StreamMessageReader(socket),
            new StreamMessageWriter(socket),
        );
        connections.add(conn);
        for (const [method, handler] of Object.entries(handlers)) {
            conn.onRequest(method, async (params: unknown) => {
                try {
                    return await handler(params);
                } catch (err) {
                    log.error('request failed', { method, error: String(err) });
                    throw new ResponseError(
                        SERVER_ERROR,
                        err instanceof Error ? err.message : String(err),
                    );
                }
            });
        }
        conn.onRequest(subscribeMethod, () => {
            subscribers.add(conn);
            return { subscribed: true };
        });
        const drop = () => {
            subscribers.delete(conn);
            connections.delete(conn);
            conn.dispose();
        };
        conn.onClose(drop);
        conn.onError(([err]) => log.debug('connection error', { error: String(err) }));
        socket.on('error', (err) => log.debug('socket error', { error: String(err) }));
        socket.on('close', drop);
        conn.listen();
    });

    // The socket is created 0600 so that only root can reach the agent.
    const oldUmask = process.umask(0o177);
    try {
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(socketPath, resolve);
        });
    } finally {
        process.umask(oldUmask);
    }
    fs.chmodSync(socketPath, 0o600);
    log.info('serving JSON-RPC', { socket: socketPath });

    return {
        broadcast(method, params) {
            for (const conn of subscribers) {
                conn.sendNotification(method, params).catch((err: unknown) => {
                    log.debug('notification dropped', { error: String(err) });
                });
            }
        },
        async close() {
            for (const conn of connections) conn.dispose();
            for (const socket of sockets) socket.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            fs.rmSync(socketPath, { force: true });
        },
    };
}
