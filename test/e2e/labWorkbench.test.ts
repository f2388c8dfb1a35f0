// What a person does with Palisade, done in a real VS Code (code-server) in real Chromium
// against the embedded lab with its real agents: the palette, the graph webview, clicks.
// Each step leaves screenshots in both themes under test-output/e2e/lab/; a failed step
// leaves its screen, code-server's log and the extension host's logs under failures/.
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureFailure, suiteOutput } from './artifacts';
import { CodeServer, codeServerMissing } from './codeServer';
import { edgeBetween, findNode, readDetail, waitForGraph, clickElement } from './graphView';
import { injectedElements, type ShownGraph } from './graphView';
import { HOSTILE, HostileProcess, INTRUDER, REDIS, findEdge, isRoot, proc } from './lab';
import { labDown, labUp, waitForCliGraph } from './lab';
import { chromiumMissing, launchChromium, loadPlaywright, Workbench } from './workbench';

const playwright = await loadPlaywright();
const missing = !isRoot
    ? 'needs root (the lab creates namespaces and loads eBPF)'
    : (chromiumMissing() ??
      (playwright === undefined ? 'playwright-core is not installed' : codeServerMissing()));
const inCi = process.env.CI === 'true';
if (missing !== undefined && !inCi) {
    console.warn(`skipping the browser end-to-end suite: ${missing}`);
}

// The lab's demo app, as the graph labels its processes: program line, then unit line.
const LAB_EDGES: Array<[string, string, string, string]> = [
    ['web', 'nginx\nnginx.service', 'api', 'node api.js\napi.service'],
    ['api', 'node api.js\napi.service', 'db', 'redis-server\nredis.service'],
    ['api', 'node api.js\napi.service', 'ext', 'node payments.js\npayments.service'],
    ['api', 'redis-cli\nbatch.service', 'db', 'redis-server\nredis.service'],
    ['web', 'redis-cli\nintruder.service', 'db', 'redis-server\nredis.service'],
];

function labelIs(text: string) {
    return (lines: string[]) => lines.join('\n') === text;
}

function missingLabEdges(graph: ShownGraph): string[] {
    return LAB_EDGES.filter(([ch, cl, sh, sl]) => {
        const client = findNode(graph, ch, labelIs(cl));
        const server = findNode(graph, sh, labelIs(sl));
        return edgeBetween(graph, client, server) === undefined;
    }).map(([ch, cl, sh, sl]) => `${ch}/${cl} → ${sh}/${sl}`.replace(/\n/g, ' '));
}

describe.runIf(missing !== undefined && inCi)('browser end-to-end suite in CI', () => {
    it('has what it needs on a CI machine', () => {
        throw new Error(`CI=true but the browser suite cannot run: ${missing}`);
    });
});

