// The policy lifecycle in the embedded lab, through the CLI as an operator runs it: infer
// from real traffic, review (keeping the file's comments), monitor with alerts to the
// owner's webhook, refuse to enforce blindly, enforce in the kernel, reject bad files
// without touching what is enforced, and survive an agent crash.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../agent/policy/file';
import type { Alert, AuditRecord, FleetGraph } from '../../agent/protocol';
import { expectOneAttachmentPerHook, isRoot, NEEDS_ROOT, ROOT } from './agentHarness';
import { labCgroup } from './labCheck';

const NODE = process.execPath;
const WEB = '/run/netns/palisade-web';
const DB = '/run/netns/palisade-db';

function palisade(...args: string[]) {
    return spawnSync(NODE, [path.join(ROOT, 'bin/palisade'), ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        // The steps of reaching each agent go to stderr, which a failed status shows.
        env: { ...process.env, PALISADE_LAB_TRAFFIC_SECONDS: '600', PALISADE_DEBUG: '1' },
    });
}

/** One TCP connect to redis on db from the web host: what the intruder does. */
function connectFromWeb(): string {
    const code =
        "const s=require('net').connect({port:6379,host:'10.213.0.4',timeout:1500});" +
        "s.on('connect',()=>{console.log('connected');s.destroy()});" +
        "s.on('timeout',()=>{console.log('timeout');s.destroy()});" +
        "s.on('error',e=>console.log(e.code))";
    return execFileSync('nsenter', [`--net=${WEB}`, NODE, '-e', code], { encoding: 'utf8' }).trim();
}

