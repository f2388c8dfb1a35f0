// Names the local end of a flow. Kernel-recorded exec facts come first; /proc is read only
// for processes that predate the datapath, and only after proving it is the same process
// instance. When neither works the answer is `unknown`, never a guess.
import * as path from 'node:path';
import type { Identity, ProcessIdentity } from '../protocol';
import { EventFlags, FlowEvent, Image, ImageFlags } from '../bpf/layout';
import { programOf, unitOf } from './program';
import { Cgroups, listenerPid, procFacts, procStartNs, Users } from './system';

export interface ResolverOptions {
    host: string;
    zone: string;
    /** cgroup2 mount point and the guarded cgroup below it (absolute paths). */
    cgroupMount: string;
    cgroupRoot: string;
    proc?: string;
}

export interface Resolved {
    identity: Identity;
    pid: number;
    startNs: bigint;
    /** The owner could not be named. */
    miss: boolean;
}

export class IdentityResolver {
    private readonly users = new Users();
    private readonly cgroups: Cgroups;
    private readonly rootRel: string;
    private readonly proc: string;

    constructor(private readonly opts: ResolverOptions) {
        this.cgroups = new Cgroups(opts.cgroupMount);
        this.rootRel = '/' + path.relative(opts.cgroupMount, opts.cgroupRoot);
        this.proc = opts.proc ?? '/proc';
    }

    resolve(ev: FlowEvent): Resolved {
        const { key } = ev;
        if (ev.image) {
            return {
                identity: this.fromImage(ev.image, ev),
                pid: key.tgid,
                startNs: key.startNs,
                miss: false,
            };
        }

        let tgid = key.tgid;
        let startNs = key.startNs;
        // An accepted socket whose listener predates us carries no owner: find the
        // listener in this network namespace, which is long-lived and still there.
        if (ev.flags & EventFlags.noOwner) {
            const pid = listenerPid(key.port, this.proc);
            const start = pid === undefined ? undefined : procStartNs(pid, this.proc);
            if (pid === undefined || start === undefined) {
                return { identity: this.unknown('unattributed'), pid: 0, startNs: 0n, miss: true };
            }
            tgid = pid;
            startNs = start;
        }

        const facts = tgid > 0 ? procFacts(tgid, startNs, this.proc) : undefined;
        if (!facts) {
            return { identity: this.unknown('exited'), pid: tgid, startNs, miss: true };
        }
        const program = programOf(facts);
        const identity: ProcessIdentity = {
            kind: 'process',
            zone: this.opts.zone,
            host: this.opts.host,
            ...program,
            ...(facts.parentExe ? { parent: facts.parentExe } : {}),
            ...this.account(ev),
            ...this.placement(ev.cgroupId),
        };
        return { identity, pid: tgid, startNs, miss: false };
    }

    private fromImage(img: Image, ev: FlowEvent): ProcessIdentity {
        const program = programOf({
            exe: img.exe,
            filename: img.filename,
            cwd: img.cwd,
            args: img.args,
            viaInterpreter: (img.flags & ImageFlags.script) !== 0,
        });
        return {
            kind: 'process',
            zone: this.opts.zone,
            host: this.opts.host,
            ...program,
            ...(img.flags & ImageFlags.parentKnown ? { parent: img.parentExe } : {}),
            ...this.account(ev),
            ...this.placement(ev.cgroupId || img.cgroupId),
        };
    }

    /** The effective uid at connect time is the account the flow runs as. */
    private account(ev: FlowEvent): { user: string; uid: number } {
        return { user: this.users.name(ev.euid), uid: ev.euid };
    }

    private placement(cgroupId: bigint): { cgroup: string; unit?: string } {
        const full = this.cgroups.pathOf(cgroupId);
        if (full === undefined) return { cgroup: `id:${cgroupId}` };
        let cgroup = full;
        if (
            this.rootRel !== '/' &&
            (full === this.rootRel || full.startsWith(this.rootRel + '/'))
        ) {
            cgroup = full.slice(this.rootRel.length) || '/';
        }
        const unit = unitOf(cgroup);
        return unit ? { cgroup, unit } : { cgroup };
    }

    private unknown(reason: 'exited' | 'kernel' | 'unattributed'): Identity {
        return { kind: 'unknown', reason, host: this.opts.host };
    }
}
