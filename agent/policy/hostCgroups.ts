// The cgroups below the guarded one, with their ids (cgroup2 inode numbers) and units:
// what policy members (units) compile to on this host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupContext } from '../identity/context';
import type { HostCgroup } from './compile';

export function listHostCgroups(root: string, maxDepth = 8): HostCgroup[] {
    const out: HostCgroup[] = [];
    const walk = (dir: string, depth: number) => {
        let st: fs.BigIntStats;
        try {
            st = fs.statSync(dir, { bigint: true });
        } catch {
            return;
        }
        const rel = '/' + path.relative(root, dir);
        const unit = cgroupContext(rel).unit;
        out.push(unit ? { id: st.ino, path: rel, unit } : { id: st.ino, path: rel });
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

export function cgroupIdOf(root: string, relative: string): bigint | undefined {
    try {
        return fs.statSync(path.join(root, relative), { bigint: true }).ino;
    } catch {
        return undefined;
    }
}
