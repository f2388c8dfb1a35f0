// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Palisade datapath: who execs what, and which process instance opens which
 * flow. Identity is captured in the kernel at exec and at socket creation, so
 * a process that connects and exits within a millisecond is still named
 * right, and softirq-time events use the socket's owner, never `current`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "palisade.h"

#define AF_INET		2
#define AF_INET6	10
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17

/* Deepest directory nesting we walk when rebuilding a path. */
#define PATH_DEPTH	24
#define HALF		PAL_PATH_LEN
#define NAME_MASK	(PAL_PATH_LEN - 1)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keeps struct pal_event in the object's BTF, where the layout test reads it. */
const struct pal_event *pal_event_btf __attribute__((unused));
const struct pal_dns_event *pal_dns_event_btf __attribute__((unused));

#include "maps.bpf.h"
#include "path.bpf.h"
#include "program.bpf.h"
#include "policy.bpf.h"
#include "inbound.bpf.h"
#include "dns.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pal_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct pal_proc proc = {};
	struct pal_proc *pp;

	/* A new thread shares its process's entry. */
	if (BPF_CORE_READ(child, pid) != ctgid)
		return 0;

	/* A forked child runs its parent's image until it execs. */
	pp = bpf_map_lookup_elem(&pal_procs, &ptgid);
	if (pp)
		__builtin_memcpy(&proc, pp, sizeof(proc));
	proc.start_ns = BPF_CORE_READ(child, start_boottime);
	bpf_map_update_elem(&pal_procs, &ctgid, &proc, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pal_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	struct pal_proc proc = {}, *pp;
	struct pal_image *img, *pimg;
	struct scratch *s;
	__u32 zero = 0;
	__u64 arg_start, arg_end, len;

	s = bpf_map_lookup_elem(&pal_scratch, &zero);
	if (!s)
		return 0;
	img = &s->image;

	/* Unique per object: two execs on one CPU never share a nanosecond. */
	img->image_id = (bpf_ktime_get_boot_ns() << 8) | bpf_get_smp_processor_id();
	img->start_ns = leader_start(task);
	img->cgroup_id = bpf_get_current_cgroup_id();
	img->tgid = tgid;
	img->ppid = ptgid;
	img->uid = BPF_CORE_READ(task, cred, uid.val);
	img->euid = BPF_CORE_READ(task, cred, euid.val);
	img->flags = 0;

	copy_path(&bprm->file->f_path, img->exe, s->path, &img->flags,
		  PAL_IMG_EXE_TRUNC);
	copy_path(&task->fs->pwd, img->cwd, s->path, &img->flags,
		  PAL_IMG_CWD_TRUNC);
	bpf_probe_read_kernel_str(img->filename, sizeof(img->filename),
				  BPF_CORE_READ(bprm, filename));

	/* binfmt_script and binfmt_misc point interp at the interpreter. */
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		img->flags |= PAL_IMG_SCRIPT;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end - arg_start;
	if (len > PAL_ARGS_LEN)
		len = PAL_ARGS_LEN;
	img->args_len = len;
	img->args[0] = '\0';
	if (len > 0)
		bpf_probe_read_user(img->args,
				    ((len - 1) & (PAL_ARGS_LEN - 1)) + 1,
				    (void *)arg_start);

	img->parent_exe[0] = '\0';
	pp = bpf_map_lookup_elem(&pal_procs, &ptgid);
	if (pp) {
		pimg = bpf_map_lookup_elem(&pal_images, &pp->image_id);
		if (pimg) {
			bpf_probe_read_kernel(img->parent_exe,
					      sizeof(img->parent_exe),
					      pimg->exe);
			img->flags |= PAL_IMG_PARENT_KNOWN;
		}
	}

	bpf_map_update_elem(&pal_images, &img->image_id, img, BPF_ANY);
	proc.start_ns = img->start_ns;
	proc.image_id = img->image_id;
	program_hashes(s, proc.progs);
	bpf_map_update_elem(&pal_procs, &tgid, &proc, BPF_ANY);
	count(PAL_CNT_EXECS);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pal_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	/* Only the whole process ends here; images stay for late readers. */
	if (BPF_CORE_READ(task, pid) == tgid)
		bpf_map_delete_elem(&pal_procs, &tgid);
	return 0;
}

