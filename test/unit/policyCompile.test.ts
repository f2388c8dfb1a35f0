import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModeCode, Outcome } from '../../agent/bpf/layout';
import { createLogger } from '../../agent/log';
import { AlertBook, Webhooks } from '../../agent/policy/alerts';
import { AuditLog } from '../../agent/policy/audit';
import { compile, CompileContext } from '../../agent/policy/compile';
import { Evaluator } from '../../agent/policy/evaluate';
import { fnv64, kernelHashes, programHash } from '../../agent/policy/hash';
import type { Policy, PolicyLink } from '../../agent/policy/types';
import type { Alert } from '../../agent/protocol';

const addresses = {
    web: ['127.0.0.1', '10.213.0.2', 'fe80::1'],
    api: ['127.0.0.1', '10.213.0.3'],
    db: ['127.0.0.1', '10.213.0.4'],
};

const db: CompileContext = {
    host: 'db',
    zone: 'lab',
    hostAddresses: addresses,
    cgroups: [
        { id: 10n, path: '/redis.service', unit: 'redis.service' },
        { id: 11n, path: '/sshd.service', unit: 'sshd.service' },
    ],
};

function link(id: string, over: Partial<PolicyLink>): PolicyLink {
    return {
        id,
        client: {},
        server: {},
        ports: [6379],
        protocol: 'tcp',
        state: 'allowed',
        ...over,
    } as PolicyLink;
}

function policy(links: PolicyLink[], mode: Policy['mode'] = 'enforce'): Policy {
    return {
        apiVersion: 'palisade.dev/v1',
        kind: 'Policy',
        app: 'db',
        owner: 'dba',
        mode,
        members: [{ host: 'db', unit: 'redis.service' }],
        links,
    };
}

const server = { host: 'db', unit: 'redis.service' };

describe('policy compilation', () => {
    it('hashes like FNV-1a 64 (known vectors)', () => {
        expect(fnv64('')).toBe(0xcbf29ce484222325n);
        expect(fnv64('a')).toBe(0xaf63dc4c8601ec8cn);
        expect(programHash('/usr/bin/node', '/srv/a.js')).not.toBe(
            programHash('/usr/bin/node', '/srv/b.js'),
        );
    });

    it('governs only member cgroups and admits allowed clients by their hosts’ addresses', () => {
        const c = compile([policy([link('api', { client: { host: 'api' }, server })])], db);
        expect(c.cgroups).toEqual([{ cgroupId: 10n, app: 1, mode: ModeCode.enforce }]);
        const ev = new Evaluator(c);
        const inbound = (remoteAddress: string) =>
            ev.evaluate({
                direction: 'ingress',
                protocol: 'tcp',
                cgroupId: 10n,
                remoteAddress,
                port: 6379,
            });
        expect(inbound('10.213.0.3').outcome).toBe(Outcome.allow);
        // Another host's loopback is not that host: only db's own loopback would be.
        expect(inbound('127.0.0.1').outcome).toBe(Outcome.deny);
        expect(inbound('10.213.0.2')).toMatchObject({ outcome: Outcome.deny, rule: 0 });
        expect(
            ev.evaluate({
                direction: 'ingress',
                protocol: 'tcp',
                cgroupId: 11n,
                remoteAddress: '10.213.0.2',
                port: 22,
            }).outcome,
        ).toBe(Outcome.observed);
    });

    it('keeps governing a process that moved into a child cgroup of its unit', () => {
        const ctx = {
            ...db,
            cgroups: [
                ...db.cgroups,
                { id: 12n, path: '/redis.service/escape.scope', unit: 'escape.scope' },
            ],
        };
        const c = compile([policy([link('api', { client: { host: 'api' }, server })])], ctx);
        expect(c.cgroups.map((g) => g.cgroupId)).toEqual([10n, 12n]);
        const e = new Evaluator(c).evaluate({
            direction: 'ingress',
            protocol: 'tcp',
            cgroupId: 12n,
            remoteAddress: '10.213.0.3',
            port: 6379,
        });
        expect(e.outcome).toBe(Outcome.allow);
    });

    it('names the denied link in its decision, and keeps an allowed peer that shares the address', () => {
        const c = compile(
            [
                policy([
                    link('intruder', {
                        client: { host: 'web', unit: 'intruder.service' },
                        server,
                        state: 'denied',
                    }),
                    link('web-ok', { client: { host: 'web', unit: 'nginx.service' }, server }),
                ]),
            ],
            db,
        );
        const e = new Evaluator(c).evaluate({
            direction: 'ingress',
            protocol: 'tcp',
            cgroupId: 10n,
            remoteAddress: '10.213.0.2',
            port: 6379,
        });
        expect(e.outcome).toBe(Outcome.allow);
        expect(c.warnings.join()).toMatch(/share a peer address/);
    });

    it('evaluates monitor as would-deny, with the rule of an alert-state link', () => {
        const c = compile(
            [policy([link('web', { client: { host: 'web' }, server, state: 'alert' })], 'monitor')],
            db,
        );
        const names = [...c.names.values()].map((n) => n.link);
        const e = new Evaluator(c).evaluate({
            direction: 'ingress',
            protocol: 'tcp',
            cgroupId: 10n,
            remoteAddress: '10.213.0.2',
            port: 6379,
        });
        expect(e.outcome).toBe(Outcome.wouldDeny);
        expect(c.names.get(e.rule)?.link).toBe('web');
        expect(names).toEqual(['web']);
    });

    it('admits a dns: link at exactly the addresses the host saw answered for its name', () => {
        const api: CompileContext = {
            ...db,
            host: 'api',
            cgroups: [{ id: 20n, path: '/api.service', unit: 'api.service' }],
            dnsAddresses: (pattern) => (pattern === '*.pay.example' ? ['192.0.2.7'] : []),
        };
        const p: Policy = {
            ...policy([
                link('pay', {
                    client: { host: 'api', unit: 'api.service' },
                    server: { dns: '*.pay.example' },
                    ports: [443],
                }),
            ]),
            app: 'api',
            members: [{ host: 'api', unit: 'api.service' }],
        };
        const evaluator = new Evaluator(compile([p], api));
        const to = (remoteAddress: string) =>
            evaluator.evaluate({
                direction: 'egress',
                protocol: 'tcp',
                cgroupId: 20n,
                remoteAddress,
                port: 443,
            }).outcome;
        expect(to('192.0.2.7')).toBe(Outcome.allow);
        expect(to('192.0.2.8')).toBe(Outcome.deny);
    });

    it('matches egress by program: binary plus script, or binary alone', () => {
        const api: CompileContext = {
            ...db,
            host: 'api',
            cgroups: [{ id: 20n, path: '/api.service', unit: 'api.service' }],
        };
        const p: Policy = {
            ...policy([
                link('a', {
                    client: {
                        host: 'api',
                        unit: 'api.service',
                        binary: '/usr/bin/node',
                        script: '/srv/a.js',
                    },
                    server,
                }),
            ]),
            app: 'api',
            members: [{ host: 'api', unit: 'api.service' }],
        };
        const ev = new Evaluator(compile([p], api));
        const out = (script: string) =>
            ev.evaluate({
                direction: 'egress',
                protocol: 'tcp',
                cgroupId: 20n,
                programs: kernelHashes({
                    file: '/usr/bin/node',
                    exe: '/usr/bin/node',
                    arg: script,
                }),
                remoteAddress: '10.213.0.4',
                port: 6379,
            }).outcome;
        expect(out('/srv/a.js')).toBe(Outcome.allow);
        expect(out('/srv/b.js')).toBe(Outcome.deny);
    });
});

