// Program hashes as the datapath computes them at exec (bpf/program.bpf.h, program_hashes):
// FNV-1a 64 of the binary path, mixed with the hash of argv[1] or of a `#!` file.
// The kernel and this file must agree byte for byte; test/root/enforce.test.ts proves it.
import type { KernelProgram } from '../protocol';

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
 * in pal_proc.progs (0n where not applicable): for a `#!` file [interpreter+file,
 * interpreter], else [file+argv[1], exe+argv[1], file, exe].
 */
export function kernelHashes(k: KernelProgram): bigint[] {
    if (k.shebang) return [programHash(k.exe, k.file), fnv64(k.exe), 0n, 0n];
    return [
        k.arg !== undefined ? programHash(k.file, k.arg) : 0n,
        k.arg !== undefined ? programHash(k.exe, k.arg) : 0n,
        fnv64(k.file),
        fnv64(k.exe),
    ];
}
