/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Program hashes: what a policy names a process by.
 * Included by palisade.bpf.c only, after its maps.
 */
#ifndef PALISADE_PROGRAM_BPF_H
#define PALISADE_PROGRAM_BPF_H

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

#endif /* PALISADE_PROGRAM_BPF_H */
