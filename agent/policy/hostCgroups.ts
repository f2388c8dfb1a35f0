// The cgroups below the guarded one, with their ids and units: what policy members (units)
// compile to on this host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupContext } from '../identity/context';
import { walkCgroups } from '../identity/system';
import type { HostCgroup } from './compile';

export function listHostCgroups(root: string): HostCgroup[] {
    return walkCgroups(root, 8).map((c) => {
        const unit = cgroupContext(c.path).unit;
        return unit ? { ...c, unit } : c;
    });
}

export function cgroupIdOf(root: string, relative: string): bigint | undefined {
    try {
        return fs.statSync(path.join(root, relative), { bigint: true }).ino;
    } catch {
        return undefined;
    }
}
