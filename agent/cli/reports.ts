// `palisade alerts` and `palisade audit`: what the agents decided, for people or as JSON,
// once or as it happens. The agents list no alert of a snoozed link until it is seen again.
import { identityLabel } from '../fleet/identity';
import type { HostClient } from '../fleet/push';
import { alertStateLabel } from '../policy/alerts';
import type { Alert, AuditRecord } from '../protocol';
import { safe } from './format';
import { closeAll, connect, Values } from './session';
import { parseSince } from './time';

function formatAlert(a: Alert): string {
    const arrow = a.direction === 'egress' ? '→' : '←';
    const remote = a.remoteHost ? `${a.remoteHost} (${a.remoteAddress})` : a.remoteAddress;
    return (
        `${a.severity === 'high' ? 'HIGH ' : ''}${safe(a.owner)} / ${safe(a.app)}: ${a.verdict} ` +
        `${safe(identityLabel(a.local))} ${arrow} ${safe(remote)}:${a.port}/${a.protocol} ` +
        `×${a.count} [${safe(a.rule)}, ${alertStateLabel(a)}] ` +
        `last ${new Date(a.lastSeen).toISOString()}`
    );
}

function formatAudit(r: AuditRecord): string {
    const arrow = r.direction === 'egress' ? '→' : '←';
    const remote = r.remoteHost ? `${r.remoteHost} (${r.remoteAddress})` : r.remoteAddress;
    const peerPort = r.remotePort !== undefined ? ` from port ${r.remotePort}` : '';
    return (
        `${new Date(r.at).toISOString()} ${safe(r.host)} ${r.verdict.padEnd(10)} ` +
        `${safe(r.app)} (${r.mode}) ${safe(identityLabel(r.local))} ${arrow} ` +
        `${safe(remote)}:${r.port}/${r.protocol}${peerPort} ` +
        `[${safe(r.rule)}] pid ${r.pid}`
    );
}

export async function alerts(values: Values): Promise<number> {
    const hosts = await connect(values);
    const all = (await Promise.all(hosts.map((h) => h.client.alerts()))).flat();
    all.sort(
        (a, b) =>
            `${a.owner}${a.app}`.localeCompare(`${b.owner}${b.app}`) || b.lastSeen - a.lastSeen,
    );
    if (values.json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    else for (const a of all) process.stdout.write(formatAlert(a) + '\n');
    if (!values.follow) {
        closeAll(hosts);
        return 0;
    }
    await follow(hosts, (c) =>
        c.onAlert((a) =>
            process.stdout.write((values.json ? JSON.stringify(a) : formatAlert(a)) + '\n'),
        ),
    );
    return 0;
}

export async function audit(values: Values): Promise<number> {
    const since = values.since ? parseSince(values.since) : undefined;
    const hosts = await connect(values);
    const all = (
        await Promise.all(hosts.map((h) => h.client.audit(since ? { since } : {})))
    ).flat();
    all.sort((a, b) => a.at - b.at);
    if (values.json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    else for (const r of all) process.stdout.write(formatAudit(r) + '\n');
    if (!values.follow) {
        closeAll(hosts);
        return 0;
    }
    await follow(hosts, (c) =>
        c.onAudit((r) =>
            process.stdout.write((values.json ? JSON.stringify(r) : formatAudit(r)) + '\n'),
        ),
    );
    return 0;
}

/** Streams notifications until interrupted or every agent is gone. */
async function follow(
    hosts: HostClient[],
    listen: (c: HostClient['client']) => void,
): Promise<void> {
    await Promise.all(
        hosts.map(async (h) => {
            listen(h.client);
            await h.client.subscribe(() => undefined);
        }),
    );
    await new Promise<void>((resolve) => {
        let open = hosts.length;
        for (const h of hosts) h.client.onClose(() => --open === 0 && resolve());
        process.once('SIGINT', () => {
            closeAll(hosts);
            resolve();
        });
    });
}
