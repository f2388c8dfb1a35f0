// The handle VS Code injects into webviews; typed with our messages and saved state.
import type { WebviewMessage } from './messages';
import type { Position } from './graphPlacement';

export interface SavedState {
    zoom?: number;
    pan?: Position;
    /** Where the user (or the layout) left each leaf node, by stable node id. */
    positions?: Record<string, Position>;
}

interface VsCodeApi {
    postMessage(message: WebviewMessage): void;
    getState(): SavedState | undefined;
    setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called only once per page.
export const vscode: VsCodeApi = acquireVsCodeApi();
