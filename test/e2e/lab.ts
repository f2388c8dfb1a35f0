// The embedded lab for the browser suite: up/down through the CLI a person uses, the CLI's
// graph as ground truth, and an extra process on a lab host whose names are hostile.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type {
    AuditRecord,
    FleetEdge,
    FleetGraph,
    Identity,
    ProcessIdentity,
} from '../../agent/protocol';
import { ROOT } from './codeServer';

export const isRoot = process.getuid?.() === 0;

export function palisade(...args: string[]) {
    return spawnSync(process.execPath, [path.join(ROOT, 'bin/palisade'), ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PALISADE_LAB_TRAFFIC_SECONDS: '1200' },
    });
}

export function labUp(): void {
    palisade('lab', 'down');
    const up = palisade('lab', 'up');
    if (up.status !== 0) {
        throw new Error(`palisade lab up failed:\n${up.stderr}${up.stdout}`);
    }
}

export function labDown(): void {
    palisade('lab', 'down');
}

export function cliGraph(): FleetGraph | undefined {
    const out = palisade('graph', '--json');
    return out.status === 0 ? (JSON.parse(out.stdout) as FleetGraph) : undefined;
}

export function proc(id: Identity): ProcessIdentity | undefined {
    return id.kind === 'process' ? id : undefined;
}

export function findEdge(
    graph: FleetGraph | undefined,
    client: Partial<ProcessIdentity>,
    server: Partial<ProcessIdentity>,
): FleetEdge | undefined {
    const matches = (id: Identity, want: Partial<ProcessIdentity>) => {
        const p = proc(id);
        return !!p && Object.entries(want).every(([k, v]) => p[k as keyof ProcessIdentity] === v);
    };
    return graph?.edges.find((e) => matches(e.client, client) && matches(e.server, server));
}

/** Polls the CLI's graph (the agents' truth) until `done` holds for it. */
export async function waitForCliGraph(
    done: (graph: FleetGraph) => boolean,
    seconds = 60,
): Promise<FleetGraph> {
    let graph: FleetGraph | undefined;
    for (let i = 0; i < seconds; i++) {
        graph = cliGraph();
        if (graph !== undefined && done(graph)) return graph;
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`the lab's graph never got there; last: ${JSON.stringify(graph?.edges)}`);
}

/** The agents' audit trail of the last `seconds`, read with the CLI. */
export function auditSince(seconds: number): AuditRecord[] {
    const out = palisade('audit', '--json', '--since', `${seconds}s`);
    if (out.status !== 0) throw new Error(`palisade audit failed: ${out.stderr}`);
    return JSON.parse(out.stdout) as AuditRecord[];
}

/**
 * One redis PING from web, run the way the intruder runs it: /usr/bin/redis-cli in the
 * intruder's cgroup and web's network namespace. Answers what redis-cli printed.
 */
export function probeAsIntruder(): { ok: boolean; output: string } {
    const cgroup = `${cg2}/palisade-lab/web/intruder.service`;
    const out = spawnSync(
        'sh',
        [
            '-c',
            'echo $$ > "$0/cgroup.procs" && exec nsenter --net=/run/netns/palisade-web ' +
                '/usr/bin/redis-cli -h 10.213.0.4 -p 6379 PING',
            cgroup,
        ],
        { encoding: 'utf8', timeout: 20_000 },
    );
    const output = `${out.stdout}${out.stderr}`.trim();
    return { ok: out.status === 0 && output === 'PONG', output };
}

export const INTRUDER = { host: 'web', unit: 'intruder.service', binary: '/usr/bin/redis-cli' };
export const REDIS = { host: 'db', unit: 'redis.service', binary: '/usr/bin/redis-server' };

// Names an attacker controls on a host they own: a directory, a program and a cgroup (the
// "unit"). Markup, quotes, control characters, a bidi override, and a program name long
// enough to need cutting. None may contain '/', which ends a path component.
export const HOSTILE = {
    dir: '<img src=x onerror=alert(1)>',
    program: `"><svg onload=alert(2)>'\u0007\u001b[31m\u202e${'A'.repeat(120)}`,
    unit: `<script>alert(3)<\\script>"'\u0001\u001b[2J.service`,
};

