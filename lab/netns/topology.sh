#!/usr/bin/env bash
# Network namespaces, bridge, UTS namespaces and cgroups of the embedded lab, and the one
# teardown that removes all of it. Sourced after lab/lib.sh.

lab_mount_bpffs() {
    mountpoint -q "$LAB_BPFFS" || mount -t bpf bpf "$LAB_BPFFS"
}

lab_net_up() {
    local used
    used=$(ip -4 -o addr show | awk -v p="$LAB_NET_PREFIX" 'index($4, p) == 1 { print $2 }')
    [[ -z $used ]] || die "${LAB_NET_PREFIX}0/$LAB_PREFIX_LEN is already in use on: $used"

    ip link add "$LAB_BRIDGE" type bridge
    ip addr add "$LAB_BRIDGE_ADDR/$LAB_PREFIX_LEN" dev "$LAB_BRIDGE"
    ip link set "$LAB_BRIDGE" up

    # Remember whether /etc/netns was ours, so that down removes it only then.
    if [[ ! -d /etc/netns ]]; then
        mkdir /etc/netns
        touch "$LAB_RUN/etc-netns-created"
    fi
    mkdir -p "$LAB_RUN/ns" "$LAB_CG/_lab"

    local host
    for host in "${LAB_HOSTS[@]}"; do
        lab_host_up "$host"
    done
}

lab_host_up() {
    local host=$1 ns veth uts
    ns=$(lab_netns "$host")
    veth=$(lab_veth "$host")
    uts=$(lab_uts_file "$host")

    # No default route inside the hosts: the lab /24 is all they can reach.
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$LAB_BRIDGE" up
    ip -n "$ns" addr add "${LAB_ADDR[$host]}/$LAB_PREFIX_LEN" dev eth0
    ip -n "$ns" link set eth0 up

    mkdir -p "/etc/netns/$ns"
    printf 'nameserver %s\n' "$LAB_BRIDGE_ADDR" >"/etc/netns/$ns/resolv.conf"

    : >"$uts"
    unshare --uts="$uts" hostname "$host"

    mkdir -p "$LAB_CG/$host" "$LAB_RUN/$host"
}

# Anything the lab may have left behind, even from a crashed or half-finished up.
lab_has_leftovers() {
    [[ -e $LAB_RUN || -d $LAB_CG || -e $LAB_PIN_ROOT ]] && return 0
    ip link show "$LAB_BRIDGE" >/dev/null 2>&1 && return 0

    local host
    for host in "${LAB_HOSTS[@]}"; do
        [[ -e /run/netns/$(lab_netns "$host") || -e /etc/netns/$(lab_netns "$host") ]] && return 0
        ip link show "$(lab_veth "$host")" >/dev/null 2>&1 && return 0
    done
    return 1
}

lab_all_pids() {
    [[ -d $LAB_CG ]] || return 0
    find "$LAB_CG" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

lab_wait_no_pids() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ -z $(lab_all_pids) ]] && return 0
        sleep 0.1
    done
    [[ -z $(lab_all_pids) ]]
}

# Only processes inside <cg2>/palisade-lab are signalled: everything the lab starts runs
# there, and nothing else does.
lab_stop_processes() {
    [[ -d $LAB_CG ]] || return 0

    local -a pids
    mapfile -t pids < <(lab_all_pids)
    if ((${#pids[@]} > 0)); then
        INFO "stopping ${#pids[@]} lab processes"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        lab_wait_no_pids 5 || true
    fi

    if [[ -n $(lab_all_pids) ]]; then
        WARN "lab processes ignored SIGTERM; killing the lab cgroup"
        if [[ -e $LAB_CG/cgroup.kill ]]; then
            echo 1 >"$LAB_CG/cgroup.kill"
        else
            local -a rest
            mapfile -t rest < <(lab_all_pids)
            kill -KILL "${rest[@]}" 2>/dev/null || true
        fi
        lab_wait_no_pids 10 || die "processes left in $LAB_CG: $(lab_all_pids | xargs)"
    fi

    lab_remove_cgroups
    lab_wait_reaped "${pids[@]}"
}

# rmdir can still fail for a few moments: a cgroup whose last process has just left its
# cgroup.procs stays busy until the kernel has released the exiting task, and a service
# spawned just before a failed `up` gave up joins its cgroup only now. Such a late joiner
# is killed too; retry for a few seconds.
lab_remove_cgroups() {
    local deadline=$((SECONDS + 5))
    local -a late
    while ((SECONDS < deadline)); do
        mapfile -t late < <(lab_all_pids)
        if ((${#late[@]} > 0)); then kill -KILL "${late[@]}" 2>/dev/null || true; fi
        find "$LAB_CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [[ -d $LAB_CG ]] || return 0
        sleep 0.1
    done
    find "$LAB_CG" -depth -type d -exec rmdir {} +
}

# A killed service leaves the cgroup at once but stays in /proc until its new parent (init)
# reaps it; wait a little so that callers see the processes gone.
lab_wait_reaped() {
    local deadline=$((SECONDS + 5)) pid left
    while ((SECONDS < deadline)); do
        left=0
        for pid in "$@"; do
            [[ -e /proc/$pid ]] && left=1 && break
        done
        ((left)) || return 0
        sleep 0.1
    done
}

# The kernel destroys a deleted netns, and the veth pairs in it, asynchronously: the host
# end may still be listed for a moment, or vanish between our check and our delete.
lab_remove_link() {
    local deadline=$((SECONDS + 5))
    while ip link show "$1" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "could not remove link $1"
        ip link del "$1" 2>/dev/null || sleep 0.1
    done
}

lab_teardown() {
    lab_stop_processes

    local host ns f
    for f in "$LAB_RUN"/ns/*.uts; do
        [[ -e $f ]] || continue
        while umount "$f" 2>/dev/null; do :; done
    done

    for host in "${LAB_HOSTS[@]}"; do
        ns=$(lab_netns "$host")
        [[ -e /run/netns/$ns ]] && ip netns del "$ns"
        rm -rf "/etc/netns/$ns"
    done
    for host in "${LAB_HOSTS[@]}"; do
        lab_remove_link "$(lab_veth "$host")"
    done
    lab_remove_link "$LAB_BRIDGE"

    if [[ -e $LAB_RUN/etc-netns-created ]]; then
        rmdir /etc/netns 2>/dev/null || true
    fi
    if mountpoint -q "$LAB_BPFFS"; then
        rm -rf "$LAB_PIN_ROOT"
    fi
    rm -rf "$LAB_RUN"
}
