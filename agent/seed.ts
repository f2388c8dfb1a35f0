// Processes that were running before the datapath loaded have no exec record in the kernel.
// Their program hashes are written from what the resolver read in /proc, by the rules the
// kernel applies at exec, so policy matches them like any other process (and replay predicts
// them the same way); the kernel's own record wins where it already has one.
import type { Datapath } from './bpf/datapath';
import { kernelProgramOf } from './identity/program';
import type { SeededProcess } from './identity/seed';
import { kernelHashes } from './policy/hash';

export function seedKernel(datapath: Datapath, processes: SeededProcess[]): number {
    let seeded = 0;
    for (const p of processes) {
        const progs = kernelHashes(kernelProgramOf(p));
        if (datapath.seedProcess(p.tgid, p.startNs, progs)) seeded++;
    }
    return seeded;
}
