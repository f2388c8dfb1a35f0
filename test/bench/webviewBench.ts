// Benchmark of the graph webview in headless Chromium: first render + layout of a small graph
// and of 2,000 nodes / 10,000 edges, then a stream of flows, measuring the longest frame by
// requestAnimationFrame deltas. Numbers are printed with ratios against the small graph
// measured in the same run, since absolute times depend on the machine.
// Usage: npm run bench:webview  (BENCH_STREAM_SECONDS, BENCH_RATE, BENCH_NODES, BENCH_EDGES)
import type { Identity } from '../../agent/protocol';
import { firstRender, flowsFor, stream } from './benchPage';
import { labGraph, syntheticFleet } from './graphFixtures';
import { domainNodeId, domainOf, hostNodeId } from '../../webview/graphModel';
import type { SavedState } from '../../webview/vscodeApi';
import { missingBrowser, startHarness } from './webviewHarness';

const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const NODES = Number(process.env.BENCH_NODES ?? 2000);
const EDGES = Number(process.env.BENCH_EDGES ?? 10000);

async function measure(
    label: string,
    message: { type: 'graph'; graph: any },
    identities: Identity[],
    state?: SavedState,
) {
    const harness = await startHarness();
    try {
        const page = await harness.open({ state });
        await page.evaluate(() =>
            document.addEventListener('palisade-rendered', (e) => {
                (window as any).__lastRender = (e as CustomEvent).detail;
            }),
        );
        const first = await firstRender(page, message);
        const flows = flowsFor(
            message.graph.edges,
            identities,
            Math.ceil(RATE * STREAM_SECONDS),
            7,
        );
        const streamed = await stream(page, flows, RATE, STREAM_SECONDS);
        const errors = await page.evaluate(() =>
            (window as any).__posted.filter((m: any) => m.type === 'error'),
        );
        console.log(
            `${label}: first render+layout ${first.ms.toFixed(0)} ms (${first.nodes} nodes, ` +
                `${first.edges} edges); stream ${RATE}/s for ${STREAM_SECONDS}s: ${streamed.frames} frames, ` +
                `longest ${streamed.longestMs.toFixed(1)} ms, p99 ${streamed.p99Ms.toFixed(1)} ms, ` +
                `${streamed.over100} over 100 ms; drawn at end ${streamed.drawnNodes}/${streamed.drawnEdges}` +
                (errors.length > 0 ? `; webview errors: ${JSON.stringify(errors)}` : ''),
        );
        return { first, streamed };
    } finally {
        await harness.close();
    }
}

async function main(): Promise<void> {
    const missing = missingBrowser();
    if (missing !== undefined) {
        console.log(`webview benchmark skipped: ${missing}`);
        return;
    }
    const lab = labGraph();
    const small = await measure(
        'small (lab)',
        { type: 'graph', graph: lab.graph, annotations: lab.annotations } as never,
        lab.graph.edges.map((e) => e.server),
    );
    const fleet = syntheticFleet(NODES, EDGES);
    const big = await measure(
        `large (${NODES}/${EDGES}), default view (hosts and domains folded)`,
        { type: 'graph', graph: fleet.graph },
        fleet.identities,
    );
    // Every group opened, as a user who unfolds them all would see it: all identities drawn.
    const unfolded = [
        ...fleet.graph.hosts.map((h) => hostNodeId(h.name)),
        ...fleet.identities.flatMap((id) =>
            id.kind === 'external' ? [domainNodeId('out', domainOf(id.name))] : [],
        ),
    ];
    const open = await measure(
        `large (${NODES}/${EDGES}), everything unfolded`,
        { type: 'graph', graph: fleet.graph },
        fleet.identities,
        { unfolded },
    );

    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : '∞');
    console.log(
        `ratios large/small: first render ${ratio(big.first.ms, small.first.ms)}×, ` +
            `longest frame ${ratio(big.streamed.longestMs, small.streamed.longestMs)}×, ` +
            `p99 frame ${ratio(big.streamed.p99Ms, small.streamed.p99Ms)}×`,
    );
    console.log(
        `ratios unfolded/small: first render ${ratio(open.first.ms, small.first.ms)}×, ` +
            `longest frame ${ratio(open.streamed.longestMs, small.streamed.longestMs)}×`,
    );
    for (const [name, run] of [
        ['default view', big],
        ['unfolded', open],
    ] as const) {
        console.log(
            `goals (${name}): first render < 3000 ms: ${run.first.ms < 3000 ? 'met' : 'MISSED'}; ` +
                `no frame > 100 ms while streaming: ${run.streamed.over100 === 0 ? 'met' : 'MISSED'}`,
        );
    }
}

await main();
