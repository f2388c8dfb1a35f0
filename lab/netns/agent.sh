#!/usr/bin/env bash
# Stops or starts one lab host's agent, for trying what a crash or a restart does:
#   agent.sh HOST kill    SIGKILL, as a crash would (pins and enforcement stay)
#   agent.sh HOST start   start it again and wait for its socket
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
source "$here/../lib.sh"
# shellcheck source=lab/netns/services.sh
source "$here/services.sh"

lab_require_root
host=${1:-}
action=${2:-}
[[ -n ${LAB_ADDR[$host]:-} ]] || die "unknown lab host '$host' (one of: ${LAB_HOSTS[*]})"
[[ -f $LAB_RUN/up ]] || die "the lab is not up"

case $action in
    kill)
        cg="$LAB_CG/$host/$LAB_AGENT_UNIT"
        [[ -d $cg ]] && echo 1 >"$cg/cgroup.kill"
        while [[ -n $(lab_unit_pids "$host" "$LAB_AGENT_UNIT") ]]; do sleep 0.05; done
        INFO "killed the agent on $host"
        ;;
    start)
        lab_unit_alive "$host" "$LAB_AGENT_UNIT" && die "the agent on $host is running"
        # A killed agent leaves its socket file; the new one replaces it.
        rm -f "$(lab_socket "$host")"
        lab_start_agent "$host"
        # The launcher joins the unit's cgroup a moment after it is spawned.
        for _ in $(seq 50); do
            lab_unit_alive "$host" "$LAB_AGENT_UNIT" && break
            sleep 0.1
        done
        lab_wait_socket "$host"
        INFO "started the agent on $host"
        ;;
    *) die "usage: agent.sh HOST kill|start" ;;
esac
