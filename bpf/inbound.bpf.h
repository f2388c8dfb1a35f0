/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading inbound connection attempts from packets.
 * Included by palisade.bpf.c only, after its maps.
 */
#ifndef PALISADE_INBOUND_BPF_H
#define PALISADE_INBOUND_BPF_H

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

#endif /* PALISADE_INBOUND_BPF_H */
