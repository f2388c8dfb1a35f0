// Flows (each first sighting of a process instance talking to a destination) and the links
// they aggregate into by identity. Counts come from the kernel's per-key counters.
import { identityKey } from './fleet/identity';
import type {
    Direction,
    FlowRecord,
    HostLink,
    Identity,
    KernelProgram,
    Protocol,
    RemoteName,
} from './protocol';

export interface Observation {
    direction: Direction;
    protocol: Protocol;
    local: Identity;
    pid: number;
    startNs: bigint;
    remoteAddress: string;
    remoteName?: RemoteName;
    port: number;
    kernelProgram?: KernelProgram;
    /** The kernel map key, to refresh counts; absent for replayed data. */
    kernelKey?: Buffer;
    count: number;
    at: number;
}

interface Tracked {
    flow: FlowRecord;
    link: HostLink;
    lastKernelCount: number;
    changedAt: number;
}

/** A kernel flow key with no new connection for this long is no longer polled. */
const IDLE_MS = 60_000;

/** One process instance talking to one destination: what a flow record stands for. */
function instanceKey(f: Omit<FlowRecord, 'id' | 'host' | 'count' | 'firstSeen' | 'lastSeen'>) {
    return [
        f.direction,
        f.protocol,
        identityKey(f.local),
        f.pid,
        f.startNs,
        f.remoteAddress,
        f.port,
    ].join('|');
}

export class FlowTable {
    private readonly flowsList: FlowRecord[] = [];
    private readonly linkMap = new Map<string, HostLink>();
    private readonly tracked = new Map<string, Tracked>();
    private readonly changed = new Set<string>();
    /** Each flow by its process instance and destination: a later sighting continues it. */
    private readonly byInstance = new Map<string, FlowRecord>();
    private nextId = 1;
    /** Grows with every change to the flows, for whoever saves them. */
    private mutations = 0;

    constructor(
        private readonly host: string,
        private readonly maxFlows = 20_000,
    ) {}

    add(o: Observation): FlowRecord {
        // The kernel reports every refused attempt, also of a key it already counts: that
        // repeat is in the kernel's count, which refresh() folds in.
        const repeat = o.kernelKey && this.tracked.get(o.kernelKey.toString('hex'));
        if (repeat) {
            repeat.flow.lastSeen = Math.max(repeat.flow.lastSeen, o.at);
            if (o.remoteName) repeat.flow.remoteName = o.remoteName;
            return repeat.flow;
        }
        this.mutations++;
        const record: FlowRecord = {
            id: this.nextId,
            host: this.host,
            direction: o.direction,
            protocol: o.protocol,
            local: o.local,
            pid: o.pid,
            startNs: o.startNs.toString(),
            remoteAddress: o.remoteAddress,
            ...(o.remoteName ? { remoteName: o.remoteName } : {}),
            port: o.port,
            count: o.count,
            firstSeen: o.at,
            lastSeen: o.at,
            ...(o.kernelProgram ? { kernelProgram: o.kernelProgram } : {}),
        };
        // A key the kernel forgot, or one of an earlier run of the agent, seen again.
        const earlier = this.byInstance.get(instanceKey(record));
        const flow = earlier ?? record;
        if (earlier) {
            earlier.count += o.count;
            earlier.lastSeen = Math.max(earlier.lastSeen, o.at);
            if (o.remoteName) earlier.remoteName = o.remoteName;
        } else {
            this.nextId++;
            this.push(flow);
        }

        const link = this.linkFor(o, o.at);
        link.count += o.count;
        link.lastSeen = Math.max(link.lastSeen, o.at);
        if (o.remoteName) link.remoteName = o.remoteName;
        this.changed.add(link.key);

        if (o.kernelKey) {
            this.tracked.set(o.kernelKey.toString('hex'), {
                flow,
                link,
                lastKernelCount: o.count,
                changedAt: o.at,
            });
        }
        return flow;
    }