describe('audit log', () => {
    const record = (i: number) => ({
        at: 1000 + i,
        host: 'db',
        app: 'db',
        mode: 'enforce' as const,
        verdict: 'deny' as const,
        rule: 'default-deny',
        direction: 'ingress' as const,
        protocol: 'tcp' as const,
        local: { kind: 'unknown' as const, reason: 'exited' as const, host: 'db' },
        remote: { kind: 'external' as const, name: 'cidr:10.213.0.2/32', address: '10.213.0.2' },
        remoteAddress: '10.213.0.2',
        port: 6379,
        pid: 1,
    });

    it('rotates by size, keeps sequence numbers across a reopen, and skips a torn last line', () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-audit-'));
        try {
            const log = new AuditLog(dir, { maxBytes: 2000, keep: 3 });
            for (let i = 0; i < 20; i++) log.append([record(i)]);
            log.close();
            expect(fs.existsSync(path.join(dir, 'audit.log.1'))).toBe(true);
            fs.appendFileSync(path.join(dir, 'audit.log'), '{"seq": 99, "at": 5');
            const again = new AuditLog(dir, { maxBytes: 2000, keep: 3 });
            const [next] = again.append([record(20)]);
            expect(next?.seq).toBe(21);
            const all = again.read({ since: 1015 });
            expect(all.map((r) => r.seq)).toEqual([16, 17, 18, 19, 20, 21]);
            again.close();
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe('alerts', () => {
    it('deduplicates per link and retries a webhook that fails at first', async () => {
        const book = new AlertBook();
        const base = {
            key: 'k',
            app: 'db',
            owner: 'dba',
            severity: 'normal' as const,
            verdict: 'would-deny' as const,
            state: 'alert' as const,
            rule: 'x',
            direction: 'ingress' as const,
            protocol: 'tcp' as const,
            local: { kind: 'unknown' as const, reason: 'exited' as const, host: 'db' },
            remote: {
                kind: 'external' as const,
                name: 'cidr:10.213.0.2/32',
                address: '10.213.0.2',
            },
            remoteAddress: '10.213.0.2',
            port: 6379,
            host: 'db',
        };
        expect(book.raise({ ...base, at: 1 }).isNew).toBe(true);
        const { alert, isNew } = book.raise({ ...base, at: 5 });
        expect(isNew).toBe(false);
        expect(alert).toMatchObject({ count: 2, firstSeen: 1, lastSeen: 5 });

        let calls = 0;
        const got: Alert[] = [];
        const server = http.createServer((req, res) => {
            let body = '';
            req.on('data', (c) => (body += c));
            req.on('end', () => {
                calls++;
                if (calls === 1) {
                    res.statusCode = 503;
                    return res.end();
                }
                got.push((JSON.parse(body) as { alert: Alert }).alert);
                res.end();
            });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        const hooks = new Webhooks(createLogger('t', 'error'), {
            maxQueue: 10,
            maxAttempts: 3,
            baseDelayMs: 20,
            timeoutMs: 1000,
        });
        hooks.send(url, alert);
        for (let i = 0; i < 50 && got.length === 0; i++)
            await new Promise((r) => setTimeout(r, 20));
        hooks.stop();
        server.close();
        expect(calls).toBe(2);
        expect(got[0]?.count).toBe(2);
    });
});
