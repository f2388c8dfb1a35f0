#!/usr/bin/env bash
# The main job, end to end: install and build, bring up the embedded lab (network
# namespaces with nginx, a Node API, redis, a payments service, a batch job and an
# intruder, each host with its own sshd and agent), let traffic flow, then print the fleet
# graph that the agents observed with eBPF. The lab stays up for VS Code; `bin/palisade lab
# down` removes it.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root: the lab creates namespaces and the agents load eBPF" >&2
    exit 1
fi

bash scripts/setup.sh
bin/palisade lab up

echo
echo "Letting the demo app talk for 15 seconds..."
sleep 15
bin/palisade graph
echo
echo "The lab is still up. Try: bin/palisade status | bin/palisade flows | bin/palisade graph --json"
echo "Remove it with: bin/palisade lab down"
