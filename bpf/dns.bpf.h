/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Copying DNS answers to the agent. Every message from port 53 that reaches a
 * socket in the observed cgroup goes to the ring buffer as it is; parsing,
 * CNAME chains and TCP reassembly happen in the agent. The packet itself is
 * never held, changed or dropped here.
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

struct dns_scratch {
	__u8 buf[DNS_SCRATCH];
	__u32 len;
	__u32 p;
	__u32 k;
	__u32 n;
	__u32 nlabels;
	__s32 ok;
	__u32 starts[DNS_LABELS];
	__u64 h;
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

/* One label of the question name: where it starts. */
static long question_label(__u32 i, void *unused)
{
	struct dns_scratch *s = dns_scratch();
	__u8 l;

	if (!s)
		return 1;
	if (s->p >= s->len) {
		s->ok = -1;
		return 1;
	}
	l = s->buf[s->p & DNS_MASK];
	if (l == 0) {
		s->p += 1;
		s->ok = 1;
		return 1;
	}
	if ((l & 0xc0) || s->nlabels >= DNS_LABELS) {
		s->ok = -1;
		return 1;
	}
	s->starts[s->nlabels & (DNS_LABELS - 1)] = s->p;
	s->nlabels++;
	s->p += 1 + l;
	return 0;
}

/* One byte of the question name, last to first: hashes the whole and its suffixes. */
static long question_hash(__u32 i, void *unused)
{
	struct dns_scratch *s = dns_scratch();
	__u8 c;

	if (!s)
		return 1;
	if (s->p == s->starts[s->k & (DNS_LABELS - 1)]) {
		if (s->k == 0) {
			s->val.hash[0] = s->h;
			s->ok = 1;
			return 1;
		}
		s->h = (s->h ^ '.') * FNV_PRIME;
		if (s->n < PAL_DNS_HASHES - 1) {
			s->n++;
			s->val.hash[s->n & (PAL_DNS_HASHES - 1)] = s->h;
		}
		s->k--;
	} else {
		c = s->buf[s->p & DNS_MASK];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		s->h = (s->h ^ c) * FNV_PRIME;
	}
	if (s->p == 0)
		return 1;
	s->p--;
	return 0;
}

/* One answer record: an A or AAAA gets the question's hashes. */
static long answer_record(__u32 i, void *unused)
{
	struct dns_scratch *s = dns_scratch();
	__u32 p, rdlen, type;
	int j;

	if (!s)
		return 1;
	p = s->p;
	/* The owner name: a pointer, or labels ending in a pointer or the root. */
	for (j = 0; j < DNS_LABELS; j++) {
		__u8 l;

		if (p >= s->len)
			return 1;
		l = s->buf[p & DNS_MASK];
		if ((l & 0xc0) == 0xc0) {
			p += 2;
			break;
		}
		p += 1 + l;
		if (l == 0)
			break;
	}
	if (j == DNS_LABELS || p + 10 > s->len)
		return 1;
	type = (s->buf[p & DNS_MASK] << 8) | s->buf[(p + 1) & DNS_MASK];
	rdlen = (s->buf[(p + 8) & DNS_MASK] << 8) | s->buf[(p + 9) & DNS_MASK];
	p += 10;
	if (p + rdlen > s->len)
		return 1;
	if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
		s->key.family = rdlen == 4 ? 4 : 6;
		__builtin_memset(s->key.addr, 0, sizeof(s->key.addr));
		for (j = 0; j < 16; j++) {
			if (j < rdlen)
				s->key.addr[j] = s->buf[(p + j) & DNS_MASK];
		}
		bpf_map_update_elem(&pal_dns_addrs, &s->key, &s->val, BPF_ANY);
	}
	s->p = p + rdlen;
	return 0;
}

/*
 * Reads a UDP answer delivered to cgroup cgid: every A/AAAA in it carries the
 * question's hashes. Anything unusual (compressed question, more labels than
 * we keep, a truncated answer) is left to the agent.
 */
static __always_inline void grant_names(struct __sk_buff *skb, __u32 off, __u64 len,
					__u64 cgid)
{
	struct dns_scratch *s = dns_scratch();
	__u32 ancount, qend;

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
	s->len = len;
	s->p = 12;
	s->nlabels = 0;
	s->ok = 0;
	bpf_loop(DNS_LABELS + 1, question_label, 0, 0);
	if (s->ok != 1 || s->nlabels == 0)
		return;
	qend = s->p;
	/* The name's last byte sits before its terminating zero. */
	__builtin_memset(&s->val, 0, sizeof(s->val));
	s->k = s->nlabels - 1;
	s->n = 0;
	s->h = FNV_OFFSET;
	s->ok = 0;
	s->p -= 2;
	bpf_loop(256, question_hash, 0, 0);
	if (s->ok != 1)
		return;
	s->val.ts_ns = bpf_ktime_get_boot_ns();
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.cgroup_id = cgid;
	/* Past QTYPE and QCLASS. */
	s->p = qend + 4;
	bpf_loop(ancount < DNS_ANSWERS ? ancount : DNS_ANSWERS, answer_record, 0, 0);
}

/* Copies the payload of a UDP or TCP packet from port 53, if this is one. */
static __always_inline void capture_dns(struct __sk_buff *skb, __u64 cgid)
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
	if (h.proto == IPPROTO_UDP)
		grant_names(skb, h.off, total, cgid);
}

#endif /* PALISADE_DNS_BPF_H */
