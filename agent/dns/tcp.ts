// DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message goes with a 2-byte length prefix, a
// message may span segments and a segment may carry several. The capture sees segments as the
// socket receives them, repeats and reordering included, so they are put back in order here.

interface Segment {
    seq: number;
    bytes: Buffer;
}

interface Stream {
    /** Sequence number of the next byte expected. */
    next: number;
    /** In-order bytes not yet cut into messages. */
    pending: Buffer;
    /** Segments not yet placed: past a gap, until it fills. */
    held: Segment[];
    heldBytes: number;
    lastAt: number;
    /** Out of step (a gap that never filled, a length no message has): ignored until idle. */
    lost: boolean;
}

/** No DNS message is shorter than its header. */
const HEADER_BYTES = 12;

/**
 * Reassembles DNS-over-TCP response streams from segments seen in arrival order (they may
 * repeat or arrive out of order).
 */
export class DnsTcpStreams {
    private readonly maxStreams: number;
    private readonly maxBufferedBytes: number;
    private readonly idleMs: number;
    /** By stream, least recently active first. */
    private readonly streams = new Map<string, Stream>();

    constructor(options: { maxStreams?: number; maxBufferedBytes?: number; idleMs?: number } = {}) {
        this.maxStreams = options.maxStreams ?? 1024;
        // Room for the largest message (64 KiB) waiting on a gap as well as one in progress.
        this.maxBufferedBytes = options.maxBufferedBytes ?? 160 * 1024;
        this.idleMs = options.idleMs ?? 30_000;
    }

    /**
     * `stream` names one connection direction; `seq` is the TCP sequence number of the segment's
     * first payload byte. Answers the whole DNS messages (without length prefix) it completes.
     * A stream that falls out of step (more than maxBufferedBytes waiting on a gap, a length
     * prefix shorter than a DNS header) is dropped: its later segments are ignored until it has
     * been idle for idleMs, as they could not be put in step again.
     */
    push(stream: string, seq: number, payload: Uint8Array, at: number): Uint8Array[] {
        if (payload.length === 0) return [];
        // NOTE: the first segment seen is taken to start a message: the capture cannot know
        // where messages begin in a connection it joined late, and a wrong guess is caught by
        // the length check below or by the decoder.
        const s = this.streams.get(stream) ?? this.open(at, seq >>> 0);
        this.streams.delete(stream);
        this.streams.set(stream, s);
        s.lastAt = at;
        if (s.lost) return [];

        // Copied: the caller may reuse its buffer, and held bytes outlive this call.
        s.held.push({ seq: seq >>> 0, bytes: Buffer.from(payload) });
        s.heldBytes += payload.length;
        this.place(s);
        if (s.pending.length + s.heldBytes > this.maxBufferedBytes) {
            this.lose(s);
            return [];
        }
        return this.cut(s);
    }

    /**
     * Marks a stream as out of step: bytes of it were seen but not copied (a segment larger
     * than the capture). Its later segments are ignored until it has been idle for idleMs.
     */
    drop(stream: string, at: number): void {
        const s = this.streams.get(stream) ?? this.open(at, 0);
        this.streams.delete(stream);
        this.streams.set(stream, s);
        s.lastAt = at;
        this.lose(s);
    }

    /** Forgets streams idle for longer than idleMs. */
    prune(at: number): void {
        for (const [stream, s] of this.streams) {
            if (at - s.lastAt > this.idleMs) this.streams.delete(stream);
        }
    }

    private open(at: number, seq: number): Stream {
        if (this.streams.size >= this.maxStreams) {
            const oldest = this.streams.keys().next().value;
            if (oldest !== undefined) this.streams.delete(oldest);
        }
        return {
            next: seq,
            pending: Buffer.alloc(0),
            held: [],
            heldBytes: 0,
            lastAt: at,
            lost: false,
        };
    }

    /** Moves held segments that now start at or before the next byte into the pending bytes. */
    private place(s: Stream): void {
        for (let i = 0; i < s.held.length;) {
            const { seq, bytes } = s.held[i]!;
            // Sequence numbers wrap at 2^32: their difference as int32 orders them.
            const offset = (seq - s.next) | 0;
            if (offset > 0) {
                i++;
                continue;
            }

            s.held.splice(i, 1);
            s.heldBytes -= bytes.length;
            const fresh = bytes.subarray(-offset);
            if (fresh.length > 0) {
                s.pending = Buffer.concat([s.pending, fresh]);
                s.next = (s.next + fresh.length) >>> 0;
            }
            // The next byte moved: a segment skipped earlier may fit now.
            i = 0;
        }
    }

    private cut(s: Stream): Uint8Array[] {
        const messages: Uint8Array[] = [];
        while (s.pending.length >= 2) {
            const length = s.pending.readUInt16BE(0);
            if (length < HEADER_BYTES) {
                this.lose(s);
                break;
            }
            if (s.pending.length < 2 + length) break;

            messages.push(s.pending.subarray(2, 2 + length));
            s.pending = s.pending.subarray(2 + length);
        }
        return messages;
    }

    private lose(s: Stream): void {
        s.lost = true;
        s.pending = Buffer.alloc(0);
        s.held = [];
        s.heldBytes = 0;
    }
}
