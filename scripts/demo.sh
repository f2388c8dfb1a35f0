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

step() { printf '\n== %s\n' "$*"; }

step "Letting the demo app talk for 15 seconds, then the fleet graph the agents observed"
sleep 15
bin/palisade graph

policy=demo-policies/db.palisade.yaml
mkdir -p demo-policies
rm -f "$policy"
step "Inferring the database's policy from what was observed: $policy"
bin/palisade policy infer --app db --owner dba@example.com --out "$policy"
# shellcheck disable=SC2016 # the script is JavaScript, not shell.
intruder=$(node -e '
    const p = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const l = p.links.find((l) => l.client.unit === "intruder.service");
    process.stdout.write(l ? l.id : "");' "$policy")
[ -n "$intruder" ] || { echo "demo: the intruder was not observed yet" >&2; exit 1; }

step "Reviewing: allow every link but the intruder's ($intruder)"
bin/palisade policy allow "$policy" --all --except "$intruder"
bin/palisade policy apply "$policy"

step "Switching db to enforce: the replay shows what would be dropped, so it refuses..."
bin/palisade mode enforce --app db --file "$policy" || true
step "...and --force enforces it anyway: the intruder is what we want dropped"
bin/palisade mode enforce --app db --file "$policy" --force

step "The intruder's next attempt is dropped in the kernel (its SYN never reaches redis) and audited"
sleep 7
bin/palisade audit --since 10s | grep -E ' deny ' | tail -n 5 || true
code=$(curl -s -o /dev/null -w '%{http_code}' http://10.213.0.2/ || true)
echo "meanwhile the web tier still answers through api and db: HTTP $code"

echo
echo "The lab is still up. Try: bin/palisade status | flows | graph | alerts | audit"
echo "Edit $policy and run: bin/palisade policy apply $policy"
echo "Remove the lab with: bin/palisade lab down"
