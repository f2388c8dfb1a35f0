// The two cytoscape extensions we load ship no types; this is the part of them we use.
declare module 'cytoscape-fcose' {
    import type { Ext } from 'cytoscape';
    const fcose: Ext;
    export default fcose;
}

declare module 'cytoscape-svg' {
    import type { Ext } from 'cytoscape';
    const svg: Ext;
    export default svg;
}