describe.skipIf(missing !== undefined)('Palisade in code-server and Chromium, lab up', () => {
    let out: string;
    let logFile: string;
    let server: CodeServer | undefined;
    let browser: Browser | undefined;
    let wb: Workbench | undefined;
    const hostile = new HostileProcess();

    beforeAll(async () => {
        out = suiteOutput('lab');
        logFile = path.join(out, 'code-server.log');
        labUp();
        // The agents' own view first: the browser can only show what they saw.
        await waitForCliGraph((g) => findEdge(g, INTRUDER, REDIS) !== undefined, 90);

        server = new CodeServer(logFile);
        server.installExtension();
        server.writeSettings('dark');
        server.copyIntoWorkspace(
            path.join(__dirname, 'fixtures/db.palisade.yaml'),
            'db.palisade.yaml',
        );
        await server.start();

        browser = await launchChromium(playwright!);
        const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
        wb = new Workbench(page, server, 'dark');
        await wb.open();
    });

    beforeEach(({ onTestFailed, task }) => {
        onTestFailed(() => captureFailure(out, task.name, server, wb, logFile));
    });

    afterAll(async () => {
        hostile.stop();
        await browser?.close();
        await server?.stop();
        labDown();
    });

    it('Connect to Lab from the command palette connects to the four lab hosts', async () => {
        await wb!.runCommand('Palisade: Connect to Lab');

        const text = await wb!.notification(/connected to \d+ lab hosts|failed|cannot/);
        expect(text).toContain('Palisade: connected to 4 lab hosts.');
        await wb!.screenshots(out, '01-connected');
    });

    it.todo('the Hosts view lists web, api, db and ext as connected (needs the Hosts view)');

    it('Show Service Graph draws every lab host, process and edge the agents saw', async () => {
        await wb!.runCommand('Palisade: Show Service Graph');
        const frame = await wb!.webviewFrame('#graph');

        const { graph } = await waitForGraph(frame, (g) =>
            missingLabEdges(g).length === 0 ? true : undefined,
        );
        const hosts = graph.nodes.filter((n) => n.kind === 'host').map((n) => n.label);
        expect(hosts.sort()).toEqual(['api', 'db', 'ext', 'web']);
        const chips = await frame.locator('header .host').allTextContents();
        expect(chips.sort()).toEqual(['api', 'db', 'ext', 'web']);
        await expect(frame.locator('header .summary').textContent()).resolves.toBe(
            '4/4 hosts healthy',
        );

        // Every process-to-process edge the CLI got from the agents is on screen too.
        const cli = await waitForCliGraph(() => true);
        const shown = new Set(graph.edges.map((e) => e.id));
        const cliEdges = cli.edges.filter((e) => proc(e.client) && proc(e.server));
        expect(cliEdges.length).toBeGreaterThanOrEqual(LAB_EDGES.length);
        expect(cliEdges.map((e) => `edge:${e.id}`).filter((id) => !shown.has(id))).toEqual([]);

        await wb!.screenshots(out, '02-service-graph');
    });

    it('clicking the intruder edge shows both identities in the details panel', async () => {
        const frame = await wb!.webviewFrame('#graph');
        const { graph } = await waitForGraph(frame, (g) =>
            missingLabEdges(g).length ? undefined : true,
        );
        const intruder = findNode(graph, 'web', labelIs('redis-cli\nintruder.service'));
        const redis = findNode(graph, 'db', labelIs('redis-server\nredis.service'));
        const edge = edgeBetween(graph, intruder, redis);

        await clickElement(wb!.page, frame, edge!.id);

        const detail = await readDetail(frame);
        expect(detail.text).toContain('redis-cli');
        expect(detail.text).toContain('intruder.service');
        expect(detail.text).toContain('redis-server');
        expect(detail.text).toContain(':6379');
        await wb!.screenshots(out, '03-intruder-edge');
    });

    it.todo('the intruder edge is drawn in the alert state (needs link states in the graph)');
    it.todo(
        'Deny on the intruder edge writes it as denied to db.palisade.yaml and the agent (needs ' +
            'policy actions in the graph and `palisade policy`)',
    );
    it.todo(
        'the policy file shows live evidence in CodeLens; Allow flips the link in the file and ' +
            'on the agent (needs the policy CodeLens)',
    );
    it.todo(
        'Set Mode enforce for db after the replay preview refuses the intruder in the kernel ' +
            'while the graph shows deny verdicts (needs Set Mode and enforcement)',
    );

    it('hostile process names on a lab host show as text and run nothing', async () => {
        hostile.start();
        const hostileEdge = (g: Parameters<typeof findEdge>[0]) =>
            findEdge(g, { host: 'web', unit: HOSTILE.unit }, REDIS);
        const cli = await waitForCliGraph((g) => hostileEdge(g) !== undefined, 60);
        const seen = proc(hostileEdge(cli)!.client)!;
        expect(seen.binary).toContain(HOSTILE.dir);

        const frame = await wb!.webviewFrame('#graph');
        const { found: node } = await waitForGraph(frame, (g) =>
            findNode(g, 'web', (lines) => lines.some((l) => l.includes('alert(3)'))),
        );

        // Markup stays literal text; controls and the bidi override are neutralised.
        expect(node.label).toContain('"><svg onload=alert(2)>\'');
        expect(node.label).toContain('<script>alert(3)<\\script>"\'');
        expect(node.label).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
        expect(node.label.split('\n')).toHaveLength(2);
        expect(node.label.length).toBeLessThan(HOSTILE.program.length);

        await clickElement(wb!.page, frame, node.id);
        const detail = await readDetail(frame);
        expect(detail.elements).toBe(0);
        expect(detail.text).toContain(HOSTILE.dir);

        expect(await injectedElements(frame)).toEqual([]);
        expect(wb!.dialogs).toEqual([]);
        await wb!.screenshots(out, '04-hostile-names');
    });

    it.todo('hostile DNS names served by the lab resolver show as text (needs DNS naming)');
});
