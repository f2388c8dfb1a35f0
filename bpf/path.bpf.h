/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Absolute paths from struct path, without bpf_d_path.
 * Included by palisade.bpf.c only, after its maps.
 */
#ifndef PALISADE_PATH_BPF_H
#define PALISADE_PATH_BPF_H

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

#endif /* PALISADE_PATH_BPF_H */
