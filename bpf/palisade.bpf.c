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

/* Active policy generation: rules of other generations are ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_gen SEC(".maps");

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

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define PROG_MIX	0x9e3779b97f4a7c15ULL

enum img_field { F_EXE, F_FILENAME, F_CWD, F_ARGS };

struct hash_ctx {
	__u64 h;
	__u32 field;
	__u32 off;
	__u32 end;
};

static __always_inline char image_byte(struct scratch *s, __u32 field, __u32 i)
{
	i &= PAL_PATH_LEN - 1;
	switch (field) {
	case F_EXE:
		return s->image.exe[i];
	case F_FILENAME:
		return s->image.filename[i];
	case F_CWD:
		return s->image.cwd[i];
	default:
		return s->image.args[i];
	}
}

static long hash_step(__u64 i, struct hash_ctx *c)
{
	__u32 zero = 0, idx = c->off + (__u32)i;
	struct scratch *s;
	char ch;

	if (idx >= c->end)
		return 1;
	s = bpf_map_lookup_elem(&pal_scratch, &zero);
	if (!s)
		return 1;
	ch = image_byte(s, c->field, idx);
	if (ch == 0)
		return 1;
	c->h = (c->h ^ (__u8)ch) * FNV_PRIME;
	return 0;
}

/* Continue FNV-1a over one NUL-terminated string of the scratch image. */
static __always_inline __u64 hash_field(__u64 h, __u32 field, __u32 off, __u32 end)
{
	struct hash_ctx c = { .h = h, .field = field, .off = off, .end = end };

	bpf_loop(PAL_PATH_LEN, hash_step, &c, 0);
	return c.h;
}

/*
 * Hash of a path as userspace writes it: absolute paths as they are, a
 * relative one joined to the working directory ("./" dropped). Paths with
 * "..", "//" or symlinked directories hash differently than their clean
 * form: a policy then does not match and enforce fails closed.
 */
static __always_inline __u64 hash_abs(struct scratch *s, __u32 field, __u32 off)
{
	__u32 end = field == F_ARGS ? s->image.args_len : PAL_PATH_LEN;
	__u64 h = FNV_OFFSET;

	if (image_byte(s, field, off) == '/')
		return hash_field(h, field, off, end);
	h = hash_field(h, F_CWD, 0, PAL_PATH_LEN);
	if (!(s->image.cwd[0] == '/' && s->image.cwd[1] == 0))
		h = (h ^ '/') * FNV_PRIME;
	if (image_byte(s, field, off) == '.' && image_byte(s, field, off + 1) == '/')
		off += 2;
	return hash_field(h, field, off, end);
}

struct arg_ctx {
	__u32 len;
	__u32 found;
	bool want;
};

/*
 * Finds argv[1], the script of `interp script ...`, unless it is an option.
 * Only argv[1] counts: options before a script can carry code of their own
 * (`python3 -cCODE allowed.py`, `node -r evil.js allowed.js`), so a process
 * started that way gets no script and cannot match a binary+script rule.
 */
static long arg_step(__u64 i, struct arg_ctx *c)
{
	__u32 zero = 0;
	struct scratch *s;
	char ch;

	if (i >= c->len)
		return 1;
	s = bpf_map_lookup_elem(&pal_scratch, &zero);
	if (!s)
		return 1;
	ch = s->image.args[i & (PAL_ARGS_LEN - 1)];
	if (c->want) {
		if (ch != '-' && ch != 0)
			c->found = i;
		return 1;
	}
	if (ch == 0)
		c->want = true;
	return 0;
}

static __always_inline __u64 mix(__u64 bin, __u64 script)
{
	return bin ^ (script * PROG_MIX);
}

