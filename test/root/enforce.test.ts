// Enforcement in the kernel on one host: a real agent guarding a throwaway cgroup, real
// processes in it, loopback servers outside it. Checks that userspace and the datapath agree
// on program identity (the hashes), and what enforce, monitor and a crash do.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, PolicyLink } from '../../agent/policy/types';
import type { AuditRecord, DecisionCounters, FlowRecord } from '../../agent/protocol';
import { Harness, isRoot, NEEDS_ROOT, startHarness } from './agentHarness';

const CURL = '/usr/bin/curl';
const NODE = process.execPath;

async function listen(): Promise<{ server: http.Server; port: number }> {
    const server = http.createServer((_q, r) => r.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as AddressInfo).port };
}

function link(id: string, over: Partial<PolicyLink>): PolicyLink {
    return {
        id,
        client: {},
        server: { cidr: '127.0.0.1/32' },
        ports: [],
        protocol: 'tcp',
        state: 'allowed',
        ...over,
    } as PolicyLink;
}

describe.skipIf(!isRoot)(`enforcement in the kernel (root: real eBPF)${NEEDS_ROOT}`, () => {
    let h: Harness;
    let allowed: { server: http.Server; port: number };
    let other: { server: http.Server; port: number };
    let dir: string;
    let scriptA: string;
    let scriptB: string;

    const policy = (mode: Policy['mode'], links: PolicyLink[]): Policy => ({
        apiVersion: 'palisade.dev/v1',
        kind: 'Policy',
        app: 'svc',
        owner: 'owner@example.com',
        mode,
        members: [{ host: h.name, unit: 'app.service' }],
        links,
    });

    const apply = (p: Policy) =>
        h.client.applyPolicy({ policy: p, source: 'test', hostAddresses: {} });

    /** Exit code of a curl run inside the app's unit: 0 connected, 7 refused by the kernel. */
    const curl = async (port: number): Promise<number> =>
        Number(
            (
                await h.inCgroup(
                    'app.service',
                    `${CURL} -s -o /dev/null -m 3 http://127.0.0.1:${port}/; echo $?`,
                )
            ).trim(),
        );

    const decisions = async (): Promise<DecisionCounters> =>
        (await h.client.status()).counters.decisions!;
    const delta = (a: DecisionCounters, b: DecisionCounters): DecisionCounters => ({
        allow: b.allow - a.allow,
        wouldDeny: b.wouldDeny - a.wouldDeny,
        deny: b.deny - a.deny,
    });

    const nodeConnect = async (script: string, port: number): Promise<string> =>
        (await h.inCgroup('app.service', `${NODE} ${script} ${port}`)).trim();

    beforeAll(async () => {
        allowed = await listen();
        other = await listen();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-enforce-'));
        const code =
            "const s=require('net').connect(+process.argv[2],'127.0.0.1');" +
            "s.on('connect',()=>{console.log('connected');s.destroy()});" +
            "s.on('error',e=>console.log(e.code))";
        scriptA = path.join(dir, 'a.js');
        scriptB = path.join(dir, 'b.js');
        fs.writeFileSync(scriptA, code);
        fs.writeFileSync(scriptB, code);
        h = await startHarness('enf');
        // The unit's cgroup exists before any policy names it, as a running service's does.
        await h.inCgroup('app.service', 'true');
    });

    afterAll(async () => {
        await h?.stop();
        allowed?.server.close();
        other?.server.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lets only allowed links through under enforce, and audits each refusal', async () => {
        const result = await apply(
            policy('enforce', [
                link('curl-ok', { client: { binary: CURL }, ports: [allowed.port] }),
            ]),
        );
        expect(result.applied).toBe(true);
        const before = await decisions();

        expect(await curl(allowed.port)).toBe(0);
        expect(await curl(other.port)).toBe(7);
        expect(await curl(other.port)).toBe(7);
        // The kernel counts each decision apart: one allowed connect, two refused.
        expect(delta(before, await decisions())).toEqual({ allow: 1, wouldDeny: 0, deny: 2 });

        let denies: AuditRecord[] = [];
        for (let i = 0; i < 30 && denies.length < 2; i++) {
            await new Promise((r) => setTimeout(r, 100));
            denies = (await h.client.audit()).filter(
                (r) => r.verdict === 'deny' && r.port === other.port,
            );
        }
        expect(denies).toHaveLength(2);
        expect(denies[0]).toMatchObject({ app: 'svc', mode: 'enforce', rule: 'default-deny' });
        expect(denies[0]?.local).toMatchObject({
            kind: 'process',
            binary: CURL,
            unit: 'app.service',
        });
    });

    it('tells two scripts of one interpreter apart: allowing one does not allow the other', async () => {
        await apply(
            policy('enforce', [
                link('a-ok', {
                    client: { binary: NODE, script: scriptA },
                    ports: [allowed.port],
                }),
            ]),
        );
        expect(await nodeConnect(scriptA, allowed.port)).toBe('connected');
        expect(await nodeConnect(scriptB, allowed.port)).toBe('EPERM');

        // Code passed as an option runs under the allowed script's name on the command line:
        // only argv[1] names a script in the kernel, so this gets no script and no match.
        const code = fs
            .readFileSync(scriptA, 'utf8')
            .replace('process.argv[2]', String(allowed.port));
        const spoof = await h.inCgroup(
            'app.service',
            `${NODE} --eval="${code.replace(/"/g, '\\"')}" ${scriptA}`,
        );
        expect(spoof.trim()).toBe('EPERM');

        // A preload before the script: the identity reads node's options and names scriptA,
        // the kernel names no script. Replay must predict the kernel, not the identity.
        const preload = path.join(dir, 'preload.js');
        fs.writeFileSync(preload, '');
        expect(await nodeConnect(`-r ${preload} ${scriptA}`, allowed.port)).toBe('EPERM');
        const replay = await h.client.replay({
            policy: policy('enforce', [
                link('a-ok', { client: { binary: NODE, script: scriptA }, ports: [allowed.port] }),
            ]),
            hostAddresses: {},
        });
        const mine = replay.dropped.filter((d) => d.flow.port === allowed.port);
        const preloaded = mine.filter((d) => d.flow.kernelProgram?.arg === undefined);
        expect(preloaded.map((d) => d.flow.local)).toContainEqual(
            expect.objectContaining({ script: scriptA }),
        );
        // Each refused run is predicted; the allowed run is not.
        expect(mine.every((d) => d.flow.kernelProgram?.arg !== scriptA)).toBe(true);
        expect(mine.some((d) => d.flow.kernelProgram?.arg === scriptB)).toBe(true);
    });

    it('refuses unconnected UDP sendto with EPERM under enforce', async () => {
        const out = await h.inCgroup(
            'app.service',
            `${NODE} -e "const s=require('dgram').createSocket('udp4');` +
                `s.send('x', 5353, '127.0.0.1', (e) => { console.log(e ? e.code : 'sent'); s.close(); })"`,
        );
        expect(out.trim()).toBe('EPERM');

        // The unspecified address reaches local services: governed, it is judged too.
        const any = await h.inCgroup(
            'app.service',
            `${NODE} -e "const s=require('dgram').createSocket('udp4');` +
                `s.send('x', 5353, '0.0.0.0', (e) => { console.log(e ? e.code : 'sent'); s.close(); })"`,
        );
        expect(any.trim()).toBe('EPERM');
    });

    it('drops nothing in monitor mode but records would-deny', async () => {
        await apply(
            policy('monitor', [
                link('curl-ok', { client: { binary: CURL }, ports: [allowed.port] }),
            ]),
        );
        const before = await decisions();
        expect(await curl(other.port)).toBe(0);
        expect(delta(before, await decisions())).toEqual({ allow: 0, wouldDeny: 1, deny: 0 });
        let records: AuditRecord[] = [];
        for (let i = 0; i < 30 && records.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            records = (await h.client.audit()).filter(
                (r) => r.verdict === 'would-deny' && r.port === other.port,
            );
        }
        expect(records.length).toBeGreaterThan(0);
        const alerts = await h.client.alerts();
        expect(alerts.find((a) => a.port === other.port)).toMatchObject({
            owner: 'owner@example.com',
            verdict: 'would-deny',
        });
    });

    it('S11: one app in monitor does not loosen another in enforce on the same host', async () => {
        // svc enforces; audit, in its own unit, only watches — in both orders of applying.
        const audited = (mode: Policy['mode']): Policy => ({
            ...policy(mode, []),
            app: 'audit',
            members: [{ host: h.name, unit: 'audit.service' }],
        });
        const curlIn = async (unit: string): Promise<number> =>
            Number(
                (
                    await h.inCgroup(
                        unit,
                        `${CURL} -s -o /dev/null -m 3 http://127.0.0.1:${other.port}/; echo $?`,
                    )
                ).trim(),
            );
        await h.inCgroup('audit.service', 'true');
        for (const order of [
            [policy('enforce', []), audited('monitor')],
            [audited('monitor'), policy('enforce', [])],
        ]) {
            for (const p of order) expect((await apply(p)).applied).toBe(true);
            const before = await decisions();
            expect(await curlIn('app.service')).toBe(7);
            expect(await curlIn('audit.service')).toBe(0);
            expect(delta(before, await decisions())).toEqual({ allow: 0, wouldDeny: 1, deny: 1 });
        }
        // Leave the host with svc's policy alone, as the other tests expect.
        await apply({ ...audited('monitor'), members: [{ host: h.name, unit: 'gone.service' }] });
    });

    it('refuses inbound connections from peers no allowed link admits', async () => {
        // A server inside the app's unit; the test process (outside) is the client.
        const portFile = path.join(dir, 'server.port');
        const started = h.inCgroup(
            'app.service',
            `exec ${NODE} -e "const s=require('net').createServer(c=>{c.on('error',()=>{});c.end('hi')});` +
                `s.listen(0,'127.0.0.1',()=>require('fs').writeFileSync('${portFile}',` +
                `String(s.address().port)));setTimeout(()=>process.exit(0), 8000)"`,
        );
        for (let i = 0; i < 50 && !fs.existsSync(portFile); i++)
            await new Promise((r) => setTimeout(r, 100));
        const port = Number(fs.readFileSync(portFile, 'utf8'));
        const connect = () =>
            new Promise<string>((resolve) => {
                const s = net.connect({ port, host: '127.0.0.1', timeout: 1500 });
                s.on('connect', () => {
                    s.destroy();
                    resolve('connected');
                });
                s.on('timeout', () => {
                    s.destroy();
                    resolve('timeout');
                });
                s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
            });
        await apply(
            policy('enforce', [
                link('from-elsewhere', {
                    client: { cidr: '127.0.0.2/32' },
                    server: { unit: 'app.service' },
                    ports: [port],
                }),
            ]),
        );
        expect(await connect()).toBe('timeout');

        await apply(
            policy('enforce', [
                link('from-loopback', {
                    client: { cidr: '127.0.0.1/32' },
                    server: { unit: 'app.service' },
                    ports: [port],
                }),
            ]),
        );
        const before = await decisions();
        expect(await connect()).toBe('connected');
        // Counted once, as allowed, where it was judged (not again when it was established),
        // and audited as an allowed inbound flow.
        expect(delta(before, await decisions())).toEqual({ allow: 1, wouldDeny: 0, deny: 0 });
        let allowed: AuditRecord[] = [];
        for (let i = 0; i < 30 && allowed.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            allowed = (await h.client.audit({})).filter(
                (r) => r.verdict === 'allow' && r.direction === 'ingress' && r.port === port,
            );
        }
        expect(allowed).toHaveLength(1);
        expect(allowed[0]).toMatchObject({ rule: 'from-loopback', remoteAddress: '127.0.0.1' });
        await started;
    });

    it('lets a UDP server answer the clients a link admits, and send nowhere else', async () => {
        // A resolver-like server inside the app: it answers each datagram from its port,
        // and once also sends to a peer that never asked (which the policy does not allow).
        const server = path.join(dir, 'udp-server.js');
        const out = path.join(dir, 'udp-server.out');
        fs.writeFileSync(
            server,
            `const s = require('dgram').createSocket('udp4');
            let tried = false;
            s.on('message', (m, peer) => {
                s.send('answer', peer.port, peer.address);
                if (!tried) {
                    tried = true;
                    s.send('unasked', 40000, '127.0.0.1', (e) =>
                        require('fs').writeFileSync('${out}', e ? e.code : 'sent'));
                }
            });
            s.bind(5302, '127.0.0.1', () => require('fs').writeFileSync('${out}.up', ''));
            setTimeout(() => process.exit(0), 6000);`,
        );
        await apply(
            policy('enforce', [
                link('asked', {
                    client: { cidr: '127.0.0.1/32' },
                    server: { unit: 'app.service' },
                    ports: [5302],
                    protocol: 'udp',
                }),
            ]),
        );
        const running = h.inCgroup('app.service', `exec ${NODE} ${server}`);
        for (let i = 0; i < 50 && !fs.existsSync(`${out}.up`); i++)
            await new Promise((r) => setTimeout(r, 100));

        const ask = () =>
            new Promise<string>((resolve) => {
                const c = dgram.createSocket('udp4');
                const timer = setTimeout(() => {
                    c.close();
                    resolve('no answer');
                }, 1500);
                c.on('message', (m) => {
                    clearTimeout(timer);
                    c.close();
                    resolve(m.toString());
                });
                c.send('q', 5302, '127.0.0.1');
            });
        // Each from a fresh ephemeral port, as resolver clients ask.
        expect([await ask(), await ask(), await ask()]).toEqual(['answer', 'answer', 'answer']);
        expect(fs.readFileSync(out, 'utf8')).toBe('EPERM');
        await running;
    });

    it('keeps enforcing through kill -9 of the agent, and after its restart', async () => {
        await apply(
            policy('enforce', [
                link('curl-ok', { client: { binary: CURL }, ports: [allowed.port] }),
            ]),
        );
        const exited = new Promise((r) => h.agent.once('exit', r));
        h.agent.kill('SIGKILL');
        await exited;
        // No agent now: the pinned programs and maps still decide.
        expect(await curl(other.port)).toBe(7);
        expect(await curl(allowed.port)).toBe(0);

        await h.restart('SIGKILL');
        expect(await curl(other.port)).toBe(7);
        expect(await curl(allowed.port)).toBe(0);
    });

    it('restarted under a policy, it keeps the recorded flows and sees a running client again', async () => {
        await apply(
            policy('enforce', [
                link('curl-ok', { client: { binary: CURL }, ports: [allowed.port] }),
                link('node-ok', { client: { binary: NODE }, ports: [allowed.port] }),
            ]),
        );
        expect(await curl(allowed.port)).toBe(0);
        // One process that reconnects every 100 ms through the restart, like a pooled client.
        const pidFile = path.join(dir, 'reconnect.pid');
        const running = h.inCgroup(
            'app.service',
            `echo $$ > ${pidFile}; exec ${NODE} -e "const n=require('net');` +
                `const t=setInterval(()=>n.connect(${allowed.port},'127.0.0.1').on('error',()=>{})` +
                `.on('connect',function(){this.destroy()}),100);setTimeout(()=>clearInterval(t),8000)"`,
        );
        const ofCurl = (f: FlowRecord) =>
            f.port === allowed.port && f.local.kind === 'process' && f.local.binary === CURL;
        running.catch(() => undefined);
        await expect.poll(async () => (await h.flowsWhere(ofCurl)).length).toBeGreaterThan(0);
        await expect.poll(() => fs.existsSync(pidFile)).toBe(true);
        const pid = Number(fs.readFileSync(pidFile, 'utf8'));
        const ofNode = (f: FlowRecord) => f.pid === pid && f.port === allowed.port;
        await expect.poll(async () => (await h.flowsWhere(ofNode)).length).toBe(1);
        const curlFlows = await h.flowsWhere(ofCurl);

        await h.restart('SIGTERM');
        const restarted = Date.now();

        // What happened before the restart is still on record, for replay.
        expect((await h.flowsWhere(ofCurl)).map((f) => f.id)).toEqual(curlFlows.map((f) => f.id));
        // The client that kept connecting is seen by this run, on the same record.
        await expect
            .poll(async () => (await h.flowsWhere(ofNode))[0]?.lastSeen ?? 0, { timeout: 5000 })
            .toBeGreaterThan(restarted);
        expect(await h.flowsWhere(ofNode)).toHaveLength(1);
        await running;
    });
});
