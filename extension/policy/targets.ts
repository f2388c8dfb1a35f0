// The connected hosts a policy concerns: its members' hosts when they name hosts, else
// every connected host (an app without a host pin can run anywhere in the fleet).
import type { Policy } from '../../agent/policy/types';
import type { FleetConnection } from '../fleetConnection';

export function targetHosts(connection: FleetConnection, policy: Policy): string[] {
    const pinned = new Set(policy.members.flatMap((m) => (m.host ? [m.host] : [])));
    const connected = connection.hostStates.filter((h) => h.state === 'connected');
    if (pinned.size === 0 || policy.members.some((m) => m.host === undefined)) {
        return connected.map((h) => h.alias);
    }
    const touched = new Set(pinned);
    for (const link of policy.links) {
        for (const end of [link.client, link.server]) {
            if ('host' in end && end.host) touched.add(end.host);
        }
    }
    return connected
        .filter((h) => touched.has(h.status?.host ?? h.alias) || touched.has(h.alias))
        .map((h) => h.alias);
}
