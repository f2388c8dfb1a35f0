// Loads bpf/palisade.bpf.o, pins its maps and links, attaches the hooks and
// streams events. Bootstrap order: open → pin paths → load → attach → pin links
// → retire stale pins → poll. One cleanup path: close().
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import {
    bpf,
    c,
    copyOut,
    errorText,
    failed,
    koffi,
    lastError,
    PrintFn,
    Ptr,
    RingSampleFn,
} from './libbpf';
import {
    CgroupModeEntry,
    COUNTER_SLOTS,
    decodeDnsEvent,
    decodeEvent,
    EventType,
    type DnsEvent,
    decodeStats,
    encodeCgKey,
    encodeCgVal,
    encodeProc,
    encodeRuleKey,
    encodeRuleVal,
    FlowEvent,
    FlowStats,
    NamePattern,
    RuleEntry,
    SIZE,
} from './layout';

const NAME_KEY_SIZE = 128;

const TRACEPOINTS = ['pal_fork', 'pal_exec', 'pal_exit'];
const CGROUP_HOOKS = [
    'pal_sock_create',
    'pal_connect4',
    'pal_connect6',
    'pal_sendmsg4',
    'pal_sendmsg6',
    'pal_sockops',
    'pal_ingress',
];
const MAPS = [
    'pal_procs',
    'pal_images',
    'pal_flows',
    'pal_sk_owner',
    'pal_events',
    'pal_counters',
    'pal_gen',
    'pal_cg_mode',
    'pal_rules',
    'pal_udp_peers',
    'pal_dns_patterns',
    'pal_dns_addrs',
    'pal_config',
];
const BPF_NOEXIST = 1;

export interface DatapathOptions {
    objectPath: string;
    /** cgroup v2 directory whose subtree is observed. */
    cgroupPath: string;
    /** bpffs directory for this agent's pins. */
    pinDir: string;
    log: Logger;
}

export class DatapathError extends Error {
    constructor(
        readonly step: string,
        message: string,
    ) {
        super(`${step}: ${message}`);
    }
}

let printHook: bigint | undefined;

/** Route libbpf's own messages into our logger (once per process). */
function routeLibbpfLog(log: Logger): void {
    if (printHook !== undefined) return;
    // A verifier log comes in one message; its end, where the refusal is, must fit.
    const buf = Buffer.alloc(1 << 18);
    printHook = koffi.register((level: number, fmt: string, ap: Ptr) => {
        const n = c.vsnprintf(buf, buf.length, fmt, ap);
        const text = buf.toString('utf8', 0, Math.min(n, buf.length - 1)).trimEnd();
        if (level === 0) log.warn('libbpf', { text });
        else log.debug('libbpf', { text });
        return 0;
    }, koffi.pointer(PrintFn));
    bpf.setPrint(printHook);
}

export class Datapath {
    readonly attached: string[] = [];
    private obj: Ptr;
    private links: Ptr[] = [];
    private ring: Ptr;
    private ringCallback: bigint | undefined;
    private poller: { close(): void } | undefined;
    private cgroupFd = -1;
    private listeners: ((ev: FlowEvent) => void)[] = [];
    private dnsListeners: ((ev: DnsEvent) => void)[] = [];
    private readonly maps = new Map<string, Ptr>();
    private closed = false;

    private constructor(private readonly opts: DatapathOptions) {}

    static open(opts: DatapathOptions): Datapath {
        const dp = new Datapath(opts);
        try {
            dp.load();
            dp.attach();
            dp.startRing();
        } catch (err) {
            dp.close({ keepPins: false });
            throw err;
        }
        return dp;
    }

    onEvent(cb: (ev: FlowEvent) => void): void {
        this.listeners.push(cb);
    }

    /** DNS messages from port 53 arriving at observed sockets, as copied by the kernel. */
    onDns(cb: (ev: DnsEvent) => void): void {
        this.dnsListeners.push(cb);
    }

