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

struct walk_ctx {
	struct dentry *d;
	struct vfsmount *vfs;
	struct mount *mnt;
	__u32 off;
	bool trunc;
};

/* One step of walk_path; returns 1 to stop. */
static long walk_step(__u64 i, struct walk_ctx *w)
{
	/* Locals: CO-RE macros must not see through our own struct. */
	struct dentry *d = w->d;
	struct vfsmount *vfs = w->vfs;
	struct mount *mnt = w->mnt;
	struct dentry *root = BPF_CORE_READ(vfs, mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct scratch *s;
	struct qstr name;
	__u32 zero = 0, len;

	if (d == root || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || d != root)
			return 1;	/* reached the namespace root */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfs = &up->mnt;
		return 0;
	}

	s = bpf_map_lookup_elem(&pal_scratch, &zero);
	if (!s)
		return 1;
	name = BPF_CORE_READ(d, d_name);
	len = name.len & NAME_MASK;
	if (len + 2 > w->off) {
		w->trunc = true;
		return 1;
	}
	w->off -= len;
	bpf_probe_read_kernel(&s->path[w->off & NAME_MASK], len, name.name);
	w->off -= 1;
	s->path[w->off & NAME_MASK] = '/';
	w->d = parent;
	return 0;
}

/*
 * Rebuild an absolute path from a struct path by walking dentries up to the
 * root, crossing mounts. bpf_d_path is not available to tracepoints (and
 * fentry is refused under lockdown), so we walk by hand. Components are
 * written backwards into the scratch path buffer; offsets are masked so the
 * verifier can bound every access. bpf_loop keeps the verifier from
 * exploring every iteration's branches (an unrolled walk exceeds its limit).
 * Returns the offset of the first byte; the path ends with a NUL at HALF - 1.
 */
static __always_inline __u32 walk_path(const struct path *p, char *buf, bool *trunc)
{
	struct walk_ctx w = {};

	w.d = BPF_CORE_READ(p, dentry);
	w.vfs = BPF_CORE_READ(p, mnt);
	w.mnt = container_of(w.vfs, struct mount, mnt);
	w.off = HALF - 1;
	buf[HALF - 1] = '\0';

	bpf_loop(PATH_DEPTH, walk_step, &w, 0);
	if (w.off == HALF - 1) {
		w.off -= 1;
		buf[w.off & NAME_MASK] = '/';
	}
	*trunc = w.trunc;
	return w.off & NAME_MASK;
}

static __always_inline void copy_path(const struct path *p, char *dst, char *buf,
				      __u32 *flags, __u32 trunc_flag)
{
	bool trunc;
	__u32 off = walk_path(p, buf, &trunc);
	__u32 len = (HALF - off) & NAME_MASK;

	/* len includes the trailing NUL, and off + len never passes HALF. */
	bpf_probe_read_kernel(dst, len, &buf[off]);
	if (trunc)
		*flags |= trunc_flag;
}

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
	proc.image_id = pp ? pp->image_id : 0;
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
static __always_inline void current_owner(struct pal_owner *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pal_proc *pp = bpf_map_lookup_elem(&pal_procs, &tgid);

	o->tgid = tgid;
	o->start_ns = leader_start(task);
	o->image_id = 0;
	/* A start-time mismatch means the pid was reused: treat it as unseen. */
	if (pp && pp->start_ns == o->start_ns)
		o->image_id = pp->image_id;
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->uid = bpf_get_current_uid_gid();
	o->euid = BPF_CORE_READ(task, cred, euid.val);
}

/*
 * Count a flow in the kernel; only its first sighting becomes an event.
 * LRU eviction simply makes the next sighting look new again, which the
 * agent merges by identity.
 */
static __always_inline void observe(struct pal_flow_key *key,
				    struct pal_owner *o, __u32 flags)
{
	struct pal_flow_stats *st, fresh = {};
	struct pal_event *ev;
	struct pal_image *img;
	__u64 now = bpf_ktime_get_boot_ns();

	st = bpf_map_lookup_elem(&pal_flows, key);
	if (st) {
		__sync_fetch_and_add(&st->count, 1);
		st->last_ns = now;
		count(PAL_CNT_FLOW_HITS);
		return;
	}
	fresh.count = 1;
	fresh.first_ns = now;
	fresh.last_ns = now;
	bpf_map_update_elem(&pal_flows, key, &fresh, BPF_NOEXIST);

	ev = bpf_ringbuf_reserve(&pal_events, sizeof(*ev), 0);
	if (!ev) {
		count(PAL_CNT_RB_FULL);
		/* Forget the key so the next sighting tries again. */
		bpf_map_delete_elem(&pal_flows, key);
		return;
	}
	ev->type = PAL_EV_FLOW;
	ev->flags = flags;
	__builtin_memcpy(&ev->key, key, sizeof(*key));
	ev->ts_ns = now;
	ev->cgroup_id = o->cgroup_id;
	ev->uid = o->uid;
	ev->euid = o->euid;
	ev->image.image_id = 0;

	img = key->image_id ? bpf_map_lookup_elem(&pal_images, &key->image_id) : 0;
	if (img) {
		bpf_probe_read_kernel(&ev->image, sizeof(ev->image), img);
		ev->flags |= PAL_EV_HAS_IMAGE;
	} else {
		count(PAL_CNT_NO_IMAGE);
	}
	bpf_ringbuf_submit(ev, 0);
	count(PAL_CNT_EVENTS);
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

static __always_inline __u8 sock_proto(struct bpf_sock_addr *ctx)
{
	return ctx->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
}

static __always_inline int egress4(struct bpf_sock_addr *ctx)
{
	struct pal_flow_key key = {};
	struct pal_owner o = {};
	__u32 ip = ctx->user_ip4;

	/*
	 * glibc's getaddrinfo connects UDP sockets to rank candidate addresses
	 * (RFC 6724); to the unspecified address nothing can ever be sent.
	 */
	if (ip == 0 && ctx->type == SOCK_DGRAM)
		return 1;

	current_owner(&o);
	egress_key(&key, &o, sock_proto(ctx));
	key.family = 4;
	key.port = bpf_ntohs(ctx->user_port);
	__builtin_memcpy(key.addr, &ip, 4);
	observe(&key, &o, 0);
	return 1;
}

static __always_inline int egress6(struct bpf_sock_addr *ctx)
{
	struct pal_flow_key key = {};
	struct pal_owner o = {};
	__u32 ip[4];

	ip[0] = ctx->user_ip6[0];
	ip[1] = ctx->user_ip6[1];
	ip[2] = ctx->user_ip6[2];
	ip[3] = ctx->user_ip6[3];

	if (ctx->type == SOCK_DGRAM && !(ip[0] | ip[1] | ip[2] | ip[3]))
		return 1;

	current_owner(&o);
	egress_key(&key, &o, sock_proto(ctx));
	key.port = bpf_ntohs(ctx->user_port);
	/* IPv4-mapped (::ffff:a.b.c.d) is an IPv4 peer: one name for both. */
	if (ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff)) {
		key.family = 4;
		__builtin_memcpy(key.addr, &ip[3], 4);
	} else {
		key.family = 6;
		__builtin_memcpy(key.addr, ip, 16);
	}
	observe(&key, &o, 0);
	return 1;
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
		if (ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff)) {
			key.family = 4;
			__builtin_memcpy(key.addr, &ip[3], 4);
		} else {
			key.family = 6;
			__builtin_memcpy(key.addr, ip, 16);
		}
	}
	observe(&key, &o, flags);
	return 1;
}
