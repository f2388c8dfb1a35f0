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
// no nonce and the CSP would refuse it. Colours come from VS Code's theme variables.
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
header {
    display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
    padding: 6px 10px;
    border-bottom: 1px solid var(--vscode-panel-border, transparent);
}
header .summary { color: var(--vscode-descriptionForeground); margin-right: 6px; }
header .empty { color: var(--vscode-descriptionForeground); }
header .host {
    padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor;
    color: var(--vscode-foreground);
}
header .health-ok { color: var(--vscode-testing-iconPassed, #73c991); }
header .health-degraded { color: var(--vscode-editorWarning-foreground, #cca700); }
header .health-unreachable { color: var(--vscode-errorForeground, #f48771); }
#graph { flex: 1; min-height: 0; }
#detail {
    position: absolute; right: 10px; bottom: 10px; max-width: 50%; max-height: 40%;
    overflow: auto; margin: 0; padding: 8px;
    white-space: pre-wrap; word-break: break-all;
    font-family: var(--vscode-editor-font-family);
    color: var(--vscode-editorWidget-foreground, var(--vscode-foreground));
    background: var(--vscode-editorWidget-background);
    border: 1px solid var(--vscode-editorWidget-border, transparent);
}
`;

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
<style id="__________cytoscape_stylesheet" nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header id="header" aria-label="Hosts"></header>
<div id="graph" role="img" aria-label="Service graph"></div>
<pre id="detail" hidden></pre>
<script nonce="${nonce}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>
`;
}