    private load(): void {
        const { objectPath, pinDir, log } = this.opts;
        routeLibbpfLog(log);
        fs.mkdirSync(path.join(pinDir, 'links'), { recursive: true, mode: 0o700 });
        // Enforcement state is adopted, observation state is not: with the last run's flow
        // keys, every recurring flow would count as a repeat and never reach this run.
        fs.rmSync(path.join(pinDir, 'pal_flows'), { force: true });

        for (let attempt = 0; attempt < 2; attempt++) {
            this.obj = bpf.objectOpenFile(objectPath, null);
            if (failed(this.obj)) throw new DatapathError('open', `${objectPath}: ${lastError()}`);
            for (const name of MAPS) {
                const map = bpf.findMap(this.obj, name);
                if (failed(map)) throw new DatapathError('open', `map ${name} missing in object`);
                this.maps.set(name, map);
                bpf.mapSetPinPath(map, path.join(pinDir, name));
            }
            const ret = bpf.objectLoad(this.obj);
            if (ret === 0) {
                this.configure();
                return;
            }

            bpf.objectClose(this.obj);
            this.obj = undefined;
            this.maps.clear();
            // Pinned maps from an older, incompatible build block reuse: drop them once.
            if (attempt === 0 && MAPS.some((m) => fs.existsSync(path.join(pinDir, m)))) {
                log.warn('pinned maps incompatible with this build; recreating them', { pinDir });
                for (const m of MAPS) fs.rmSync(path.join(pinDir, m), { force: true });
                continue;
            }
            throw new DatapathError(
                'load',
                `${errorText(ret)}; the verifier log is in the agent log`,
            );
        }
    }

    /** Settings the programs read (pal_config), from this network namespace. */
    private configure(): void {
        const value = Buffer.alloc(4);
        value.writeUInt32LE(ephemeralPortStart(this.opts.log));
        this.update(this.map('pal_config'), Buffer.alloc(4), value);
    }

    private attach(): void {
        const { cgroupPath, pinDir, log } = this.opts;
        this.cgroupFd = fs.openSync(cgroupPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);

        for (const name of [...TRACEPOINTS, ...CGROUP_HOOKS]) {
            const prog = bpf.findProgram(this.obj, name);
            if (failed(prog)) throw new DatapathError('attach', `program ${name} missing`);
            const link = CGROUP_HOOKS.includes(name)
                ? bpf.programAttachCgroup(prog, this.cgroupFd)
                : bpf.programAttach(prog);
            if (failed(link)) throw new DatapathError('attach', `${name}: ${lastError()}`);
            this.links.push(link);
            this.attached.push(name);

            // A pin left by a crashed agent still holds its attachment. The new link is
            // attached first, then the stale one is released: no gap, and one of each after.
            const pin = path.join(pinDir, 'links', name);
            if (fs.existsSync(pin)) {
                log.info('retiring stale link pin from an earlier run', { pin });
                fs.rmSync(pin);
            }
            const ret = bpf.linkPin(link, pin);
            if (ret !== 0) throw new DatapathError('pin', `${pin}: ${errorText(ret)}`);
        }
        log.info('datapath attached', { cgroup: cgroupPath, hooks: this.attached.length });
    }

    private startRing(): void {
        const fd = bpf.mapFd(this.maps.get('pal_events'));
        this.ringCallback = koffi.register((_ctx: Ptr, data: Ptr, size: number) => {
            this.dispatch(copyOut(data, Number(size)));
            return 0;
        }, koffi.pointer(RingSampleFn));
        this.ring = bpf.ringNew(fd, this.ringCallback, null, null);
        if (failed(this.ring)) throw new DatapathError('ring', lastError());

        // libuv watches the ring's epoll fd: no busy polling, no blocked event loop.
        const epollFd = bpf.ringEpollFd(this.ring);
        this.poller = koffi.node.poll(epollFd, { readable: true }, () => this.drain());
    }

    /** Consume everything queued in the ring buffer now. */
    drain(): void {
        if (this.ring && !this.closed) bpf.ringConsume(this.ring);
    }

