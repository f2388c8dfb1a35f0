// One JSON-RPC session with one agent, whatever carries it (an SSH exec channel or the
// local unix socket). Callers see typed methods and one close signal, never the transport.
import { createConnection, type Socket } from 'node:net';
import {
    createMessageConnection,
    StreamMessageReader,
    StreamMessageWriter,
    type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
    Methods,
    Notifications,
    PolicyMethods,
    PolicyNotifications,
    type Alert,
    type ApplyParams,
    type ApplyResult,
    type AuditParams,
    type AuditRecord,
    type ReplayParams,
    type ReplayResult,
    type AgentStatus,
    type FlowRecord,
    type FlowsParams,
    type HostLink,
    type LinksChangedParams,
} from '../protocol';
import { RemoteError, describeError } from './errors';

export interface Disposable {
    dispose(): void;
}

export interface AgentClient {
    /** The name this client was opened with (ssh alias or socket path); used in messages. */
    readonly host: string;
    status(): Promise<AgentStatus>;
    flows(params?: FlowsParams): Promise<FlowRecord[]>;
    links(): Promise<HostLink[]>;
    /** Starts link notifications; disposing stops delivering them to this callback. */
    subscribe(onLinksChanged: (params: LinksChangedParams) => void): Promise<Disposable>;
    applyPolicy(params: ApplyParams): Promise<ApplyResult>;
    replay(params: ReplayParams): Promise<ReplayResult>;
    alerts(): Promise<Alert[]>;
    audit(params?: AuditParams): Promise<AuditRecord[]>;
    onAlert(cb: (alert: Alert) => void): Disposable;
    onAudit(cb: (record: AuditRecord) => void): Disposable;
    close(): void;
    /** Called once when the session ends, with the reason when it was not close(). */
    onClose(cb: (reason?: Error) => void): Disposable;
}

export const DEFAULT_AGENT_SOCKET = '/run/palisade/agent.sock';
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/**
 * Wraps streams in a client. `shutdown` releases the transport; `closed` lets the transport
 * report why it ended (e.g. the exec channel's exit status) before close callbacks run.
 */
export class JsonRpcAgentClient implements AgentClient {
    private readonly connection: MessageConnection;
    private readonly closeCallbacks = new Set<(reason?: Error) => void>();
    private closed = false;
    private closeReason: Error | undefined;

    constructor(
        readonly host: string,
        input: NodeJS.ReadableStream,
        output: NodeJS.WritableStream,
        private readonly shutdown: () => void,
        private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    ) {
        this.connection = createMessageConnection(
            new StreamMessageReader(input),
            new StreamMessageWriter(output),
        );
        this.connection.onClose(() => this.finish());
        this.connection.onError(([err]) => this.finish(err));
        this.connection.listen();
    }

    /** Records why the transport ended, for requests in flight and close callbacks. */
    fail(reason: Error): void {
        this.closeReason ??= reason;
        this.finish(reason);
    }

    status(): Promise<AgentStatus> {
        return this.request<AgentStatus>(Methods.status);
    }

    flows(params: FlowsParams = {}): Promise<FlowRecord[]> {
        return this.request<FlowRecord[]>(Methods.flows, params);
    }

    links(): Promise<HostLink[]> {
        return this.request<HostLink[]>(Methods.links);
    }

    async subscribe(onLinksChanged: (params: LinksChangedParams) => void): Promise<Disposable> {
        const handler = this.connection.onNotification(Notifications.linksChanged, onLinksChanged);
        try {
            await this.request<unknown>(Methods.subscribe);
        } catch (err) {
            handler.dispose();
            throw err;
        }
        // NOTE: the protocol has no unsubscribe; the agent stops sending when the session ends.
        return handler;
    }

    applyPolicy(params: ApplyParams): Promise<ApplyResult> {
        return this.request<ApplyResult>(PolicyMethods.apply, params);
    }

    replay(params: ReplayParams): Promise<ReplayResult> {
        return this.request<ReplayResult>(PolicyMethods.replay, params);
    }