/* The program hashes a policy may name this process by (see palisade.h). */
static __always_inline void program_hashes(struct scratch *s, __u64 *progs)
{
	struct arg_ctx a = { .len = s->image.args_len };
	__u64 exe = hash_field(FNV_OFFSET, F_EXE, 0, PAL_PATH_LEN);
	__u64 file = hash_abs(s, F_FILENAME, 0);

	if (s->image.flags & PAL_IMG_SCRIPT) {
		/* #!/bin/sh files: the interpreter runs the executed file. */
		progs[0] = mix(exe, file);
		progs[1] = exe;
		progs[2] = 0;
		progs[3] = 0;
		return;
	}
	a.found = 0;
	bpf_loop(PAL_ARGS_LEN, arg_step, &a, 0);
	if (a.found) {
		__u64 script = hash_abs(s, F_ARGS, a.found);

		progs[0] = mix(file, script);
		progs[1] = mix(exe, script);
	} else {
		progs[0] = 0;
		progs[1] = 0;
	}
	progs[2] = file;
	progs[3] = exe;
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

struct decision {
	__u32 rule;
	__u8 outcome;
	__u8 mode;
	__u16 remote_port;
};

/*
 * Count a flow in the kernel; only its first sighting becomes an event.
 * Decisions against a policy (would-deny, deny) are reported every time:
 * each attempt is an audit record. LRU eviction simply makes the next
 * sighting look new again, which the agent merges by identity.
 */
static __always_inline void observe(struct pal_flow_key *key,
				    struct pal_owner *o, __u32 flags,
				    struct decision *d)
{
	struct pal_flow_stats *st, fresh = {};
	struct pal_event *ev;
	struct pal_image *img;
	__u64 now = bpf_ktime_get_boot_ns();
	bool refused = d->outcome >= PAL_OUT_WOULD_DENY;

	st = bpf_map_lookup_elem(&pal_flows, key);
	if (st) {
		__sync_fetch_and_add(&st->count, 1);
		st->last_ns = now;
		count(PAL_CNT_FLOW_HITS);
		if (!refused)
			return;
	} else {
		fresh.count = 1;
		fresh.first_ns = now;
		fresh.last_ns = now;
		bpf_map_update_elem(&pal_flows, key, &fresh, BPF_NOEXIST);
	}

	ev = bpf_ringbuf_reserve(&pal_events, sizeof(*ev), 0);
	if (!ev) {
		count(PAL_CNT_RB_FULL);
		/* Forget the key so the next sighting tries again. */
		if (!st)
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
	ev->rule = d->rule;
	ev->outcome = d->outcome;
	ev->mode = d->mode;
	ev->remote_port = d->remote_port;
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

static __always_inline __u32 active_gen(void)
{
	__u32 zero = 0, *gen = bpf_map_lookup_elem(&pal_gen, &zero);

	return gen ? *gen : 0;
}

/* Mode of the app owning a cgroup in generation gen; 0 if ungoverned. */
static __always_inline __u32 governed(__u64 cgroup_id, __u32 gen, __u32 *app)
{
	struct pal_cg_key k = { .cgroup_id = cgroup_id, .gen = gen };
	struct pal_cg_val *v = bpf_map_lookup_elem(&pal_cg_mode, &k);

	if (!v)
		return PAL_MODE_NONE;
	*app = v->app;
	return v->mode;
}

static __always_inline bool is_governed(__u64 cgroup_id)
{
	__u32 app;

	return governed(cgroup_id, active_gen(), &app) != PAL_MODE_NONE;
}

static __always_inline void rule_key(struct pal_rule_key *rk, __u32 gen,
				     __u64 cgroup_id, struct pal_flow_key *key)
{
	rk->prefixlen = PAL_RULE_FIXED_BITS + (key->family == 4 ? 32 : 128);
	rk->gen = gen;
	rk->cgroup_id = cgroup_id;
	rk->direction = key->direction;
	rk->proto = key->proto;
	rk->port = key->port;
	rk->family = key->family;
	__builtin_memcpy(rk->addr, key->addr, 16);
}

static __always_inline void settle(struct decision *d, struct pal_rule_val *v)
{
	if (v) {
		d->rule = v->rule;
		if (v->verdict == PAL_VERDICT_ALLOW) {
			d->outcome = PAL_OUT_ALLOW;
			return;
		}
	}
	/* No rule, or a denied link: only allowed links pass under enforce. */
	d->outcome = d->mode == PAL_MODE_ENFORCE ? PAL_OUT_DENY : PAL_OUT_WOULD_DENY;
}

/* Egress: the calling process's programs, most specific first, then any. */
static __always_inline void decide_egress(struct pal_flow_key *key,
					  struct pal_owner *o,
					  struct decision *d)
{
	struct pal_rule_key rk = {};
	struct pal_rule_val *v = 0;
	struct pal_proc *pp;
	__u32 gen = active_gen(), app = 0;

	d->mode = governed(o->cgroup_id, gen, &app);
	if (d->mode == PAL_MODE_NONE)
		return;

	rule_key(&rk, gen, o->cgroup_id, key);
	pp = bpf_map_lookup_elem(&pal_procs, &o->tgid);
	if (pp && pp->start_ns == o->start_ns) {
		for (int i = 0; i < PAL_PROGS && !v; i++) {
			rk.prog = pp->progs[i];
			if (rk.prog)
				v = bpf_map_lookup_elem(&pal_rules, &rk);
		}
	}
	if (!v) {
		rk.prog = 0;
		v = bpf_map_lookup_elem(&pal_rules, &rk);
	}
	settle(d, v);
}

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
	decide_egress(&key, &o, &d);
	observe(&key, &o, 0, &d);
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
	decide_egress(&key, &o, &d);
	observe(&key, &o, 0, &d);
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

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_ACK	0x10

enum parse_result {
	PARSE_SKIP,	/* not a connection attempt: nothing to judge */
	PARSE_OK,
	PARSE_OPAQUE,	/* cannot be read: judged as matching no rule */
};

#define IPV6_HOPOPTS	0
#define IPV6_ROUTING	43
#define IPV6_FRAGMENT	44
#define IPV6_DSTOPTS	60
#define IPV6_EXT_MAX	4

/*
 * Walks IPv6 extension headers to the transport header. A packet whose
 * chain is longer than we walk, or that is a fragment, is opaque: passing it
 * unjudged would let a SYN with one Destination Options header through.
 */
static __always_inline int ipv6_transport(struct __sk_buff *skb, __u8 *proto,
					  __u32 *off)
{
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		__u8 ext[2];

		if (*proto == IPPROTO_TCP || *proto == IPPROTO_UDP)
			return PARSE_OK;
		if (*proto == IPV6_FRAGMENT)
			return PARSE_OPAQUE;
		if (*proto != IPV6_HOPOPTS && *proto != IPV6_ROUTING &&
		    *proto != IPV6_DSTOPTS)
			return PARSE_SKIP;
		if (bpf_skb_load_bytes(skb, *off, ext, sizeof(ext)))
			return PARSE_OPAQUE;
		*proto = ext[0];
		*off += (ext[1] + 1) * 8;
	}
	return *proto == IPPROTO_TCP || *proto == IPPROTO_UDP ? PARSE_OK : PARSE_OPAQUE;
}

/* Reads the peer and ports of an inbound TCP SYN or UDP datagram. */
static __always_inline int parse_inbound(struct __sk_buff *skb,
					 struct pal_flow_key *key,
					 __u16 *sport)
{
	__u32 l4off;
	__u8 ports[4], flags;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return PARSE_OPAQUE;
		key->family = 4;
		key->proto = ip.protocol;
		__builtin_memcpy(key->addr, &ip.saddr, 4);
		l4off = (ip.ihl & 0xf) * 4;
		/* A non-first fragment carries no ports. */
		if (ip.frag_off & bpf_htons(0x1fff))
			return PARSE_OPAQUE;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		int r;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return PARSE_OPAQUE;
		key->family = 6;
		key->proto = ip6.nexthdr;
		__builtin_memcpy(key->addr, &ip6.saddr, 16);
		l4off = sizeof(ip6);
		r = ipv6_transport(skb, &key->proto, &l4off);
		if (r != PARSE_OK)
			return r;
	} else {
		return PARSE_SKIP;
	}
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP)
		return PARSE_SKIP;
	if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)))
		return PARSE_OPAQUE;
	*sport = (ports[0] << 8) | ports[1];
	key->port = (ports[2] << 8) | ports[3];
	if (key->proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, l4off + 13, &flags, 1))
			return PARSE_OPAQUE;
		/* Only a connection attempt is judged; the rest of it follows. */
		if (!(flags & TCP_FLAG_SYN) || (flags & TCP_FLAG_ACK))
			return PARSE_SKIP;
	}
	return PARSE_OK;
}

