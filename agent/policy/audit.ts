// The audit log: one JSON line per decision under the state directory, fsync'd before the
// append returns (a crash loses nothing that was acknowledged), rotated by size.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditParams, AuditRecord } from '../protocol';

export interface AuditOptions {
    maxBytes?: number;
    /** Rotated files kept besides the live one. */
    keep?: number;
}

export class AuditLog {
    private fd: number;
    private size: number;
    private seq: number;
    private readonly file: string;
    private readonly maxBytes: number;
    private readonly keep: number;

    constructor(dir: string, opts: AuditOptions = {}) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        this.file = path.join(dir, 'audit.log');
        this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
        this.keep = opts.keep ?? 5;
        this.seq = this.lastSeq();
        this.fd = fs.openSync(this.file, 'a', 0o600);
        this.size = fs.fstatSync(this.fd).size;
        // A crash mid-write leaves a torn last line: start the next record on a line of its own.
        if (this.size > 0 && !endsWithNewline(this.file, this.size)) {
            fs.writeSync(this.fd, '\n');
            this.size += 1;
        }
    }

    /** Appends and syncs; returns the records with their sequence numbers. */
    append(records: Omit<AuditRecord, 'seq'>[]): AuditRecord[] {
        if (records.length === 0) return [];
        const out = records.map((r) => ({ seq: ++this.seq, ...r }) as AuditRecord);
        const text = out.map((r) => JSON.stringify(r)).join('\n') + '\n';
        fs.writeSync(this.fd, text);
        fs.fsyncSync(this.fd);
        this.size += Buffer.byteLength(text);
        if (this.size >= this.maxBytes) this.rotate();
        return out;
    }

    read(params: AuditParams = {}): AuditRecord[] {
        const since = params.since ?? 0;
        const limit = params.limit ?? 10_000;
        const files = [];
        for (let i = this.keep; i >= 1; i--) files.push(`${this.file}.${i}`);
        files.push(this.file);
        const out: AuditRecord[] = [];
        for (const f of files) {
            for (const r of readRecords(f)) if (r.at >= since) out.push(r);
        }
        return out.slice(-limit);
    }

    close(): void {
        fs.closeSync(this.fd);
    }

    private rotate(): void {
        fs.closeSync(this.fd);
        for (let i = this.keep - 1; i >= 1; i--) {
            const from = `${this.file}.${i}`;
            if (fs.existsSync(from)) fs.renameSync(from, `${this.file}.${i + 1}`);
        }
        fs.renameSync(this.file, `${this.file}.1`);
        this.fd = fs.openSync(this.file, 'a', 0o600);
        this.size = 0;
    }

    private lastSeq(): number {
        const live = readRecords(this.file);
        const rotated = live.length === 0 ? readRecords(`${this.file}.1`) : [];
        return [...live, ...rotated].reduce((max, r) => Math.max(max, r.seq), 0);
    }
}

function endsWithNewline(file: string, size: number): boolean {
    const fd = fs.openSync(file, 'r');
    try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, size - 1);
        return b[0] === 0x0a;
    } finally {
        fs.closeSync(fd);
    }
}

/** Records of one file; a line torn by a crash mid-write is skipped, not fatal. */
function readRecords(file: string): AuditRecord[] {
    let text: string;
    try {
        text = fs.readFileSync(file, 'utf8');
    } catch {
        return [];
    }
    const out: AuditRecord[] = [];
    for (const line of text.split('\n')) {
        if (!line) continue;
        try {
            out.push(JSON.parse(line) as AuditRecord);
        } catch {
            // torn last line after a crash
        }
    }
    return out;
}
