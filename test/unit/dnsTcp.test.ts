import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { DnsNames } from '../../agent/dns/names';
import { DnsTcpStreams } from '../../agent/dns/tcp';

const STREAM = '10.0.0.53:53>10.0.0.7:40000';

/** A DNS answer over TCP: the 2-byte length prefix, then the message. */
function framed(name: string, address: string): Buffer {
    return dnsPacket.streamEncode({
        type: 'response',
        id: 9,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: [{ type: 'A', name }],
        answers: [{ type: 'A', name, ttl: 60, data: address }],
    });
}

const names = (messages: Uint8Array[]) =>
    messages.map((m) => dnsPacket.decode(Buffer.from(m)).questions?.[0]?.name);

describe('DNS over TCP', () => {
    it('reassembles a reply split across two segments', () => {
        const streams = new DnsTcpStreams();
        const reply = framed('split.example', '10.1.0.1');

        expect(streams.push(STREAM, 1000, reply.subarray(0, 1), 0)).toEqual([]);
        const out = streams.push(STREAM, 1001, reply.subarray(1), 0);
        expect(out).toHaveLength(1);
        expect(Buffer.from(out[0]!)).toEqual(reply.subarray(2));
    });

    it('gives nothing more from a stream whose bytes the capture could not copy', () => {
        const streams = new DnsTcpStreams();
        const reply = framed('big.example', '10.1.0.3');
        streams.drop(STREAM, 0);
        expect(streams.push(STREAM, 5000, reply, 0)).toEqual([]);
        // Idle long enough, the connection is forgotten and a new one reads again.
        streams.prune(60_000);
        expect(names(streams.push(STREAM, 7000, reply, 60_000))).toEqual(['big.example']);
    });

    it('gives a message once when a segment is delivered twice', () => {
        const streams = new DnsTcpStreams();
        const reply = framed('twice.example', '10.1.0.2');
        const half = 20;

        expect(streams.push(STREAM, 5, reply.subarray(0, half), 0)).toEqual([]);
        expect(streams.push(STREAM, 5, reply.subarray(0, half), 0)).toEqual([]);
        expect(names(streams.push(STREAM, 5 + half, reply.subarray(half), 0))).toEqual([
            'twice.example',
        ]);
        expect(streams.push(STREAM, 5 + half, reply.subarray(half), 0)).toEqual([]);
        // A retransmission that overlaps what was had and brings the next message on.
        const next = framed('after.example', '10.1.0.3');
        const overlap = Buffer.concat([reply.subarray(-4), next]);
        expect(names(streams.push(STREAM, 5 + reply.length - 4, overlap, 0))).toEqual([
            'after.example',
        ]);
    });

    it('gives every message of a segment carrying several', () => {
        const streams = new DnsTcpStreams();
        const both = Buffer.concat([
            framed('first.example', '10.1.0.4'),
            framed('second.example', '10.1.0.5'),
        ]);

        expect(names(streams.push(STREAM, 0, both, 0))).toEqual([
            'first.example',
            'second.example',
        ]);
    });

    it('holds segments that arrive ahead of a gap until it fills', () => {
        const streams = new DnsTcpStreams();
        const bytes = Buffer.concat([
            framed('one.example', '10.1.0.6'),
            framed('two.example', '10.1.0.7'),
        ]);
        const [p1, p2, p3] = [bytes.subarray(0, 10), bytes.subarray(10, 50), bytes.subarray(50)];

        expect(streams.push(STREAM, 100, p1, 0)).toEqual([]);
        expect(streams.push(STREAM, 150, p3, 0)).toEqual([]);
        expect(names(streams.push(STREAM, 110, p2, 0))).toEqual(['one.example', 'two.example']);
    });

    it('follows sequence numbers across the wrap at 2^32', () => {
        const streams = new DnsTcpStreams();
        const reply = framed('wrap.example', '10.1.0.8');
        const start = 2 ** 32 - 5;

        expect(streams.push(STREAM, start, reply.subarray(0, 3), 0)).toEqual([]);
        expect(streams.push(STREAM, 3, reply.subarray(8), 0)).toEqual([]);
        expect(streams.push(STREAM, start, reply.subarray(0, 3), 0)).toEqual([]);
        expect(names(streams.push(STREAM, 2 ** 32 - 2, reply.subarray(3, 8), 0))).toEqual([
            'wrap.example',
        ]);
    });

    it('drops a stream whose gap holds more than the limit, and ignores it until idle', () => {
        const streams = new DnsTcpStreams({ maxBufferedBytes: 100, idleMs: 1000 });
        const reply = framed('held.example', '10.1.0.9');
        expect(reply.length).toBeGreaterThan(40);

        streams.push(STREAM, 0, reply.subarray(0, 10), 0);
        streams.push(STREAM, 200, Buffer.alloc(60, 1), 0);
        streams.push(STREAM, 300, Buffer.alloc(60, 1), 0);
        expect(streams.push(STREAM, 10, reply.subarray(10), 0)).toEqual([]);

        streams.prune(1001);
        expect(
            names(streams.push(STREAM, 7000, framed('fresh.example', '10.1.0.10'), 1001)),
        ).toEqual(['fresh.example']);
    });

    it('drops a stream whose length prefix no message can have', () => {
        const streams = new DnsTcpStreams();
        const reply = framed('late.example', '10.1.0.11');

        expect(streams.push(STREAM, 0, Buffer.from([0, 0, 1, 2]), 0)).toEqual([]);
        expect(streams.push(STREAM, 4, reply, 0)).toEqual([]);
        expect(names(streams.push('other', 4, reply, 0))).toEqual(['late.example']);
    });

    it('forgets idle streams and the least recently active one past the limit', () => {
        const streams = new DnsTcpStreams({ maxStreams: 2, idleMs: 1000 });
        const reply = framed('again.example', '10.1.0.12');

        streams.push('a', 0, reply.subarray(0, 10), 0);
        streams.push('b', 0, reply.subarray(0, 10), 500);
        streams.prune(1001);
        // 'a' starts anew: its next segment is a whole message at another sequence number.
        expect(names(streams.push('a', 9000, reply, 1001))).toEqual(['again.example']);
        expect(names(streams.push('b', 10, reply.subarray(10), 1001))).toEqual(['again.example']);

        streams.push('c', 0, reply.subarray(0, 10), 1002);
        streams.push('d', 0, reply.subarray(0, 10), 1003);
        expect(names(streams.push('a', 50, reply, 1004))).toEqual(['again.example']);
        expect(names(streams.push('d', 10, reply.subarray(10), 1005))).toEqual(['again.example']);
    });

    it('feeds reassembled answers to the names', () => {
        const streams = new DnsTcpStreams();
        const dns = new DnsNames();
        const reply = framed('tcp.example', '10.1.0.13');

        for (const [seq, part] of [
            [0, reply.subarray(0, 30)],
            [30, reply.subarray(30)],
        ] as const) {
            for (const message of streams.push(STREAM, seq, part, 0)) dns.addMessage(message, 0);
        }
        expect(dns.lookup('10.1.0.13', 0)?.name).toBe('tcp.example');
    });
});
