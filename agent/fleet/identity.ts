// Keys and labels for identities. Keys join and deduplicate (so they use every field that
// makes two processes different services, and nothing that varies per instance); labels are
// for people. Both are plain strings: renderers must still treat them as untrusted text.
import type { ExternalIdentity, FlowRecord, Identity, RemoteName } from '../protocol';

export function identityKey(id: Identity): string {
    switch (id.kind) {
        case 'process':
            // JSON keeps the key unambiguous even when a path contains a separator character.
            return (
                'process:' +
                JSON.stringify([
                    id.zone,
                    id.host,
                    id.binary,
                    id.script ?? '',
                    id.user,
                    id.unit ?? '',
                ])
            );
        case 'external':
            return `external:${id.name}`;
        case 'unknown':
            return `unknown:${id.host}:${id.reason}`;
    }
}

export function identityLabel(id: Identity): string {
    switch (id.kind) {
        case 'process': {
            const program = id.script
                ? `${baseName(id.binary)} ${baseName(id.script)}`
                : baseName(id.binary);
            const unit = id.unit ? ` (${id.unit})` : '';
            return `${id.host}/${program}${unit}`;
        }
        case 'external':
            return id.name;
        case 'unknown':
            return `${id.host}/? (${id.reason})`;
    }
}

/** A flow the way people read a connection, client first: `who → whom:port/protocol`. */
export function flowLabel(
    f: Pick<FlowRecord, 'direction' | 'local' | 'remoteAddress' | 'port' | 'protocol'>,
): string {
    const local = identityLabel(f.local);
    return f.direction === 'egress'
        ? `${local} → ${f.remoteAddress}:${f.port}/${f.protocol}`
        : `${f.remoteAddress} → ${local}:${f.port}/${f.protocol}`;
}

/** An address outside the fleet, by the DNS name its host saw answer it when there is one. */
export function externalFor(address: string, dns?: RemoteName): ExternalIdentity {
    if (dns !== undefined) {
        return {
            kind: 'external',
            name: `dns:${dns.name}`,
            address,
            ...(dns.canonical !== undefined ? { canonical: dns.canonical } : {}),
            ...(dns.stale ? { stale: true } : {}),
        };
    }
    const len = address.includes(':') ? 128 : 32;
    return { kind: 'external', name: `cidr:${address}/${len}`, address };
}

function baseName(path: string): string {
    const i = path.lastIndexOf('/');
    return i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path;
}
