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
import { clickElement, edgeBetween, readGraph } from '../e2e/graphView';

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
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
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

    it('shows hostile names as text in panels, dropdowns and SVG export, and acts on edges', async () => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        await page.addInitScript(FAKE_VSCODE_API);
        await page.goto(origin);
        await page.waitForFunction(() => (window as any).__posted.length > 0);

        const evilProc = proc(EVIL, `/tmp/${EVIL}`, EVIL);
        const victim = proc('api', '/usr/bin/node');
        const evilDns = {
            kind: 'external' as const,
            name: `dns:${EVIL}.lab`,
            address: '10.213.0.9',
        };
        const g: FleetGraph = {
            hosts: [{ name: EVIL, addresses: [], health: 'degraded', problems: [EVIL] }],
            edges: [
                { ...graph(1).edges[0]!, id: 'evil', client: evilProc, server: victim },
                { ...graph(1).edges[0]!, id: 'dns', client: victim, server: evilDns },
            ],
            generatedAt: 0,
        };
        const annotations = {
            edges: { evil: { state: 'denied', mode: 'enforce', rule: EVIL, policyFile: EVIL } },
        };
        await page.evaluate((m) => window.postMessage(m, '*'), {
            type: 'graph',
            graph: g,
            annotations,
        });
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);

        const shown = await readGraph(page);
        const evilId = shown.nodes.find((n) => n.id.includes('/tmp/'))!.id;
        const victimId = shown.nodes.find((n) => n.id.includes('/usr/bin/node'))!.id;
        const edgeId = edgeBetween(
            shown,
            shown.nodes.find((n) => n.id === evilId),
            shown.nodes.find((n) => n.id === victimId),
        )!.id;

        await clickElement(page, page, evilId);
        await page.waitForFunction(() => !document.getElementById('detail')!.hidden);
        expect(await page.locator('#detail').textContent()).toContain(EVIL);

        await clickElement(page, page, edgeId);
        await page.waitForFunction(() =>
            document.getElementById('detail')!.textContent!.includes('policy file'),
        );
        const detail = (await page.locator('#detail').textContent()) ?? '';
        expect(detail).toContain(`rule${EVIL}`);
        await page.locator('#detail vscode-button', { hasText: 'Deny' }).click();

        await page.locator('#toolbar vscode-button', { hasText: 'SVG' }).click();
        await page.waitForFunction(() =>
            (window as any).__posted.some((m: any) => m.type === 'export'),
        );
        const posted = await page.evaluate(() => (window as any).__posted);
        expect(posted).toContainEqual({ type: 'action', action: 'deny', edgeIds: ['evil'] });
        const svg = posted.find((m: any) => m.type === 'export').data as string;
        const parsed = await page.evaluate((text) => {
            const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
            return {
                active: doc.querySelectorAll('img, script, foreignObject, iframe').length,
                handlers: Array.from(doc.querySelectorAll('*')).some((el) =>
                    Array.from(el.attributes).some((attr) => attr.name.startsWith('on')),
                ),
                text: doc.documentElement.textContent,
            };
        }, svg);
        expect(parsed.active).toBe(0);
        expect(parsed.handlers).toBe(false);
        expect(parsed.text).toContain(EVIL.slice(0, 20));

        const hostOptions = await page.locator('#toolbar vscode-option').allTextContents();
        expect(hostOptions).toContain(EVIL);
        expect(await page.locator('img').count()).toBe(0);
        expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
        expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
        expect(errors).toEqual([]);
        await page.close();
    }, 30_000);

    it('selects an external peer or a crown jewel, not its group, when clicked at its centre', async () => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.addInitScript(FAKE_VSCODE_API);
        await page.goto(origin);
        await page.waitForFunction(() => (window as any).__posted.length > 0);
        const asker = proc('web', '/usr/bin/node', 'asker.service');
        const peer = {
            kind: 'external' as const,
            name: `dns:"><b>${'b'.repeat(60)}.evil.lab`,
            canonical: `<i>x</i>.${'c'.repeat(60)}.evil.lab`,
            address: '10.213.0.1',
        };
        const g: FleetGraph = {
            ...graph(1),
            edges: [
                ...graph(1).edges,
                { ...graph(1).edges[0]!, id: 'out', client: asker, server: peer },
            ],
        };
        await page.evaluate((m) => window.postMessage(m, '*'), { type: 'graph', graph: g });
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);
        const shown = await readGraph(page);
        const peerId = shown.nodes.find((n) => n.kind === 'external')!.id;

        // At its centre, as clickElement clicks: on a plain diamond the vertical line through
        // the top and bottom corners is no hit at all in cytoscape, the group behind it was.
        await clickElement(page, page, peerId);
        await page.waitForFunction(() => !document.getElementById('detail')!.hidden);
        expect(await page.locator('#detail').textContent()).toContain(
            `canonical name: ${peer.canonical}`,
        );

        // A crown jewel (redis) the same way: selected itself, not the group it sits in.
        const redis = proc('db', '/usr/bin/redis-server', 'redis.service');
        await page.evaluate((m) => window.postMessage(m, '*'), {
            type: 'delta',
            edges: [{ ...g.edges[0]!, id: 'to-redis', client: asker, server: redis, port: 6379 }],
        });
        await page.waitForFunction(() =>
            (document.getElementById('graph') as any)._cyreg.cy.$('node[?crownJewel]').nonempty(),
        );
        const jewelId = await page.evaluate(
            () =>
                (document.getElementById('graph') as any)._cyreg.cy
                    .$('node[?crownJewel]')
                    .id() as string,
        );
        await clickElement(page, page, jewelId);
        await page.waitForFunction(() =>
            document.getElementById('detail')!.textContent!.includes('crown jewel'),
        );
        expect(await page.locator('#detail').textContent()).toContain('redis-server');
        await page.close();
    });

    it('keeps the details buttons while flows stream in, so a click on Deny is not lost', async () => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.addInitScript(FAKE_VSCODE_API);
        await page.goto(origin);
        await page.waitForFunction(() => (window as any).__posted.length > 0);
        const send = (count: number) =>
            page.evaluate(
                (g) => window.postMessage({ type: 'graph', graph: g }, '*'),
                graph(count),
            );
        await send(1);
        await page.waitForFunction(() => (window as any).__state?.positions !== undefined);
        const shown = await readGraph(page);
        const [client, server] = ['/usr/sbin/nginx', '/usr/bin/node'].map((binary) =>
            shown.nodes.find((n) => n.kind === 'process' && n.id.includes(binary)),
        );
        await clickElement(page, page, edgeBetween(shown, client, server)!.id);
        const deny = page.locator('#detail vscode-button', { hasText: 'Deny' });
        await deny.waitFor();
        await deny.evaluate((el) => ((el as any).__marked = true));

        // A flow arrives between the press and the release of the button.
        const box = (await deny.boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.down();
        await send(2);
        await page.waitForFunction(
            () => document.getElementById('detail')!.textContent!.includes('connections2'),
            undefined,
            { timeout: 5000 },
        );
        await page.mouse.up();

        expect(await deny.evaluate((el) => (el as any).__marked === true)).toBe(true);
        const posted = await page.evaluate(() => (window as any).__posted);
        expect(posted).toContainEqual({ type: 'action', action: 'deny', edgeIds: ['e0'] });
        await page.close();
    }, 30_000);
});
