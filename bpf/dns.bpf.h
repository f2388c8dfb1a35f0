/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS answers. Every message from port 53 that will be delivered to a socket
 * in the observed cgroup goes to the ring buffer as it is: naming, TTLs and
 * TCP reassembly happen in the agent. A UDP answer to a governed socket's own
 * request is also read here, only to let the first connection to an answered
 * address be judged by name before the agent has caught up (grant_names).
 * The packet itself is never held, changed or dropped here.
 * Included by palisade.bpf.c only, after its maps and inbound.bpf.h.
 */
#ifndef PALISADE_DNS_BPF_H
#define PALISADE_DNS_BPF_H

#define DNS_PORT	53

struct dns_head {
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 off;	/* where the payload starts */
};

/* Reads addresses, ports and the payload offset of a UDP or TCP packet. */
static __always_inline int dns_head(struct __sk_buff *skb, struct dns_head *h)
{
	__u32 l4off;
	__u8 ports[4], doff;
	__be32 seq;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		if (ip.frag_off & bpf_htons(0x1fff))
			return -1;
		h->family = 4;
		h->proto = ip.protocol;
		__builtin_memcpy(h->saddr, &ip.saddr, 4);
		__builtin_memcpy(h->daddr, &ip.daddr, 4);
		l4off = (ip.ihl & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		h->family = 6;
		h->proto = ip6.nexthdr;
		__builtin_memcpy(h->saddr, &ip6.saddr, 16);
		__builtin_memcpy(h->daddr, &ip6.daddr, 16);
		l4off = sizeof(ip6);
		if (ipv6_transport(skb, &h->proto, &l4off) != PARSE_OK)
			return -1;
	} else {
		return -1;
	}
	if (h->proto != IPPROTO_UDP && h->proto != IPPROTO_TCP)
		return -1;
	if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)))
		return -1;
	h->sport = (ports[0] << 8) | ports[1];
	h->dport = (ports[2] << 8) | ports[3];
	if (h->proto == IPPROTO_UDP) {
		h->off = l4off + 8;
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4off + 4, &seq, sizeof(seq)) ||
	    bpf_skb_load_bytes(skb, l4off + 12, &doff, 1))
		return -1;
	h->seq = bpf_ntohl(seq);
	h->off = l4off + (doff >> 4) * 4;
	return 0;
}

/* The kernel's own reading of an answer: see PAL_FAMILY_NAME. */
#define DNS_SCRATCH	1024
#define DNS_MASK	(DNS_SCRATCH - 1)
#define DNS_LABELS	16
#define DNS_ANSWERS	32
#define DNS_CNAMES	8
#define DNS_JUMPS	8
#define NAME_MASK_	(PAL_NAME_LEN - 1)

struct dns_scratch {
	__u8 buf[DNS_SCRATCH];
	__u32 len;
	__u32 p;		/* where the next record starts */
	__u32 q;		/* decoding: where the next label is */
	__u32 jumps;
	__s32 ok;
	__u32 n;		/* patterns matched */
	__u32 flen;		/* bytes in text */
	__u32 pos;		/* bytes in name */
	__u32 ncname;
	__u32 cname[DNS_CNAMES];	/* where CNAME targets start */
	__u8 text[PAL_NAME_LEN];	/* a decoded name, lowercased, dotted */
	struct pal_name_key name;	/* the same, reversed, as far as matched */
	struct pal_dns_addr_key key;
	struct pal_dns_addr_val val;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} pal_dns_scratch SEC(".maps");

static __always_inline struct dns_scratch *dns_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pal_dns_scratch, &zero);
}

/* Past the (possibly compressed) name at p: where the record's fields start. */
static __always_inline int skip_name(struct dns_scratch *s, __u32 *p)
{
	for (int j = 0; j < DNS_LABELS; j++) {
		__u8 l;

		if (*p >= s->len)
			return -1;
		l = s->buf[*p & DNS_MASK];
		if ((l & 0xc0) == 0xc0) {
			*p += 2;
			return 0;
		}
		*p += 1 + l;
		if (l == 0)
			return 0;
	}
	return -1;
}