/*
 * Inbound enforcement for governed sockets. Runs in softirq: the server is
 * the receiving socket's cgroup and stored owner, never `current`. The peer
 * is known here only by address; allowed client identities were compiled to
 * the addresses of the hosts they run on.
 */
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
		return 1;

	key.direction = PAL_DIR_INGRESS;
	switch (parse_inbound(skb, &key, &sport)) {
	case PARSE_SKIP:
		return 1;
	case PARSE_OPAQUE:
		/* Unreadable is not allowed: enforce drops it, monitor lets it be. */
		return d.mode == PAL_MODE_ENFORCE ? 0 : 1;
	}
	rule_key(&rk, gen, cgid, &key);
	settle(&d, bpf_map_lookup_elem(&pal_rules, &rk));
	if (d.outcome == PAL_OUT_ALLOW)
		return 1;

	/* Report each attempt once: SYN retransmits share the 4-tuple. */
	__builtin_memcpy(ak.addr, key.addr, 16);
	ak.sport = sport;
	ak.dport = key.port;
	ak.family = key.family;
	ak.proto = key.proto;
	now = bpf_ktime_get_boot_ns();
	if (bpf_map_update_elem(&pal_attempts, &ak, &now, BPF_NOEXIST) == 0) {
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
	}
	return d.outcome == PAL_OUT_DENY ? 0 : 1;
}
