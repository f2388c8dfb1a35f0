// Names of external addresses, learnt from the DNS answers this host's sockets received. An
// address keeps every name it was answered for; lookups give the most recent one.
import { normaliseAddress, normaliseName, readAnswer } from './message';

export interface DnsName {
    /**
     * The name the application asked for: lowercase, no trailing dot, search suffix stripped
     * when the answer shows the unexpanded name.
     */
    name: string;
    /** The final name of the CNAME chain, when it differs from `name`. */
    canonical?: string;
    /** Every name of the chain from the asked name to the address record, in order. */
    chain: string[];
    /**
     * True once the effective TTL (minimum over the chain) has passed; the name is kept through
     * the grace period and while in use.
     */
    stale: boolean;
}

export interface DnsNamesOptions {
    /** How long after expiry an address keeps its name (default 10 minutes). */
    graceMs?: number;
    /** Search domains of the host (from resolv.conf `search`/`domain`). */
    searchDomains?: string[];
    /**
     * Most addresses remembered in total (default 65536); least recently used go first, never
     * one touched within graceMs.
     */
    maxAddresses?: number;
}

interface Naming {
    name: string;
    chain: string[];
    expiresAt: number;
    /** Who the answers were delivered to (cgroup ids), when the caller says. */
    receivers: Set<string>;
}

interface Entry {
    /** Each name the address was answered for, the most recently answered last. */
    namings: Naming[];
    /** When a live flow last used the address. */
    usedAt: number;
}

/** Names kept per address: a shared CDN address can be answered for very many. */
const MAX_NAMES_PER_ADDRESS = 16;

export class DnsNames {
    private readonly graceMs: number;
    private readonly search: string[];
    private readonly maxAddresses: number;
    /** By address, least recently answered or used first. */
    private readonly entries = new Map<string, Entry>();
    private messages = 0;
    private ignored = 0;

    constructor(options: DnsNamesOptions = {}) {
        this.graceMs = options.graceMs ?? 10 * 60_000;
        this.maxAddresses = options.maxAddresses ?? 65_536;
        this.search = (options.searchDomains ?? []).flatMap((d) => normaliseName(d) ?? []);
    }

    get stats(): { messages: number; ignored: number; addresses: number } {
        return { messages: this.messages, ignored: this.ignored, addresses: this.entries.size };
    }

    /**
     * Feeds one whole DNS message seen arriving at a local socket (UDP payload, or cut from a
     * TCP stream); never throws. Usable: a complete NOERROR response to one question, even one
     * naming no address. Queries, errors, truncated (TC=1) and malformed messages are ignored,
     * and counted.
     */
    addMessage(payload: Uint8Array, at: number, receiver?: string): boolean {
        this.messages++;
        const answer = readAnswer(payload);
        if (!answer) {
            this.ignored++;
            return false;
        }

        const name = askedName(answer.chain, this.search);
        for (const { address, ttl } of answer.addresses) {
            const receivers = new Set(receiver === undefined ? [] : [receiver]);
            const naming = { name, chain: answer.chain, expiresAt: at + ttl * 1000, receivers };
            this.remember(address, naming, at);
        }
        return true;
    }

    /** The most recently answered name of an address, or undefined. */
    lookup(address: string, at: number): DnsName | undefined {
        const entry = this.entry(address);
        const naming = entry && this.current(entry, at);
        if (!naming) return undefined;

        const canonical = naming.chain[naming.chain.length - 1]!;
        return {
            name: naming.name,
            ...(canonical !== naming.name && { canonical }),
            chain: [...naming.chain],
            stale: at > naming.expiresAt,
        };
    }

    /** Marks an address as in use by a live flow: it keeps its names until unused for graceMs. */
    touch(address: string, at: number): void {
        const key = normaliseAddress(address);
        const entry = key && this.entries.get(key);
        // A name already gone stays gone, whether or not prune() has run since.
        if (!key || !entry || !this.current(entry, at)) return;

        entry.usedAt = Math.max(entry.usedAt, at);
        this.entries.delete(key);
        this.entries.set(key, entry);
    }

