// The graph webview's page. Pure (no vscode import) so the CSP can be unit-tested.
import { randomBytes } from 'node:crypto';

export interface WebviewHtmlInput {
    /** `webview.cspSource`: the origin VS Code serves local resources from. */
    cspSource: string;
    /** Fresh for every render; see newNonce(). */
    nonce: string;
    /** `asWebviewUri` of dist/webview.js, as a string. */
    scriptUri: string;
    title?: string;
}

/** 128 bits from the OS CSPRNG; a predictable nonce would let injected script run. */
export function newNonce(): string {
    return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
    return [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src ${cspSource} 'nonce-${nonce}'`,
        `img-src ${cspSource} data:`,
    ].join('; ');
}

const ATTRIBUTE_ESCAPES: Record<string, string> = {
    '&': '&amp;',
    '"': '&quot;',
    "'": '&#39;',
    '<': '&lt;',
    '>': '&gt;',
};

function escapeAttribute(value: string): string {
    return value.replace(/[&"'<>]/g, (c) => ATTRIBUTE_ESCAPES[c] ?? c);
}

// The id matches the sheet cytoscape would otherwise inject itself: its injected <style> has
// no nonce and the CSP would refuse it. Colours come from VS Code's theme variables, so the
// page follows light, dark and high-contrast themes.
const STYLE = `
.__________cytoscape_container { position: relative; }
html, body { height: 100%; margin: 0; padding: 0; overflow: hidden; }
body {
    display: flex; flex-direction: column;
    color: var(--vscode-foreground);
    background: var(--vscode-editor-background);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
}
header, #toolbar {
    display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
    padding: 4px 10px;
    border-bottom: 1px solid var(--vscode-panel-border, transparent);
}
#toolbar .group { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
#toolbar .states { gap: 10px; }
header .summary { color: var(--vscode-descriptionForeground); margin-right: 6px; }
header .empty { color: var(--vscode-descriptionForeground); }
header .host {
    padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor;
    color: var(--vscode-foreground);
}
header .health-ok { color: var(--vscode-testing-iconPassed, #73c991); }
header .health-degraded { color: var(--vscode-editorWarning-foreground, #cca700); }
header .health-unreachable { color: var(--vscode-errorForeground, #f48771); }
main { flex: 1; min-height: 0; position: relative; }
#graph { position: absolute; inset: 0; }
.panel {
    position: absolute; overflow: auto; padding: 8px 10px;
    color: var(--vscode-editorWidget-foreground, var(--vscode-foreground));
    background: var(--vscode-editorWidget-background);
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
}
#detail { right: 10px; top: 10px; width: 340px; max-height: calc(100% - 40px); }
#detail h3, #detail h4, #legend h4 { margin: 2px 0 6px; word-break: break-all; }
#detail pre {
    white-space: pre-wrap; word-break: break-all; margin: 6px 0;
    font-family: var(--vscode-editor-font-family);
}
#detail .field { display: flex; gap: 8px; margin: 2px 0; }
#detail .field .name { color: var(--vscode-descriptionForeground); min-width: 80px; }
#detail .field .value { word-break: break-all; }
#detail .badges, #detail .actions, #detail .pattern {
    display: flex; flex-wrap: wrap; gap: 4px; margin: 6px 0;
}
#detail .pattern vscode-text-field { flex: 1; }
#legend { left: 10px; bottom: 10px; font-size: 11px; }
.legend-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.swatch { display: inline-block; width: 22px; height: 0; border-top: 3px solid; }
.swatch.node, .swatch.box { width: 12px; height: 12px; border: 1px solid transparent; }
.swatch.alert { border-color: var(--vscode-editorWarning-foreground, #cca700); }
.swatch.allowed { border-color: var(--vscode-testing-iconPassed, #73c991); }
.swatch.snoozed { border-top-style: dotted; border-color: var(--vscode-descriptionForeground); }
.swatch.denied { border-color: var(--vscode-errorForeground, #f48771); }
.swatch.none { border-color: var(--vscode-descriptionForeground); }
.swatch.would-deny { border-top-style: dashed; border-color: var(--vscode-errorForeground); }
.swatch.deny { border-top-width: 5px; border-color: var(--vscode-errorForeground); }
.swatch.process { background: var(--vscode-charts-blue, #3794ff); border-radius: 3px; }
.swatch.external { background: var(--vscode-charts-purple, #b180d7); transform: rotate(45deg); }
.swatch.unknown { background: var(--vscode-editorWarning-foreground, #cca700); }
.swatch.jewel { background: var(--vscode-charts-yellow, #cca700); border-radius: 50%; }
.swatch.more { background: var(--vscode-descriptionForeground); border-radius: 50%; }
.swatch.box { background: transparent; }
.swatch.degraded { border: 3px double var(--vscode-editorWarning-foreground, #cca700); }
.swatch.enforce { border: 2px solid var(--vscode-descriptionForeground); }
.swatch.monitor { border: 1px dashed var(--vscode-descriptionForeground); }
.tag {
    padding: 1px 6px; border-radius: 2px; font-size: 11px; text-transform: uppercase;
    border: 1px solid var(--vscode-badge-background, currentColor);
    color: var(--vscode-badge-foreground, var(--vscode-foreground));
    background: var(--vscode-badge-background, transparent);
}
.tag.state-alert, .tag.degraded, .tag.jewel { color: var(--vscode-editorWarning-foreground); }
.tag.state-denied, .tag.verdict-deny, .tag.verdict-would-deny {
    color: var(--vscode-errorForeground);
}
.tag.state-allowed, .tag.verdict-allow { color: var(--vscode-testing-iconPassed); }
.tag.state-alert, .tag.state-denied, .tag.state-allowed, .tag.degraded, .tag.jewel,
.tag.verdict-deny, .tag.verdict-would-deny, .tag.verdict-allow {
    background: transparent; border-color: currentColor;
}
`;

// The toolkit's components (FAST) read the nonce from the csp-nonce meta tag for the one
// <style> they create themselves; without it the CSP refuses that sheet.
export function webviewHtml(input: WebviewHtmlInput): string {
    const csp = contentSecurityPolicy(input.cspSource, input.nonce);
    const nonce = escapeAttribute(input.nonce);
    const title = escapeAttribute(input.title ?? 'Palisade Service Graph');

    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title}</title>
<meta property="csp-nonce" content="${nonce}">
<style id="__________cytoscape_stylesheet" nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header id="header" aria-label="Hosts"></header>
<nav id="toolbar" aria-label="Filters and commands"></nav>
<main>
<div id="graph" role="img" aria-label="Service graph"></div>
<aside id="legend" class="panel" aria-label="Legend"></aside>
<aside id="detail" class="panel" aria-label="Details" hidden></aside>
</main>
<script nonce="${nonce}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>
`;
}
