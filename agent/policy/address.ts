// Addresses as the datapath keys them: 4 or 16 network-order bytes.
import * as net from 'node:net';

export interface AddressBytes {
    family: 4 | 6;
    bytes: Buffer;
}

/** IPv4 (also IPv4-mapped IPv6) as 4 bytes, IPv6 as 16; undefined for anything else. */
export function addressBytes(address: string): AddressBytes | undefined {
    const bare = address.split('%')[0] ?? address;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    const v4 = mapped ? mapped[1]! : bare;
    if (net.isIPv4(v4)) return { family: 4, bytes: Buffer.from(v4.split('.').map(Number)) };
    if (!net.isIPv6(bare)) return undefined;
    const [head, tail] = bare.split('::') as [string, string | undefined];
    const parts = (s: string | undefined) => (s ? s.split(':').filter(Boolean) : []);
    const h = parts(head);
    const t = tail === undefined ? [] : parts(tail);
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const bytes = Buffer.alloc(16);
    groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
    return { family: 6, bytes };
}
