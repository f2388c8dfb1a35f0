/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Structures shared by the datapath and the agent.
 * Mirrored, field by field, in agent/bpf/layout.ts: change both together.
 */
#ifndef PALISADE_H
#define PALISADE_H

#define PAL_PATH_LEN 256
#define PAL_ARGS_LEN 256

/* pal_image.flags */
#define PAL_IMG_SCRIPT		(1U << 0)	/* binfmt_script/misc ran an interpreter */
#define PAL_IMG_EXE_TRUNC	(1U << 1)	/* exe path longer than we walk */
#define PAL_IMG_CWD_TRUNC	(1U << 2)
#define PAL_IMG_PARENT_KNOWN	(1U << 3)	/* parent_exe was copied from our map */

/* pal_event.flags */
#define PAL_EV_HAS_IMAGE	(1U << 0)	/* image holds the owner's exec facts */
#define PAL_EV_NO_OWNER		(1U << 1)	/* socket predates us: no stored owner */

#define PAL_DIR_EGRESS	0
#define PAL_DIR_INGRESS	1

#define PAL_EV_FLOW	1
#define PAL_EV_DNS	2	/* struct pal_dns_event */

/* Indexes into the counters map. */
#define PAL_CNT_EVENTS		0
#define PAL_CNT_RB_FULL		1	/* event lost: ring buffer full */
#define PAL_CNT_NO_IMAGE	2	/* owner ran before we started */
#define PAL_CNT_EXECS		3
#define PAL_CNT_FLOW_HITS	4	/* repeated flows counted in kernel */
/* Every decision against a policy, counted apart (S11: audit is not allow). */
#define PAL_CNT_ALLOW		5
#define PAL_CNT_WOULD_DENY	6
#define PAL_CNT_DENY		7
#define PAL_CNT_MAX		8

/* Facts recorded once per successful exec, keyed by image_id. */
struct pal_image {
	__u64 image_id;
	__u64 start_ns;		/* thread-group leader start, boot clock */
	__u64 cgroup_id;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 flags;
	__u32 args_len;
	char exe[PAL_PATH_LEN];		/* the file the kernel mapped */
	char filename[PAL_PATH_LEN];	/* as passed to execve */
	char cwd[PAL_PATH_LEN];		/* to resolve a relative filename */
	char args[PAL_ARGS_LEN];	/* argv, NUL-separated, truncated */
	char parent_exe[PAL_PATH_LEN];
};

/*
 * Program hashes for policy lookups, computed at exec from the same strings
 * userspace names programs by: FNV-1a 64 of the binary path, mixed with the
 * script path for interpreters. 0 marks an unused slot.
 */
#define PAL_PROGS 4

/* Live per-process state, keyed by tgid. */
struct pal_proc {
	__u64 start_ns;
	__u64 image_id;
	__u64 progs[PAL_PROGS];
};

/* Owner of a socket, stored at creation and cloned to accepted children. */
struct pal_owner {
	__u64 start_ns;
	__u64 image_id;
	__u64 cgroup_id;
	__u32 tgid;
	__u32 uid;
	__u32 euid;
	__u32 pad;
};

/*
 * One flow as the kernel counts it: a process instance and a destination.
 * No ephemeral port: repeated connections from one process to one service
 * land on one key. For ingress, addr is the peer and port our local port.
 */
struct pal_flow_key {
	__u64 start_ns;
	__u64 image_id;
	__u32 tgid;
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 direction;
	/*
	 * The decision's outcome: a flow that policy now judges otherwise (refused,
	 * then allowed) is a first sighting again, so its new verdict is reported
	 * and audited, not counted under the old one.
	 */
	__u8 outcome;
	__u16 port;		/* host byte order */
	__u16 pad2;
	__u8 addr[16];		/* v4 in the first 4 bytes */
};

struct pal_flow_stats {
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
};

#define PAL_MODE_NONE		0	/* not governed by any policy */
#define PAL_MODE_MONITOR	1
#define PAL_MODE_ENFORCE	2

