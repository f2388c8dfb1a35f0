// What an edge's colour and a node's badges mean: policy state, verdict, crown jewels.
import type { Identity } from '../agent/protocol';
import type { LinkState, Mode, Verdict } from '../agent/policy/types';
import { basename } from './graphLabels';
import type { EdgeAnnotation } from './messages';

/** `none`: no policy has said anything about the edge yet. */
export type EdgeStateKey = LinkState | 'none';
export const EDGE_STATE_KEYS: readonly EdgeStateKey[] = [
    'alert',
    'allowed',
    'snoozed',
    'denied',
    'none',
];

/**
 * The datapath's answer when the extension did not send one. Under monitor nothing is dropped,
 * but what enforce would drop is worth showing; snoozed links are quiet on purpose.
 */
export function effectiveVerdict(note: EdgeAnnotation | undefined): Verdict | undefined {
    if (note === undefined) {
        return undefined;
    }
    if (note.verdict !== undefined) {
        return note.verdict;
    }
    if (note.state === 'allowed') {
        return 'allow';
    }
    if (note.mode === 'enforce' && note.state !== undefined) {
        return 'deny';
    }
    if (note.mode === 'monitor' && (note.state === 'denied' || note.state === 'alert')) {
        return 'would-deny';
    }
    return undefined;
}

// When edges are drawn as one (a collapsed group), the one that needs attention wins.
const STATE_RANK: Record<EdgeStateKey, number> = {
    denied: 4,
    alert: 3,
    none: 2,
    snoozed: 1,
    allowed: 0,
};
const VERDICT_RANK: Record<Verdict | '', number> = { deny: 3, 'would-deny': 2, allow: 1, '': 0 };

export function worstState(a: EdgeStateKey, b: EdgeStateKey): EdgeStateKey {
    return STATE_RANK[a] >= STATE_RANK[b] ? a : b;
}

export function worstVerdict(a: Verdict | '', b: Verdict | ''): Verdict | '' {
    return VERDICT_RANK[a] >= VERDICT_RANK[b] ? a : b;
}

export function worstMode(a: Mode | '', b: Mode | ''): Mode | '' {
    return a === 'enforce' || b === 'enforce' ? 'enforce' : a || b;
}

const DATABASE_BINARIES: ReadonlySet<string> = new Set([
    'redis-server',
    'valkey-server',
    'postgres',
    'postmaster',
    'mysqld',
    'mariadbd',
    'mongod',
    'etcd',
    'cassandra',
    'clickhouse-server',
]);
const DATABASE_PORTS: ReadonlySet<number> = new Set([5432, 3306, 6379, 27017, 9042, 2379]);
// The cloud metadata service hands out instance credentials: reaching it is a classic pivot.
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(['169.254.169.254', 'fd00:ec2::254']);

/** Databases and the cloud metadata address, by what they are or the port they serve. */
export function isCrownJewel(id: Identity, servedPorts: Iterable<number>): boolean {
    if (id.kind === 'external') {
        return METADATA_ADDRESSES.has(id.address) || id.name.includes('169.254.169.254');
    }
    if (id.kind === 'process' && DATABASE_BINARIES.has(basename(id.binary))) {
        return true;
    }
    return id.kind === 'process' && [...servedPorts].some((port) => DATABASE_PORTS.has(port));
}
