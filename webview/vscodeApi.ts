// The handle VS Code injects into webviews; typed with our messages and saved state.
import type { WebviewMessage } from './messages';
import type { Position } from './graphPlacement';
import type { ToolbarState } from './toolbar';

/** Everything a reload must bring back: the user's view, not the data (the extension resends). */
export interface SavedState {
    zoom?: number;
    pan?: Position;
    /** Where the user (or the layout) left each leaf node, by stable node id. */
    positions?: Record<string, Position>;
    toolbar?: Partial<ToolbarState>;
    hidden?: string[];
    folded?: string[];
    expanded?: string[];
    /** Groups opened although the graph is big enough to fold them by default. */
    unfolded?: string[];
    legend?: boolean;
}

interface VsCodeApi {
    postMessage(message: WebviewMessage): void;
    getState(): SavedState | undefined;
    setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called only once per page.
export const vscode: VsCodeApi = acquireVsCodeApi();