    /**
     * Flows recorded by an earlier run of the agent, oldest first, with their ids: the
     * table continues them, and a process that is still running continues its records.
     */
    restore(records: FlowRecord[]): void {
        for (const r of records) {
            if (r.id < this.nextId) continue;
            this.nextId = r.id + 1;
            this.push(r);
            const link = this.linkFor(r, r.firstSeen);
            link.count += r.count;
            link.firstSeen = Math.min(link.firstSeen, r.firstSeen);
            link.lastSeen = Math.max(link.lastSeen, r.lastSeen);
            if (r.remoteName) link.remoteName = r.remoteName;
            this.changed.add(link.key);
        }
    }

    /** What a restart must not lose, and how many changes it includes. */
    snapshot(): { flows: FlowRecord[]; version: number } {
        return { flows: [...this.flowsList], version: this.mutations };
    }

    private push(flow: FlowRecord): void {
        this.flowsList.push(flow);
        this.byInstance.set(instanceKey(flow), flow);
        if (this.flowsList.length > this.maxFlows) {
            for (const old of this.flowsList.splice(0, this.maxFlows / 10)) {
                this.byInstance.delete(instanceKey(old));
            }
        }
    }

    private linkFor(
        o: Pick<FlowRecord, 'direction' | 'protocol' | 'local' | 'remoteAddress' | 'port'>,
        at: number,
    ): HostLink {
        const key = [o.direction, o.protocol, identityKey(o.local), o.remoteAddress, o.port].join(
            '|',
        );
        let link = this.linkMap.get(key);
        if (!link) {
            link = {
                key,
                host: this.host,
                direction: o.direction,
                protocol: o.protocol,
                local: o.local,
                remoteAddress: o.remoteAddress,
                port: o.port,
                count: 0,
                firstSeen: at,
                lastSeen: at,
            };
            this.linkMap.set(key, link);
        }
        return link;
    }

    /**
     * Fold the kernel's repeat counts into flows and links. Keys idle for a minute are
     * forgotten on both sides (`forget` drops the kernel entry), so polling costs follow the
     * active flows, not every process that ever connected; a later connection of a
     * forgotten key is reported afresh and lands on the same link.
     */
    refresh(
        lookup: (raw: Buffer) => { count: bigint } | undefined,
        now: number,
        forget: (raw: Buffer) => void = () => undefined,
        used: (remoteAddress: string) => void = () => undefined,
    ): void {
        for (const [hex, t] of this.tracked) {
            const raw = Buffer.from(hex, 'hex');
            const stats = lookup(raw);
            if (!stats) {
                this.tracked.delete(hex);
                continue;
            }
            const count = Number(stats.count);
            const delta = count - t.lastKernelCount;
            if (delta <= 0) {
                if (now - t.changedAt > IDLE_MS) {
                    this.tracked.delete(hex);
                    forget(raw);
                }
                continue;
            }
            this.mutations++;
            t.lastKernelCount = count;
            t.changedAt = now;
            t.flow.count += delta;
            t.flow.lastSeen = now;
            t.link.count += delta;
            t.link.lastSeen = now;
            this.changed.add(t.link.key);
            used(t.flow.remoteAddress);
        }
    }

    flows(after = 0, limit = 1000): FlowRecord[] {
        const out = this.flowsList.filter((f) => f.id > after);
        return out.slice(0, limit);
    }

    links(): HostLink[] {
        return [...this.linkMap.values()];
    }

    /** Links changed since the last call. */
    takeChanged(): HostLink[] {
        const out: HostLink[] = [];
        for (const key of this.changed) {
            const link = this.linkMap.get(key);
            if (link) out.push(link);
        }
        this.changed.clear();
        return out;
    }

    get flowCount(): number {
        return this.nextId - 1;
    }

    get linkCount(): number {
        return this.linkMap.size;
    }
}
