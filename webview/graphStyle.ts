// Cytoscape styles from the VS Code theme. Cytoscape paints on a canvas and cannot read CSS
// variables itself, so their current values are copied in (and again on theme change).
import type { StylesheetJson } from 'cytoscape';

function themeColour(name: string, fallback: string): string {
    const value = getComputedStyle(document.body).getPropertyValue(name).trim();
    return value === '' ? fallback : value;
}

/** The theme colours the graph and its legend share; the legend uses the same names. */
export function palette() {
    return {
        fg: themeColour('--vscode-editor-foreground', '#cccccc'),
        bg: themeColour('--vscode-editor-background', '#1e1e1e'),
        muted: themeColour('--vscode-descriptionForeground', '#999999'),
        accent: themeColour('--vscode-charts-blue', '#3794ff'),
        allowed: themeColour('--vscode-testing-iconPassed', '#73c991'),
        alert: themeColour('--vscode-editorWarning-foreground', '#cca700'),
        denied: themeColour('--vscode-errorForeground', '#f48771'),
        external: themeColour('--vscode-charts-purple', '#b180d7'),
        jewel: themeColour('--vscode-charts-yellow', '#cca700'),
        focus: themeColour('--vscode-focusBorder', '#007fd4'),
        font: themeColour('--vscode-font-family', 'sans-serif'),
    };
}

const GROUPS =
    'node[kind = "zone"], node[kind = "host"], node[kind = "app"], ' +
    'node[kind = "side"], node[kind = "domain"]';

export function graphStyle(): StylesheetJson {
    const c = palette();
    return [
        {
            selector: 'node',
            style: {
                label: 'data(label)',
                'text-wrap': 'wrap',
                'text-valign': 'bottom',
                'text-margin-y': 4,
                'font-family': c.font,
                'font-size': 11,
                // Below this on-screen size labels are skipped: 2,000 of them cost frames.
                'min-zoomed-font-size': 7,
                color: c.fg,
                'background-color': c.accent,
                shape: 'round-rectangle',
                width: 18,
                height: 18,
            },
        },
        {
            selector: GROUPS,
            style: {
                'text-valign': 'top',
                'text-margin-y': -4,
                'font-weight': 'bold',
                'background-color': c.fg,
                'background-opacity': 0.04,
                'border-width': 1,
                'border-color': c.muted,
                padding: '14px',
            },
        },
        { selector: 'node[kind = "zone"]', style: { 'border-style': 'dotted', padding: '20px' } },
        {
            selector: 'node[kind = "app"]',
            style: { 'font-weight': 'normal', 'background-opacity': 0.02 },
        },
        {
            selector: 'node[kind = "side"], node[kind = "domain"]',
            style: { 'border-style': 'dashed' },
        },
        { selector: 'node[health = "ok"]', style: { 'border-color': c.allowed } },
        {
            selector: 'node[health = "unreachable"]',
            style: { 'border-color': c.denied, 'border-width': 2 },
        },
        { selector: 'node[health = "unobserved"]', style: { 'border-style': 'dashed' } },
        {
            selector: 'node[?degraded]',
            style: { 'border-color': c.alert, 'border-width': 3, 'border-style': 'double' },
        },
        {
            selector: 'node[mode = "enforce"]',
            style: { 'border-width': 2, 'border-style': 'solid' },
        },
        { selector: 'node[mode = "monitor"]', style: { 'border-style': 'dashed' } },
        {
            selector: 'node[kind = "external"]',
            // Not 'diamond': cytoscape's hit test misses a plain diamond on the vertical
            // line through its corners, so a click on its centre selected the group behind.
            style: { 'background-color': c.external, shape: 'round-diamond' },
        },
        {
            selector: 'node[kind = "unknown"]',
            style: {
                'background-color': c.alert,
                shape: 'octagon',
                'border-width': 1,
                'border-color': c.fg,
            },
        },
        {
            selector: 'node[?crownJewel]',
            // A circle, as the legend draws it; a 'star' has the diamond's blind centre line.
            style: { 'background-color': c.jewel, shape: 'ellipse', width: 24, height: 24 },
        },
        {
            selector: 'node[kind = "more"]',
            style: {
                shape: 'ellipse',
                'background-color': c.muted,
                'background-opacity': 0.5,
                'font-style': 'italic',
            },
        },
        {
            selector: 'node[collapsed]',
            style: { 'border-width': 3, 'border-style': 'double', width: 30, height: 30 },
        },
        {
            selector: 'edge',
            style: {
                label: 'data(label)',
                'curve-style': 'bezier',
                'target-arrow-shape': 'triangle',
                width: 1.5,
                'line-color': c.muted,
                'target-arrow-color': c.muted,
                'font-family': c.font,
                'font-size': 9,
                'min-zoomed-font-size': 7,
                color: c.fg,
                'text-background-color': c.bg,
                'text-background-opacity': 0.85,
                'text-background-padding': '2px',
                'text-rotation': 'autorotate',
            },
        },
        ...stateStyles(c),
        {
            selector: 'edge[verdict = "would-deny"]',
            style: { 'line-style': 'dashed', 'target-arrow-shape': 'triangle-tee' },
        },
        {
            selector: 'edge[verdict = "deny"]',
            style: { width: 3, 'target-arrow-shape': 'tee', 'line-style': 'solid' },
        },
        {
            // Leaves and edges are drawn above every group anyway ("auto" puts childless nodes
            // on top, edges at the depth of their ends); saying so spares cytoscape a walk up
            // the parents of each element per comparison when it re-sorts after an add.
            selector: 'node:childless, edge',
            style: { 'z-compound-depth': 'top' },
        },
        { selector: '.dimmed', style: { opacity: 0.2 } },
        {
            selector: 'node.match',
            style: { 'border-width': 3, 'border-color': c.focus, 'border-style': 'solid' },
        },
        {
            selector: ':selected',
            style: {
                'border-width': 3,
                'border-color': c.focus,
                'line-color': c.focus,
                'target-arrow-color': c.focus,
            },
        },
    ];
}

function stateStyles(c: ReturnType<typeof palette>): StylesheetJson {
    const colours: Array<[string, string]> = [
        ['alert', c.alert],
        ['allowed', c.allowed],
        ['denied', c.denied],
        ['snoozed', c.muted],
    ];
    return [
        ...colours.map(([state, colour]) => ({
            selector: `edge[state = "${state}"]`,
            style: { 'line-color': colour, 'target-arrow-color': colour },
        })),
        { selector: 'edge[state = "snoozed"]', style: { 'line-style': 'dotted', opacity: 0.6 } },
    ];
}
