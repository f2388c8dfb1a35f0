// Program hashes as the datapath computes them at exec (bpf/program.bpf.h, program_hashes):
// FNV-1a 64 of the binary path, mixed with the script path's hash for interpreters.
// The kernel and this file must agree byte for byte; test/root/enforce.test.ts proves it.

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const PROG_MIX = 0x9e3779b97f4a7c15n;
const MASK = (1n << 64n) - 1n;

export function fnv64(s: string): bigint {
    let h = FNV_OFFSET;
    for (const byte of Buffer.from(s, 'utf8')) {
        h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK;
    }
    return h;
}

/** The hash a policy names a program by: its binary, and its script when it has one. */
export function programHash(binary: string, script?: string): bigint {
    const bin = fnv64(binary);
    if (!script) return bin;
    return (bin ^ ((fnv64(script) * PROG_MIX) & MASK)) & MASK;
}

/**
 * Every hash a process may be matched by, most specific first, as the datapath keeps them
 * in pal_proc.progs: [binary+script, exe+script, binary, exe] (0n where not applicable).
 */
export function processHashes(p: { binary: string; exe?: string; script?: string }): bigint[] {
    const exe = p.exe ?? p.binary;
    return [
        p.script ? programHash(p.binary, p.script) : 0n,
        p.script ? programHash(exe, p.script) : 0n,
        fnv64(p.binary),
        fnv64(exe),
    ];
}
