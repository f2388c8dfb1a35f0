#!/usr/bin/env bash
# Brings up the embedded lab: four hosts (web, api, db, ext) in network namespaces on this
# machine, each with its own hostname, cgroup, sshd and agent, running the demo app.
#
# Env: PALISADE_ROOT (repo), PALISADE_NODE (node binary), PALISADE_LAB_AGENT=0 to start no
# agents, PALISADE_LAB_TRAFFIC_SECONDS to bound the traffic loop (default 3600).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
source "$here/../lib.sh"
# shellcheck source=lab/netns/topology.sh
source "$here/topology.sh"
# shellcheck source=lab/netns/services.sh
source "$here/services.sh"

lab_is_up() {
    [[ -f $LAB_RUN/up ]] || return 1
    local host unit
    for host in "${LAB_HOSTS[@]}" _lab; do
        for unit in $(PALISADE_LAB_AGENT=$(lab_marker_agents) lab_units "$host"); do
            # The traffic loop ends by itself after its time bound; the lab is still up.
            [[ $unit == traffic.service ]] && continue
            lab_unit_alive "$host" "$unit" || return 1
        done
    done
}

lab_summary() {
    local host
    printf 'Palisade lab is up (zone %s):\n' "$LAB_ZONE"
    for host in "${LAB_HOSTS[@]}"; do
        printf '  %-4s %-11s %s\n' "$host" "${LAB_ADDR[$host]}" "$(lab_units "$host")"
    done
    printf 'ssh config: %s (e.g. ssh -F %s web)\n' "$LAB_RUN/ssh_config" "$LAB_RUN/ssh_config"
}

on_exit() {
    local rc=$?
    if ((rc != 0)); then
        ERROR "lab up failed; removing what it made"
        lab_teardown || ERROR "cleanup failed too; run lab/netns/down.sh"
    fi
    exit "$rc"
}

lab_require_root
[[ -x $PALISADE_NODE ]] || die "no node binary (set PALISADE_NODE)"
lab_lock

if lab_is_up; then
    INFO "the lab is already up"
    lab_summary
    exit 0
fi
if lab_has_leftovers; then
    WARN "found a half-finished lab; tearing it down first"
    lab_teardown
fi

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

INFO "creating hosts: ${LAB_HOSTS[*]}"
install -d -m 0700 "$LAB_RUN"
lab_mount_bpffs
lab_net_up
lab_write_keys

if lab_agents_enabled; then
    INFO "starting agents"
    for host in "${LAB_HOSTS[@]}"; do
        lab_start_agent "$host"
    done
    for host in "${LAB_HOSTS[@]}"; do
        lab_wait_socket "$host"
    done
else
    WARN "PALISADE_LAB_AGENT=0: no agents"
fi

INFO "starting sshd, resolver and demo app"
for host in "${LAB_HOSTS[@]}"; do
    lab_start_sshd "$host"
done
lab_start_resolver
lab_start_demo
for host in "${LAB_HOSTS[@]}"; do
    lab_wait_listen "$host" sshd.service tcp "${LAB_ADDR[$host]}" 22
done
lab_wait_listen _lab resolver.service udp "$LAB_BRIDGE_ADDR" 53

lab_spawn _lab traffic.service "$PALISADE_NODE" "$PALISADE_ROOT/lab/demo/traffic.js"
lab_write_hosts_json
printf 'agents=%s\n' "${PALISADE_LAB_AGENT:-1}" >"$LAB_RUN/up"

trap - EXIT INT TERM
lab_summary