    private dispatch(buf: Buffer): void {
        try {
            if (buf.length >= 4 && buf.readUInt32LE(0) === EventType.dns) {
                this.deliver(this.dnsListeners, decodeDnsEvent(buf));
            } else {
                this.deliver(this.listeners, decodeEvent(buf));
            }
        } catch (err) {
            this.opts.log.warn('undecodable event', { error: String(err) });
        }
    }

    private deliver<T>(listeners: ((ev: T) => void)[], ev: T): void {
        for (const cb of listeners) {
            try {
                cb(ev);
            } catch (err) {
                this.opts.log.error('event handler failed', { error: String(err) });
            }
        }
    }

    counters(): number[] {
        const map = this.maps.get('pal_counters');
        const key = Buffer.alloc(4);
        const value = Buffer.alloc(8);
        const out: number[] = [];
        for (let i = 0; i < COUNTER_SLOTS; i++) {
            key.writeUInt32LE(i);
            out.push(
                bpf.mapLookup(map, key, 4, value, 8, 0) === 0 ? Number(value.readBigUInt64LE()) : 0,
            );
        }
        return out;
    }

    /** Drop one flow key: its next connection becomes a first sighting again. */
    forgetFlow(rawKey: Buffer): void {
        bpf.mapDelete(this.map('pal_flows'), rawKey, SIZE.flowKey, 0);
    }

    /** Kernel counters of one flow key; undefined once evicted. */
    flowStats(rawKey: Buffer): FlowStats | undefined {
        const value = Buffer.alloc(SIZE.flowStats);
        const ret = bpf.mapLookup(
            this.maps.get('pal_flows'),
            rawKey,
            SIZE.flowKey,
            value,
            value.length,
            0,
        );
        return ret === 0 ? decodeStats(value) : undefined;
    }

    private map(name: string): Ptr {
        const m = this.maps.get(name);
        if (failed(m)) throw new DatapathError('map', `${name} is not loaded`);
        return m;
    }

    /** The policy generation the programs read now (pinned: survives restarts). */
    policyGeneration(): number {
        const value = Buffer.alloc(4);
        const ret = bpf.mapLookup(this.map('pal_gen'), Buffer.alloc(4), 4, value, 4, 0);
        return ret === 0 ? value.readUInt32LE() : 0;
    }

    /**
     * Swap in a whole policy: write every entry under the next generation, flip the
     * generation in one 4-byte write, then drop the old entries. Programs read either the
     * old rules or the new ones, never a mix; a failure before the flip changes nothing.
     */
    swapPolicy(
        cgroups: CgroupModeEntry[],
        rules: RuleEntry[],
        patterns: NamePattern[] = [],
    ): number {
        const old = this.policyGeneration();
        const gen = (old + 1) >>> 0;
        const cgMap = this.map('pal_cg_mode');
        const ruleMap = this.map('pal_rules');
        const patternMap = this.map('pal_dns_patterns');
        const written: [Ptr, Buffer][] = [];
        try {
            // Numbers are never reused for another name: writing them first is harmless.
            for (const p of patterns) {
                const v = Buffer.alloc(4);
                v.writeUInt32LE(p.id);
                this.update(patternMap, p.key, v);
            }
            for (const c of cgroups) {
                const k = encodeCgKey(c.cgroupId, gen);
                this.update(cgMap, k, encodeCgVal(c.app, c.mode));
                written.push([cgMap, k]);
            }
            for (const r of rules) {
                const k = encodeRuleKey(r, gen);
                this.update(ruleMap, k, encodeRuleVal(r.rule, r.verdict));
                written.push([ruleMap, k]);
            }
        } catch (err) {
            for (const [m, k] of written) bpf.mapDelete(m, k, k.length, 0);
            throw err;
        }
        const genValue = Buffer.alloc(4);
        genValue.writeUInt32LE(gen);
        this.update(this.map('pal_gen'), Buffer.alloc(4), genValue);
        this.dropOtherGenerations(cgMap, SIZE.cgKey, 8, gen);
        this.dropOtherGenerations(ruleMap, SIZE.ruleKey, 4, gen);
        const keep = new Set(patterns.map((p) => p.key.toString('hex')));
        for (const p of this.namePatterns()) {
            if (!keep.has(p.key.toString('hex'))) {
                bpf.mapDelete(patternMap, p.key, p.key.length, 0);
            }
        }
        return gen;
    }

