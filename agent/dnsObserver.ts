// The host's DNS answers, as the datapath copied them: UDP messages whole, TCP streams
// reassembled, all fed into one name cache that flows, audit records and policy read.
import * as fs from 'node:fs';
import type { DnsEvent } from './bpf/layout';
import { DnsNames, searchDomains } from './dns/names';
import { DnsTcpStreams } from './dns/tcp';
import type { Logger } from './log';
import type { DnsCounters, RemoteName } from './protocol';

export class DnsObserver {
    /** Every answer delivered on the host: names for flows, the graph and audit. */
    private readonly names: DnsNames;
    /**
     * Answers delivered to governed cgroups only: the addresses `dns:` rules admit. Another
     * process on the host, however it got an answer, cannot widen what an enforced app reaches.
     */
    private readonly governed: DnsNames;
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
        this.governed = new DnsNames(options);
    }

    /** Feeds one copied message, delivered to a governed cgroup or not. */
    handle(ev: DnsEvent, at: number, governed: boolean): void {
        const add = (message: Uint8Array) => {
            this.names.addMessage(message, at);
            if (governed) this.governed.addMessage(message, at);
        };
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
        this.governed.touch(address, at);
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

    /** The addresses answers delivered to governed cgroups give a `dns:` pattern. */
    addressesOf(pattern: string, at: number): string[] {
        return this.governed.addressesOf(pattern, at);
    }

    prune(at: number): void {
        this.names.prune(at);
        this.governed.prune(at);
        this.streams.prune(at);
    }

    stats(): DnsCounters {
        return { ...this.names.stats, truncated: this.truncated };
    }
}