/* One label (or pointer) of the name at s->q, appended to s->text. */
static long decode_label(__u32 i, void *unused)
{
	struct dns_scratch *s = dns_scratch();
	__u32 q;
	__u8 l, c;

	if (!s)
		return 1;
	q = s->q;
	if (q >= s->len)
		goto bad;
	l = s->buf[q & DNS_MASK];
	if ((l & 0xc0) == 0xc0) {
		if (++s->jumps > DNS_JUMPS || q + 1 >= s->len)
			goto bad;
		s->q = ((l & 0x3f) << 8) | s->buf[(q + 1) & DNS_MASK];
		return 0;
	}
	if (l & 0xc0)
		goto bad;
	if (l == 0) {
		s->ok = 1;
		return 1;
	}
	/* Longer than any pattern we keep: left to the agent. */
	if (s->flen + l + 1 > PAL_NAME_LEN)
		goto bad;
	if (s->flen > 0)
		s->text[s->flen++ & NAME_MASK_] = '.';
	for (int j = 0; j < 63; j++) {
		if (j >= l)
			break;
		c = s->buf[(q + 1 + j) & DNS_MASK];
		/* A dot inside a label would read as a boundary: not ours to judge. */
		if (c == '.')
			goto bad;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		s->text[s->flen++ & NAME_MASK_] = c;
	}
	s->q = q + 1 + l;
	return 0;
bad:
	s->ok = -1;
	return 1;
}

/* Records the pattern the reversed name so far is, if it is one. */
static __always_inline void match_pattern(struct dns_scratch *s)
{
	__u32 *id = bpf_map_lookup_elem(&pal_dns_patterns, &s->name);

	if (id && s->n < PAL_DNS_MATCHES) {
		s->val.pattern[s->n & (PAL_DNS_MATCHES - 1)] = *id;
		s->n++;
	}
}

/* One byte of s->text, last to first: each `.suffix` and the whole name are tried. */
static long match_byte(__u32 i, void *unused)
{
	struct dns_scratch *s = dns_scratch();
	__u32 at;
	__u8 c;

	if (!s || i >= s->flen)
		return 1;
	at = s->flen - 1 - i;
	c = s->text[at & NAME_MASK_];
	s->name.name[s->pos++ & NAME_MASK_] = c;
	if (c == '.' || at == 0)
		match_pattern(s);
	return 0;
}

/* Decodes the name at q and records the patterns it or its suffixes are. */
static __always_inline void match_name(struct dns_scratch *s, __u32 q)
{
	s->q = q;
	s->jumps = 0;
	s->flen = 0;
	s->ok = 0;
	bpf_loop(DNS_LABELS * 2, decode_label, 0, 0);
	if (s->ok != 1 || s->flen == 0)
		return;
	__builtin_memset(&s->name, 0, sizeof(s->name));
	s->pos = 0;
	bpf_loop(PAL_NAME_LEN, match_byte, 0, 0);
}

/* One answer record: notes where a CNAME target is (pass 0), remembers an A/AAAA (pass 1). */
static long answer_record(__u32 i, void *ctx)
{
	struct dns_scratch *s = dns_scratch();
	__u32 p, rdlen, type, pass = *(__u32 *)ctx;

	if (!s)
		return 1;
	p = s->p;
	if (skip_name(s, &p) || p + 10 > s->len)
		return 1;
	type = (s->buf[p & DNS_MASK] << 8) | s->buf[(p + 1) & DNS_MASK];
	rdlen = (s->buf[(p + 8) & DNS_MASK] << 8) | s->buf[(p + 9) & DNS_MASK];
	p += 10;
	if (p + rdlen > s->len)
		return 1;
	if (pass == 0 && type == 5 && s->ncname < DNS_CNAMES) {
		s->cname[s->ncname & (DNS_CNAMES - 1)] = p;
		s->ncname++;
	}
	if (pass == 1 && ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
		s->key.family = rdlen == 4 ? 4 : 6;
		__builtin_memset(s->key.addr, 0, sizeof(s->key.addr));
		for (int j = 0; j < 16; j++) {
			if (j < rdlen)
				s->key.addr[j] = s->buf[(p + j) & DNS_MASK];
		}
		bpf_map_update_elem(&pal_dns_addrs, &s->key, &s->val, BPF_ANY);
	}
	s->p = p + rdlen;
	return 0;
}

