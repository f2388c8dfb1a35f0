#!/usr/bin/env bash
# Prints the state of the embedded lab per host: netns, processes per unit, agent socket.
# --json prints the same as one JSON object.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
source "$here/../lib.sh"

json=0
[[ ${1:-} == --json ]] && json=1
PALISADE_LAB_AGENT=$(lab_marker_agents)

# Expected units first, then any other unit cgroup found under the host.
host_units() {
    local host=$1 unit dir
    local -a units
    read -ra units <<<"$(lab_units "$host")"
    printf '%s\n' "${units[@]}"
    for dir in "$LAB_CG/$host"/*/; do
        [[ -d $dir ]] || continue
        unit=$(basename "$dir")
        [[ " ${units[*]} " == *" $unit "* ]] || printf '%s\n' "$unit"
    done
}

yes_no() { if "$@"; then echo true; else echo false; fi; }

unit_json() {
    local host=$1 unit=$2 pids
    pids=$(lab_unit_pids "$host" "$unit" | paste -sd, -)
    printf '{"name": %s, "running": %s, "pids": [%s]}' \
        "$(json_str "$unit")" "$([[ -n $pids ]] && echo true || echo false)" "$pids"
}

units_json() {
    local host=$1 unit sep=''
    printf '['
    while read -r unit; do
        printf '%s%s' "$sep" "$(unit_json "$host" "$unit")"
        sep=', '
    done < <(host_units "$host")
    printf ']'
}

print_json() {
    local host sep=''
    printf '{"up": %s, "agents": %s, "sshConfig": %s, "hosts": [' \
        "$(yes_no test -f "$LAB_RUN/up")" "$(yes_no lab_agents_enabled)" \
        "$(json_str "$LAB_RUN/ssh_config")"
    for host in "${LAB_HOSTS[@]}"; do
        printf '%s{"name": %s, "address": %s, "netns": %s, "socket": %s, "units": %s}' \
            "$sep" "$(json_str "$host")" "$(json_str "${LAB_ADDR[$host]}")" \
            "$(yes_no test -e "/run/netns/$(lab_netns "$host")")" \
            "$(yes_no test -S "$(lab_socket "$host")")" "$(units_json "$host")"
        sep=', '
    done
    printf '], "lab": {"units": %s}}\n' "$(units_json _lab)"
}

print_text() {
    local host unit pids state
    if [[ -f $LAB_RUN/up ]]; then
        printf 'lab: up (ssh config %s)\n' "$LAB_RUN/ssh_config"
    else
        printf 'lab: not up\n'
    fi
    for host in "${LAB_HOSTS[@]}" _lab; do
        if [[ $host == _lab ]]; then
            printf '%s (root netns)\n' "$host"
        else
            printf '%s %s  netns %s: %s  agent socket: %s\n' "$host" "${LAB_ADDR[$host]}" \
                "$(lab_netns "$host")" \
                "$([[ -e /run/netns/$(lab_netns "$host") ]] && echo present || echo absent)" \
                "$([[ -S $(lab_socket "$host") ]] && echo present || echo absent)"
        fi
        while read -r unit; do
            pids=$(lab_unit_pids "$host" "$unit" | paste -sd' ' -)
            state=stopped
            [[ -n $pids ]] && state="running (pids $pids)"
            printf '    %-24s %s\n' "$unit" "$state"
        done < <(host_units "$host")
    done
}

if ((json)); then
    print_json
else
    print_text
fi
