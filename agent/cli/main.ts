// `palisade`: the operator's view of the same agents the extension shows.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Fleet } from '../fleet/fleet';
import type { AgentClient } from '../remote/agentClient';
import { describeError, isRemoteError } from '../remote/errors';
import { formatFlow, formatGraph, formatStatus, safe } from './format';
import { PolicyFileError } from '../policy/file';
import { parseOptions, UsageError } from './args';
import { debug } from './debug';
import { isLabAction, runLab } from './lab';
import { POLICY_COMMANDS, POLICY_USAGE, runPolicyCli } from './policy';
import { TARGET_OPTIONS, targetsFrom, type Target } from './targets';

const USAGE = `usage: palisade <command> [options]

commands:
  status                 agent health of each target
  flows [--limit N]      observed connection attempts
  graph                  fleet graph: identity → identity edges across hosts
  lab up|down|status     the embedded lab (network namespaces on this machine)

targets (default: --lab when /run/palisade-lab/ssh_config exists, else --local):
  --host a,b             ssh host aliases from --ssh-config (default ~/.ssh/config)
  --lab                  every host in the lab's ssh config
  --local                this machine's agent socket (--socket PATH, or $PALISADE_SOCKET)

  --json                 machine-readable output
${POLICY_USAGE}
exit status:
  0  done
  1  a target failed or could not be reached, or a file is missing, unreadable or invalid
  2  usage: an unknown command or option, a missing or bad value
  3  policy apply or mode enforce refused: the replay would drop recorded flows (see --force)
  4  status: every target answered, but an agent is degraded (not observing or enforcing)
`;

type Command = (targets: Target[], json: boolean, limit: number | undefined) => Promise<number>;

const commands: Record<string, Command> = { status, flows, graph };

async function main(argv: string[]): Promise<number> {
    try {
        if ((POLICY_COMMANDS as readonly string[]).includes(argv[0] ?? '')) {
            return await runPolicyCli(argv);
        }
        return await run(argv);
    } catch (err) {
        if (err instanceof UsageError) return usageError(err.message);
        throw err;
    }
}

const OPTIONS = {
    ...TARGET_OPTIONS,
    limit: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
} as const;

async function run(argv: string[]): Promise<number> {
    const { values, positionals } = parseOptions(argv, OPTIONS);
    const [name, sub] = positionals;
    if (values.help || name === undefined || name === 'help') {
        process.stdout.write(USAGE);
        return name === undefined && !values.help ? 2 : 0;
    }

    if (name === 'lab') {
        if (!isLabAction(sub)) return usageError(`lab needs up, down or status`);
        return runLab(findRoot(), sub, values.json ?? false);
    }
    const command = commands[name];
    if (!command) return usageError(`unknown command: ${name}`);

    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
        return usageError(`--limit needs a positive integer`);
    }
    const targets = targetsFrom(values);
    return command(targets, values.json ?? false, limit);
}

/** Connects to every target at once; failures are reported, successes returned. */
async function connectAll(targets: Target[]) {
    const results = await Promise.allSettled(targets.map((t) => t.connect()));
    const clients: { target: Target; client: AgentClient }[] = [];
    const failures: { target: Target; error: unknown }[] = [];
    results.forEach((r, i) => {
        const target = targets[i] as Target;
        if (r.status === 'fulfilled') clients.push({ target, client: r.value });
        else failures.push({ target, error: r.reason });
    });
    return { clients, failures };
}

/** `palisade status` exits with this when an agent answered that it is degraded. */
const EXIT_DEGRADED = 4;

async function status(targets: Target[], json: boolean): Promise<number> {
    const { clients, failures } = await connectAll(targets);
    let failed = failures.length;
    let degraded = 0;
    failures.forEach((f) => reportError(f.error, f.target.name));
    const out: unknown[] = [];
    for (const { target, client } of clients) {
        try {
            const s = await client.status();
            if (s.health !== 'ok') degraded += 1;
            out.push({ target: target.name, ...s });
            if (!json) process.stdout.write(formatStatus(target.name, s) + '\n');
        } catch (err) {
            failed += 1;
            reportError(err, target.name);
        } finally {
            client.close();
        }
    }
    if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    // A script that checks `palisade status` must not read a degraded agent as healthy.
    return failed > 0 ? 1 : degraded > 0 ? EXIT_DEGRADED : 0;
}

async function flows(targets: Target[], json: boolean, limit?: number): Promise<number> {
    const { clients, failures } = await connectAll(targets);
    let failed = failures.length;
    failures.forEach((f) => reportError(f.error, f.target.name));
    const all = [];
    for (const { target, client } of clients) {
        try {
            all.push(...(await client.flows(limit === undefined ? {} : { limit })));
        } catch (err) {
            failed += 1;
            reportError(err, target.name);
        } finally {
            client.close();
        }
    }
    all.sort((a, b) => a.firstSeen - b.firstSeen);
    // --limit is for the whole fleet: the most recent N.
    if (limit !== undefined) all.splice(0, Math.max(0, all.length - limit));
    if (json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    else for (const f of all) process.stdout.write(formatFlow(f) + '\n');
    return failed > 0 ? 1 : 0;
}

async function graph(targets: Target[], json: boolean): Promise<number> {
    const fleet = new Fleet({ debounceMs: 0 });
    try {
        const { clients, failures } = await connectAll(targets);
        failures.forEach((f) => fleet.addUnreachable(f.target.name, f.error));
        await Promise.all(clients.map(({ target, client }) => fleet.add(target.name, client)));
        const g = fleet.graph();
        if (json) process.stdout.write(JSON.stringify(g, null, 2) + '\n');
        else process.stdout.write(formatGraph(g) + '\n');
        const down = g.hosts.filter((h) => h.health === 'unreachable');
        for (const h of down) process.stderr.write(`palisade: ${safe(h.problems[0] ?? h.name)}\n`);
        return down.length > 0 ? 1 : 0;
    } finally {
        fleet.dispose();
    }
}

function reportError(err: unknown, name: string): void {
    let text = describeError(err);
    if (!isRemoteError(err) && !text.includes(name)) text = `${name}: ${text}`;
    if (isRemoteError(err) && err.kind === 'host-key-unknown') {
        text += ' (verify it, then connect once with ssh, or set StrictHostKeyChecking accept-new)';
    }
    process.stderr.write(`palisade: ${safe(text)}\n`);
}

function usageError(message: string): number {
    process.stderr.write(`palisade: ${safe(message)}\n${USAGE}`);
    return 2;
}

/** The repo or install root: the bundle sits in dist/, sources in agent/cli/. */
function findRoot(): string {
    let dir = __dirname;
    for (let i = 0; i < 5; i++) {
        if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lab'))) return dir;
        dir = dirname(dir);
    }
    return join(__dirname, '..');
}

/**
 * A command that has finished does not wait on a connection that will not close: the process
 * normally exits before the timer fires; if not, PALISADE_DEBUG says what held it.
 */
function finish(code: number): void {
    process.exitCode = code;
    setTimeout(() => {
        const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
        debug?.(`finished; ending what is still open: ${open.join(', ')}`);
        process.exit(code);
    }, 2000).unref();
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
    // A policy file's problems are one per line, each with its file:line:col.
    const lines = err instanceof PolicyFileError ? err.message.split('\n') : [describeError(err)];
    for (const line of lines) process.stderr.write(`palisade: ${safe(line)}\n`);
    finish(1);
});
