// Cytoscape styles from the VS Code theme. Cytoscape paints on a canvas and cannot read CSS
// variables itself, so their current values are copied in (and again on theme change).
import type { StylesheetJson } from 'cytoscape';

function themeColour(name: string, fallback: string): string {
    const value = getComputedStyle(document.body).getPropertyValue(name).trim();
    return value === '' ? fallback : value;
}

export function graphStyle(): StylesheetJson {
    const fg = themeColour('--vscode-editor-foreground', '#cccccc');
    const bg = themeColour('--vscode-editor-background', '#1e1e1e');
    const muted = themeColour('--vscode-descriptionForeground', '#999999');
    const accent = themeColour('--vscode-charts-blue', '#3794ff');
    const ok = themeColour('--vscode-testing-iconPassed', '#73c991');
    const warn = themeColour('--vscode-editorWarning-foreground', '#cca700');
    const error = themeColour('--vscode-errorForeground', '#f48771');
    const external = themeColour('--vscode-charts-purple', '#b180d7');
    const focus = themeColour('--vscode-focusBorder', '#007fd4');
    const font = themeColour('--vscode-font-family', 'sans-serif');

    return [
        {
            selector: 'node',
            style: {
                label: 'data(label)',
                'text-wrap': 'wrap',
                'text-valign': 'bottom',
                'text-margin-y': 4,
                'font-family': font,
                'font-size': 11,
                color: fg,
                'background-color': accent,
                shape: 'round-rectangle',
                width: 18,
                height: 18,
            },
        },
        {
            selector: 'node[kind = "host"], node[kind = "external-group"]',
            style: {
                'text-valign': 'top',
                'text-margin-y': -4,
                'font-weight': 'bold',
                'background-color': fg,
                'background-opacity': 0.04,
                'border-width': 1,
                'border-color': muted,
                padding: '16px',
            },
        },
        { selector: 'node[health = "ok"]', style: { 'border-color': ok } },
        {
            selector: 'node[health = "degraded"]',
            style: { 'border-color': warn, 'border-width': 2 },
        },
        {
            selector: 'node[health = "unreachable"]',
            style: { 'border-color': error, 'border-width': 2 },
        },
        {
            selector: 'node[health = "unobserved"], node[kind = "external-group"]',
            style: { 'border-style': 'dashed' },
        },
        {
            selector: 'node[kind = "external"]',
            style: { 'background-color': external, shape: 'diamond' },
        },
        {
            selector: 'node[kind = "unknown"]',
            style: {
                'background-color': warn,
                shape: 'octagon',
                'border-width': 1,
                'border-color': fg,
            },
        },
        {
            selector: 'edge',
            style: {
                label: 'data(label)',
                'curve-style': 'bezier',
                'target-arrow-shape': 'triangle',
                width: 1.5,
                'line-color': muted,
                'target-arrow-color': muted,
                'font-family': font,
                'font-size': 9,
                color: fg,
                'text-background-color': bg,
                'text-background-opacity': 0.85,
                'text-background-padding': '2px',
                'text-rotation': 'autorotate',
            },
        },
        {
            selector: ':selected',
            style: {
                'border-width': 2,
                'border-color': focus,
                'line-color': focus,
                'target-arrow-color': focus,
            },
        },
    ];
}
