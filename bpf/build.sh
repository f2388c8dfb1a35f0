#!/usr/bin/env bash
# Compiles the datapath into one CO-RE object: dist/palisade.bpf.o.
# Needs clang, bpftool and libbpf headers (Debian: clang llvm libbpf-dev bpftool).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../dist"}
mkdir -p "$out"

# vmlinux.h is generated from this kernel's BTF; CO-RE relocations make the
# object portable to other BTF-enabled kernels.
if [ ! -s "$here/vmlinux.h" ]; then
    bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$here/vmlinux.h.tmp"
    mv "$here/vmlinux.h.tmp" "$here/vmlinux.h"
fi

clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
    -I "$here" -c "$here/palisade.bpf.c" -o "$out/palisade.bpf.o"