/* The calling process as a socket owner; image_id 0 if it predates us. */
/* IPv4-mapped (::ffff:a.b.c.d) is an IPv4 peer: one name for both. */
static __always_inline void set_addr6(struct pal_flow_key *key, __u32 *ip)
{
	if (ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff)) {
		key->family = 4;
		__builtin_memcpy(key->addr, &ip[3], 4);
	} else {
		key->family = 6;
		__builtin_memcpy(key->addr, ip, 16);
	}
}

static __always_inline void egress_key(struct pal_flow_key *key,
				       struct pal_owner *o, __u8 proto)
{
	key->start_ns = o->start_ns;
	key->image_id = o->image_id;
	key->tgid = o->tgid;
	key->proto = proto;
	key->direction = PAL_DIR_EGRESS;
}

static __always_inline __u8 sock_proto(__u32 type)
{
	return type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
}

/* How long after a datagram left its peer's datagrams are replies to it. */
#define UDP_REPLY_NS	(180ULL * 1000000000ULL)

static __always_inline void udp_peer(struct udp_peer_key *pk, __u64 cookie,
				     const struct pal_flow_key *key, __u16 port,
				     __u8 answer)
{
	pk->cookie = cookie;
	__builtin_memcpy(pk->addr, key->addr, 16);
	pk->port = port;
	pk->family = key->family;
	pk->answer = answer;
}

/* Remembers where a governed socket was allowed to send a datagram. */
static __always_inline void note_udp_peer(__u64 cookie, const struct pal_flow_key *key,
					  const struct decision *d)
{
	struct udp_peer_key pk = {};
	__u64 now = bpf_ktime_get_boot_ns();

	if (key->proto != IPPROTO_UDP || d->mode == PAL_MODE_NONE ||
	    d->outcome == PAL_OUT_DENY)
		return;
	udp_peer(&pk, cookie, key, key->port, 0);
	bpf_map_update_elem(&pal_udp_peers, &pk, &now, BPF_ANY);
}

/* Whether an inbound datagram answers one the socket was allowed to send. */
static __always_inline bool udp_reply(__u64 cookie, const struct pal_flow_key *key,
				      __u16 sport)
{
	struct udp_peer_key pk = {};
	__u64 *sent, now = bpf_ktime_get_boot_ns();

	udp_peer(&pk, cookie, key, sport, 0);
	sent = bpf_map_lookup_elem(&pal_udp_peers, &pk);
	if (!sent || now - *sent >= UDP_REPLY_NS)
		return false;
	/* A connected socket sends without passing the hooks: replies keep it alive. */
	*sent = now;
	return true;
}

/* A datagram the ingress hook delivered to a governed socket: it may be answered. */
static __always_inline void note_udp_asker(__u64 cookie, const struct pal_flow_key *key,
					   __u16 sport)
{
	struct udp_peer_key pk = {};
	__u64 now = bpf_ktime_get_boot_ns();

	udp_peer(&pk, cookie, key, sport, 1);
	bpf_map_update_elem(&pal_udp_peers, &pk, &now, BPF_ANY);
}

/*
 * A datagram from a UDP server back to a client. Governed: only to a peer whose
 * datagram the ingress hook delivered to this socket within UDP_REPLY_NS; it was
 * judged then, as the inbound half. Ungoverned, where nothing is judged, the
 * ports tell: a socket bound below the ephemeral range sending into it answers a
 * client, and is recorded as that inbound half, on the service port (S6: a
 * resolver makes one flow per client, not one per client port).
 */
static __always_inline bool udp_answer(__u64 cookie, struct pal_flow_key *key,
				       struct pal_owner *o, __u16 lport)
{
	struct udp_peer_key pk = {};
	struct decision d = {};
	__u32 zero = 0, *lo = bpf_map_lookup_elem(&pal_config, &zero);
	__u32 eph = lo && *lo ? *lo : 32768;
	__u64 *asked, now = bpf_ktime_get_boot_ns();

	if (is_governed(o->cgroup_id)) {
		udp_peer(&pk, cookie, key, key->port, 1);
		asked = bpf_map_lookup_elem(&pal_udp_peers, &pk);
		if (!asked || now - *asked >= UDP_REPLY_NS)
			return false;
		*asked = now;
		return true;
	}
	if (lport == 0 || lport >= eph || key->port < eph)
		return false;
	key->direction = PAL_DIR_INGRESS;
	d.remote_port = key->port;
	key->port = lport;
	observe(key, o, 0, &d);
	return true;
}

