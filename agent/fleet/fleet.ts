// The live fleet: one AgentClient per host, their statuses and links, joined into one graph
// whenever something changes. A host that fails is shown as unreachable with the reason;
// it never takes the rest of the graph down with it.
import type { AgentStatus, FleetGraph, FleetHost, HostLink } from '../protocol';
import type { AgentClient, Disposable } from '../remote/agentClient';
import { describeError } from '../remote/errors';
import { joinFleet } from './join';

interface Member {
    name: string;
    client?: AgentClient;
    status?: AgentStatus;
    links: Map<string, HostLink>;
    problem?: string;
    disposables: Disposable[];
}

export interface FleetOptions {
    /** Link notifications arrive in bursts; one graph per burst is enough. */
    debounceMs?: number;
    log?: (message: string) => void;
}

export class Fleet {
    private readonly members = new Map<string, Member>();
    private readonly listeners = new Set<(graph: FleetGraph) => void>();
    private timer: NodeJS.Timeout | undefined;
    private disposed = false;

    constructor(private readonly opts: FleetOptions = {}) {}

    /**
     * Adds a connected host, loads its status and links and subscribes to changes.
     * Resolves once the host is loaded (or marked unreachable); never rejects.
     */
    async add(name: string, client: AgentClient): Promise<void> {
        this.remove(name);
        const member: Member = { name, client, links: new Map(), disposables: [] };
        this.members.set(name, member);
        member.disposables.push(
            client.onClose((reason) => {
                if (this.members.get(name) !== member) return;
                member.client = undefined;
                member.problem = reason ? describeError(reason) : `${name}: connection closed`;
                this.schedule();
            }),
        );

        try {
            const [status, links] = await Promise.all([client.status(), client.links()]);
            member.status = status;
            member.links = new Map(links.map((l) => [l.key, l]));
            const sub = await client.subscribe((change) => {
                for (const link of change.links) member.links.set(link.key, link);
                this.schedule();
            });
            member.disposables.push(sub);
        } catch (err) {
            member.problem = describeError(err);
            this.opts.log?.(`fleet: ${member.problem}`);
        }
        this.schedule();
    }

    /** Records a host that could not be connected, so the graph still lists it. */
    addUnreachable(name: string, error: unknown): void {
        this.remove(name);
        this.members.set(name, {
            name,
            links: new Map(),
            problem: describeError(error),
            disposables: [],
        });
        this.schedule();
    }

    remove(name: string): void {
        const member = this.members.get(name);
        if (!member) return;
        this.members.delete(name);
        for (const d of member.disposables) d.dispose();
        member.client?.close();
        this.schedule();
    }

    hosts(): string[] {
        return [...this.members.keys()];
    }

    client(name: string): AgentClient | undefined {
        return this.members.get(name)?.client;
    }

    /** Re-reads status and links from every connected host and returns the new graph. */
    async refresh(): Promise<FleetGraph> {
        await Promise.all(
            [...this.members.values()].map(async (m) => {
                if (!m.client) return;
                try {
                    const [status, links] = await Promise.all([
                        m.client.status(),
                        m.client.links(),
                    ]);
                    m.status = status;
                    m.links = new Map(links.map((l) => [l.key, l]));
                    m.problem = undefined;
                } catch (err) {
                    m.problem = describeError(err);
                }
            }),
        );
        const graph = this.graph();
        this.emit(graph);
        return graph;
    }

    graph(): FleetGraph {
        const views: { status: AgentStatus; links: HostLink[] }[] = [];
        const unreachable: FleetHost[] = [];
        for (const m of this.members.values()) {
            if (m.status && m.client && !m.problem) {
                views.push({ status: m.status, links: [...m.links.values()] });
            } else {
                unreachable.push({
                    name: m.status?.host ?? m.name,
                    addresses: m.status?.addresses ?? [],
                    health: 'unreachable',
                    problems: [m.problem ?? `${m.name}: not connected`],
                });
            }
        }
        return joinFleet(views, unreachable);
    }

    onGraph(cb: (graph: FleetGraph) => void): Disposable {
        this.listeners.add(cb);
        return { dispose: () => this.listeners.delete(cb) };
    }

    dispose(): void {
        this.disposed = true;
        clearTimeout(this.timer);
        for (const name of [...this.members.keys()]) this.remove(name);
        this.listeners.clear();
    }

    private schedule(): void {
        if (this.disposed) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.emit(this.graph()), this.opts.debounceMs ?? 200);
    }

    private emit(graph: FleetGraph): void {
        clearTimeout(this.timer);
        for (const cb of this.listeners) {
            try {
                cb(graph);
            } catch (err) {
                this.opts.log?.(`fleet: graph listener failed: ${describeError(err)}`);
            }
        }
    }
}
