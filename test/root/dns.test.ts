// DNS naming on one host: a real dnsmasq on a loopback address answers, a real agent copies
// the answers from the kernel, and flows to the answered addresses carry the names asked
// for. Under enforce, a `dns:` link admits exactly the addresses its name was answered with.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, PolicyLink } from '../../agent/policy/types';
import type { FlowRecord } from '../../agent/protocol';
import { Harness, isRoot, NEEDS_ROOT, startHarness } from './agentHarness';

const DNSMASQ = '/usr/sbin/dnsmasq';
const NODE = process.execPath;
// Loopback addresses only: the resolver and every answered address live on this host.
const RESOLVER = '127.0.0.153';
const HOST_A = '127.0.0.77';
const HOST_B = '127.0.0.78';
const MANY = Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`);
// Names answered for the first time under enforce: allowed by a glob, and not allowed.
const fresh = (zone: string, net: number) =>
    Array.from({ length: 20 }, (_, i) => ({
        name: `n${i + 1}.${zone}.example.test`,
        address: `127.0.${net}.${i + 1}`,
    }));
const FRESH = fresh('fresh', 2);
const BLOCKED = fresh('blocked', 3);
// An exact pattern, and a name another (ungoverned) process resolves for the app.
const SOLO = { name: 'solo.example.test', address: '127.0.4.1' };
const SHARED = { name: 'n1.shared.example.test', address: '127.0.5.1' };

const missing = !isRoot
    ? NEEDS_ROOT
    : !fs.existsSync(DNSMASQ)
      ? ` (skipped: ${DNSMASQ} is not installed: apt-get install dnsmasq-base)`
      : '';

async function listen(address: string): Promise<{ server: net.Server; port: number }> {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, address, r));
    return { server, port: (server.address() as AddressInfo).port };
}

// Resolves a name with the given resolver (UDP, TCP on truncation) and connects to the first
// answer right away, as a client library does. Prints `connected <addr>` or `<code> <addr>`.
const CLIENT = `
const dns = require('dns'); const net = require('net');
const r = new dns.promises.Resolver(); r.setServers([process.argv[2]]);
r.resolve4(process.argv[3]).then(([a]) => {
  const s = net.connect(+process.argv[4], a);
  s.on('connect', () => { console.log('connected ' + a); s.destroy(); });
  s.on('error', (e) => console.log(e.code + ' ' + a));
}, (e) => console.log('dns-failed ' + e.code));
`;

describe.skipIf(missing !== '')(`DNS naming from the kernel's copies${missing}`, () => {
    let h: Harness;
    let dir: string;
    let dnsmasq: ChildProcess;
    let a: { server: net.Server; port: number };
    let b: { server: net.Server; port: number };
    let client: string;

    const resolveAndConnect = async (name: string, port: number): Promise<string> =>
        (await h.inCgroup('app.service', `${NODE} ${client} ${RESOLVER} ${name} ${port}`)).trim();

    /** Connects from the app without asking DNS, as an app with a cached answer does. */
    const connectTo = async (address: string, port: number): Promise<string> =>
        (
            await h.inCgroup(
                'app.service',
                `${NODE} -e "const s=require('net').connect(${port},'${address}');` +
                    `s.on('connect',()=>{console.log('connected');s.destroy()});` +
                    `s.on('error',e=>console.log(e.code))"`,
            )
        ).trim();

    const dnsmasqLog = () => fs.readFileSync(path.join(dir, 'dnsmasq.log'), 'utf8');
    const flowsTo = (address: string) =>
        h.flowsWhere((f: FlowRecord) => f.remoteAddress === address && f.direction === 'egress');

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-dns-'));
        // dnsmasq reads its hosts file after dropping to nobody.
        fs.chmodSync(dir, 0o755);
        client = path.join(dir, 'client.js');
        fs.writeFileSync(client, CLIENT);
        const hosts = [
            `${HOST_A} host.example.test`,
            `${HOST_B} other.example.test`,
            ...MANY.map((m) => `${m} many.example.test`),
            ...[...FRESH, ...BLOCKED, SOLO, SHARED].map((f) => `${f.address} ${f.name}`),
        ];
        fs.writeFileSync(path.join(dir, 'hosts'), hosts.join('\n') + '\n');
        a = await listen(HOST_A);
        b = await listen(HOST_B);
        h = await startHarness('dns');
        dnsmasq = spawn(
            DNSMASQ,
            [
                '--keep-in-foreground',
                '--conf-file=/dev/null',
                '--no-resolv',
                '--no-hosts',
                '--no-poll',
                '--bind-interfaces',
                `--listen-address=${RESOLVER}`,
                '--port=53',
                '--local=/test/',
                `--addn-hosts=${path.join(dir, 'hosts')}`,
                '--cname=db.example.test,host.example.test',
                '--local-ttl=60',
                `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
                '--log-queries',
                `--log-facility=${path.join(dir, 'dnsmasq.log')}`,
            ],
            { stdio: 'ignore' },
        );
        // Answers once it listens.
        let ready = '';
        for (let i = 0; i < 50 && !ready.startsWith('connected'); i++) {
            ready = await resolveAndConnect('other.example.test', b.port);
            await new Promise((r) => setTimeout(r, 100));
        }
        if (!ready.startsWith('connected')) {
            throw new Error(`dnsmasq does not answer: ${ready}\n${dnsmasqLog()}`);
        }
    });

    afterAll(async () => {
        dnsmasq?.kill();
        await h?.stop();
        a?.server.close();
        b?.server.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('names a connection by the name asked for, noting the canonical name of the chain', async () => {
        expect(await resolveAndConnect('db.example.test', a.port)).toBe(`connected ${HOST_A}`);
        await expect
            .poll(async () => (await flowsTo(HOST_A)).map((f) => f.remoteName), { timeout: 5000 })
            .toContainEqual({ name: 'db.example.test', canonical: 'host.example.test' });
    });

    it('reads an answer that came over TCP after a truncated UDP one', async () => {
        const ignoredBefore = (await h.client.status()).counters.dns?.ignored ?? 0;
        const out = await resolveAndConnect('many.example.test', a.port);
        // Nothing listens on the answered address's port: refused by the peer, not by us.
        const address = out.split(' ')[1] ?? '';
        expect(MANY).toContain(address);
        await expect
            .poll(async () => (await flowsTo(address)).map((f) => f.remoteName?.name), {
                timeout: 5000,
            })
            .toContain('many.example.test');
        // The truncated UDP answer came first and was set aside: the name came over TCP.
        expect((await h.client.status()).counters.dns?.ignored).toBeGreaterThan(ignoredBefore);
    });

    const allow = (
        id: string,
        server: PolicyLink['server'],
        port: number,
        protocol: PolicyLink['protocol'] = 'tcp',
    ): PolicyLink => ({
        id,
        client: { binary: NODE },
        server,
        ports: [port],
        protocol,
        state: 'allowed',
    });

    it('under enforce lets a dns: link reach what its name answered, and nothing else', async () => {
        const policy: Policy = {
            apiVersion: 'palisade.dev/v1',
            kind: 'Policy',
            app: 'dnsapp',
            owner: 'owner@example.com',
            mode: 'enforce',
            members: [{ host: h.name, unit: 'app.service' }],
            links: [
                allow('resolver', { cidr: `${RESOLVER}/32` }, 53, 'udp'),
                allow('to-solo', { dns: SOLO.name }, a.port),
                allow('to-shared', { dns: '*.shared.example.test' }, a.port),
                allow('to-fresh', { dns: '*.fresh.example.test' }, a.port),
                // Names only the end of db.example.test's CNAME chain.
                allow('to-host', { dns: 'host.example.test' }, a.port),
            ],
        };
        const applied = await h.client.applyPolicy({ policy, source: 'test', hostAddresses: {} });
        expect(applied.applied).toBe(true);

        // An app that cached its answer from before the policy connects without asking again.
        expect(await connectTo(HOST_A, a.port)).toBe('connected');
        // The alias resolves through the CNAME to the allowed canonical name's address.
        expect(await resolveAndConnect('db.example.test', a.port)).toBe(`connected ${HOST_A}`);
        // The same port on an address no allowed name was answered with is refused.
        expect(await resolveAndConnect('other.example.test', a.port)).toBe(`EPERM ${HOST_B}`);
        const denied = (await h.client.audit()).filter(
            (r) => r.verdict === 'deny' && r.remoteAddress === HOST_B,
        );
        expect(denied[0]?.remote).toMatchObject({
            kind: 'external',
            name: 'dns:other.example.test',
        });
    });

    // The kernel reads the answer itself as it is delivered: the connection made the instant
    // the answer arrives is judged by the name, before the agent has read it.
    it('admits the first connection to a fresh address of an allowed name, and only that', async () => {
        // Nothing listens there: ECONNREFUSED comes from the peer, EPERM from our kernel rule.
        const first: string[] = [];
        for (const f of FRESH) first.push(await resolveAndConnect(f.name, a.port));
        expect(first).toEqual(FRESH.map((f) => `ECONNREFUSED ${f.address}`));

        const blocked: string[] = [];
        for (const f of BLOCKED) blocked.push(await resolveAndConnect(f.name, a.port));
        expect(blocked).toEqual(BLOCKED.map((f) => `EPERM ${f.address}`));
        await expect
            .poll(async () =>
                (await h.client.audit())
                    .filter((r) => r.verdict === 'deny' && r.remoteAddress.startsWith('127.0.3.'))
                    .map((r) => (r.remote as { name: string }).name)
                    .sort(),
            )
            .toEqual(BLOCKED.map((f) => `dns:${f.name}`).sort());
    });

    it('admits an exact name on its first answer too', async () => {
        expect(await resolveAndConnect(SOLO.name, a.port)).toBe(`ECONNREFUSED ${SOLO.address}`);
    });

    it('does not let an answer to another process widen what the app reaches', async () => {
        // An ungoverned process on the host resolves a name the app's glob allows...
        const other = await h.inCgroup(
            'other.service',
            `${NODE} ${client} ${RESOLVER} ${SHARED.name} ${a.port}`,
        );
        expect(other.trim()).toBe(`ECONNREFUSED ${SHARED.address}`);
        await new Promise((r) => setTimeout(r, 1500));
        // ...which gives the app nothing: it connects to the address without asking.
        const direct = await connectTo(SHARED.address, a.port);
        expect(direct).toBe('EPERM');
        // Its own answer admits it.
        expect(await resolveAndConnect(SHARED.name, a.port)).toBe(`ECONNREFUSED ${SHARED.address}`);
    });
});
