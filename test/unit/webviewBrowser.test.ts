// The real webview bundle in real Chromium under the real CSP: proves cytoscape runs without
// 'unsafe-inline', that messages flow both ways and that hostile names stay text.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetGraph, ProcessIdentity } from '../../agent/protocol';
import { newNonce, webviewHtml } from '../../extension/webviewHtml';

const CHROMIUM = '/usr/bin/chromium';
const playwright = await import('playwright-core').catch(() => undefined);
const missing = !existsSync(CHROMIUM)
    ? `${CHROMIUM} is not installed (apt-get install chromium)`
    : playwright === undefined
      ? 'playwright-core is not installed'
      : undefined;
if (missing !== undefined) {
    console.warn(`skipping webview browser tests: ${missing}`);
}

const EVIL = '<img src=x onerror="window.__pwned=1">';

function proc(host: string, binary: string, unit?: string): ProcessIdentity {
    return { kind: 'process', zone: 'lab', host, binary, unit, user: 'u', uid: 1, cgroup: '/' };
}

function graph(count: number, extra: ProcessIdentity[] = []): FleetGraph {
    const nginx = proc('web', '/usr/sbin/nginx', 'nginx.service');
    const api = proc('api', '/usr/bin/node');
    const edges = [[nginx, api], ...extra.map((p) => [p, api])].map(([client, server], i) => ({
        id: `e${i}`,
        client: client!,
        server: server!,
        protocol: 'tcp' as const,
        port: 3000,
        count,
        firstSeen: 0,
        lastSeen: 0,
        seenBy: [],
    }));
    return {
        hosts: [
            { name: 'web', addresses: [], health: 'ok', problems: [] },
            { name: 'api', addresses: [], health: 'degraded', problems: ['no sock_ops'] },
            { name: EVIL, addresses: [], health: 'unreachable', problems: [EVIL] },
        ],
        edges,
        generatedAt: 0,
    };
}

// Stands in for the handle VS Code injects; init scripts run outside the page's CSP.
const FAKE_VSCODE_API = `
    window.__posted = []; window.__state = undefined; window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(m),
        getState: () => window.__state,
        setState: (s) => { window.__state = s; },
    });
`;

describe.skipIf(missing !== undefined)('graph webview in Chromium', () => {
    let dir: string;
    let server: Server;
    let origin: string;
    let browser: import('playwright-core').Browser;

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'palisade-webview-'));
        await build({
            entryPoints: ['webview/main.ts'],
            bundle: true,
            format: 'iife',
            outfile: join(dir, 'webview.js'),
            logLevel: 'silent',
        });
        server = createServer((req, res) => {
            if (req.url === '/webview.js') {
                res.setHeader('content-type', 'text/javascript');
                res.end(readFileSync(join(dir, 'webview.js')));
                return;
            }
            res.setHeader('content-type', 'text/html');
            res.end(
                webviewHtml({
                    cspSource: origin,
                    nonce: newNonce(),
                    scriptUri: `${origin}/webview.js`,
                }),
            );
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        browser = await playwright!.chromium.launch({
            executablePath: CHROMIUM,
            args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        });
    });

    afterAll(async () => {
        await browser?.close();
        server?.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('renders under the CSP, says ready, and keeps hostile names as text', async () => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        await page.addInitScript(FAKE_VSCODE_API);
        await page.goto(origin);

        await page.waitForFunction(() => (window as any).__posted.length > 0);
        expect(await page.evaluate(() => (window as any).__posted)).toEqual([{ type: 'ready' }]);

        await page.evaluate(
            (g) => window.postMessage({ type: 'graph', graph: g }, '*'),
            graph(1234),
        );
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);

        const chips = await page.locator('header .host').allTextContents();
        expect(chips).toContain(EVIL);
        expect(await page.locator('img').count()).toBe(0);
        expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
        expect(await page.locator('canvas').count()).toBeGreaterThan(0);
        expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
        expect(errors).toEqual([]);
        await page.close();
    });

    it('patches the graph without moving nodes already placed', async () => {
        const page = await browser.newPage();
        await page.addInitScript(FAKE_VSCODE_API);
        await page.goto(origin);
        await page.waitForFunction(() => (window as any).__posted.length > 0);

        await page.evaluate((g) => window.postMessage({ type: 'graph', graph: g }, '*'), graph(1));
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);
        const before = await page.evaluate(() => (window as any).__state.positions);
        // nginx, node, and the empty box of the unreachable host.
        expect(Object.keys(before)).toHaveLength(3);

        await page.evaluate(
            () => ((window as any).__state = { ...(window as any).__state, positions: undefined }),
        );
        const grown = graph(5000, [proc('api', '/usr/bin/batch')]);
        await page.evaluate((g) => window.postMessage({ type: 'graph', graph: g }, '*'), grown);
        // Saving is debounced and triggered by viewport changes; nudge it with a pan.
        await page.mouse.move(300, 300);
        await page.mouse.wheel(0, -1);
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);
        const after = await page.evaluate(() => (window as any).__state.positions);

        expect(Object.keys(after)).toHaveLength(4);
        for (const [id, position] of Object.entries(before)) {
            expect(after[id]).toEqual(position);
        }
        await page.close();
    });
});
