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
}

#endif /* PALISADE_DNS_BPF_H */
