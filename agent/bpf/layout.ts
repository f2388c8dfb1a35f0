// Mirror of bpf/palisade.h. Offsets are checked against the object's BTF by
// test/root/datapath.test.ts; change both files together.

export const PATH_LEN = 256;
export const ARGS_LEN = 256;

export const ImageFlags = {
    script: 1 << 0,
    exeTruncated: 1 << 1,
    cwdTruncated: 1 << 2,
    parentKnown: 1 << 3,
} as const;

export const EventFlags = {
    hasImage: 1 << 0,
    noOwner: 1 << 1,
} as const;

export const Counter = {
    events: 0,
    ringFull: 1,
    noImage: 2,
    execs: 3,
    flowHits: 4,
    allow: 5,
    wouldDeny: 6,
    deny: 7,
} as const;
export const COUNTER_SLOTS = 8;

export const SIZE = {
    image: 1328,
    flowKey: 48,
    flowStats: 24,
    event: 1416,
    dnsEvent: 4176,
    proc: 48,
    cgKey: 16,
    cgVal: 8,
    ruleKey: 48,
    ruleVal: 8,
} as const;

/** What the datapath did with a flow (pal_event.outcome). */
export const Outcome = { observed: 0, allow: 1, wouldDeny: 2, deny: 3 } as const;
export const ModeCode = { none: 0, monitor: 1, enforce: 2 } as const;
export const VerdictCode = { none: 0, allow: 1, deny: 2 } as const;
export const RULE_FIXED_BITS = 28 * 8;
/** pal_rule_key.family of a rule keyed by a `dns:` pattern's number (PAL_FAMILY_NAME). */
export const NAME_FAMILY = 9;
const NAME_LEN = 128;

export interface NamePattern {
    key: Buffer;
    id: number;
}

/**
 * The key of a `dns:` pattern in pal_dns_patterns: the name's bytes last to first, ASCII
 * lowercased, `.suffix` for `*.suffix`; undefined when longer than the kernel compares.
 */
export function encodeNamePattern(pattern: string): Buffer | undefined {
    const name = pattern.replace(/\.$/, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
    const text = Buffer.from(name.startsWith('*.') ? name.slice(1) : name, 'utf8').reverse();
    if (text.length === 0 || text.length > NAME_LEN) return undefined;
    const key = Buffer.alloc(NAME_LEN);
    text.copy(key);
    return key;
}
export const PROGS = 4;

export interface Image {
    imageId: bigint;
    startNs: bigint;
    cgroupId: bigint;
    tgid: number;
    ppid: number;
    uid: number;
    euid: number;
    flags: number;
    exe: string;
    filename: string;
    cwd: string;
    args: string[];
    parentExe: string;
}

export interface FlowKey {
    startNs: bigint;
    imageId: bigint;
    tgid: number;
    family: 4 | 6;
    proto: number;
    direction: 0 | 1;
    port: number;
    address: string;
    /** The raw key, to look its counters up in the kernel map. */
    raw: Buffer;
}

export interface FlowEvent {
    type: number;
    flags: number;
    key: FlowKey;
    tsNs: bigint;
    cgroupId: bigint;
    uid: number;
    euid: number;
    image?: Image;
    rule: number;
    outcome: number;
    mode: number;
    remotePort: number;
}

export interface FlowStats {
    count: bigint;
    firstNs: bigint;
    lastNs: bigint;
}

function cstr(buf: Buffer, off: number, len: number): string {
    const end = buf.indexOf(0, off);
    const stop = end === -1 || end > off + len ? off + len : end;
    return buf.toString('utf8', off, stop);
}

export function formatAddress(family: 4 | 6, bytes: Buffer): string {
    if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    // Compress the longest run of zero groups, as RFC 5952 asks.
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
        if (groups[i] !== '0') {
            i++;
            continue;
        }
        let j = i;
        while (j < 8 && groups[j] === '0') j++;
        if (j - i > bestLen && j - i > 1) {
            best = i;
            bestLen = j - i;
        }
        i = j;
    }
    if (best === -1) return groups.join(':');
    const head = groups.slice(0, best).join(':');
    const tail = groups.slice(best + bestLen).join(':');
    return `${head}::${tail}`;
}

export function decodeFlowKey(buf: Buffer, off = 0): FlowKey {
    const family = buf.readUInt8(off + 20) === 6 ? 6 : 4;
    return {
        startNs: buf.readBigUInt64LE(off),
        imageId: buf.readBigUInt64LE(off + 8),
        tgid: buf.readUInt32LE(off + 16),
        family,
        proto: buf.readUInt8(off + 21),
        direction: buf.readUInt8(off + 22) === 1 ? 1 : 0,
        port: buf.readUInt16LE(off + 24),
        address: formatAddress(family, buf.subarray(off + 28, off + 44)),
        raw: Buffer.from(buf.subarray(off, off + SIZE.flowKey)),
    };
}

export function decodeImage(buf: Buffer, off = 0): Image {
    const argsLen = Math.min(buf.readUInt32LE(off + 44), ARGS_LEN);
    const argBytes = buf.subarray(off + 816, off + 816 + argsLen);
    const args = argBytes.toString('utf8').split('\0');
    if (args.length > 0 && args[args.length - 1] === '') args.pop();
    return {
        imageId: buf.readBigUInt64LE(off),
        startNs: buf.readBigUInt64LE(off + 8),
        cgroupId: buf.readBigUInt64LE(off + 16),
        tgid: buf.readUInt32LE(off + 24),
        ppid: buf.readUInt32LE(off + 28),
        uid: buf.readUInt32LE(off + 32),
        euid: buf.readUInt32LE(off + 36),
        flags: buf.readUInt32LE(off + 40),
        exe: cstr(buf, off + 48, PATH_LEN),
        filename: cstr(buf, off + 304, PATH_LEN),
        cwd: cstr(buf, off + 560, PATH_LEN),
        args,
        parentExe: cstr(buf, off + 1072, PATH_LEN),
    };
}

