// What one DNS response tells: the addresses at the end of the CNAME chain that starts at its
// question, and how long that whole chain holds. Decoding the wire format is dns-packet's.
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';

/** Longest name kept, in characters: the most a name can spell out (RFC 1035 2.3.4). */
const MAX_NAME = 253;
/** CNAME records followed from the question; resolvers themselves give up sooner. */
export const MAX_HOPS = 16;

export interface Answer {
    /** The question name, then each CNAME target in turn, normalised. */
    chain: string[];
    /** The addresses of the chain's last name, each with the minimum TTL (s) over the chain. */
    addresses: { address: string; ttl: number }[];
}

interface Link {
    target: string;
    ttl: number;
}

/** The answer of a complete, successful response; undefined for anything else. */
export function readAnswer(payload: Uint8Array): Answer | undefined {
    const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    let packet: dnsPacket.DecodedPacket;
    try {
        packet = dnsPacket.decode(buf);
    } catch {
        return undefined;
    }
    // dns-packet reads an address record's 4 or 16 bytes whatever its length field says, so a
    // cut message can decode "successfully" past its end.
    if (dnsPacket.decode.bytes > buf.length) return undefined;

    const opcode = ((packet.flags ?? 0) >> 11) & 0xf;
    const rcode = (packet.flags ?? 0) & 0xf;
    // A truncated answer holds only what fitted; the full one follows over TCP.
    if (!packet.flag_qr || packet.flag_tc || opcode !== 0 || rcode !== 0) return undefined;
    const question = packet.questions?.length === 1 ? packet.questions[0] : undefined;
    const asked = question && normaliseName(question.name);
    if (!asked) return undefined;

    const links = new Map<string, Link>();
    const records: { owner: string; address: string; ttl: number }[] = [];
    for (const record of packet.answers ?? []) {
        if (record.type !== 'A' && record.type !== 'AAAA' && record.type !== 'CNAME') continue;
        const owner = normaliseName(record.name);
        if (!owner || record.class !== 'IN') continue;
        const ttl = ttlOf(record.ttl);

        if (record.type === 'CNAME') {
            const target = normaliseName(record.data);
            if (target && !links.has(owner)) links.set(owner, { target, ttl });
            continue;
        }
        const address = normaliseAddress(record.data);
        if (address) records.push({ owner, address, ttl });
    }

    // The bound also ends a loop, which then names nothing.
    const chain = [asked];
    let chainTtl = Infinity;
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
        const link = links.get(chain[chain.length - 1]!);
        if (!link) break;
        if (hop === MAX_HOPS) return { chain, addresses: [] };
        chain.push(link.target);
        chainTtl = Math.min(chainTtl, link.ttl);
    }

    // Only the chain's last name holds addresses: records for any other name are not an
    // answer to this question, whatever the resolver added.
    const last = chain[chain.length - 1];
    const addresses = records
        .filter((r) => r.owner === last)
        .map((r) => ({ address: r.address, ttl: Math.min(chainTtl, r.ttl) }));
    return { chain, addresses };
}

/**
 * Lower case (ASCII only: DNS compares no other letters), no trailing dot; undefined for the
 * root or a name too long. Anything else is kept as it came: names are data, never parsed.
 */
export function normaliseName(name: string): string | undefined {
    const n = name.replace(/\.$/, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
    return n.length > 0 && n.length <= MAX_NAME ? n : undefined;
}

/** One spelling per address: IPv6 compressed and lower case, IPv4-mapped IPv6 as IPv4. */
export function normaliseAddress(address: string): string | undefined {
    const bare = address.split('%')[0] ?? '';
    if (net.isIPv4(bare)) return bare;
    if (!net.isIPv6(bare)) return undefined;

    const text = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
    if (!mapped) return text;
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** A day: a longer TTL from a resolver we cannot vouch for would name an address for ever. */
const MAX_TTL = 86_400;

/** RFC 2181 8: a TTL with the top bit set is read as zero. */
function ttlOf(ttl: number | undefined): number {
    return ttl === undefined || ttl > 0x7fffffff ? 0 : Math.min(ttl, MAX_TTL);
}
