// Every id the extension shares with its manifest, in one place.

export const Commands = {
    connectLab: 'palisade.connectLab',
    disconnect: 'palisade.disconnect',
    showGraph: 'palisade.showGraph',
} as const;

export const ViewTypes = {
    graph: 'palisade.graph',
} as const;

export const ContextKeys = {
    /** True while at least one agent is connected; for `when` clauses. */
    connected: 'palisade.connected',
} as const;

export const CONFIG_SECTION = 'palisade';
