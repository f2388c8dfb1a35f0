// Text output for people. Every string that came from a host (process names, paths, DNS
// names, problems) goes through `safe`, so a hostile name cannot drive the terminal.
import { identityLabel } from '../fleet/identity';
import type { AgentStatus, FleetGraph, FlowRecord } from '../protocol';

// C0/C1 controls and the bidi overrides that can reorder what a reader sees.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function safe(text: string): string {
    return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatStatus(name: string, s: AgentStatus): string {
    const lines = [
        `${safe(name)}: ${safe(s.host)} ${s.health} agent ${safe(s.version)} ` +
            `zone ${safe(s.zone)} addresses ${s.addresses.map(safe).join(',') || '-'}`,
        `  hooks ${s.attached.map(safe).join(',') || 'none'}; flows ${s.counters.flows}, ` +
            `links ${s.counters.links}, lost events ${s.counters.lostEvents}, ` +
            `identity misses ${s.counters.identityMisses}`,
    ];
    const dns = s.counters.dns;
    if (dns) {
        lines.push(
            `  dns: ${dns.messages} messages read (${dns.ignored} set aside, ` +
                `${dns.truncated} cut), ${dns.addresses} addresses named`,
        );
    }
    const d = s.counters.decisions;
    if (d) {
        lines.push(`  decisions: ${d.allow} allow, ${d.wouldDeny} would-deny, ${d.deny} deny`);
    }
    for (const p of s.problems) lines.push(`  problem: ${safe(p)}`);
    return lines.join('\n');
}

export function formatFlow(f: FlowRecord): string {
    const arrow = f.direction === 'egress' ? '→' : '←';
    const name = f.remoteName ? ` (${safe(f.remoteName.name)})` : '';
    return (
        `${safe(f.host)} ${f.direction.padEnd(7)} ${safe(identityLabel(f.local))} ${arrow} ` +
        `${safe(f.remoteAddress)}${name} :${f.port}/${f.protocol} ×${f.count} pid ${f.pid}`
    );
}

export function formatGraph(graph: FleetGraph): string {
    const lines = ['hosts:'];
    for (const h of graph.hosts) {
        const addrs = h.addresses.map(safe).join(',') || '-';
        lines.push(`  ${safe(h.name)} ${h.health} ${addrs}`);
        for (const p of h.problems) lines.push(`    ${safe(p)}`);
    }
    lines.push(`edges (${graph.edges.length}):`);
    for (const e of graph.edges) {
        lines.push(
            `  ${safe(identityLabel(e.client))} → ${safe(identityLabel(e.server))} ` +
                `:${e.port}/${e.protocol} ×${e.count}`,
        );
    }
    return lines.join('\n');
}
