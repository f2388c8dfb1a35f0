import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { DnsNames, searchDomains } from '../../agent/dns/names';

type Record = dnsPacket.Answer;

const a = (name: string, data: string, ttl = 60): Record => ({ type: 'A', name, ttl, data });
const aaaa = (name: string, data: string, ttl = 60): Record => ({ type: 'AAAA', name, ttl, data });
const cname = (name: string, data: string, ttl = 60): Record => ({
    type: 'CNAME',
    name,
    ttl,
    data,
});

function response(question: string, answers: Record[], flags = 0): Buffer {
    return dnsPacket.encode({
        type: 'response',
        id: 7,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | flags,
        questions: [{ type: 'A', name: question }],
        answers,
    });
}

const MINUTE = 60_000;

describe('DNS names: CNAME chains', () => {
    it('names an address by the asked name, with the chain and its canonical name', () => {
        const names = new DnsNames();
        const ok = names.addMessage(
            response('db.example.com', [
                cname('db.example.com', 'host.example.com'),
                a('host.example.com', '10.10.10.1'),
            ]),
            0,
        );

        expect(ok).toBe(true);
        expect(names.lookup('10.10.10.1', 1000)).toEqual({
            name: 'db.example.com',
            canonical: 'host.example.com',
            chain: ['db.example.com', 'host.example.com'],
            stale: false,
        });
        expect(names.addressesOf('host.example.com', 1000)).toEqual(['10.10.10.1']);
        expect(names.addressesOf('db.example.com', 1000)).toEqual(['10.10.10.1']);
    });

    it('follows a chain listed out of order, in any case, from the question name', () => {
        const names = new DnsNames();
        names.addMessage(
            response('DB.Example.COM', [
                a('EDGE.cdn.example', '10.10.10.2'),
                cname('Mid.Example.com', 'edge.CDN.example'),
                cname('db.example.com', 'MID.example.com'),
            ]),
            0,
        );

        expect(names.lookup('10.10.10.2', 0)).toEqual({
            name: 'db.example.com',
            canonical: 'edge.cdn.example',
            chain: ['db.example.com', 'mid.example.com', 'edge.cdn.example'],
            stale: false,
        });
        expect(names.addressesOf('MID.example.com.', 0)).toEqual(['10.10.10.2']);
    });

    it('gives no canonical name when the address record is the asked name', () => {
        const names = new DnsNames();
        names.addMessage(response('plain.example', [a('plain.example', '10.10.10.3')]), 0);

        const found = names.lookup('10.10.10.3', 0);
        expect(found).toEqual({ name: 'plain.example', chain: ['plain.example'], stale: false });
        expect(found && 'canonical' in found).toBe(false);
    });

    it('strips the search suffix when the answer aliases the expanded name to the bare one', () => {
        const names = new DnsNames({
            searchDomains: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local.'],
        });
        const expanded = 'api.example.com.default.svc.cluster.local';
        names.addMessage(
            response(expanded, [
                cname(expanded, 'api.example.com'),
                a('api.example.com', '93.184.216.34'),
            ]),
            0,
        );

        expect(names.lookup('93.184.216.34', 0)).toEqual({
            name: 'api.example.com',
            chain: [expanded, 'api.example.com'],
            stale: false,
        });
        expect(names.addressesOf('api.example.com', 0)).toEqual(['93.184.216.34']);
        expect(names.addressesOf(expanded, 0)).toEqual(['93.184.216.34']);
    });

    it("strips an expansion with a search domain the host does not have (a pod's)", () => {
        const names = new DnsNames({ searchDomains: ['lab'] });
        const expanded = 'api.example.com.shop.svc.cluster.local';
        names.addMessage(
            response(expanded, [
                cname(expanded, 'api.example.com'),
                a('api.example.com', '93.184.216.35'),
            ]),
            0,
        );
        expect(names.lookup('93.184.216.35', 0)?.name).toBe('api.example.com');
    });

    it('tells which receivers an address was answered to', () => {
        const names = new DnsNames();
        names.addMessage(response('pay.example', [a('pay.example', '10.30.0.1')]), 0, '7');
        names.addMessage(response('pay.example', [a('pay.example', '10.30.0.2')]), 0, '8');
        expect(names.addressesOf('pay.example', 0, new Set(['7']))).toEqual(['10.30.0.1']);
        expect(names.addressesOf('pay.example', 0, new Set(['9']))).toEqual([]);
        // A later answer to another receiver keeps the first one's.
        names.addMessage(response('pay.example', [a('pay.example', '10.30.0.1')]), 5, '8');
        expect(names.addressesOf('pay.example', 5, new Set(['7']))).toEqual(['10.30.0.1']);
        expect(names.addressesOf('pay.example', 5)).toEqual(['10.30.0.1', '10.30.0.2']);
    });

    it('keeps an expanded name the answer does not shorten', () => {
        const names = new DnsNames({ searchDomains: ['default.svc.cluster.local'] });
        names.addMessage(
            response('db.default.svc.cluster.local', [
                a('db.default.svc.cluster.local', '10.96.0.9'),
            ]),
            0,
        );

        expect(names.lookup('10.96.0.9', 0)?.name).toBe('db.default.svc.cluster.local');
    });

    it('ignores records for names off the chain a hostile resolver adds', () => {
        const names = new DnsNames();
        names.addMessage(
            response('shop.example.com', [
                cname('shop.example.com', 'edge.example.net'),
                a('edge.example.net', '10.20.0.1'),
                a('bank.example.org', '10.20.0.66'),
                a('shop.example.com', '10.20.0.67'),
                cname('login.example.org', 'edge.example.net'),
            ]),
            0,
        );

        expect(names.lookup('10.20.0.1', 0)?.name).toBe('shop.example.com');
        expect(names.lookup('10.20.0.66', 0)).toBeUndefined();
        expect(names.lookup('10.20.0.67', 0)).toBeUndefined();
        expect(names.addressesOf('bank.example.org', 0)).toEqual([]);
        expect(names.addressesOf('login.example.org', 0)).toEqual([]);
        expect(names.stats.addresses).toBe(1);
    });

    it('names nothing through a CNAME loop or a chain of more than 16 hops', () => {
        const names = new DnsNames();
        const looped = names.addMessage(
            response('a.loop.example', [
                cname('a.loop.example', 'b.loop.example'),
                cname('b.loop.example', 'a.loop.example'),
                a('a.loop.example', '10.30.0.1'),
                a('b.loop.example', '10.30.0.2'),
            ]),
            0,
        );
        expect(looped).toBe(true);
        expect(names.stats.addresses).toBe(0);

        const hops = (count: number, address: string): Buffer => {
            const hop = (i: number) => `h${i}.${address}.chain.example`;
            const links = Array.from({ length: count }, (_, i) => cname(hop(i), hop(i + 1)));
            return response(hop(0), [...links, a(hop(count), address)]);
        };
        names.addMessage(hops(16, '10.30.0.16'), 0);
        names.addMessage(hops(17, '10.30.0.17'), 0);
        expect(names.lookup('10.30.0.16', 0)?.chain).toHaveLength(17);
        expect(names.lookup('10.30.0.17', 0)).toBeUndefined();
    });
});

