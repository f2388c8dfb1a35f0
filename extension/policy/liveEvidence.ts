// Live evidence for the links of policy files, from the latest fleet graph.
import type { PolicyLink } from '../../agent/policy/types';
import type { FleetConnection } from '../fleetConnection';
import { liveEvidence, type LiveEvidence } from '../model/linkMatch';

export function evidenceFor(
    connection: FleetConnection,
    link: PolicyLink,
): LiveEvidence | undefined {
    const graph = connection.latestGraph;
    return graph ? liveEvidence(graph.edges, link) : undefined;
}