export function decodeEvent(buf: Buffer): FlowEvent {
    if (buf.length < SIZE.event) throw new Error(`short event: ${buf.length} bytes`);
    const flags = buf.readUInt32LE(4);
    return {
        type: buf.readUInt32LE(0),
        flags,
        key: decodeFlowKey(buf, 8),
        tsNs: buf.readBigUInt64LE(56),
        cgroupId: buf.readBigUInt64LE(64),
        uid: buf.readUInt32LE(72),
        euid: buf.readUInt32LE(76),
        image: flags & EventFlags.hasImage ? decodeImage(buf, 80) : undefined,
        rule: buf.readUInt32LE(1408),
        outcome: buf.readUInt8(1412),
        mode: buf.readUInt8(1413),
        remotePort: buf.readUInt16LE(1414),
    };
}

export const EventType = { flow: 1, dns: 2 } as const;

/** A DNS message from port 53 that reached a local socket (pal_dns_event). */
export interface DnsEvent {
    tsNs: bigint;
    cgroupId: bigint;
    cookie: bigint;
    protocol: 'udp' | 'tcp';
    server: string;
    client: string;
    serverPort: number;
    clientPort: number;
    /** TCP: the sequence number of payload[0]. */
    seq: number;
    /** The copied payload; shorter than the packet's when `truncated`. */
    payload: Buffer;
    truncated: boolean;
}

export function decodeDnsEvent(buf: Buffer): DnsEvent {
    if (buf.length < SIZE.dnsEvent) throw new Error(`short dns event: ${buf.length} bytes`);
    const family = buf.readUInt8(32) === 6 ? 6 : 4;
    const len = Math.min(buf.readUInt16LE(38), SIZE.dnsEvent - 80);
    return {
        tsNs: buf.readBigUInt64LE(8),
        cgroupId: buf.readBigUInt64LE(16),
        cookie: buf.readBigUInt64LE(24),
        protocol: buf.readUInt8(33) === 6 ? 'tcp' : 'udp',
        serverPort: buf.readUInt16LE(34),
        clientPort: buf.readUInt16LE(36),
        seq: buf.readUInt32LE(40),
        server: formatAddress(family, buf.subarray(48, 64)),
        client: formatAddress(family, buf.subarray(64, 80)),
        payload: Buffer.from(buf.subarray(80, 80 + len)),
        truncated: (buf.readUInt32LE(4) & 1) !== 0,
    };
}

export function decodeStats(buf: Buffer): FlowStats {
    return {
        count: buf.readBigUInt64LE(0),
        firstNs: buf.readBigUInt64LE(8),
        lastNs: buf.readBigUInt64LE(16),
    };
}

export interface CgroupModeEntry {
    cgroupId: bigint;
    app: number;
    mode: number;
}

export interface RuleEntry {
    cgroupId: bigint;
    /** Program hash, 0n for any program (ingress rules always 0n). */
    prog: bigint;
    direction: 0 | 1;
    proto: number;
    port: number;
    /** 4, 6, or NAME_FAMILY for a `dns:` pattern's number (see bpf/palisade.h). */
    family: 4 | 6 | typeof NAME_FAMILY;
    /** 4 or 16 bytes. */
    addr: Buffer;
    /** Address prefix length in bits. */
    prefix: number;
    rule: number;
    verdict: number;
}

export function encodeCgKey(cgroupId: bigint, gen: number): Buffer {
    const b = Buffer.alloc(SIZE.cgKey);
    b.writeBigUInt64LE(cgroupId, 0);
    b.writeUInt32LE(gen, 8);
    return b;
}

export function encodeCgVal(app: number, mode: number): Buffer {
    const b = Buffer.alloc(SIZE.cgVal);
    b.writeUInt32LE(app, 0);
    b.writeUInt32LE(mode, 4);
    return b;
}

export function encodeRuleKey(r: RuleEntry, gen: number): Buffer {
    const b = Buffer.alloc(SIZE.ruleKey);
    b.writeUInt32LE(RULE_FIXED_BITS + r.prefix, 0);
    b.writeUInt32LE(gen, 4);
    b.writeBigUInt64LE(r.cgroupId, 8);
    b.writeBigUInt64LE(r.prog, 16);
    b.writeUInt8(r.direction, 24);
    b.writeUInt8(r.proto, 25);
    b.writeUInt16LE(r.port, 26);
    b.writeUInt8(r.family, 28);
    r.addr.copy(b, 32, 0, Math.min(16, r.addr.length));
    return b;
}

export function encodeRuleVal(rule: number, verdict: number): Buffer {
    const b = Buffer.alloc(SIZE.ruleVal);
    b.writeUInt32LE(rule, 0);
    b.writeUInt32LE(verdict, 4);
    return b;
}

export function encodeProc(startNs: bigint, imageId: bigint, progs: bigint[]): Buffer {
    const b = Buffer.alloc(SIZE.proc);
    b.writeBigUInt64LE(startNs, 0);
    b.writeBigUInt64LE(imageId, 8);
    for (let i = 0; i < PROGS; i++) b.writeBigUInt64LE(progs[i] ?? 0n, 16 + i * 8);
    return b;
}
