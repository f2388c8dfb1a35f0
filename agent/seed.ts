// Processes that were running before the datapath loaded have no exec record in the kernel.
// Their program hashes are written from what the resolver read in /proc, so policy matches
// them like any other process; the kernel's own record wins where it already has one.
import type { Datapath } from './bpf/datapath';
import { programOf } from './identity/program';
import type { SeededProcess } from './identity/seed';
import { processHashes } from './policy/hash';

export function seedKernel(datapath: Datapath, processes: SeededProcess[]): number {
    let seeded = 0;
    for (const p of processes) {
        if (datapath.seedProcess(p.tgid, p.startNs, processHashes(programOf(p)))) seeded++;
    }
    return seeded;
}
