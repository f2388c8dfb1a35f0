// Names the local end of a flow. Kernel-recorded exec facts come first; /proc is read only
// for processes that predate the datapath, and only after proving it is the same process
// instance. When neither works the answer is `unknown`, never a guess.
import * as path from 'node:path';
import type { Identity, KernelProgram, ProcessIdentity } from '../protocol';
import { EventFlags, FlowEvent, Image, ImageFlags } from '../bpf/layout';
import { cgroupContext } from './context';
import { ExecFacts, kernelProgramOf, Program, programOf } from './program';
import { ProcessSeed, SeededProcess, SocketOwners } from './seed';
import { renderSpiffe } from './spiffe';
import { BuildHistory, stablePath } from './stable';
import { Cgroups, isKernelThread, Users } from './system';

export interface ResolverOptions {
    host: string;
    zone: string;
    /** cgroup2 mount point and the guarded cgroup below it (absolute paths). */
    cgroupMount: string;
    cgroupRoot: string;
    proc?: string;
    /** Read live processes and sockets at construction (default true). */
    seedAtStart?: boolean;
}

export interface Resolved {
    identity: Identity;
    pid: number;
    startNs: bigint;
    /** The owner could not be named. */
    miss: boolean;
    /** What the kernel names the process by in policy, when it is one. */
    kernelProgram?: KernelProgram;
}

interface Facts {
    program: Program;
    kernelProgram: KernelProgram;
    parent?: string;
    euid: number;
    /** cgroup v2 path relative to the mount, when known as a path rather than an id. */
    cgroupPath?: string;
    cgroupId: bigint;
}

type UnknownReason = 'exited' | 'kernel' | 'unattributed';

/** What naming needs from a datapath event. */
export type OwnerEvent = Pick<FlowEvent, 'key' | 'flags' | 'image' | 'euid' | 'cgroupId'>;

export class IdentityResolver {
    private readonly users = new Users();
    private readonly cgroups: Cgroups;
    private readonly rootRel: string;
    private readonly proc: string;
    private readonly processes: ProcessSeed;
    private readonly sockets: SocketOwners;
    private readonly builds = new BuildHistory();

    constructor(private readonly opts: ResolverOptions) {
        this.cgroups = new Cgroups(opts.cgroupMount);
        this.rootRel = '/' + path.relative(opts.cgroupMount, opts.cgroupRoot);
        this.proc = opts.proc ?? '/proc';
        this.processes = new ProcessSeed(this.proc);
        this.sockets = new SocketOwners(this.proc);
        if (opts.seedAtStart ?? true) this.seed();
    }

    /**
     * Reads the processes and sockets that exist now, before any event arrives, so that a
     * pre-existing process that connects and exits at once is still named.
     */
    seed(): { processes: SeededProcess[]; sockets: number } {
        const processes = this.processes.scan();
        return { processes, sockets: this.sockets.scan().length };
    }

    resolve(ev: OwnerEvent): Resolved {
        const { key } = ev;
        if (ev.image) {
            const img = ev.image;
            return this.named(this.imageFacts(img, ev), key.tgid, key.startNs);
        }

        // An accepted socket whose listener predates us carries no owner: its listener, in
        // this network namespace, is long-lived and still there.
        if (ev.flags & EventFlags.noOwner) {
            const holders = this.sockets.listeners(key.port);
            const owners = holders
                .map((h) => this.processes.get(h.pid, h.startNs))
                .filter((p): p is SeededProcess => p !== undefined);
            // Holders of one listener are forks of one program (nginx master and workers);
            // different programs on one port (SO_REUSEPORT, other addresses) are ambiguous.
            const programs = new Set(owners.map((p) => JSON.stringify(programOf(p))));
            const owner = owners[0];
            if (!owner || programs.size !== 1) return this.miss('unattributed', 0, 0n);
            return this.named(this.procFacts(owner), owner.tgid, owner.startNs);
        }

        if (key.tgid === 0) return this.miss('kernel', 0, 0n);
        const p = this.processes.get(key.tgid, key.startNs);
        if (!p) {
            const reason = isKernelThread(key.tgid, this.proc) ? 'kernel' : 'exited';
            return this.miss(reason, key.tgid, key.startNs);
        }
        // The account and cgroup at connect time, not at our /proc read.
        return this.named(
            { ...this.procFacts(p), euid: ev.euid, cgroupId: ev.cgroupId },
            key.tgid,
            key.startNs,
        );
    }

    private imageFacts(img: Image, ev: OwnerEvent): Facts {
        const exec: ExecFacts = {
            exe: img.exe,
            filename: img.filename,
            cwd: img.cwd,
            args: img.args,
            viaInterpreter: (img.flags & ImageFlags.script) !== 0,
        };
        return {
            program: programOf(exec),
            kernelProgram: kernelProgramOf(exec),
            ...(img.flags & ImageFlags.parentKnown ? { parent: img.parentExe } : {}),
            // The effective uid at connect time is the account the flow runs as.
            euid: ev.euid,
            cgroupId: ev.cgroupId || img.cgroupId,
        };
    }

    private procFacts(p: SeededProcess): Facts {
        return {
            program: programOf(p),
            // What the seed wrote into the kernel for it (agent/seed.ts).
            kernelProgram: kernelProgramOf(p),
            ...(p.parentExe ? { parent: p.parentExe } : {}),
            euid: p.euid,
            ...(p.cgroup ? { cgroupPath: p.cgroup } : {}),
            cgroupId: 0n,
        };
    }

    private named(f: Facts, pid: number, startNs: bigint): Resolved {
        const { zone, host } = this.opts;
        const stable = stablePath(f.program.binary);
        const full = f.cgroupId ? this.cgroups.pathOf(f.cgroupId) : f.cgroupPath;
        const ctx = full === undefined ? {} : cgroupContext(full);
        const identity: ProcessIdentity = {
            kind: 'process',
            zone,
            host,
            ...f.program,
            binary: stable.key,
            ...(f.parent ? { parent: f.parent } : {}),
            user: this.users.name(f.euid),
            uid: f.euid,
            ...(ctx.unit ? { unit: ctx.unit } : {}),
            cgroup: full === undefined ? `id:${f.cgroupId}` : this.relative(full),
            ...(ctx.slice ? { slice: ctx.slice } : {}),
            ...(ctx.container ? { container: ctx.container } : {}),
            ...(ctx.pod ? { pod: ctx.pod } : {}),
            ...(stable.build ? { build: stable.build } : {}),
        };
        const previous = this.builds.observe(
            JSON.stringify([stable.key, f.program.script ?? '']),
            stable.build ?? stable.key,
        );
        if (previous !== undefined) identity.previousBuild = previous;
        try {
            identity.spiffe = renderSpiffe({
                zone,
                host,
                ...(identity.unit ? { unit: identity.unit } : {}),
                ...(identity.script ? { script: identity.script } : {}),
                binary: identity.binary,
            });
        } catch {
            // A zone that is not a valid trust domain: the identity stands without the URI.
        }
        return { identity, pid, startNs, miss: false, kernelProgram: f.kernelProgram };
    }

    /** cgroup path relative to the guarded cgroup, as the identity shows it. */
    private relative(full: string): string {
        const root = this.rootRel;
        if (root === '/' || (full !== root && !full.startsWith(root + '/'))) return full;
        return full.slice(root.length) || '/';
    }

    private miss(reason: UnknownReason, pid: number, startNs: bigint): Resolved {
        return {
            identity: { kind: 'unknown', reason, host: this.opts.host },
            pid,
            startNs,
            miss: true,
        };
    }
}
