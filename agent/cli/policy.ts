// `palisade policy|mode|alerts|audit`: the policy lifecycle from a terminal.
import { existsSync } from 'node:fs';
import { Fleet } from '../fleet/fleet';
import { flowLabel } from '../fleet/identity';
import {
    DropsDecision,
    FleetReplay,
    HostClient,
    pushPolicyChecked,
    replayPolicy,
    unreviewedDrops,
} from '../fleet/push';
import { parsePolicy } from '../policy/file';
import { checkLinkIds, mergeLinks, renderPolicy, setLinkState, setMode } from '../policy/fileEdit';
import { parseEdgeLog } from '../policy/flowLog';
import { defaultMembers, inferPolicy } from '../policy/infer';
import type { LinkState, ProcessPattern } from '../policy/types';
import type { FleetGraph } from '../protocol';
import { UsageError } from './args';
import { readAppPolicy, readInput, writeFileAtomic } from './files';
import { alerts, audit } from './reports';
import { closeAll, connect, parse, Values } from './session';
import { formatWhen, parseSince } from './time';
import { safe } from './format';

export const POLICY_COMMANDS = ['policy', 'mode', 'alerts', 'audit'] as const;

export const POLICY_USAGE = `
policy:
  policy infer --app A [--owner O] [--member host:unit ...] [--out FILE] [--from-log FILE]
                         observed links of app A as a policy (every link in state alert);
                         into an existing FILE, new links are added and reviewed ones kept
  policy apply FILE [--dry-run] [--force]
                         validate, then swap in on every agent, all or nothing; an
                         enforce file is refused when the replay would drop recorded
                         flows, unless --force
  policy replay FILE [--since T]
                         recorded flows the policy would drop under enforce
  policy allow|snooze|deny|alert FILE (--link ID ... | --all [--except ID ...]) [--push]
                         set link states in FILE, keeping its comments; snooze stamps
                         snoozedAt, so snoozing a link seen again hides it again
  mode enforce|monitor --app A [--file FILE] [--force]
                         switch an app's mode; enforce first replays and refuses to drop
                         recorded flows unless --force
  alerts [--follow]      flows outside the allowed links, by owner and app; a snoozed
                         link shows only once a flow matches it after the snooze
  audit [--follow] [--since T]
                         every decision: allow, would-deny, deny
  (T: an ISO time or an age such as 90s, 10m, 2h, 1d)
`;

const STATE_OF: Record<string, LinkState> = {
    allow: 'allowed',
    snooze: 'snoozed',
    deny: 'denied',
    alert: 'alert',
};

export async function runPolicyCli(argv: string[]): Promise<number> {
    const { values, positionals } = parse(argv);
    const [name, sub, file] = positionals;
    switch (name) {
        case 'policy':
            if (sub === 'infer') return infer(values);
            if (sub === 'apply') return apply(need(file, 'policy apply FILE'), values);
            if (sub === 'replay') return replay(need(file, 'policy replay FILE'), values);
            if (sub && STATE_OF[sub])
                return setStates(need(file, `policy ${sub} FILE`), STATE_OF[sub]!, values);
            throw new UsageError('policy needs infer, apply, replay, allow, snooze, deny or alert');
        case 'mode':
            if (sub !== 'enforce' && sub !== 'monitor')
                throw new UsageError('mode needs enforce or monitor');
            return mode(sub, values);
        case 'alerts':
            return alerts(values);
        case 'audit':
            return audit(values);
    }
    throw new UsageError(`unknown command: ${name}`);
}

function need(value: string | undefined, what: string): string {
    if (!value) throw new UsageError(`usage: palisade ${what}`);
    return value;
}

async function fleetGraph(hosts: HostClient[]): Promise<FleetGraph> {
    const fleet = new Fleet({ debounceMs: 0 });
    try {
        await Promise.all(hosts.map((h) => fleet.add(h.name, h.client)));
        return fleet.graph();
    } finally {
        fleet.dispose();
    }
}

async function infer(values: Values): Promise<number> {
    const app = values.app;
    if (!app) throw new UsageError('policy infer needs --app');
    let graph: FleetGraph;
    let skipped = 0;
    if (values['from-log']) {
        const log = parseEdgeLog(readInput(values['from-log'], 'flow log'));
        graph = { hosts: [], edges: log.edges, generatedAt: Date.now() };
        skipped = log.skipped;
    } else {
        const hosts = await connect(values);
        try {
            graph = await fleetGraph(hosts);
        } finally {
            closeAll(hosts);
        }
    }
    const members: ProcessPattern[] = (values.member ?? []).map((m) => {
        const [host, unit] = m.split(':');
        if (!host || !unit) throw new UsageError(`--member needs host:unit, got "${m}"`);
        return { host, unit };
    });
    const chosen = members.length > 0 ? members : defaultMembers(graph, app);
    if (chosen.length === 0) {
        throw new UsageError(
            `no unit of app "${app}" was observed; name members with --member host:unit`,
        );
    }
    const policy = inferPolicy(graph, {
        app,
        owner: values.owner ?? `${app}-owner`,
        members: chosen,
    });
    if (skipped > 0)
        process.stderr.write(`palisade: skipped ${skipped} unreadable flow log line(s)\n`);

    const header =
        ` Palisade policy for ${app}, inferred from observed flows.\n` +
        ` Review each link: state allowed, snoozed or denied (alert = not reviewed yet).`;
    const out = values.out;
    if (!out) {
        process.stdout.write(renderPolicy(policy, header));
        return 0;
    }
    const text = existsSync(out)
        ? mergeLinks(readInput(out, 'policy file'), out, policy.links)
        : renderPolicy(policy, header);
    writeFileAtomic(out, text);
    process.stdout.write(`${out}: ${policy.links.length} link(s) for ${app}\n`);
    return 0;
}

