// The real datapath on a real kernel: attribution of short-lived processes, kernel-side
// counting, clean detach, and recovery after a crash.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIZE } from '../../agent/bpf/layout';
import type { FlowRecord, ProcessIdentity } from '../../agent/protocol';
import {
    expectOneAttachmentPerHook,
    Harness,
    isRoot,
    NEEDS_ROOT,
    ROOT,
    startHarness,
} from './agentHarness';

const CURL = '/usr/bin/curl';

describe.skipIf(!isRoot)(`datapath (root: real eBPF)${NEEDS_ROOT}`, () => {
    let h: Harness;
    let server: http.Server;
    let port: number;

    beforeAll(async () => {
        server = http.createServer((_req, res) => res.end('ok'));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        port = (server.address() as AddressInfo).port;
        h = await startHarness('dp');
    });

    afterAll(async () => {
        await h?.stop();
        server?.close();
    });

    it('mirrors the C struct sizes the agent decodes', () => {
        const btf = execFileSync('bpftool', [
            'btf',
            'dump',
            'file',
            path.join(ROOT, 'dist/palisade.bpf.o'),
        ]).toString();
        const size = (name: string) =>
            Number(new RegExp(`STRUCT '${name}' size=(\\d+)`).exec(btf)?.[1]);
        expect(size('pal_image')).toBe(SIZE.image);
        expect(size('pal_flow_key')).toBe(SIZE.flowKey);
        expect(size('pal_flow_stats')).toBe(SIZE.flowStats);
        expect(size('pal_event')).toBe(SIZE.event);
        expect(size('pal_dns_event')).toBe(SIZE.dnsEvent);
    });

    it('reports healthy only after the canary proved the hooks effective', async () => {
        const status = await h.client.status();
        expect(status.health).toBe('ok');
        expect(status.attached).toHaveLength(10);
    });

    it('names 200 processes that exec, connect and exit at once by their real binary', async () => {
        // Each run prints its pid, then execs curl under that same pid.
        const out = await h.inCgroup(
            'burst.service',
            `for i in $(seq 200); do sh -c 'echo $$; exec ${CURL} -s -o /dev/null http://127.0.0.1:${port}/'; done`,
        );
        const pids = out.trim().split('\n').map(Number);
        expect(new Set(pids).size).toBe(200);

        let flows: Awaited<ReturnType<Harness['flowsWhere']>> = [];
        for (let i = 0; i < 50 && flows.length < 200; i++) {
            await new Promise((r) => setTimeout(r, 100));
            flows = await h.flowsWhere((f) => f.port === port && f.direction === 'egress');
        }
        expect(flows).toHaveLength(200);
        expect(new Set(flows.map((f) => f.pid))).toEqual(new Set(pids));
        for (const f of flows) {
            const id = f.local as ProcessIdentity;
            expect(id.kind).toBe('process');
            expect(id.binary).toBe(CURL);
            expect(id.unit).toBe('burst.service');
            expect(id.parent).toBe(fs.realpathSync('/bin/sh'));
        }
    });

    it('counts repeated connections of one process in the kernel, not as new events', async () => {
        // One bash process opens ten connections to the same service.
        await h.inCgroup(
            'repeat.service',
            `exec bash -c 'for i in $(seq 10); do exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-; done'`,
        );
        let link;
        for (let i = 0; i < 30; i++) {
            await new Promise((r) => setTimeout(r, 200));
            const links = await h.client.links();
            link = links.find(
                (l) =>
                    l.port === port &&
                    l.local.kind === 'process' &&
                    l.local.unit === 'repeat.service',
            );
            if (link && link.count >= 10) break;
        }
        expect(link?.count).toBe(10);
        const flows = await h.flowsWhere(
            (f) => f.local.kind === 'process' && f.local.unit === 'repeat.service',
        );
        expect(flows).toHaveLength(1);
    });

    it('sees unconnected UDP sendto with the sender identity', async () => {
        await h.inCgroup(
            'udp.service',
            `exec ${process.execPath} -e "const s=require('dgram').createSocket('udp4');` +
                `s.send('x', 5353, '127.0.0.1', () => s.close())"`,
        );
        let flows: Awaited<ReturnType<Harness['flowsWhere']>> = [];
        for (let i = 0; i < 30 && flows.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            flows = await h.flowsWhere((f) => f.protocol === 'udp' && f.port === 5353);
        }
        expect(flows).toHaveLength(1);
        expect((flows[0]?.local as ProcessIdentity).binary).toBe(process.execPath);
    });

    it('records a UDP server answering 20 client ports as one inbound flow (S6)', async () => {
        const script =
            'const d=require("dgram");const s=d.createSocket("udp4");' +
            's.on("message",(m,p)=>s.send("a",p.port,p.address));' +
            's.bind(5301,"127.0.0.1",async()=>{' +
            'for(let i=0;i<20;i++){const c=d.createSocket("udp4");' +
            'await new Promise(r=>{c.on("message",r);c.send("q",5301,"127.0.0.1")});c.close()}' +
            's.close()})';
        await h.inCgroup('resolver.service', `exec ${process.execPath} -e '${script}'`);
        const mine = (f: Pick<FlowRecord, 'protocol' | 'local'>) =>
            f.protocol === 'udp' &&
            f.local.kind === 'process' &&
            f.local.unit === 'resolver.service';
        let flows: FlowRecord[] = [];
        for (let i = 0; i < 30 && !flows.some((f) => f.direction === 'ingress'); i++) {
            await new Promise((r) => setTimeout(r, 100));
            flows = await h.flowsWhere(mine);
        }
        // The clients' requests: one egress flow to the service port. The answers: the
        // server's inbound half on that port, not twenty egress flows to client ports.
        expect(flows.map((f) => [f.direction, f.port, f.remoteAddress]).sort()).toEqual([
            ['egress', 5301, '127.0.0.1'],
            ['ingress', 5301, '127.0.0.1'],
        ]);
        // Every answer is counted in the kernel against that one flow.
        let answers;
        for (let i = 0; i < 30 && (answers?.count ?? 0) < 20; i++) {
            await new Promise((r) => setTimeout(r, 200));
            answers = (await h.client.links()).find((l) => l.direction === 'ingress' && mine(l));
        }
        expect(answers?.count).toBe(20);
    });

    it('restarts after kill -9 with exactly one attachment per hook', async () => {
        await h.restart('SIGKILL');
        expectOneAttachmentPerHook(h.cgroup);
        const status = await h.client.status();
        expect(status.health).toBe('ok');
    });

    it('detaches and unpins everything on SIGTERM', async () => {
        const exited = new Promise((r) => h.agent.once('exit', r));
        h.agent.kill('SIGTERM');
        expect(await exited).toBe(0);
        const shown = execFileSync('bpftool', ['cgroup', 'show', h.cgroup]).toString();
        expect(
            shown
                .trim()
                .split('\n')
                .filter((l) => /^\d+/.test(l.trim())),
        ).toEqual([]);
        expect(fs.existsSync(h.pinDir)).toBe(false);
        expect(fs.existsSync(h.socket)).toBe(false);
    });
});
