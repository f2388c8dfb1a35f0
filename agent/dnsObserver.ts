// The host's DNS answers, as the datapath copied them: UDP messages whole, TCP streams
// reassembled, all fed into one name cache that flows, audit records and policy read.
import * as fs from 'node:fs';
import type { DnsEvent } from './bpf/layout';
import { DnsNames, searchDomains } from './dns/names';
import { DnsTcpStreams } from './dns/tcp';
import type { Logger } from './log';
import type { RemoteName } from './protocol';

export class DnsObserver {
    private readonly names: DnsNames;
    private readonly streams = new DnsTcpStreams();
    /** Truncated copies: a UDP answer larger than the kernel copies, never parsed. */
    private truncated = 0;

    constructor(resolvConf: string, log: Logger, graceMs?: number) {
        let text = '';
        try {
            text = fs.readFileSync(resolvConf, 'utf8');
        } catch {
            log.info('no resolv.conf: no search domains to strip', { resolvConf });
        }
        this.names = new DnsNames({
            searchDomains: searchDomains(text),
            ...(graceMs !== undefined ? { graceMs } : {}),
        });
    }

    /** Feeds one copied message; answers whether it taught us anything. */
    handle(ev: DnsEvent, at: number): boolean {
        if (ev.protocol === 'udp') {
            if (ev.truncated) {
                this.truncated++;
                return false;
            }
            return this.names.addMessage(ev.payload, at);
        }
        const stream = `${ev.cookie}|${ev.server}.${ev.serverPort}>${ev.client}.${ev.clientPort}`;
        let learned = false;
        for (const message of this.streams.push(stream, ev.seq, ev.payload, at)) {
            learned = this.names.addMessage(message, at) || learned;
        }
        return learned;
    }

    /** The name of a remote address; marks it in use, so it keeps its name while used. */
    nameOf(address: string, at: number): RemoteName | undefined {
        const found = this.names.lookup(address, at);
        if (found === undefined) return undefined;
        this.names.touch(address, at);
        return {
            name: found.name,
            ...(found.canonical !== undefined ? { canonical: found.canonical } : {}),
            ...(found.stale ? { stale: true } : {}),
        };
    }

    addressesOf(pattern: string, at: number): string[] {
        return this.names.addressesOf(pattern, at);
    }

    prune(at: number): void {
        this.names.prune(at);
        this.streams.prune(at);
    }

    stats(): { messages: number; ignored: number; addresses: number; truncated: number } {
        return { ...this.names.stats, truncated: this.truncated };
    }
}