static __always_inline int egress4(struct bpf_sock_addr *ctx)
{
	struct decision d = {};
	struct pal_flow_key key = {};
	struct pal_owner o = {};
	__u32 ip = ctx->user_ip4;
	/*
	 * Context fields are read once, up front: the verifier refuses a load
	 * through a context pointer the compiler has offset.
	 */
	__u32 type = ctx->type;
	__u16 port = bpf_ntohs(ctx->user_port);
	__u16 lport = ctx->sk->src_port;

	current_owner(&o);
	/*
	 * glibc's getaddrinfo connects UDP sockets to the unspecified address
	 * while ranking candidates (RFC 6724): noise, unless the process is
	 * governed, where a datagram to 0.0.0.0 (which reaches local services)
	 * is judged like any other.
	 */
	if (ip == 0 && type == SOCK_DGRAM && !is_governed(o.cgroup_id))
		return 1;
	egress_key(&key, &o, sock_proto(type));
	key.family = 4;
	key.port = port;
	__builtin_memcpy(key.addr, &ip, 4);
	if (type == SOCK_DGRAM && udp_answer(bpf_get_socket_cookie(ctx), &key, &o, lport))
		return 1;
	decide_egress(&key, &o, &d);
	observe(&key, &o, 0, &d);
	note_udp_peer(bpf_get_socket_cookie(ctx), &key, &d);
	/* 0 makes connect()/sendmsg() fail with EPERM. */
	return d.outcome == PAL_OUT_DENY ? 0 : 1;
}

static __always_inline int egress6(struct bpf_sock_addr *ctx)
{
	struct decision d = {};
	struct pal_flow_key key = {};
	struct pal_owner o = {};
	__u32 ip[4];
	__u32 type = ctx->type;
	__u16 port = bpf_ntohs(ctx->user_port);
	__u16 lport = ctx->sk->src_port;

	ip[0] = ctx->user_ip6[0];
	ip[1] = ctx->user_ip6[1];
	ip[2] = ctx->user_ip6[2];
	ip[3] = ctx->user_ip6[3];

	current_owner(&o);
	if (type == SOCK_DGRAM && !(ip[0] | ip[1] | ip[2] | ip[3]) &&
	    !is_governed(o.cgroup_id))
		return 1;
	egress_key(&key, &o, sock_proto(type));
	key.port = port;
	set_addr6(&key, ip);
	if (type == SOCK_DGRAM && udp_answer(bpf_get_socket_cookie(ctx), &key, &o, lport))
		return 1;
	decide_egress(&key, &o, &d);
	observe(&key, &o, 0, &d);
	note_udp_peer(bpf_get_socket_cookie(ctx), &key, &d);
	return d.outcome == PAL_OUT_DENY ? 0 : 1;
}

SEC("cgroup/connect4")
int pal_connect4(struct bpf_sock_addr *ctx)
{
	return egress4(ctx);
}

SEC("cgroup/connect6")
int pal_connect6(struct bpf_sock_addr *ctx)
{
	return egress6(ctx);
}

/* Unconnected UDP (sendto with an address) never passes connect. */
SEC("cgroup/sendmsg4")
int pal_sendmsg4(struct bpf_sock_addr *ctx)
{
	return egress4(ctx);
}

SEC("cgroup/sendmsg6")
int pal_sendmsg6(struct bpf_sock_addr *ctx)
{
	return egress6(ctx);
}