#define PAL_VERDICT_NONE	0	/* no rule matched */
#define PAL_VERDICT_ALLOW	1
#define PAL_VERDICT_DENY	2	/* an explicitly denied link */

/* pal_event.outcome: what the datapath did with the flow. */
#define PAL_OUT_OBSERVED	0	/* not governed */
#define PAL_OUT_ALLOW		1
#define PAL_OUT_WOULD_DENY	2	/* monitor: evaluated, not dropped */
#define PAL_OUT_DENY		3	/* enforce: refused in the kernel */

struct pal_event {
	__u32 type;
	__u32 flags;
	struct pal_flow_key key;
	__u64 ts_ns;
	__u64 cgroup_id;
	__u32 uid;
	__u32 euid;
	struct pal_image image;
	__u32 rule;		/* rule index of the match, 0 for none */
	__u8 outcome;
	__u8 mode;
	__u16 remote_port;	/* ingress decisions: the peer's port */
};

/* Which policy generation the datapath reads; flipped in one write. */
struct pal_cg_key {
	__u64 cgroup_id;
	__u32 gen;
	__u32 pad;
};

struct pal_cg_val {
	__u32 app;
	__u32 mode;
};

/*
 * LPM key: every field before addr is matched exactly (the agent always sets
 * prefixlen to cover them); addr is matched by prefix.
 */
struct pal_rule_key {
	__u32 prefixlen;
	__u32 gen;
	__u64 cgroup_id;
	__u64 prog;		/* egress: program hash or 0 for any; ingress: 0 */
	__u8 direction;
	__u8 proto;
	__u16 port;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

#define PAL_RULE_FIXED_BITS	(28 * 8)

struct pal_rule_val {
	__u32 rule;
	__u32 verdict;
};

/*
 * A DNS message arriving at a local socket from port 53, UDP or one TCP
 * segment of a DNS-over-TCP stream, copied for the agent to parse. Never held
 * or dropped for this.
 */
#define PAL_DNS_MAX		4096
#define PAL_DNS_TRUNC		(1U << 0)	/* payload longer than data */

struct pal_dns_event {
	__u32 type;		/* PAL_EV_DNS */
	__u32 flags;
	__u64 ts_ns;
	__u64 cgroup_id;	/* of the receiving socket */
	__u64 cookie;		/* of the receiving socket */
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u16 sport;		/* the server's port, host order */
	__u16 dport;
	__u16 len;		/* bytes in data */
	__u32 seq;		/* TCP: sequence number of data[0] */
	__u32 total;		/* payload bytes in the packet */
	__u8 saddr[16];		/* the server */
	__u8 daddr[16];
	__u8 data[PAL_DNS_MAX];
};

/*
 * Names the kernel reads from DNS answers itself, so a connection made the
 * moment an answer arrives is judged by the name before the agent has read
 * it. The agent lists each `dns:` pattern of its rules in pal_dns_patterns,
 * keyed by the name's bytes in reverse order, ASCII lowercased (the whole
 * name for an exact pattern, `.suffix` for `*.suffix`), with a number; a rule
 * for the pattern is keyed by family PAL_FAMILY_NAME and that number in addr.
 * An answered address keeps the numbers of the patterns its question matched
 * for PAL_DNS_WINDOW_NS. Names are compared whole: no hash to collide.
 */
#define PAL_FAMILY_NAME		9
#define PAL_NAME_LEN		128
#define PAL_DNS_MATCHES		8
#define PAL_DNS_WINDOW_NS	(30ULL * 1000000000ULL)

struct pal_name_key {
	__u8 name[PAL_NAME_LEN];	/* reversed, zero padded */
};

struct pal_dns_addr_key {
	__u64 cgroup_id;	/* of the socket the answer reached */
	__u8 family;
	__u8 pad[7];
	__u8 addr[16];
};

struct pal_dns_addr_val {
	__u64 ts_ns;
	__u32 pattern[PAL_DNS_MATCHES];	/* pal_dns_patterns numbers; 0 unused */
};

#endif /* PALISADE_H */
