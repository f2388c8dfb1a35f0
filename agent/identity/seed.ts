// What existed before the agent: live processes and the sockets they hold. The datapath
// never saw their exec or their socket's creation, so their events carry no image or no
// owner. Read /proc once at start (so a process that connects and exits right after our
// start is still named) and again on a miss.
import * as fs from 'node:fs';
import { procFacts, ProcFacts, procStartNs } from './system';

export interface SeededProcess extends ProcFacts {
    tgid: number;
    startNs: bigint;
}

const pids = (proc: string) =>
    fs
        .readdirSync(proc)
        .filter((d) => /^\d+$/.test(d))
        .map(Number);

/**
 * Exec facts of processes by instance (pid + start time). A cached entry is only ever
 * returned for the same instance, so a reused pid can never inherit a dead process's name.
 */
export class ProcessSeed {
    private readonly byInstance = new Map<string, SeededProcess>();

    constructor(
        private readonly proc = '/proc',
        private readonly max = 65_536,
    ) {}

    /** Reads every live process; returns what it found, e.g. for seeding kernel maps. */
    scan(): SeededProcess[] {
        const out: SeededProcess[] = [];
        for (const pid of pids(this.proc)) {
            const startNs = procStartNs(pid, this.proc);
            if (startNs === undefined) continue;
            const p = this.read(pid, startNs);
            if (p) out.push(p);
        }
        return out;
    }

    get(tgid: number, startNs: bigint): SeededProcess | undefined {
        return this.byInstance.get(instance(tgid, startNs)) ?? this.read(tgid, startNs);
    }

    get size(): number {
        return this.byInstance.size;
    }

    private read(tgid: number, startNs: bigint): SeededProcess | undefined {
        const facts = procFacts(tgid, startNs, this.proc);
        if (!facts) return undefined;
        if (this.byInstance.size >= this.max) this.prune();
        const p = { ...facts, tgid, startNs };
        this.byInstance.set(instance(tgid, startNs), p);
        return p;
    }

    /** Forget instances that are gone; they can no longer open sockets. */
    private prune(): void {
        for (const [key, p] of this.byInstance) {
            if (procStartNs(p.tgid, this.proc) !== p.startNs) this.byInstance.delete(key);
        }
    }
}

function instance(tgid: number, startNs: bigint): string {
    // /proc gives start times in clock ticks; the kernel in ns. Compare at tick precision.
    return `${tgid}:${startNs / 10_000_000n}`;
}

export interface SocketEntry {
    inode: string;
    protocol: 'tcp' | 'udp';
    listening: boolean;
    localPort: number;
    uid: number;
    /** Every process holding the socket (fork shares descriptors: nginx master and workers). */
    holders: { pid: number; startNs: bigint }[];
}

/**
 * Sockets of this network namespace and their holders, from /proc/net and fd links (the
 * same facts `ss -p` gets from sock_diag).
 */
export class SocketOwners {
    private sockets = new Map<string, SocketEntry>();
    private scannedAt = 0;

    constructor(private readonly proc = '/proc') {}

    scan(): SocketEntry[] {
        this.scannedAt = Date.now();
        const sockets = new Map<string, SocketEntry>();
        for (const file of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
            let text = '';
            try {
                text = fs.readFileSync(`${this.proc}/net/${file}`, 'utf8');
            } catch {
                continue;
            }
            for (const line of text.split('\n').slice(1)) {
                const cols = line.trim().split(/\s+/);
                const inode = cols[9];
                if (!inode || inode === '0') continue;
                const protocol = file.startsWith('tcp') ? 'tcp' : 'udp';
                sockets.set(inode, {
                    inode,
                    protocol,
                    // TCP LISTEN is state 0A; an unconnected UDP socket (07) serves too.
                    listening: cols[3] === '0A' || (protocol === 'udp' && cols[3] === '07'),
                    localPort: parseInt((cols[1] ?? '').split(':')[1] ?? '', 16),
                    uid: Number(cols[7]),
                    holders: [],
                });
            }
        }
        for (const pid of pids(this.proc)) {
            let fds: string[] = [];
            try {
                fds = fs.readdirSync(`${this.proc}/${pid}/fd`);
            } catch {
                continue;
            }
            const startNs = procStartNs(pid, this.proc);
            if (startNs === undefined) continue;
            for (const fd of fds) {
                let link = '';
                try {
                    link = fs.readlinkSync(`${this.proc}/${pid}/fd/${fd}`);
                } catch {
                    continue; // closed while we looked
                }
                const m = /^socket:\[(\d+)\]$/.exec(link);
                const entry = m?.[1] ? sockets.get(m[1]) : undefined;
                if (entry && !entry.holders.some((h) => h.pid === pid)) {
                    entry.holders.push({ pid, startNs });
                }
            }
        }
        this.sockets = sockets;
        return [...sockets.values()];
    }

    /** Holders of TCP listeners on `port`, rescanning (at most once a second) on a miss. */
    listeners(port: number): { pid: number; startNs: bigint }[] {
        let found = this.find(port);
        // A holder that is gone means the table is stale: a new process may own the port.
        const stale = found.some((h) => procStartNs(h.pid, this.proc) !== h.startNs);
        if ((found.length === 0 || stale) && Date.now() - this.scannedAt > 1000) {
            this.scan();
            found = this.find(port);
        }
        return found.filter((h) => procStartNs(h.pid, this.proc) === h.startNs);
    }

    private find(port: number): { pid: number; startNs: bigint }[] {
        const out: { pid: number; startNs: bigint }[] = [];
        for (const s of this.sockets.values()) {
            if (s.protocol === 'tcp' && s.listening && s.localPort === port) out.push(...s.holders);
        }
        return out;
    }
}