/* Process context: remember who created the socket. */
SEC("cgroup/sock_create")
int pal_sock_create(struct bpf_sock *sk)
{
	struct pal_owner *o;

	if (sk->family != AF_INET && sk->family != AF_INET6)
		return 1;
	o = bpf_sk_storage_get(&pal_sk_owner, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		current_owner(o);
	return 1;
}

SEC("sockops")
int pal_sockops(struct bpf_sock_ops *skops)
{
	struct decision d = {};
	struct pal_flow_key key = {};
	struct pal_owner o = {}, *so;
	struct bpf_sock *sk;
	__u32 flags = 0;

	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;

	/* Softirq: `current` is whoever was interrupted. Use the socket. */
	so = bpf_sk_storage_get(&pal_sk_owner, sk, 0, 0);
	if (so)
		__builtin_memcpy(&o, so, sizeof(o));
	else
		flags |= PAL_EV_NO_OWNER;

	/* A governed server's connections were judged, and counted, at ingress. */
	if (so && is_governed(o.cgroup_id))
		return 1;

	key.start_ns = o.start_ns;
	key.image_id = o.image_id;
	key.tgid = o.tgid;
	key.proto = IPPROTO_TCP;
	key.direction = PAL_DIR_INGRESS;
	key.port = skops->local_port;
	if (skops->family == AF_INET) {
		__u32 ip = skops->remote_ip4;

		key.family = 4;
		__builtin_memcpy(key.addr, &ip, 4);
	} else {
		__u32 ip[4];

		ip[0] = skops->remote_ip6[0];
		ip[1] = skops->remote_ip6[1];
		ip[2] = skops->remote_ip6[2];
		ip[3] = skops->remote_ip6[3];
		set_addr6(&key, ip);
	}
	observe(&key, &o, flags, &d);
	return 1;
}

/*
 * A packet that will be delivered: the agent reads a DNS answer in it. The
 * kernel itself names addresses (grant) only from replies to a governed
 * socket's own allowed requests.
 */
static __always_inline int deliver(struct __sk_buff *skb, __u64 cgid, bool grant)
{
	capture_dns(skb, cgid, grant);
	return 1;
}

SEC("cgroup_skb/ingress")
int pal_ingress(struct __sk_buff *skb)
{
	struct pal_rule_key rk = {};
	struct pal_flow_key key = {};
	struct attempt_key ak = {};
	struct decision d = {};
	struct pal_owner o = {}, *so;
	struct bpf_sock *sk = skb->sk;
	__u32 gen, app = 0, flags = 0;
	__u64 cgid, now;
	__u16 sport;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	cgid = bpf_sk_cgroup_id(sk);
	gen = active_gen();
	d.mode = governed(cgid, gen, &app);
	if (d.mode == PAL_MODE_NONE)
		return deliver(skb, cgid, false);

	key.direction = PAL_DIR_INGRESS;
	switch (parse_inbound(skb, &key, &sport)) {
	case PARSE_SKIP:
		return deliver(skb, cgid, false);
	case PARSE_OPAQUE:
		/* Unreadable is not allowed: enforce drops it, monitor lets it be. */
		return d.mode == PAL_MODE_ENFORCE ? 0 : deliver(skb, cgid, false);
	}
	/* A forged answer that is refused here never names anything. */
	if (key.proto == IPPROTO_UDP && udp_reply(bpf_get_socket_cookie(skb), &key, sport))
		return deliver(skb, cgid, true);
	rule_key(&rk, gen, cgid, &key);
	settle(&d, bpf_map_lookup_elem(&pal_rules, &rk));
	if (key.proto == IPPROTO_UDP && d.outcome != PAL_OUT_DENY)
		note_udp_asker(bpf_get_socket_cookie(skb), &key, sport);
	/*
	 * An admitted connection or datagram is counted and audited as allowed here
	 * (sock_ops leaves governed sockets to this hook). A refused one is reported
	 * once per attempt: SYN retransmits share the 4-tuple.
	 */
	if (d.outcome != PAL_OUT_ALLOW) {
		__builtin_memcpy(ak.addr, key.addr, 16);
		ak.sport = sport;
		ak.dport = key.port;
		ak.family = key.family;
		ak.proto = key.proto;
		now = bpf_ktime_get_boot_ns();
		if (bpf_map_update_elem(&pal_attempts, &ak, &now, BPF_NOEXIST) != 0)
			return d.outcome == PAL_OUT_DENY ? 0 : deliver(skb, cgid, false);
	}
	so = bpf_sk_storage_get(&pal_sk_owner, sk, 0, 0);
	if (so)
		__builtin_memcpy(&o, so, sizeof(o));
	else
		flags |= PAL_EV_NO_OWNER;
	o.cgroup_id = cgid;
	key.start_ns = o.start_ns;
	key.image_id = o.image_id;
	key.tgid = o.tgid;
	d.remote_port = sport;
	observe(&key, &o, flags, &d);
	return d.outcome == PAL_OUT_DENY ? 0 : deliver(skb, cgid, false);
}
