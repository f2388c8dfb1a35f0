// Facts the agent reads from the host: user names, cgroup paths, and /proc for processes
// that started before the datapath could see their exec.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupFromProcFile } from './context';
import type { ExecFacts } from './program';

export function cgroup2Mount(mounts = '/proc/mounts'): string {
    for (const line of fs.readFileSync(mounts, 'utf8').split('\n')) {
        const [, mountPoint, type] = line.split(' ');
        if (type === 'cgroup2' && mountPoint) return mountPoint.replace(/\\040/g, ' ');
    }
    throw new Error('no cgroup2 filesystem is mounted (see /proc/mounts)');
}

export class Users {
    private names = new Map<number, string>();
    private loadedAt = 0;

    name(uid: number): string {
        if (!this.names.has(uid) && Date.now() - this.loadedAt > 5000) this.load();
        return this.names.get(uid) ?? String(uid);
    }

    private load(): void {
        this.loadedAt = Date.now();
        try {
            for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
                const [name, , uid] = line.split(':');
                if (name && uid && /^\d+$/.test(uid)) this.names.set(Number(uid), name);
            }
        } catch {
            // No passwd file: numeric uids are still exact.
        }
    }
}

/**
 * Every cgroup at or below `root`, with its id (cgroup v2 ids are the inode numbers of the
 * cgroup directories) and its path relative to `root` (`/` for root itself).
 */
export function walkCgroups(root: string, maxDepth = 12): { id: bigint; path: string }[] {
    const out: { id: bigint; path: string }[] = [];
    const walk = (dir: string, depth: number) => {
        let st: fs.BigIntStats;
        try {
            st = fs.statSync(dir, { bigint: true });
        } catch {
            return;
        }
        out.push({ id: st.ino, path: '/' + path.relative(root, dir) });
        if (depth >= maxDepth) return;
        let entries: fs.Dirent[] = [];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), depth + 1);
    };
    walk(root, 0);
    return out;
}

/** cgroup v2 ids are the inode numbers of the cgroup directories. */
export class Cgroups {
    private byId = new Map<string, string>();
    private readonly missedAt = new Map<string, number>();

    constructor(private readonly mount: string) {}

    /** Path relative to the cgroup2 mount, e.g. `/palisade-lab/web/nginx.service`. */
    pathOf(id: bigint): string | undefined {
        const key = id.toString();
        const hit = this.byId.get(key);
        if (hit !== undefined) return hit;
        // A cgroup created since the last scan: one rescan finds it, however recent the last
        // one was. Only an id that already missed (a cgroup that is gone) waits a second, so
        // a dead cgroup's events cannot make us rescan for each of them.
        const missed = this.missedAt.get(key);
        if (missed === undefined || Date.now() - missed > 1000) {
            this.scan();
            const found = this.byId.get(key);
            if (found !== undefined) return found;
            if (this.missedAt.size > 4096) this.missedAt.clear();
            this.missedAt.set(key, Date.now());
        }
        return undefined;
    }

    private scan(): void {
        for (const c of walkCgroups(this.mount)) this.byId.set(c.id.toString(), c.path);
    }
}

const CLK_TCK = 100;
const NS_PER_TICK = 1_000_000_000n / BigInt(CLK_TCK);

export interface ProcFacts extends ExecFacts {
    ppid: number;
    parentExe?: string;
    uid: number;
    euid: number;
    /** cgroup v2 path relative to the host's cgroup2 mount (as /proc shows it). */
    cgroup?: string;
}

const PF_KTHREAD = 0x00200000;

/** A kernel thread owns no program: its flows are the kernel's. */
export function isKernelThread(pid: number, proc = '/proc'): boolean {
    try {
        const stat = fs.readFileSync(`${proc}/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[6]) & PF_KTHREAD) !== 0;
    } catch {
        return false;
    }
}

function ids(status: string): { uid: number; euid: number } {
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    return { uid: Number(m?.[1] ?? -1), euid: Number(m?.[2] ?? -1) };
}

/**
 * Exec facts of a live process from /proc, only if it is still the same process instance
 * (start time matches): a reused pid must give a miss, never somebody else's name.
 */
export function procFacts(tgid: number, startNs: bigint, proc = '/proc'): ProcFacts | undefined {
    try {
        const stat = fs.readFileSync(`${proc}/${tgid}/stat`, 'utf8');
        // comm may contain spaces and parentheses: fields start after the last ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const startTicks = BigInt(fields[19] ?? '-1');
        if (startTicks !== startNs / NS_PER_TICK) return undefined;
        const ppid = Number(fields[1]);
        const exe = fs.readlinkSync(`${proc}/${tgid}/exe`);
        const cwd = fs.readlinkSync(`${proc}/${tgid}/cwd`);
        const args = fs.readFileSync(`${proc}/${tgid}/cmdline`, 'utf8').split('\0');
        if (args[args.length - 1] === '') args.pop();
        let parentExe: string | undefined;
        try {
            parentExe = fs.readlinkSync(`${proc}/${ppid}/exe`);
        } catch {
            parentExe = undefined;
        }
        // argv[0] names the program as invoked when it resolves to the same file.
        let filename = exe;
        const argv0 = args[0] ?? '';
        if (argv0.startsWith('/')) {
            try {
                if (fs.realpathSync(argv0) === fs.realpathSync(exe)) filename = argv0;
            } catch {
                filename = exe;
            }
        }
        const { uid, euid } = ids(fs.readFileSync(`${proc}/${tgid}/status`, 'utf8'));
        const cgroup = cgroupFromProcFile(fs.readFileSync(`${proc}/${tgid}/cgroup`, 'utf8'));
        // Read last: if the pid was reused while we read, the start time no longer matches.
        if (procStartNs(tgid, proc) !== startTicks * NS_PER_TICK) return undefined;
        return {
            exe,
            filename,
            cwd,
            args,
            viaInterpreter: false,
            ppid,
            parentExe,
            uid,
            euid,
            ...(cgroup ? { cgroup } : {}),
        };
    } catch {
        return undefined;
    }
}

/** Start time of a live pid in ns since boot (tick precision), for instance keys. */
export function procStartNs(pid: number, proc = '/proc'): bigint | undefined {
    try {
        const stat = fs.readFileSync(`${proc}/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return BigInt(fields[19] ?? '0') * NS_PER_TICK;
    } catch {
        return undefined;
    }
}