async function apply(file: string, values: Values): Promise<number> {
    const policy = parsePolicy(readInput(file, 'policy file'), file);
    const hosts = await connect(values);
    try {
        // An enforce file gets the same readiness check as `mode enforce`: no way around it
        // by editing the mode by hand.
        const outcome = await pushPolicyChecked(hosts, policy, file, {
            dryRun: values['dry-run'] ?? false,
            allowDrops: dropsDecision(policy.app, file, values),
        });
        if (!outcome.pushed) return 3;
        const results = outcome.results;
        const verb = values['dry-run'] ? 'would apply' : 'applied';
        const warnings = new Set<string>();
        for (const { host, result } of results) {
            process.stdout.write(
                `${safe(host)}: ${verb} ${policy.app} (${policy.mode}), ` +
                    `${result.entries} kernel entries\n`,
            );
            for (const w of result.warnings) warnings.add(w);
        }
        // Every host compiles the same file: say each warning once.
        for (const w of warnings) process.stdout.write(`warning: ${safe(w)}\n`);
        return 0;
    } finally {
        closeAll(hosts);
    }
}

async function replay(file: string, values: Values): Promise<number> {
    const since = values.since ? parseSince(values.since) : undefined;
    const policy = parsePolicy(readInput(file, 'policy file'), file);
    const hosts = await connect(values);
    try {
        const r = await replayPolicy(hosts, { ...policy, mode: 'enforce' }, since);
        printReplay(policy.app, r);
        return 0;
    } finally {
        closeAll(hosts);
    }
}

/** The CLI's answer when enforcing would drop recorded flows: show them; go on with --force. */
function dropsDecision(app: string, file: string, values: Values): DropsDecision {
    return (r) => {
        printReplay(app, r);
        // Drops of links the file denies were decided on; only the others need --force.
        const n = unreviewedDrops(r).length;
        if (values.force) {
            process.stderr.write(
                `palisade: --force: enforcing ${app} although ${n} ` +
                    `recorded flow(s) would be dropped\n`,
            );
            return true;
        }
        process.stderr.write(
            `palisade: refusing to enforce ${app}: ${n} recorded flow(s) would be dropped ` +
                `(allow them in ${file}, or pass --force)\n`,
        );
        return false;
    };
}

function printReplay(app: string, r: FleetReplay): void {
    process.stdout.write(
        `replay of ${app} under enforce: ${r.evaluated} flow(s) evaluated, ` +
            `${r.dropped.length} would be dropped\n`,
    );
    for (const d of r.dropped) {
        const rule = safe(d.rule ?? 'default-deny') + (d.intended ? ', denied in the file' : '');
        process.stdout.write(
            `  on ${safe(d.host)}: ${safe(flowLabel(d.flow))} ×${d.flow.count} (${rule})\n`,
        );
        if (d.note) process.stdout.write(`    ${safe(d.note)}\n`);
    }
    const last = r.lastAlertAt ? `${formatWhen(r.lastAlertAt)} ago` : 'never';
    process.stdout.write(`last alert for ${app}: ${last}\n`);
}

async function setStates(file: string, state: LinkState, values: Values): Promise<number> {
    let text = readInput(file, 'policy file');
    const policy = parsePolicy(text, file);
    const except = new Set((values.except ?? []).flatMap((e) => e.split(',')));
    const ids = values.all
        ? policy.links.map((l) => l.id).filter((id) => !except.has(id))
        : (values.link ?? []).flatMap((l) => l.split(','));
    if (ids.length === 0) throw new UsageError('name links with --link ID or --all');
    // Every id is checked before any is set: a mistyped --except must not widen --all.
    checkLinkIds(text, file, [...ids, ...except]);
    for (const id of ids) text = setLinkState(text, file, id, state);
    writeFileAtomic(file, text);
    process.stdout.write(`${file}: ${ids.length} link(s) now ${state}\n`);
    return values.push ? apply(file, values) : 0;
}

async function mode(target: 'enforce' | 'monitor', values: Values): Promise<number> {
    const app = values.app;
    if (!app) throw new UsageError('mode needs --app');
    const file = values.file ?? `${app}.palisade.yaml`;
    const text =
        values.file !== undefined ? readInput(file, 'policy file') : readAppPolicy(app, file);
    const policy = parsePolicy(text, file);
    if (policy.app !== app) throw new UsageError(`${file} holds app "${policy.app}", not "${app}"`);

    const hosts = await connect(values);
    try {
        const next = setMode(text, file, target);
        const outcome = await pushPolicyChecked(hosts, parsePolicy(next, file), file, {
            allowDrops: dropsDecision(app, file, values),
        });
        if (!outcome.pushed) return 3;
        // The replay is worth seeing even when it drops nothing.
        if (outcome.replay?.dropped.length === 0) printReplay(app, outcome.replay);
        const results = outcome.results;
        writeFileAtomic(file, next);
        process.stdout.write(`${app} is now in ${target} mode on ${results.length} host(s)\n`);
        return 0;
    } finally {
        closeAll(hosts);
    }
}