    /** The `dns:` patterns the kernel holds now (kept from an earlier run, too). */
    namePatterns(): NamePattern[] {
        const map = this.map('pal_dns_patterns');
        const out: NamePattern[] = [];
        let cur: Buffer | null = null;
        const next = Buffer.alloc(NAME_KEY_SIZE);
        const value = Buffer.alloc(4);
        while (bpf.mapGetNextKey(map, cur, next, NAME_KEY_SIZE) === 0) {
            cur = Buffer.from(next);
            if (bpf.mapLookup(map, cur, NAME_KEY_SIZE, value, 4, 0) === 0) {
                out.push({ key: cur, id: value.readUInt32LE() });
            }
        }
        return out;
    }

    private update(map: Ptr, key: Buffer, value: Buffer, flags = 0): void {
        const ret = bpf.mapUpdate(map, key, key.length, value, value.length, flags);
        if (ret !== 0) throw new DatapathError('policy', `map update: ${errorText(ret)}`);
    }

    private dropOtherGenerations(map: Ptr, keySize: number, genOffset: number, gen: number): void {
        const stale: Buffer[] = [];
        let cur: Buffer | null = null;
        const next = Buffer.alloc(keySize);
        while (bpf.mapGetNextKey(map, cur, next, keySize) === 0) {
            if (next.readUInt32LE(genOffset) !== gen) stale.push(Buffer.from(next));
            cur = Buffer.from(next);
        }
        for (const k of stale) bpf.mapDelete(map, k, keySize, 0);
    }

    /** Record a process that predates the datapath, unless its exec was seen meanwhile. */
    seedProcess(tgid: number, startNs: bigint, progs: bigint[]): boolean {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(tgid);
        const value = encodeProc(startNs, 0n, progs);
        return bpf.mapUpdate(this.map('pal_procs'), key, 4, value, value.length, BPF_NOEXIST) === 0;
    }

    /**
     * Detach and release. A clean stop removes every pin: a stopped firewall leaves nothing
     * behind. keepPins is for tests that simulate a crash.
     */
    close({ keepPins = false } = {}): void {
        if (this.closed) return;
        this.closed = true;
        this.poller?.close();
        if (this.ring) bpf.ringFree(this.ring);
        if (this.ringCallback !== undefined) koffi.unregister(this.ringCallback);
        for (const link of this.links) {
            if (!keepPins) bpf.linkUnpin(link);
            bpf.linkDestroy(link);
        }
        this.links = [];
        if (!keepPins) {
            for (const name of MAPS) fs.rmSync(path.join(this.opts.pinDir, name), { force: true });
            fs.rmSync(path.join(this.opts.pinDir, 'links'), { recursive: true, force: true });
            try {
                fs.rmdirSync(this.opts.pinDir);
            } catch {
                // Not empty or already gone: someone else's pins stay untouched.
            }
        }
        if (this.obj) bpf.objectClose(this.obj);
        if (this.cgroupFd >= 0) fs.closeSync(this.cgroupFd);
        this.cgroupFd = -1;
    }
}

/**
 * The first port the kernel hands out to sockets bound to port 0: a UDP socket bound below
 * it that sends into the range is a server answering a client (bpf: udp_answer).
 */
function ephemeralPortStart(log: Logger): number {
    const file = '/proc/sys/net/ipv4/ip_local_port_range';
    try {
        const first = Number(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[0]);
        if (Number.isInteger(first) && first > 0 && first < 65536) return first;
        log.warn('unreadable ephemeral port range; assuming 32768', { file });
    } catch (err) {
        log.warn('no ephemeral port range; assuming 32768', { file, error: String(err) });
    }
    return 32768;
}
