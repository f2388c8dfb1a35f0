// Messages between the extension host and the graph webview, defined once for both sides.
import type { FleetEdge, FleetGraph, FleetHost } from '../agent/protocol';
import type { EndpointPattern, LinkState, Mode, PolicyLink, Verdict } from '../agent/policy/types';

/** What the policy says about one fleet edge; every field optional until policy is wired. */
export interface EdgeAnnotation {
    state?: LinkState;
    /** What the datapath does with it now; derived from state and mode when absent. */
    verdict?: Verdict;
    mode?: Mode;
    /** Id of the policy link that matched. */
    rule?: string;
    /** Policy file holding that link, as the extension names it (workspace-relative path). */
    policyFile?: string;
}

export interface NodeAnnotation {
    mode?: Mode;
    degraded?: boolean;
    /** Databases, the cloud metadata address: computed by the webview too, this overrides it. */
    crownJewel?: boolean;
}

/**
 * Edges are keyed by FleetEdge.id. Nodes are keyed by `identityKey()` (agent/fleet/identity)
 * for endpoints, `host:NAME` for hosts and `app:HOST/APP` for app groups (APP is the unit).
 */
export interface GraphAnnotations {
    edges?: Record<string, EdgeAnnotation>;
    nodes?: Record<string, NodeAnnotation>;
    /**
     * The patterns of the links edges are annotated with, keyed by `linkNoteKey()`: once per
     * link rather than per edge. A key sent again replaces its patterns whole.
     */
    links?: Record<string, LinkPatterns>;
}

/** Where the graph's pattern editor starts for an edge this link covers. */
export type LinkPatterns = Pick<PolicyLink, 'client' | 'server'>;

export function linkNoteKey(policyFile: string, rule: string): string {
    return JSON.stringify([policyFile, rule]);
}

export type LinkAction = 'allow' | 'snooze' | 'deny';

/** Identity patterns the user edited before accepting (widened path, pinned script). */
export interface LinkPatternEdit {
    client?: EndpointPattern;
    server?: EndpointPattern;
}

export type ExportFormat = 'png' | 'svg' | 'json';

/** Sent by the webview. */
export type WebviewMessage =
    | { type: 'ready' }
    /** A failure inside the webview, so it reaches the extension's log instead of devtools. */
    | { type: 'error'; message: string }
    /** Fleet edge ids (FleetEdge.id), one or many from a multi-selection. */
    | { type: 'action'; action: LinkAction; edgeIds: string[]; pattern?: LinkPatternEdit }
    | { type: 'openInPolicy'; edgeId: string }
    /** `data` is a data: URI for png, markup for svg, JSON text for json. */
    | { type: 'export'; format: ExportFormat; data: string };

/** Sent by the extension. */
export type ExtensionMessage =
    /** A full snapshot: replaces everything shown. */
    | { type: 'graph'; graph: FleetGraph; annotations?: GraphAnnotations }
    /**
     * Streamed changes: removed edges go first, then edges and hosts are upserted by id/name,
     * annotations merged.
     */
    | {
          type: 'delta';
          edges?: FleetEdge[];
          hosts?: FleetHost[];
          /** Fleet edges gone from the graph (a connection's half now joined to its peer). */
          removedEdges?: string[];
          annotations?: GraphAnnotations;
      };

const ACTIONS: ReadonlySet<string> = new Set(['allow', 'snooze', 'deny']);
const FORMATS: ReadonlySet<string> = new Set(['png', 'svg', 'json']);
const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
    return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isPattern(value: unknown): value is EndpointPattern {
    return isObject(value) && Object.values(value).every((field) => typeof field === 'string');
}

function isPatternEdit(value: unknown): value is LinkPatternEdit {
    return (
        isObject(value) &&
        (value.client === undefined || isPattern(value.client)) &&
        (value.server === undefined || isPattern(value.server))
    );
}

/**
 * Narrows an untyped postMessage payload. The webview renders host data, so the extension
 * treats whatever it posts as untrusted input and checks every field it will use.
 */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
    if (!isObject(value)) {
        return false;
    }
    switch (value.type) {
        case 'ready':
            return true;
        case 'error':
            return typeof value.message === 'string';
        case 'action':
            return (
                typeof value.action === 'string' &&
                ACTIONS.has(value.action) &&
                isStringArray(value.edgeIds) &&
                value.edgeIds.length > 0 &&
                (value.pattern === undefined || isPatternEdit(value.pattern))
            );
        case 'openInPolicy':
            return typeof value.edgeId === 'string';
        case 'export':
            return (
                typeof value.format === 'string' &&
                FORMATS.has(value.format) &&
                typeof value.data === 'string' &&
                value.data.length <= MAX_EXPORT_CHARS
            );
        default:
            return false;
    }
}

export function isExtensionMessage(value: unknown): value is ExtensionMessage {
    if (!isObject(value)) {
        return false;
    }
    const annotationsOk = value.annotations === undefined || isObject(value.annotations);
    if (value.type === 'graph') {
        return isObject(value.graph) && annotationsOk;
    }
    if (value.type === 'delta') {
        return (
            (value.edges === undefined || Array.isArray(value.edges)) &&
            (value.hosts === undefined || Array.isArray(value.hosts)) &&
            (value.removedEdges === undefined || isStringArray(value.removedEdges)) &&
            annotationsOk
        );
    }
    return false;
}