const cg2 = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((f) => f[2] === 'cgroup2')?.[1];

/** A process started on a lab host in its own cgroup (a "unit"), ended with the cgroup. */
class LabUnit {
    readonly cgroup: string;

    constructor(
        readonly host: string,
        readonly unit: string,
    ) {
        this.cgroup = `${cg2}/palisade-lab/${host}/${unit}`;
    }

    /** Runs argv on the host through the lab's own launcher, so it joins the cgroup first. */
    start(argv: string[]): void {
        const out = spawnSync(
            'bash',
            ['-c', 'source lab/lib.sh && lab_spawn "$@"', '_', this.host, this.unit, ...argv],
            { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
        );
        if (out.status !== 0) {
            throw new Error(`cannot start ${this.unit} on ${this.host}: ${out.stderr}`);
        }
    }

    stop(): void {
        if (existsSync(this.cgroup)) {
            // cgroup.kill ends every process in the cgroup at once, forks included.
            spawnSync('sh', ['-c', 'echo 1 > "$0/cgroup.kill"', this.cgroup]);
            for (let i = 0; i < 50 && !this.empty(); i++) {
                spawnSync('sleep', ['0.1']);
            }
            spawnSync('rmdir', [this.cgroup]);
        }
        rmSync(`/run/palisade-lab/${this.host}/${this.unit}.log`, { force: true });
    }

    private empty(): boolean {
        try {
            return readFileSync(`${this.cgroup}/cgroup.procs`, 'utf8').trim() === '';
        } catch {
            return true;
        }
    }
}

/**
 * A redis client on web that runs as a program with hostile names from a cgroup with a
 * hostile name.
 */
export class HostileProcess {
    readonly dir = mkdtempSync(path.join(tmpdir(), 'palisade-e2e-hostile-'));
    readonly binary = path.join(this.dir, HOSTILE.dir, HOSTILE.program);
    private readonly unit = new LabUnit('web', HOSTILE.unit);

    start(): void {
        mkdirSync(path.dirname(this.binary));
        symlinkSync('/usr/bin/redis-cli', this.binary);
        const loop = 'while :; do "$0" -h 10.213.0.4 -p 6379 PING >/dev/null 2>&1; sleep 1; done';
        this.unit.start(['sh', '-c', loop, this.binary]);
    }

    stop(): void {
        this.unit.stop();
        rmSync(this.dir, { recursive: true, force: true });
    }
}

// Names a hostile resolver answers with: markup, quotes, control characters, a bidi
// override, and long labels. Each label fits DNS's 63 bytes, the whole name its 253.
export const HOSTILE_DNS = {
    asked: `"><img src=x onerror=alert(5)>.\u0007\u001b[31m\u202e.${'b'.repeat(60)}.evil.lab`,
    canonical: `<script>alert(6)</script>'".${'c'.repeat(60)}.${'d'.repeat(60)}.evil.lab`,
    /** Outside every lab host: the bridge, where nothing listens on the port. */
    target: '10.213.0.1',
    port: 9,
};

/**
 * A resolver on ext that answers anything with HOSTILE_DNS's names, and a client on web
 * that asks it once a second and connects to the answer: web's agent names the external
 * peer by what the resolver said.
 */
export class HostileDns {
    private readonly fixture = path.join(__dirname, 'fixtures', 'hostileDns.js');
    private readonly server = new LabUnit('ext', 'hostile-dns.service');
    readonly client = new LabUnit('web', 'hostile-dns-client.service');

    start(): void {
        const node = process.execPath;
        const d = HOSTILE_DNS;
        this.server.start([node, this.fixture, 'serve', '10.213.0.5', d.target, d.canonical]);
        const port = String(d.port);
        this.client.start([node, this.fixture, 'ask', '10.213.0.5', d.asked, port]);
    }

    stop(): void {
        this.client.stop();
        this.server.stop();
    }
}
