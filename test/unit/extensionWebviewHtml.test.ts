import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, newNonce, webviewHtml } from '../../extension/webviewHtml';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const scriptUri = `${cspSource}/ext/dist/webview.js`;

function render(nonce = newNonce()): string {
    return webviewHtml({ cspSource, nonce, scriptUri });
}

function cspOf(html: string): string {
    const match = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
    if (match?.[1] === undefined) {
        throw new Error('no CSP meta tag');
    }
    return match[1].replaceAll('&#39;', "'");
}

describe('webviewHtml', () => {
    it('denies everything by default and allows scripts only by nonce', () => {
        const nonce = newNonce();
        const csp = cspOf(render(nonce));
        expect(csp).toContain("default-src 'none'");
        expect(csp).toContain(`script-src 'nonce-${nonce}'`);
        expect(csp).toContain(`style-src ${cspSource} 'nonce-${nonce}'`);
        expect(csp).toContain(`img-src ${cspSource} data:`);
        expect(csp).not.toContain('unsafe-inline');
        expect(csp).not.toContain('unsafe-eval');
        expect(csp).toBe(contentSecurityPolicy(cspSource, nonce));
    });

    it('puts the render nonce on every script and style tag', () => {
        const nonce = newNonce();
        const html = render(nonce);
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        const styles = html.match(/<style\b[^>]*>/g) ?? [];
        expect(scripts.length).toBeGreaterThan(0);
        for (const tag of [...scripts, ...styles]) {
            expect(tag).toContain(`nonce="${nonce}"`);
        }
    });

    it('loads script only from the given webview URI, with no inline code or handlers', () => {
        const html = render();
        expect(html.match(/<script\b[^>]*>/g)).toEqual([
            expect.stringContaining(`src="${scriptUri}"`),
        ]);
        expect(html).toMatch(/<script\b[^>]*><\/script>/);
        expect(html).not.toMatch(/\son[a-z]+\s*=/i);
        expect(html).not.toContain('javascript:');
    });

    it('gives two renders two different nonces', () => {
        const a = cspOf(render());
        const b = cspOf(render());
        expect(a).not.toBe(b);
        expect(newNonce()).not.toBe(newNonce());
        expect(Buffer.from(newNonce(), 'base64')).toHaveLength(16);
    });

    it('escapes a URI that would break out of its attribute', () => {
        const html = webviewHtml({
            cspSource,
            nonce: 'n',
            scriptUri: 'x"><script>alert(1)</script>',
        });
        expect(html.match(/<script\b/g)).toHaveLength(1);
    });
});