    alerts(): Promise<Alert[]> {
        return this.request<Alert[]>(PolicyMethods.alerts, {});
    }

    audit(params: AuditParams = {}): Promise<AuditRecord[]> {
        return this.request<AuditRecord[]>(PolicyMethods.audit, params);
    }

    /** Alerts and audit records as they happen; delivered once subscribe() was called. */
    onAlert(cb: (alert: Alert) => void): Disposable {
        return this.connection.onNotification(PolicyNotifications.alert, cb);
    }

    onAudit(cb: (record: AuditRecord) => void): Disposable {
        return this.connection.onNotification(PolicyNotifications.audit, cb);
    }

    close(): void {
        this.finish();
    }

    onClose(cb: (reason?: Error) => void): Disposable {
        if (this.closed) {
            queueMicrotask(() => cb(this.closeReason));
            return { dispose: () => undefined };
        }
        this.closeCallbacks.add(cb);
        return { dispose: () => this.closeCallbacks.delete(cb) };
    }

    private async request<T>(method: string, params?: unknown): Promise<T> {
        if (this.closed) throw this.closedError(method);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => {
                reject(new RemoteError('timeout', this.host, `${this.host}: ${method} timed out`));
            }, this.timeoutMs);
        });
        let closeWatch: Disposable | undefined;
        const closedEarly = new Promise<never>((_resolve, reject) => {
            closeWatch = this.onClose(() => reject(this.closedError(method)));
        });
        try {
            const call =
                params === undefined
                    ? this.connection.sendRequest<T>(method)
                    : this.connection.sendRequest<T>(method, params);
            return await Promise.race([call, timeout, closedEarly]);
        } catch (err) {
            if (err instanceof RemoteError) throw err;
            if (this.closed) throw this.closedError(method);
            throw new RemoteError(
                'agent-failed',
                this.host,
                `${this.host}: ${method}: ${describeError(err)}`,
            );
        } finally {
            clearTimeout(timer);
            closeWatch?.dispose();
        }
    }

    private closedError(method: string): RemoteError {
        if (this.closeReason instanceof RemoteError) return this.closeReason;
        const why = this.closeReason ? `: ${describeError(this.closeReason)}` : '';
        return new RemoteError(
            'closed',
            this.host,
            `${this.host}: connection closed during ${method}${why}`,
        );
    }

    private finish(reason?: Error): void {
        if (this.closed) return;
        this.closed = true;
        this.closeReason ??= reason;
        // Give the transport a moment to report an exit status before callbacks read it.
        setImmediate(() => {
            for (const cb of this.closeCallbacks) cb(this.closeReason);
            this.closeCallbacks.clear();
        });
        this.connection.dispose();
        this.shutdown();
    }
}

export function connectLocalAgent(
    socketPath: string = process.env.PALISADE_SOCKET ?? DEFAULT_AGENT_SOCKET,
): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
        const socket: Socket = createConnection(socketPath);
        socket.once('error', (err: NodeJS.ErrnoException) => reject(localError(socketPath, err)));
        socket.once('connect', () => {
            socket.removeAllListeners('error');
            const client = new JsonRpcAgentClient(socketPath, socket, socket, () =>
                socket.destroy(),
            );
            socket.on('error', (err) => client.fail(localError(socketPath, err)));
            socket.on('close', () => client.close());
            resolve(client);
        });
    });
}

function localError(socketPath: string, err: NodeJS.ErrnoException): RemoteError {
    switch (err.code) {
        case 'ENOENT':
        case 'ECONNREFUSED':
            return new RemoteError(
                'agent-missing',
                socketPath,
                `no agent listening on ${socketPath} (${err.code}); is palisade-agent running?`,
            );
        case 'EACCES':
            return new RemoteError(
                'permission',
                socketPath,
                `${socketPath}: permission denied (run as root)`,
            );
        default:
            return new RemoteError('unreachable', socketPath, `${socketPath}: ${err.message}`);
    }
}
