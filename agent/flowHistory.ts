// Recorded flows outlive the agent: after a restart, an upgrade or a crash, `policy replay`
// and `mode enforce` still judge a policy against what the host did before, not only against
// what happened since. A snapshot of the flow table, saved whole, at most every few seconds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowTable } from './flows';
import type { Logger } from './log';
import type { FlowRecord } from './protocol';
import { writeAtomic } from './stateFile';

const FILE = 'flows.json';
const FORMAT = 1;

interface Saved {
    format: number;
    host: string;
    flows: FlowRecord[];
}

function isFlow(r: unknown): r is FlowRecord {
    if (typeof r !== 'object' || r === null) return false;
    const f = r as Record<string, unknown>;
    return (
        typeof f.id === 'number' &&
        (f.direction === 'egress' || f.direction === 'ingress') &&
        (f.protocol === 'tcp' || f.protocol === 'udp') &&
        typeof f.local === 'object' &&
        f.local !== null &&
        typeof f.remoteAddress === 'string' &&
        typeof f.port === 'number' &&
        typeof f.count === 'number' &&
        typeof f.firstSeen === 'number' &&
        typeof f.lastSeen === 'number'
    );
}

export class FlowHistory {
    private readonly file: string;
    private savedVersion = -1;

    constructor(
        stateDir: string,
        private readonly host: string,
        private readonly table: FlowTable,
        private readonly log: Logger,
    ) {
        this.file = path.join(stateDir, FILE);
    }

    /** Puts the last run's flows back into the table; a damaged file is set aside, not fatal. */
    load(): number {
        let text: string;
        try {
            text = fs.readFileSync(this.file, 'utf8');
        } catch {
            return 0;
        }
        try {
            const saved = JSON.parse(text) as Saved;
            if (saved.format !== FORMAT || !Array.isArray(saved.flows)) {
                throw new Error(`not a flow history of format ${FORMAT}`);
            }
            // Flows of another host name are not this host's history (a reused state dir).
            if (saved.host !== this.host) return 0;
            const flows = saved.flows.filter(isFlow).sort((a, b) => a.id - b.id);
            this.table.restore(flows);
            this.savedVersion = this.table.snapshot().version;
            return flows.length;
        } catch (err) {
            const aside = `${this.file}.damaged`;
            fs.renameSync(this.file, aside);
            this.log.warn('flow history unreadable; set aside, starting without it', {
                file: aside,
                error: String(err),
            });
            return 0;
        }
    }

    /** Writes the table when it changed since the last write. */
    save(): void {
        const { flows, version } = this.table.snapshot();
        if (version === this.savedVersion) return;
        try {
            const saved: Saved = { format: FORMAT, host: this.host, flows };
            writeAtomic(this.file, JSON.stringify(saved));
            this.savedVersion = version;
        } catch (err) {
            this.log.error('could not save the flow history', { error: String(err) });
        }
    }
}
