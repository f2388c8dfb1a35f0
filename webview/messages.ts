// Messages between the extension host and the graph webview, defined once for both sides.
import type { FleetGraph } from '../agent/protocol';

/** Sent by the webview. */
export type WebviewMessage =
    | { type: 'ready' }
    /** A failure inside the webview, so it reaches the extension's log instead of devtools. */
    | { type: 'error'; message: string };

/** Sent by the extension. */
export type ExtensionMessage = { type: 'graph'; graph: FleetGraph };

const webviewTypes: ReadonlySet<string> = new Set(['ready', 'error']);

/**
 * Narrows an untyped postMessage payload. The webview renders host data, so the extension
 * treats whatever it posts as untrusted input.
 */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
    if (typeof value !== 'object' || value === null) {
        return false;
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string' || !webviewTypes.has(type)) {
        return false;
    }
    return type !== 'error' || typeof (value as { message?: unknown }).message === 'string';
}

export function isExtensionMessage(value: unknown): value is ExtensionMessage {
    if (typeof value !== 'object' || value === null) {
        return false;
    }
    const msg = value as { type?: unknown; graph?: unknown };
    return msg.type === 'graph' && typeof msg.graph === 'object' && msg.graph !== null;
}
