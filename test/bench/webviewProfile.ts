// Where the webview spends its time while flows stream in: a sampled CPU profile (Chromium
// DevTools protocol) of the stream, summed by function, plus the long tasks the page saw and
// how long each flush of the batcher took. CPU samples and task lengths say what the page
// itself costs, which frame gaps on a busy machine do not. Build and run (no npm script, so
// it stays out of release numbers):
//   npx esbuild test/bench/webviewProfile.ts --bundle --platform=node --format=esm \
//     --packages=external --outfile=dist/bench/webviewProfile.mjs
//   BENCH_VIEW=default|unfolded|lab BENCH_STREAM_SECONDS=20 node dist/bench/webviewProfile.mjs
// BENCH_TRACE=file.json also records a Chromium trace (open it in DevTools' Performance tab);
// BENCH_PAN=1 first drags the graph and wheels it in and out, and reports those frames;
// BENCH_FIRST=1 profiles the first render instead of the stream.
import type { Page } from 'playwright-core';
import { domainNodeId, domainOf, hostNodeId } from '../../webview/graphModel';
import type { SavedState } from '../../webview/vscodeApi';
import { labGraph, syntheticFleet } from './graphFixtures';
import { firstRender, flowsFor, stream } from './benchPage';
import { missingBrowser, startHarness } from './webviewHarness';

const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const VIEW = process.env.BENCH_VIEW ?? 'default';
const TOP = Number(process.env.BENCH_TOP ?? 25);

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

/** Self time per function, and total time (self + callees, counted once per stack). */
function summarise(profile: Profile): { self: Map<string, number>; total: Map<string, number> } {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) {
        for (const child of node.children ?? []) {
            parent.set(child, node.id);
        }
    }
    const name = (n: ProfileNode) =>
        `${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    profile.samples.forEach((id, i) => {
        const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
        const leaf = byId.get(id);
        if (leaf === undefined) {
            return;
        }
        self.set(name(leaf), (self.get(name(leaf)) ?? 0) + ms);
        const seen = new Set<string>();
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
            const key = name(byId.get(at) as ProfileNode);
            if (!seen.has(key)) {
                seen.add(key);
                total.set(key, (total.get(key) ?? 0) + ms);
            }
        }
    });
    return { self, total };
}

function top(map: Map<string, number>, count: number): string {
    return [...map.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, count)
        .map(([key, ms]) => `  ${ms.toFixed(0).padStart(7)} ms  ${key}`)
        .join('\n');
}

async function watchTasks(page: Page): Promise<void> {
    await page.evaluate(() => {
        const w = window as any;
        w.__tasks = [];
        w.__renders = [];
        new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) {
                w.__tasks.push(entry.duration);
            }
        }).observe({ type: 'longtask', buffered: false });
        document.addEventListener('palisade-rendered', (e) => {
            w.__renders.push((e as CustomEvent).detail.ms);
        });
    });
}

function spread(values: number[]): string {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => (sorted[Math.floor((sorted.length - 1) * q)] ?? 0).toFixed(1);
    return `n=${sorted.length} median ${at(0.5)} p90 ${at(0.9)} max ${at(1)} ms`;
}

async function recordFrames(page: Page): Promise<void> {
    await page.evaluate(() => {
        const w = window as any;
        w.__gaps = [];
        w.__recording = true;
        let last = performance.now();
        const frame = (now: number) => {
            w.__gaps.push(now - last);
            last = now;
            if (w.__recording) {
                requestAnimationFrame(frame);
            }
        };
        requestAnimationFrame(frame);
    });
}

async function stopFrames(page: Page): Promise<number[]> {
    await page.waitForTimeout(300);
    return page.evaluate(() => {
        (window as any).__recording = false;
        return (window as any).__gaps as number[];
    });
}

/** Drags the background across, then wheels in and out, as a user looking around would. */
async function panAndZoom(page: Page): Promise<void> {
    const box = await page.locator('#graph').boundingBox();
    if (box === null) {
        return;
    }
    // Inside the fit padding: background, so a drag pans instead of moving a node.
    const x = box.x + 12;
    const y = box.y + 12;
    await recordFrames(page);
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let i = 1; i <= 40; i++) {
        await page.mouse.move(x + i * 6, y + i * 4);
    }
    await page.mouse.up();
    console.log(`pan (40 moves): ${spread(await stopFrames(page))}`);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await recordFrames(page);
    for (let i = 0; i < 20; i++) {
        await page.mouse.wheel(0, i < 10 ? -120 : 120);
    }
    console.log(`zoom (20 wheel steps): ${spread(await stopFrames(page))}`);
}

async function main(): Promise<void> {
    const missing = missingBrowser();
    if (missing !== undefined) {
        console.log(`webview profile skipped: ${missing}`);
        return;
    }
    const fleet =
        VIEW === 'lab'
            ? (() => {
                  const lab = labGraph();
                  return { graph: lab.graph, identities: lab.graph.edges.map((e) => e.server) };
              })()
            : syntheticFleet(2000, 10000);
    const state: SavedState | undefined =
        VIEW === 'unfolded'
            ? {
                  unfolded: [
                      ...fleet.graph.hosts.map((h) => hostNodeId(h.name)),
                      ...fleet.identities.flatMap((id) =>
                          id.kind === 'external' ? [domainNodeId('out', domainOf(id.name))] : [],
                      ),
                  ],
              }
            : undefined;
    const harness = await startHarness();
    try {
        const page = await harness.open({ state });
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        const profileFirst = process.env.BENCH_FIRST !== undefined;
        if (profileFirst) {
            await cdp.send('Profiler.start');
        }
        const first = await firstRender(page, { type: 'graph', graph: fleet.graph });
        console.log(
            `${VIEW}: first render ${first.ms.toFixed(0)} ms (${first.nodes}/${first.edges})`,
        );
        if (profileFirst) {
            const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
            const { self, total } = summarise(profile);
            console.log(`self time, top ${TOP}:\n${top(self, TOP)}`);
            console.log(`total time, top ${TOP}:\n${top(total, TOP)}`);
            return;
        }
        if (process.env.BENCH_PAN !== undefined) {
            await panAndZoom(page);
        }
        await watchTasks(page);
        const trace = process.env.BENCH_TRACE;
        if (trace !== undefined) {
            await harness.browser.startTracing(page, {
                path: trace,
                categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
            });
        }
        await cdp.send('Profiler.start');
        const flows = flowsFor(fleet.graph.edges, fleet.identities, RATE * STREAM_SECONDS, 7);
        const streamed = await stream(page, flows, RATE, STREAM_SECONDS);
        const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
        if (trace !== undefined) {
            await harness.browser.stopTracing();
        }
        const { tasks, renders } = await page.evaluate(() => ({
            tasks: (window as any).__tasks as number[],
            renders: (window as any).__renders as number[],
        }));
        console.log(
            `stream ${RATE}/s for ${STREAM_SECONDS}s: longest frame ${streamed.longestMs.toFixed(1)} ms, ` +
                `${streamed.over100} over 100 ms` +
                (streamed.over100 > 0
                    ? ` (at ${streamed.over100At.map((t) => (t / 1000).toFixed(1)).join(', ')} s)`
                    : ''),
        );
        console.log(`render() per flush: ${spread(renders)}`);
        console.log(`long tasks (>50 ms): ${spread(tasks)}`);
        const { self, total } = summarise(profile);
        console.log(`self time, top ${TOP}:\n${top(self, TOP)}`);
        console.log(`total time, top ${TOP}:\n${top(total, TOP)}`);
    } finally {
        await harness.close();
    }
}

await main();
