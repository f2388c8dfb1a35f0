#!/usr/bin/env bash
# Installs everything Palisade needs on a fresh Debian or Ubuntu machine (as root) and
# builds it: Debian packages, npm dependencies, bundles and the BPF object.
# Idempotent: packages already present are not reinstalled.
set -euo pipefail

cd "$(dirname "$0")/.."

# Build: clang/llvm/libbpf-dev/bpftool compile the datapath; libbpf1 is loaded at run time.
# Lab: iproute2 util-linux procps openssh-* nginx-light redis-server dnsmasq-base curl.
# Tests: chromium drives the webview in a real browser.
packages=(
    clang llvm libbpf-dev libbpf1 bpftool
    iproute2 util-linux procps openssh-server openssh-client
    nginx-light redis-server dnsmasq-base curl ca-certificates
    chromium
)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    # NOTE: Ubuntu ships bpftool in linux-tools-* and chromium as a snap; there the
    # browser suite reports that chromium is missing instead of running.
    if ! apt-cache show bpftool >/dev/null 2>&1; then
        missing=("${missing[@]/bpftool/linux-tools-common}" "linux-tools-$(uname -r)")
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# Debian starts redis and nginx as system services on install; the lab runs its own.
for svc in redis-server nginx; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
done

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "setup: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi

# Kernel filesystems the agent needs; a fresh machine may not have them mounted.
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
grep -q ' cgroup2 ' /proc/mounts || {
    echo "setup: no cgroup v2 filesystem is mounted; Palisade needs cgroup v2" >&2
    exit 1
}
[ -r /sys/kernel/btf/vmlinux ] || {
    echo "setup: /sys/kernel/btf/vmlinux is missing; Palisade needs a kernel with BTF" >&2
    exit 1
}

npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