describe('DNS names: what a message may hold', () => {
    it('ignores a truncated UDP answer', () => {
        const names = new DnsNames();
        const ok = names.addMessage(
            response('big.example', [a('big.example', '10.40.0.1')], dnsPacket.TRUNCATED_RESPONSE),
            0,
        );

        expect(ok).toBe(false);
        expect(names.lookup('10.40.0.1', 0)).toBeUndefined();
        expect(names.stats).toEqual({ messages: 1, ignored: 1, addresses: 0 });
    });

    it('holds a chain for the minimum TTL over its records', () => {
        const names = new DnsNames();
        const hop = (i: number) => `n${i}.ttl.example`;
        const ttls = [900, 3600, 30, 300, 900, 10];
        const links = ttls.map((ttl, i) => cname(hop(i), hop(i + 1), ttl));
        names.addMessage(response(hop(0), [...links, a(hop(6), '20.61.99.32', 10)]), 0);
        names.addMessage(
            response('cdn.example', [
                cname('cdn.example', 'edge.cdn.example', 30),
                a('edge.cdn.example', '20.61.99.33', 300),
            ]),
            0,
        );

        expect(names.lookup('20.61.99.32', 10_000)?.stale).toBe(false);
        expect(names.lookup('20.61.99.32', 10_001)?.stale).toBe(true);
        expect(names.lookup('20.61.99.33', 30_000)?.stale).toBe(false);
        expect(names.lookup('20.61.99.33', 30_001)?.stale).toBe(true);
    });

    it('maps every address of a set larger than 512 bytes, IPv4 and IPv6', () => {
        const names = new DnsNames();
        const v4 = Array.from({ length: 30 }, (_, i) => `10.50.0.${i + 1}`);
        const v6 = Array.from({ length: 30 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
        const big = response('many.example', [
            ...v4.map((ip) => a('many.example', ip)),
            ...v6.map((ip) => aaaa('many.example', ip)),
        ]);
        expect(big.length).toBeGreaterThan(512);
        names.addMessage(big, 0);

        for (const ip of [...v4, ...v6]) expect(names.lookup(ip, 0)?.name).toBe('many.example');
        expect(names.addressesOf('many.example', 0)).toHaveLength(60);
    });

    it('spells addresses one way: IPv4-mapped IPv6 as IPv4, IPv6 compressed in lower case', () => {
        const names = new DnsNames();
        names.addMessage(
            response('v6.example', [
                aaaa('v6.example', '2001:DB8:0:0:0:0:0:AB'),
                aaaa('v6.example', '::ffff:10.60.0.1'),
            ]),
            0,
        );

        expect(names.lookup('2001:db8::ab', 0)?.name).toBe('v6.example');
        expect(names.lookup('2001:0DB8::00AB', 0)?.name).toBe('v6.example');
        expect(names.lookup('10.60.0.1', 0)?.name).toBe('v6.example');
        expect(names.lookup('::ffff:10.60.0.1', 0)?.name).toBe('v6.example');
        expect(names.addressesOf('v6.example', 0)).toEqual(['10.60.0.1', '2001:db8::ab']);
        expect(names.lookup('not an address', 0)).toBeUndefined();
    });

    it('ignores and counts queries, errors and malformed bytes, without throwing', () => {
        const names = new DnsNames();
        const good = response('fine.example', [a('fine.example', '10.70.0.1')]);
        const query = dnsPacket.encode({
            type: 'query',
            questions: [{ type: 'A', name: 'fine.example' }],
            answers: [a('fine.example', '10.70.0.2')],
        });
        const nxdomain = response('gone.example', [a('gone.example', '10.70.0.3')], 3);
        const servfail = response('gone.example', [a('gone.example', '10.70.0.4')], 2);
        const cutShort = response('cut.example', [a('cut.example', '10.70.0.5')]).subarray(0, -2);
        const badPointer = Buffer.from(good);
        badPointer.writeUInt16BE(0xc0ff, 12);
        const junk = [new Uint8Array(0), new Uint8Array([1, 2, 3]), cutShort, badPointer];

        expect([query, nxdomain, servfail, ...junk].map((m) => names.addMessage(m, 0))).toEqual(
            Array(7).fill(false),
        );
        expect(names.addMessage(good, 0)).toBe(true);
        expect(names.stats).toEqual({ messages: 8, ignored: 7, addresses: 1 });
        expect(names.lookup('10.70.0.5', 0)).toBeUndefined();
    });
});

describe('DNS names: lifetime', () => {
    it('keeps a name stale through the grace period, then drops it unless in use', () => {
        const names = new DnsNames();
        names.addMessage(response('api.example', [a('api.example', '198.51.100.10', 5)]), 0);

        expect(names.lookup('198.51.100.10', 40_000)).toMatchObject({
            name: 'api.example',
            stale: true,
        });
        expect(names.prune(5_000 + 10 * MINUTE)).toBe(0);
        expect(names.lookup('198.51.100.10', 5_000 + 10 * MINUTE + 1)).toBeUndefined();
        expect(names.addressesOf('api.example', 5_000 + 10 * MINUTE + 1)).toEqual([]);
        expect(names.prune(5_000 + 10 * MINUTE + 1)).toBe(1);
        expect(names.stats.addresses).toBe(0);
    });

    it('keeps the name of an address in use until it has been unused for the grace period', () => {
        const names = new DnsNames();
        names.addMessage(response('api.example', [a('api.example', '198.51.100.11', 5)]), 0);
        names.touch('198.51.100.11', 5 * MINUTE);

        expect(names.prune(15 * MINUTE)).toBe(0);
        expect(names.lookup('198.51.100.11', 15 * MINUTE)).toMatchObject({ stale: true });
        expect(names.addressesOf('api.example', 15 * MINUTE)).toEqual(['198.51.100.11']);
        expect(names.prune(15 * MINUTE + 1)).toBe(1);

        // Touching a name already gone does not bring it back.
        names.addMessage(response('api.example', [a('api.example', '198.51.100.12', 5)]), 0);
        names.touch('198.51.100.12', 11 * MINUTE);
        expect(names.lookup('198.51.100.12', 11 * MINUTE)).toBeUndefined();
    });

    it('remembers every address a rotating name returned, not only the last answer', () => {
        const names = new DnsNames();
        const pool = Array.from({ length: 64 }, (_, i) => `10.80.0.${i}`);
        const third = pool.slice(0, 8);
        const others = pool.slice(8);
        const seen = new Set<string>();
        for (let query = 1; query <= 30; query++) {
            const start = (query * 8) % others.length;
            const answer = query === 3 ? third : [...others, ...others].slice(start, start + 8);
            answer.forEach((ip) => seen.add(ip));
            names.addMessage(
                response(
                    'rotating.example',
                    answer.map((ip) => a('rotating.example', ip, 30)),
                ),
                query * 10_000,
            );
        }

        const end = 300_000;
        expect(names.lookup(third[0]!, end)).toMatchObject({
            name: 'rotating.example',
            stale: true,
        });
        expect(names.addressesOf('rotating.example', end)).toEqual([...seen].sort());
        expect(seen.size).toBe(64);
    });

    it('evicts the least recently used address, never one touched within the grace period', () => {
        const names = new DnsNames({ maxAddresses: 3, graceMs: MINUTE });
        for (const [i, ip] of ['10.90.0.1', '10.90.0.2', '10.90.0.3'].entries()) {
            names.addMessage(response(`n${i}.example`, [a(`n${i}.example`, ip, 3600)]), i);
        }
        names.touch('10.90.0.1', 10);
        names.addMessage(response('n3.example', [a('n3.example', '10.90.0.4', 3600)]), 20);

        expect(names.lookup('10.90.0.1', 20)?.name).toBe('n0.example');
        expect(names.lookup('10.90.0.2', 20)).toBeUndefined();
        expect(names.stats.addresses).toBe(3);

        names.touch('10.90.0.3', 30);
        names.touch('10.90.0.4', 30);
        names.addMessage(response('n4.example', [a('n4.example', '10.90.0.5', 3600)]), 40);
        for (const ip of ['10.90.0.1', '10.90.0.3', '10.90.0.4', '10.90.0.5']) {
            expect(names.lookup(ip, 40)).toBeDefined();
        }
        expect(names.stats.addresses).toBe(4);
    });
});

describe('DNS names: several names for one address', () => {
    it('answers the most recently answered name and matches each', () => {
        const names = new DnsNames();
        const ip = '10.100.0.1';
        names.addMessage(response('one.example', [a('one.example', ip)]), 0);
        names.addMessage(response('two.example', [a('two.example', ip)]), 1000);
        expect(names.lookup(ip, 1000)?.name).toBe('two.example');

        names.addMessage(response('one.example', [a('one.example', ip)]), 2000);
        expect(names.lookup(ip, 2000)?.name).toBe('one.example');

        names.addMessage(response('three.example', [a('three.example', ip)]), 2000);
        expect(names.lookup(ip, 2000)?.name).toBe('three.example');
        for (const n of ['one.example', 'two.example', 'three.example']) {
            expect(names.addressesOf(n, 2000)).toEqual([ip]);
        }
    });

    it('matches `*.suffix` against names under the suffix only', () => {
        const names = new DnsNames();
        names.addMessage(response('example.com', [a('example.com', '10.110.0.1')]), 0);
        names.addMessage(response('db.example.com', [a('db.example.com', '10.110.0.2')]), 0);
        names.addMessage(response('a.b.example.com', [a('a.b.example.com', '10.110.0.3')]), 0);
        names.addMessage(response('badexample.com', [a('badexample.com', '10.110.0.4')]), 0);

        expect(names.addressesOf('*.Example.com', 0)).toEqual(['10.110.0.2', '10.110.0.3']);
    });
});

describe('DNS names: hostile names', () => {
    it('keeps markup, quotes and control characters as they came', () => {
        const names = new DnsNames();
        const hostile = [
            '<img src=x onerror=alert(1)>.evil.example',
            `"quoted';--.evil.example`,
            '\u0007bell\u001b[31mred\u0000nul.evil.example',
        ];
        hostile.forEach((name, i) => {
            names.addMessage(response(name, [a(name, `10.120.0.${i + 1}`)]), 0);
        });

        hostile.forEach((name, i) => {
            expect(names.lookup(`10.120.0.${i + 1}`, 0)?.name).toBe(name);
        });
    });

    it('ignores an over-long name and keeps one of 253 characters', () => {
        const names = new DnsNames();
        const label = 'x'.repeat(63);
        const longest = [label, label, label, 'y'.repeat(61)].join('.');
        const oneOver = [label, label, label, 'y'.repeat(62)].join('.');
        const tooLong = [label, label, label, label, 'z'.repeat(50)].join('.');
        expect(longest).toHaveLength(253);
        expect(tooLong.length).toBeGreaterThan(300);

        expect(names.addMessage(response(longest, [a(longest, '10.130.0.1')]), 0)).toBe(true);
        expect(names.addMessage(response(oneOver, [a(oneOver, '10.130.0.3')]), 0)).toBe(false);
        const hidden = response('ok.example', [
            cname('ok.example', tooLong),
            a(tooLong, '10.130.0.2'),
        ]);
        expect(names.addMessage(hidden, 0)).toBe(false);

        expect(names.lookup('10.130.0.1', 0)?.name).toBe(longest);
        expect(names.lookup('10.130.0.2', 0)).toBeUndefined();
        expect(names.lookup('10.130.0.3', 0)).toBeUndefined();
    });
});

describe('resolv.conf search domains', () => {
    it('reads the last search or domain line, normalised', () => {
        const conf = [
            '# generated',
            'nameserver 10.96.0.10',
            'domain corp.example',
            'search default.svc.cluster.local svc.cluster.local Cluster.Local.',
            'options ndots:5',
        ].join('\n');

        expect(searchDomains(conf)).toEqual([
            'default.svc.cluster.local',
            'svc.cluster.local',
            'cluster.local',
        ]);
        expect(searchDomains('search a.example\ndomain b.example\n')).toEqual(['b.example']);
        expect(searchDomains('nameserver 10.0.0.1\n')).toEqual([]);
    });
});
