// What the webview benchmark and profile do inside the page: post a snapshot and wait for it
// to be drawn, stream flows as the extension would while recording frame gaps, and make up
// a flow mix for a graph.
import type { Page } from 'playwright-core';
import type { FleetEdge, Identity } from '../../agent/protocol';
import { random } from './graphFixtures';

export interface FirstRender {
    ms: number;
    nodes: number;
    edges: number;
}

export interface StreamResult {
    frames: number;
    longestMs: number;
    p99Ms: number;
    over100: number;
    /** When each frame over 100 ms ended, in ms since the stream began. */
    over100At: number[];
    drawnNodes: number;
    drawnEdges: number;
}

/** Posts a snapshot and waits for the render, the layout and two painted frames. */
export async function firstRender(page: Page, message: unknown): Promise<FirstRender> {
    return page.evaluate(
        (msg) =>
            new Promise<FirstRender>((resolve) => {
                const started = performance.now();
                document.addEventListener(
                    'palisade-rendered',
                    (event) => {
                        const detail = (event as CustomEvent<{ nodes: number; edges: number }>)
                            .detail;
                        requestAnimationFrame(() =>
                            requestAnimationFrame(() =>
                                resolve({ ms: performance.now() - started, ...detail }),
                            ),
                        );
                    },
                    { once: true },
                );
                window.postMessage(msg, '*');
            }),
        message,
    );
}

/**
 * Streams `rate` flows a second for `seconds` from inside the page (a timer posting delta
 * messages, as the extension would) while a rAF loop records frame gaps.
 */
export async function stream(
    page: Page,
    flows: FleetEdge[],
    rate: number,
    seconds: number,
): Promise<StreamResult> {
    // Handed over first, on their own: parsing 3,000 flows takes the page's thread for a
    // quarter of a second, and a frame held up by that was counted as the stream's.
    await page.evaluate((list) => {
        (window as any).__benchFlows = list;
    }, flows);
    return page.evaluate(
        ({ rate, seconds }) =>
            new Promise<StreamResult>((resolve) => {
                const flows = (window as any).__benchFlows as unknown[];
                const gaps: number[] = [];
                const slowAt: number[] = [];
                let last = performance.now();
                let running = true;
                const frame = (now: number) => {
                    gaps.push(now - last);
                    if (now - last > 100) {
                        slowAt.push(now - started);
                    }
                    last = now;
                    if (running) {
                        requestAnimationFrame(frame);
                    }
                };
                const started = performance.now();
                requestAnimationFrame(frame);
                let sent = 0;
                const timer = setInterval(() => {
                    const due = Math.floor(((performance.now() - started) / 1000) * rate);
                    while (sent < due && sent < flows.length) {
                        window.postMessage({ type: 'delta', edges: [flows[sent]] }, '*');
                        sent += 1;
                    }
                    if (performance.now() - started >= seconds * 1000) {
                        clearInterval(timer);
                        running = false;
                        // Let the last batch land before counting.
                        setTimeout(() => {
                            const sorted = [...gaps].sort((a, b) => a - b);
                            const counts = (window as any).__lastRender ?? { nodes: 0, edges: 0 };
                            resolve({
                                frames: gaps.length,
                                longestMs: sorted[sorted.length - 1] ?? 0,
                                p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
                                over100: gaps.filter((g) => g > 100).length,
                                over100At: slowAt,
                                drawnNodes: counts.nodes,
                                drawnEdges: counts.edges,
                            });
                        }, 500);
                    }
                }, 10);
            }),
        { rate, seconds },
    );
}

/**
 * 80% of flows bump an existing edge's count, 19% are new edges between known identities and
 * 1% reach a peer never seen before, so the small graph stays small over a minute.
 */
export function flowsFor(edges: FleetEdge[], identities: Identity[], count: number, seed: number) {
    const rand = random(seed);
    const flows: FleetEdge[] = [];
    const now = Date.now();
    for (let i = 0; i < count; i++) {
        const base = edges[Math.floor(rand() * edges.length)] as FleetEdge;
        const roll = rand();
        if (roll < 0.8) {
            flows.push({ ...base, count: base.count + i + 1, lastSeen: now + i });
            continue;
        }
        const server: Identity =
            roll < 0.99
                ? (identities[Math.floor(rand() * identities.length)] as Identity)
                : { kind: 'external', name: `dns:new-${i}.stream.example`, address: '10.213.2.1' };
        const first = { ...base, id: `new-${i}`, server, count: 1, firstSeen: now + i };
        flows.push({ ...first, lastSeen: now + i });
    }
    return flows;
}
