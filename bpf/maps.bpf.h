/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps of the datapath: pinned where the agent must find them again.
 * Included by palisade.bpf.c only, before everything that uses them.
 */
#ifndef PALISADE_MAPS_BPF_H
#define PALISADE_MAPS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct pal_proc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pal_image);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_images SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pal_flow_key);
	__type(value, struct pal_flow_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_flows SEC(".maps");

/* BPF_F_CLONE: an accepted socket inherits its listener's owner. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct pal_owner);
} pal_sk_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAL_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_counters SEC(".maps");

/* Active policy generation: rules of other generations are ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_gen SEC(".maps");

/*
 * Settings the agent writes at start. Index 0: the first port of this network
 * namespace's ephemeral range (net.ipv4.ip_local_port_range); 0 means 32768.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pal_config SEC(".maps");

/* Governed cgroups: the app a cgroup belongs to and its mode. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pal_cg_key);
	__type(value, struct pal_cg_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_cg_mode SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pal_rule_key);
	__type(value, struct pal_rule_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_rules SEC(".maps");

/* Inbound attempts already reported: a retransmitted SYN is not a new attempt. */
struct attempt_key {
	__u8 addr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct attempt_key);
	__type(value, __u64);
} pal_attempts SEC(".maps");

/*
 * UDP peers a governed socket sent to with an allowed verdict: a datagram back
 * from one of them is the reply, judged when the request left, not an inbound
 * attempt. Without this an enforced app's DNS answers would be refused.
 */
struct udp_peer_key {
	__u64 cookie;
	__u8 addr[16];
	__u16 port;
	__u8 family;
	/*
	 * 1: the peer sent to the socket (a governed server may answer it), 0: the
	 * socket sent to the peer (its datagrams back are replies). Kept apart so
	 * that a client's second request is judged, not taken for an answer.
	 */
	__u8 answer;
	__u8 pad[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct udp_peer_key);
	__type(value, __u64);
} pal_udp_peers SEC(".maps");

/* The `dns:` patterns of the rules, by reversed name (see bpf/palisade.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pal_name_key);
	__type(value, __u32);
} pal_dns_patterns SEC(".maps");

/* Addresses answered to a cgroup, with the patterns the question matched. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pal_dns_addr_key);
	__type(value, struct pal_dns_addr_val);
} pal_dns_addrs SEC(".maps");

/* Scratch space: an image is far larger than the 512-byte BPF stack. */
struct scratch {
	char path[HALF * 2];
	struct pal_image image;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} pal_scratch SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&pal_counters, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Start time of the thread-group leader: with the tgid it names one process. */
static __always_inline __u64 leader_start(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

#endif /* PALISADE_MAPS_BPF_H */
