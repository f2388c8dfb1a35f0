// Evaluates a flow against compiled policy the way the datapath does (same entries, same
// lookup order, longest prefix), for replay and for tests that compare with the kernel.
import { ModeCode, Outcome, RuleEntry, VerdictCode } from '../bpf/layout';
import { addressBytes, AddressBytes } from './address';
import type { Compiled } from './compile';

export interface FlowFacts {
    direction: 'egress' | 'ingress';
    protocol: 'tcp' | 'udp';
    cgroupId: bigint;
    /** The process's program hashes as pal_proc holds them (see kernelHashes). */
    programs?: bigint[];
    remoteAddress: string;
    port: number;
}

export interface Evaluation {
    mode: number;
    outcome: number;
    rule: number;
}

function prefixMatch(a: Buffer, b: Buffer, bits: number): boolean {
    for (let i = 0; i < bits; i++) {
        const byte = i >> 3;
        const mask = 0x80 >> (i & 7);
        if (((a[byte] ?? 0) & mask) !== ((b[byte] ?? 0) & mask)) return false;
    }
    return true;
}

export class Evaluator {
    private readonly governed = new Map<bigint, { app: number; mode: number }>();

    constructor(private readonly compiled: Compiled) {
        for (const c of compiled.cgroups)
            this.governed.set(c.cgroupId, { app: c.app, mode: c.mode });
    }

    evaluate(f: FlowFacts): Evaluation {
        const g = this.governed.get(f.cgroupId);
        if (!g) return { mode: ModeCode.none, outcome: Outcome.observed, rule: 0 };
        const peer = addressBytes(f.remoteAddress);
        const proto = f.protocol === 'tcp' ? 6 : 17;
        const direction = f.direction === 'egress' ? 0 : 1;
        // The datapath tries the process's own program hashes first, then "any program".
        const progs = direction === 0 ? (f.programs ?? []).filter((h) => h !== 0n) : [];
        progs.push(0n);

        let match: RuleEntry | undefined;
        for (const prog of progs) {
            match = this.lookup(f.cgroupId, prog, direction, proto, f.port, peer);
            if (match) break;
        }
        if (match?.verdict === VerdictCode.allow) {
            return { mode: g.mode, outcome: Outcome.allow, rule: match.rule };
        }
        const outcome = g.mode === ModeCode.enforce ? Outcome.deny : Outcome.wouldDeny;
        return { mode: g.mode, outcome, rule: match?.rule ?? 0 };
    }

    private lookup(
        cgroupId: bigint,
        prog: bigint,
        direction: number,
        proto: number,
        port: number,
        peer: AddressBytes | undefined,
    ): RuleEntry | undefined {
        if (!peer) return undefined;
        let best: RuleEntry | undefined;
        for (const r of this.compiled.rules) {
            if (r.cgroupId !== cgroupId || r.prog !== prog || r.direction !== direction) continue;
            if (r.proto !== proto || r.port !== port || r.family !== peer.family) continue;
            if (!prefixMatch(r.addr, peer.bytes, r.prefix)) continue;
            if (!best || r.prefix > best.prefix) best = r;
        }
        return best;
    }
}