/** GET / through nginx → api → redis, n times; returns how many answered 200. */
async function apiRequests(n: number): Promise<number> {
    let ok = 0;
    for (let i = 0; i < n; i++) {
        const status = await new Promise<number>((resolve) => {
            const req = http.get('http://10.213.0.2/', { agent: false, timeout: 5000 }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.on('error', () => resolve(0));
        });
        if (status === 200) ok++;
    }
    return ok;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!isRoot)(
    `policy lifecycle in the embedded lab (root: real agents)${NEEDS_ROOT}`,
    () => {
        let dir: string;
        let file: string;
        let hook: ChildProcess;
        let hookLog: string;
        let intruderLink: string;
        const HOOK_PORT = 18_765;

        beforeAll(async () => {
            palisade('lab', 'down');
            const up = palisade('lab', 'up');
            expect(up.status, up.stderr).toBe(0);
            dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-policy-'));
            file = path.join(dir, 'db.palisade.yaml');
            hookLog = path.join(dir, 'webhook.jsonl');

            // The owner's webhook receiver, on db's own loopback (where db's agent posts).
            const receiver =
                `require('http').createServer((q,r)=>{let b='';q.on('data',c=>b+=c);` +
                `q.on('end',()=>{require('fs').appendFileSync(${JSON.stringify(hookLog)},b+'\\n');r.end()})})` +
                `.listen(${HOOK_PORT},'127.0.0.1')`;
            hook = spawn('nsenter', [`--net=${DB}`, NODE, '-e', receiver], { stdio: 'ignore' });

            for (let i = 0; i < 40; i++) {
                await sleep(1000);
                const g = palisade('graph', '--json');
                if (g.status !== 0) continue;
                const graph = JSON.parse(g.stdout) as FleetGraph;
                const units = graph.edges.map((e) =>
                    e.client.kind === 'process' ? e.client.unit : '',
                );
                if (units.includes('intruder.service') && units.includes('batch.service')) break;
            }
        });

        afterAll(() => {
            hook?.kill();
            palisade('lab', 'down');
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        it('infers the links of db from the traffic, every one waiting for review', () => {
            const r = palisade(
                'policy',
                'infer',
                '--app',
                'db',
                '--owner',
                'dba@example.com',
                '--out',
                file,
            );
            expect(r.status, r.stderr).toBe(0);
            const policy = parsePolicy(fs.readFileSync(file, 'utf8'), file);
            expect(policy.members).toEqual([{ host: 'db', unit: 'redis.service' }]);
            const clients = policy.links.map((l) =>
                'unit' in l.client ? l.client.unit : undefined,
            );
            expect(clients).toEqual(
                expect.arrayContaining(['api.service', 'batch.service', 'intruder.service']),
            );
            expect(policy.links.every((l) => l.state === 'alert')).toBe(true);
            intruderLink = policy.links.find(
                (l) => 'unit' in l.client && l.client.unit === 'intruder.service',
            )!.id;
        });

        it('accepts every link but the intruder through the CLI, keeping the comments', () => {
            const text = fs.readFileSync(file, 'utf8');
            const commented =
                '# Reviewed by the DBA team; ask #dba before allowing anything new.\n' +
                text.replace(
                    'mode: monitor',
                    'mode: monitor # stays monitor until the review is done',
                ) +
                `# end of file\n`;
            fs.writeFileSync(
                file,
                commented.replace(
                    'owner: dba@example.com',
                    `owner: dba@example.com\nwebhook: http://127.0.0.1:${HOOK_PORT}/hook`,
                ),
            );
            const r = palisade('policy', 'allow', file, '--all', '--except', intruderLink);
            expect(r.status, r.stderr).toBe(0);
            const after = fs.readFileSync(file, 'utf8');
            for (const c of [
                '# Reviewed by the DBA team',
                '# stays monitor until',
                '# end of file',
                '# Palisade policy for db',
            ]) {
                expect(after).toContain(c);
            }
            const policy = parsePolicy(after, file);
            for (const l of policy.links)
                expect(l.state).toBe(l.id === intruderLink ? 'alert' : 'allowed');
        });

        it('in monitor mode drops nothing and alerts the owner, on the CLI and the webhook', async () => {
            const r = palisade('policy', 'apply', file);
            expect(r.status, r.stderr).toBe(0);
            await sleep(7000); // the intruder tries every 3 s
            expect(connectFromWeb()).toBe('connected');
            expect(await apiRequests(20)).toBe(20);

            // db records the intruder's recent tries as flows: a replay of the last seconds
            // says enforcing would drop them (it saw nothing when only audit had them).
            const replay = palisade('policy', 'replay', file, '--since', '6s');
            expect(replay.status, replay.stderr).toBe(0);
            expect(replay.stdout).toMatch(/on db: 10\.213\.0\.2 → .*:6379\/tcp ×\d+/);

            const alerts = JSON.parse(palisade('alerts', '--json').stdout) as Alert[];
            const intruder = alerts.find((a) => a.app === 'db' && a.remoteHost === 'web');
            expect(intruder).toMatchObject({
                owner: 'dba@example.com',
                verdict: 'would-deny',
                rule: intruderLink,
                port: 6379,
            });
            const posted = fs
                .readFileSync(hookLog, 'utf8')
                .trim()
                .split('\n')
                .map((l) => JSON.parse(l) as { alert: Alert });
            expect(
                posted.some((p) => p.alert.app === 'db' && p.alert.owner === 'dba@example.com'),
            ).toBe(true);
        });

        it('snoozing the intruder link hides its alerts until it tries again', async () => {
            const before = Date.now();
            const r = palisade('policy', 'snooze', file, '--link', intruderLink, '--push');
            expect(r.status, r.stderr).toBe(0);
            const listed = () =>
                (JSON.parse(palisade('alerts', '--json').stdout) as Alert[]).filter(
                    (a) => a.app === 'db' && a.rule === intruderLink,
                );
            // What was seen before the snooze is gone; the intruder tries every 3 s, so an
            // alert listed now can only be a try after it.
            for (const a of listed()) expect(a.snoozedAt).toBeGreaterThanOrEqual(before);

            await sleep(4000);
            const again = listed();
            expect(again).not.toEqual([]);
            for (const a of again) {
                expect(a.state).toBe('snoozed');
                expect(a.firstSeen).toBeGreaterThanOrEqual(a.snoozedAt ?? Infinity);
            }
            expect(palisade('alerts').stdout).toContain(`${intruderLink}, snoozed (seen again)]`);
            // Seen again is news to the owner.
            expect(fs.readFileSync(hookLog, 'utf8')).toMatch(/"snoozedAt":\d+/);

            // Back to unreviewed for what follows; the stamp goes with the snooze.
            const back = palisade('policy', 'alert', file, '--link', intruderLink, '--push');
            expect(back.status, back.stderr).toBe(0);
            expect(fs.readFileSync(file, 'utf8')).not.toContain('snoozedAt');
        });

        it('refuses to enforce while the replay would drop recorded flows', () => {
            const r = palisade('mode', 'enforce', '--app', 'db', '--file', file);
            expect(r.status).toBe(3);
            expect(r.stdout).toMatch(/would be dropped/);
            expect(r.stdout).toContain(intruderLink);
            expect(r.stdout).not.toMatch(/api\.service.*default-deny/);
            expect(parsePolicy(fs.readFileSync(file, 'utf8'), file).mode).toBe('monitor');
        });

        it('enforces db: the intruder is refused in the kernel, 1,000 API requests all succeed', async () => {
            const r = palisade('mode', 'enforce', '--app', 'db', '--file', file, '--force');
            expect(r.status, r.stderr).toBe(0);
            const since = Date.now();
            expect(connectFromWeb()).toBe('timeout');
            expect(await apiRequests(1000)).toBe(1000);
            await sleep(3500);

            const audit = JSON.parse(palisade('audit', '--json').stdout) as AuditRecord[];
            const denies = audit.filter(
                (a) => a.verdict === 'deny' && a.at >= since && a.remoteHost === 'web',
            );
            // Our own probe plus at least one attempt of the intruder loop, each its own record.
            expect(denies.length).toBeGreaterThanOrEqual(2);
            expect(new Set(denies.map((d) => d.remotePort)).size).toBe(denies.length);
            expect(denies[0]).toMatchObject({ app: 'db', mode: 'enforce', port: 6379, host: 'db' });
            expect(denies[0]?.local).toMatchObject({ kind: 'process', unit: 'redis.service' });
        });

        it('rejects a bad file with file:line:col and keeps the enforced policy', async () => {
            const good = fs.readFileSync(file, 'utf8');
            const bad = {
                schema: good.replace(/^mode: enforce/m, 'mode: enforced'),
                state: good.replace(/state: allowed/, 'state: maybe'),
                truncated: good.slice(0, good.indexOf('links:') + 20) + '\n  - { id: cut',
                // A typo in a member's host would govern nothing while the file says enforce.
                member: good.replace(/- host: db\n/, '- host: dbx\n'),
            };
            for (const [what, text] of Object.entries(bad)) {
                const f = path.join(dir, `${what}.palisade.yaml`);
                fs.writeFileSync(f, text);
                const r = palisade('policy', 'apply', f);
                expect(r.status, what).not.toBe(0);
                expect(r.stderr, what).toMatch(
                    what === 'member'
                        ? /members\[0\]\.host "dbx" is not a host of this fleet/
                        : new RegExp(`${what}\\.palisade\\.yaml:\\d+:\\d+: `),
                );
            }
            expect(connectFromWeb()).toBe('timeout');
            expect(await apiRequests(20)).toBe(20);
        });

        it('keeps enforcing through kill -9 of the agent; restarted, one attachment per hook', async () => {
            const kill = spawnSync('bash', [path.join(ROOT, 'lab/netns/agent.sh'), 'db', 'kill'], {
                encoding: 'utf8',
            });
            expect(kill.status, kill.stderr).toBe(0);
            expect(connectFromWeb()).toBe('timeout');
            expect(await apiRequests(50)).toBe(50);

            const start = spawnSync(
                'bash',
                [path.join(ROOT, 'lab/netns/agent.sh'), 'db', 'start'],
                {
                    encoding: 'utf8',
                    env: { ...process.env, PALISADE_ROOT: ROOT, PALISADE_NODE: NODE },
                },
            );
            expect(start.status, start.stderr).toBe(0);
            expectOneAttachmentPerHook(`${labCgroup}/db`);
            expect(connectFromWeb()).toBe('timeout');
            expect(await apiRequests(20)).toBe(20);
        });

        it('enforces api: its script reaches redis and payments by name, another script in its unit is refused', async () => {
            const apiFile = path.join(dir, 'api.palisade.yaml');
            const infer = palisade(
                ...['policy', 'infer', '--app', 'api', '--owner', 'dev@example.com'],
                ...['--member', 'api:api.service', '--out', apiFile],
            );
            expect(infer.status, infer.stderr).toBe(0);
            const links = parsePolicy(fs.readFileSync(apiFile, 'utf8'), apiFile).links;
            // The API's own script, by path, to redis; its resolver; payments on ext.
            expect(links.map((l) => l.client)).toContainEqual(
                expect.objectContaining({ script: path.join(ROOT, 'lab/demo/api.js') }),
            );
            expect(links.some((l) => l.protocol === 'udp' && l.ports.includes(53))).toBe(true);
            expect(palisade('policy', 'allow', apiFile, '--all').status).toBe(0);
            // Nothing recorded would be dropped: no --force.
            const enforce = palisade('mode', 'enforce', '--app', 'api', '--file', apiFile);
            expect(enforce.status, enforce.stdout + enforce.stderr).toBe(0);

            // Every request resolves payments.ext.lab (the answers must come back) and uses redis.
            expect(await apiRequests(200)).toBe(200);

            // The same node binary in the same unit, running another script: refused.
            const other = path.join(dir, 'other.js');
            fs.writeFileSync(
                other,
                "const s=require('net').connect(6379,'10.213.0.4');" +
                    "s.on('connect',()=>{console.log('connected');s.destroy()});" +
                    "s.on('error',e=>console.log(e.code))",
            );
            const out = execFileSync(
                'nsenter',
                [
                    '--net=/run/netns/palisade-api',
                    'sh',
                    '-c',
                    'echo $$ > "$0/cgroup.procs" && exec "$1" "$2"',
                    `${labCgroup}/api/api.service`,
                    NODE,
                    other,
                ],
                { encoding: 'utf8' },
            ).trim();
            expect(out).toBe('EPERM');
            await sleep(1500);
            const audit = JSON.parse(palisade('audit', '--json').stdout) as AuditRecord[];
            expect(
                audit.find(
                    (a) =>
                        a.app === 'api' &&
                        a.verdict === 'deny' &&
                        a.local.kind === 'process' &&
                        a.local.script === other,
                ),
            ).toMatchObject({ port: 6379, host: 'api', rule: 'default-deny' });
            expect(await apiRequests(50)).toBe(50);
        });
    },
);
