#!/usr/bin/env bash
# Shared helpers for the Palisade lab scripts. Sourced, never run on its own.
#
# Debian packages the embedded lab relies on:
#   iproute2 util-linux procps openssh-server openssh-client nginx-light
#   redis-server (pulls redis-tools for redis-cli) dnsmasq-base
# plus Node >= 20 (PALISADE_NODE) for the demo app and the agent.

# The constants are used by the scripts that source this file.
# shellcheck disable=SC2034

PALISADE_ROOT=${PALISADE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PALISADE_NODE=${PALISADE_NODE:-$(command -v node || true)}
export PALISADE_ROOT PALISADE_NODE

LAB_HOSTS=(web api db ext)
declare -A LAB_ADDR=([web]=10.213.0.2 [api]=10.213.0.3 [db]=10.213.0.4 [ext]=10.213.0.5)
declare -A LAB_SERVICES=(
    [web]='sshd.service nginx.service intruder.service'
    [api]='sshd.service api.service batch.service'
    [db]='sshd.service redis.service'
    [ext]='sshd.service payments.service'
)
LAB_AUX_UNITS='resolver.service traffic.service'
LAB_AGENT_UNIT=palisade-agent.service
LAB_BRIDGE=pal-br0
LAB_BRIDGE_ADDR=10.213.0.1
LAB_PREFIX_LEN=24
LAB_NET_PREFIX=10.213.0.
LAB_RUN=/run/palisade-lab
LAB_BPFFS=/sys/fs/bpf
LAB_PIN_ROOT=$LAB_BPFFS/palisade-lab
LAB_ZONE=lab

INFO() { printf '%s INFO: %s\n' "$(date +%T)" "$*" >&2; }
WARN() { printf '%s WARNING: %s\n' "$(date +%T)" "$*" >&2; }
ERROR() { printf '%s ERROR: %s\n' "$(date +%T)" "$*" >&2; }
die() {
    ERROR "$*"
    exit 1
}

lab_require_root() {
    [[ $(id -u) -eq 0 ]] || die "the lab needs root (network namespaces, cgroups, bpffs)"
}

# The lab hierarchy lives in cgroup v2 wherever it is mounted: /sys/fs/cgroup on unified
# hosts, /sys/fs/cgroup/unified on hybrid ones.
lab_cg2_root() {
    local root
    root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    [[ -n $root ]] || die "no cgroup2 mount in /proc/mounts"
    printf '%s\n' "$root"
}

LAB_CG=$(lab_cg2_root)/palisade-lab

lab_netns() { printf 'palisade-%s\n' "$1"; }
lab_veth() { printf 'pal-%s\n' "$1"; }
lab_uts_file() { printf '%s/ns/%s.uts\n' "$LAB_RUN" "$1"; }
lab_socket() { printf '%s/%s/agent.sock\n' "$LAB_RUN" "$1"; }
lab_log() { printf '%s/%s/%s.log\n' "$LAB_RUN" "$1" "$2"; }

lab_agents_enabled() { [[ ${PALISADE_LAB_AGENT:-1} != 0 ]]; }

# Whether the running lab was brought up with agents, from the marker up.sh writes last.
lab_marker_agents() {
    local agents=1
    [[ -r $LAB_RUN/up ]] && agents=$(sed -n 's/^agents=//p' "$LAB_RUN/up")
    printf '%s\n' "${agents:-1}"
}

# Units expected on a host ("_lab" is the root-netns helpers), agent first.
lab_units() {
    if [[ $1 == _lab ]]; then
        printf '%s\n' "$LAB_AUX_UNITS"
    elif lab_agents_enabled; then
        printf '%s %s\n' "$LAB_AGENT_UNIT" "${LAB_SERVICES[$1]}"
    else
        printf '%s\n' "${LAB_SERVICES[$1]}"
    fi
}

lab_unit_pids() {
    local procs="$LAB_CG/$1/$2/cgroup.procs"
    [[ -r $procs ]] && cat "$procs"
    return 0
}

lab_unit_alive() { [[ -n $(lab_unit_pids "$1" "$2") ]]; }

# Serializes up/down. fd 9 is closed in every spawned service so that a daemon never
# inherits the lock and blocks the next `lab down`.
lab_lock() {
    exec 9<"${BASH_SOURCE[0]}"
    flock -w 120 9 || die "another lab up/down is still running"
}

# lab_spawn HOST UNIT CMD... starts CMD detached in the unit's cgroup; HOST "_lab" is the
# root network namespace. The process joins its cgroup before exec, so nothing it forks
# escapes the unit.
#
# NOTE: hosts are entered with nsenter + unshare instead of `ip netns exec`, because the
# latter remounts /sys, which hides the cgroup2 mount and bpffs from the agent. The
# resolv.conf bind mount that `ip netns exec` would make is done here instead.
lab_spawn() {
    local host=$1 unit=$2
    shift 2
    local cg="$LAB_CG/$host/$unit"
    local log
    log=$(lab_log "$host" "$unit")
    mkdir -p "$cg" "$LAB_RUN/$host"

    local -a enter=()
    if [[ $host != _lab ]]; then
        local ns
        ns=$(lab_netns "$host")
        # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell.
        enter=(
            nsenter "--net=/run/netns/$ns" "--uts=$(lab_uts_file "$host")" --
            unshare --mount --propagation slave --
            sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "/etc/netns/$ns/resolv.conf"
        )
    fi

    local path
    path="$(dirname "$PALISADE_NODE"):$PATH"
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell.
    setsid sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" \
        "${enter[@]}" env "PATH=$path" "$@" </dev/null >>"$log" 2>&1 9<&- &
}

lab_fail_unit() {
    local log
    log=$(lab_log "$1" "$2")
    ERROR "$2 on $1: $3; see $log"
    [[ -f $log ]] && tail -n 15 "$log" | sed 's/^/    | /' >&2
    return 1
}

# lab_wait_listen HOST UNIT tcp|udp ADDR PORT waits until the unit listens there.
lab_wait_listen() {
    local host=$1 unit=$2 proto=$3 addr=$4 port=$5
    local -a nsarg=()
    [[ $host == _lab ]] || nsarg=(-N "$(lab_netns "$host")")
    local flag=t
    [[ $proto == udp ]] && flag=u

    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        if ss "${nsarg[@]}" -Hln$flag "src $addr:$port" | grep -q .; then
            return 0
        fi
        if ! lab_unit_alive "$host" "$unit"; then
            lab_fail_unit "$host" "$unit" "exited during start"
            return 1
        fi
        sleep 0.2
    done
    lab_fail_unit "$host" "$unit" "not listening on $addr:$port/$proto after 20 s"
}

lab_wait_socket() {
    local host=$1 sock
    sock=$(lab_socket "$host")
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        [[ -S $sock ]] && return 0
        if ! lab_unit_alive "$host" "$LAB_AGENT_UNIT"; then
            lab_fail_unit "$host" "$LAB_AGENT_UNIT" "agent exited before creating $sock"
            return 1
        fi
        sleep 0.2
    done
    lab_fail_unit "$host" "$LAB_AGENT_UNIT" "agent did not create $sock within 30 s"
}

# JSON string literal for values we generate ourselves (paths, names); not for host data.
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