/*
 * Reads a UDP answer delivered to cgroup cgid: the question and every CNAME
 * target are matched against the patterns, and each A/AAAA remembers those
 * that matched. Anything unusual (a name longer than we compare, more than we
 * walk, a truncated answer) is left to the agent.
 */
static __always_inline void grant_names(struct __sk_buff *skb, __u32 off, __u64 len,
					__u64 cgid)
{
	struct dns_scratch *s = dns_scratch();
	__u32 ancount, first, pass;

	if (!s || len < 12)
		return;
	if (len > DNS_SCRATCH)
		len = DNS_SCRATCH;
	barrier_var(len);
	if (len < 12 || len > DNS_SCRATCH || bpf_skb_load_bytes(skb, off, s->buf, len))
		return;
	/* A response (QR), not truncated (TC), NOERROR, one question. */
	if (!(s->buf[2] & 0x80) || (s->buf[2] & 0x02) || (s->buf[3] & 0x0f) ||
	    s->buf[4] != 0 || s->buf[5] != 1)
		return;
	ancount = (s->buf[6] << 8) | s->buf[7];
	if (ancount > DNS_ANSWERS)
		ancount = DNS_ANSWERS;
	s->len = len;
	__builtin_memset(&s->val, 0, sizeof(s->val));
	s->n = 0;
	s->ncname = 0;

	/* The question, then past its QTYPE and QCLASS. */
	match_name(s, 12);
	first = 12;
	if (skip_name(s, &first))
		return;
	first += 4;

	pass = 0;
	s->p = first;
	bpf_loop(ancount, answer_record, &pass, 0);
	for (int c = 0; c < DNS_CNAMES; c++) {
		if (c >= s->ncname)
			break;
		match_name(s, s->cname[c & (DNS_CNAMES - 1)]);
	}
	/* No pattern matched: nothing to remember. */
	if (s->n == 0)
		return;
	s->val.ts_ns = bpf_ktime_get_boot_ns();
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.cgroup_id = cgid;
	pass = 1;
	s->p = first;
	bpf_loop(ancount, answer_record, &pass, 0);
}

/* Copies the payload of a UDP or TCP packet from port 53, if this is one. */
static __always_inline void capture_dns(struct __sk_buff *skb, __u64 cgid, bool grant)
{
	struct pal_dns_event *ev;
	struct dns_head h = {};
	/* 64-bit: a 32-bit copy would reach the helper without the bounds checked. */
	__u64 total, len;

	if (dns_head(skb, &h) || h.sport != DNS_PORT || skb->len <= h.off)
		return;
	total = (__u32)(skb->len - h.off);
	len = total < PAL_DNS_MAX ? total : PAL_DNS_MAX;
	ev = bpf_ringbuf_reserve(&pal_events, sizeof(*ev), 0);
	if (!ev) {
		count(PAL_CNT_RB_FULL);
		return;
	}
	barrier_var(len);
	if (len < 1 || len > PAL_DNS_MAX ||
	    bpf_skb_load_bytes(skb, h.off, ev->data, len)) {
		bpf_ringbuf_discard(ev, 0);
		return;
	}
	ev->type = PAL_EV_DNS;
	ev->flags = total > len ? PAL_DNS_TRUNC : 0;
	ev->ts_ns = bpf_ktime_get_boot_ns();
	ev->cgroup_id = cgid;
	ev->cookie = bpf_get_socket_cookie(skb);
	ev->family = h.family;
	ev->proto = h.proto;
	ev->sport = h.sport;
	ev->dport = h.dport;
	ev->len = len;
	ev->seq = h.seq;
	ev->total = total;
	__builtin_memcpy(ev->saddr, h.saddr, 16);
	__builtin_memcpy(ev->daddr, h.daddr, 16);
	bpf_ringbuf_submit(ev, 0);
	if (grant && h.proto == IPPROTO_UDP)
		grant_names(skb, h.off, total, cgid);
}

#endif /* PALISADE_DNS_BPF_H */
