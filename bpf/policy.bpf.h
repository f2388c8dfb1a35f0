/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket owners, observation, and policy decisions.
 * Included by palisade.bpf.c only, after its maps.
 */
#ifndef PALISADE_POLICY_BPF_H
#define PALISADE_POLICY_BPF_H

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

	/* Each decision is counted, also the repeats that send no event. */
	if (d->outcome == PAL_OUT_ALLOW)
		count(PAL_CNT_ALLOW);
	else if (d->outcome == PAL_OUT_WOULD_DENY)
		count(PAL_CNT_WOULD_DENY);
	else if (d->outcome == PAL_OUT_DENY)
		count(PAL_CNT_DENY);

	key->outcome = d->outcome;
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

/*
 * An address the kernel saw answered to this cgroup moments ago: the rules of
 * the patterns its question matched, for each program, then any.
 */
static __always_inline struct pal_rule_val *
by_answered_name(struct pal_rule_key *rk, struct pal_flow_key *key, __u64 cgroup_id,
		 struct pal_proc *pp)
{
	struct pal_dns_addr_key ak = {};
	struct pal_dns_addr_val *nv;
	struct pal_rule_val *v, *found = 0;

	ak.cgroup_id = cgroup_id;
	ak.family = key->family;
	__builtin_memcpy(ak.addr, key->addr, 16);
	nv = bpf_map_lookup_elem(&pal_dns_addrs, &ak);
	if (!nv || bpf_ktime_get_boot_ns() - nv->ts_ns > PAL_DNS_WINDOW_NS)
		return 0;
	rk->prefixlen = PAL_RULE_FIXED_BITS + 128;
	rk->family = PAL_FAMILY_NAME;
	__builtin_memset(rk->addr, 0, 16);
	for (int i = 0; i < PAL_DNS_MATCHES; i++) {
		if (!nv->pattern[i])
			continue;
		__builtin_memcpy(rk->addr, &nv->pattern[i], 4);
		for (int j = 0; j <= PAL_PROGS; j++) {
			rk->prog = j < PAL_PROGS ? (pp ? pp->progs[j] : 0) : 0;
			if (!rk->prog && j < PAL_PROGS)
				continue;
			v = bpf_map_lookup_elem(&pal_rules, rk);
			if (!v)
				continue;
			/* As compile ranks a shared entry: denied, then allowed, then the rest. */
			if (v->verdict == PAL_VERDICT_DENY)
				return v;
			if (!found || (v->verdict == PAL_VERDICT_ALLOW &&
				       found->verdict != PAL_VERDICT_ALLOW))
				found = v;
		}
	}
	return found;
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
	if (!v)
		v = by_answered_name(&rk, key, o->cgroup_id,
				     pp && pp->start_ns == o->start_ns ? pp : 0);
	settle(d, v);
}

#endif /* PALISADE_POLICY_BPF_H */