    /**
     * Every address named by `pattern` (any name of a chain; exact, or `*.suffix`), sorted;
     * with `receivers`, only in answers delivered to one of them.
     */
    addressesOf(pattern: string, at: number, receivers?: ReadonlySet<string>): string[] {
        const matches = nameMatcher(pattern);
        const heard = (n: Naming) =>
            receivers === undefined || [...n.receivers].some((r) => receivers.has(r));
        const found: string[] = [];
        for (const [address, entry] of this.entries) {
            const named = entry.namings.some(
                (n) => this.alive(n, entry, at) && heard(n) && n.chain.some(matches),
            );
            if (named) found.push(address);
        }
        return found.sort();
    }

    /** Drops what is past expiry+grace and unused; answers how many addresses were dropped. */
    prune(at: number): number {
        let dropped = 0;
        for (const [address, entry] of this.entries) {
            entry.namings = entry.namings.filter((n) => this.alive(n, entry, at));
            if (entry.namings.length > 0) continue;
            this.entries.delete(address);
            dropped++;
        }
        return dropped;
    }

    private remember(address: string, naming: Naming, at: number): void {
        let entry = this.entries.get(address);
        if (entry) {
            this.entries.delete(address);
        } else {
            this.makeRoom(at);
            entry = { namings: [], usedAt: -Infinity };
        }
        const before = entry.namings.find((n) => n.name === naming.name);
        for (const r of before?.receivers ?? []) naming.receivers.add(r);
        entry.namings = entry.namings.filter((n) => n !== before);
        entry.namings.push(naming);
        if (entry.namings.length > MAX_NAMES_PER_ADDRESS) entry.namings.shift();
        this.entries.set(address, entry);
    }

    /** Evicts the least recently used addresses not in use until one more fits. */
    private makeRoom(at: number): void {
        // NOTE: when every address is in use the map grows past the limit instead: a live
        // flow losing its name would be worse, and live flows are bounded elsewhere.
        for (const [address, entry] of this.entries) {
            if (this.entries.size < this.maxAddresses) return;
            if (at - entry.usedAt > this.graceMs) this.entries.delete(address);
        }
    }

    private entry(address: string): Entry | undefined {
        const key = normaliseAddress(address);
        return key === undefined ? undefined : this.entries.get(key);
    }

    private current(entry: Entry, at: number): Naming | undefined {
        for (let i = entry.namings.length - 1; i >= 0; i--) {
            const naming = entry.namings[i]!;
            if (this.alive(naming, entry, at)) return naming;
        }
        return undefined;
    }

    private alive(naming: Naming, entry: Entry, at: number): boolean {
        return at <= Math.max(naming.expiresAt, entry.usedAt) + this.graceMs;
    }
}

/** Reads `search` and `domain` lines of a resolv.conf text; the last such line wins. */
export function searchDomains(resolvConf: string): string[] {
    let domains: string[] = [];
    for (const line of resolvConf.split('\n')) {
        const [keyword, ...values] = line.trim().split(/\s+/);
        if (keyword !== 'search' && keyword !== 'domain') continue;
        domains = values.flatMap((d) => normaliseName(d) ?? []);
    }
    return domains;
}

/**
 * The question name, or, when the resolver expanded it with a search domain and the answer
 * then names the unexpanded form (an alias to it), the unexpanded name the application wrote.
 */
function askedName(chain: string[], search: string[]): string {
    const asked = chain[0]!;
    for (const domain of search) {
        const suffix = `.${domain}`;
        if (!asked.endsWith(suffix)) continue;
        const bare = asked.slice(0, -suffix.length);
        if (chain.includes(bare)) return bare;
    }
    // A pod's search domains are not the host's: an expanded question aliased straight to its
    // own leading labels is the same expansion.
    const next = chain[1];
    if (next !== undefined && asked.startsWith(`${next}.`)) return next;
    return asked;
}

/** `*.example.com` matches every name under example.com, not example.com itself. */
export function nameMatcher(pattern: string): (name: string) => boolean {
    const p = normaliseName(pattern) ?? '';
    if (!p.startsWith('*.')) return (name) => name === p;
    const suffix = p.slice(1);
    return (name) => name.endsWith(suffix);
}
