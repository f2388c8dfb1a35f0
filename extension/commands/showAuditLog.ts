// "Palisade: Show Audit Log": the agents' audit records (what was dropped or alerted and
// by which rule), merged by time into a read-only document.
import * as vscode from 'vscode';
import { identityLabel } from '../../agent/fleet/identity';
import type { AuditRecord } from '../../agent/protocol';
import { describeError } from '../../agent/remote/errors';
import type { FleetConnection } from '../fleetConnection';

const LIMIT = 500;

export async function showAuditLog(connection: FleetConnection): Promise<void> {
    const clients = connection.clients();
    if (clients.size === 0) throw new Error('no connected host; connect first');
    const records: AuditRecord[] = [];
    const failures: string[] = [];
    await Promise.all(
        [...clients].map(async ([host, client]) => {
            try {
                records.push(
                    ...(await client.audit({ limit: LIMIT })).map((r) => ({
                        ...r,
                        host: r.host || host,
                    })),
                );
            } catch (err) {
                failures.push(`# ${host}: ${describeError(err)}`);
            }
        }),
    );
    records.sort((a, b) => a.at - b.at);
    const content = [
        `# Palisade audit log: ${records.length} records from ${clients.size} hosts`,
        ...failures,
        ...records.map(formatRecord),
        '',
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ content, language: 'log' });
    await vscode.window.showTextDocument(doc, { preview: true });
}

export function formatRecord(r: AuditRecord): string {
    const [client, server] = r.direction === 'egress' ? [r.local, r.remote] : [r.remote, r.local];
    return (
        `${new Date(r.at).toISOString()} ${r.host} ${r.app} ${r.mode} ${r.verdict} ` +
        `rule=${r.rule} ${identityLabel(client)} → ${identityLabel(server)} ` +
        `${r.remoteAddress}:${r.port}/${r.protocol} pid=${r.pid}`
    );
}
