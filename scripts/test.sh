#!/usr/bin/env bash
# Installs what the suite needs, builds, and runs every test: unit, root (real eBPF, real
# sshd and lab services) and browser. Run as root.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "test: run as root: the datapath and lab suites load eBPF and create namespaces" >&2
    exit 1
fi

bash scripts/setup.sh
# The browser end-to-end suite: code-server and its Node 24, cached outside the repository.
bash scripts/e2e-setup.sh
npx tsc -p . --noEmit
npx eslint .
npx vitest run "$@"
