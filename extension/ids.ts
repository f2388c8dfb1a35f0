// Every id the extension shares with its manifest, in one place.

export const Commands = {
    connectHost: 'palisade.connectHost',
    connectLab: 'palisade.connectLab',
    disconnect: 'palisade.disconnect',
    reconnectHost: 'palisade.reconnectHost',
    deployAgent: 'palisade.deployAgent',
    showGraph: 'palisade.showGraph',
    inferPolicy: 'palisade.inferPolicy',
    pushPolicy: 'palisade.pushPolicy',
    setMode: 'palisade.setMode',
    showAuditLog: 'palisade.showAuditLog',
    labUp: 'palisade.labUp',
    labDown: 'palisade.labDown',
    refreshHosts: 'palisade.refreshHosts',
    // Used by CodeLens and tree items; hidden from the palette.
    setLinkState: 'palisade.setLinkState',
    diffWithLive: 'palisade.diffWithLive',
    revealLink: 'palisade.revealLink',
} as const;

export const ViewTypes = {
    graph: 'palisade.graph',
} as const;

export const Views = {
    container: 'palisade',
    hosts: 'palisade.hosts',
    alerts: 'palisade.alerts',
} as const;

export const ContextKeys = {
    /** True while at least one agent is connected; for `when` clauses. */
    connected: 'palisade.connected',
} as const;

export const CONFIG_SECTION = 'palisade';

/** Policy files are recognised by name, wherever they are in the workspace. */
export const POLICY_GLOB = '**/*.palisade.yaml';
