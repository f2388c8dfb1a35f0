// The host's DNS answers, as the datapath copied them: UDP messages whole, TCP streams
// reassembled, all fed into one name cache that flows, audit records and policy read.
import * as fs from 'node:fs';
import type { DnsEvent } from './bpf/layout';
import { DnsNames, searchDomains } from './dns/names';
import { DnsTcpStreams } from './dns/tcp';
import type { Logger } from './log';
import type { DnsCounters, RemoteName } from './protocol';

export class DnsObserver {
    /** Every answer delivered on the host, with the cgroups it was delivered to. */
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
        const options = {
            searchDomains: searchDomains(text),
            ...(graceMs !== undefined ? { graceMs } : {}),
        };
        this.names = new DnsNames(options);
    }

    /** Feeds one copied message. */
    handle(ev: DnsEvent, at: number): void {
        const add = (message: Uint8Array) =>
            this.names.addMessage(message, at, ev.cgroupId.toString());
        const stream = `${ev.cookie}|${ev.server}.${ev.serverPort}>${ev.client}.${ev.clientPort}`;
        if (ev.truncated) {
            // Bytes are missing: a UDP answer is unreadable, a TCP stream has a hole.
            this.truncated++;
            if (ev.protocol === 'tcp') this.streams.drop(stream, at);
            return;
        }
        if (ev.protocol === 'udp') {
            add(ev.payload);
            return;
        }
        for (const message of this.streams.push(stream, ev.seq, ev.payload, at)) add(message);
    }

    /** Marks an address in use by a live flow: it keeps its name (and admission) meanwhile. */
    touch(address: string, at: number): void {
        this.names.touch(address, at);
    }

    /** The name of a remote address; marks it in use, so it keeps its name while used. */
    nameOf(address: string, at: number): RemoteName | undefined {
        const found = this.names.lookup(address, at);
        if (found === undefined) return undefined;
        this.touch(address, at);
        return {
            name: found.name,
            ...(found.canonical !== undefined ? { canonical: found.canonical } : {}),
            ...(found.stale ? { stale: true } : {}),
        };
    }

    /**
     * The addresses a `dns:` pattern has in answers delivered to these cgroups: another
     * process on the host, whatever it was answered, cannot widen what an app reaches.
     */
    addressesOf(pattern: string, at: number, cgroups: bigint[]): string[] {
        return this.names.addressesOf(pattern, at, new Set(cgroups.map(String)));
    }

    prune(at: number): void {
        this.names.prune(at);
        this.streams.prune(at);
    }

    stats(): DnsCounters {
        return { ...this.names.stats, truncated: this.truncated };
    }
}
