// The strip above the graph: one chip per host with its agent's health.
import type { FleetHost } from '../agent/protocol';
import { plainText } from './graphLabels';

/** Rebuilds the header. Host names and problems are untrusted: set as text, never markup. */
export function renderHeader(container: HTMLElement, hosts: FleetHost[]): void {
    container.replaceChildren();

    if (hosts.length === 0) {
        const empty = document.createElement('span');
        empty.className = 'empty';
        empty.textContent = 'No hosts connected. Run "Palisade: Connect to Lab".';
        container.append(empty);
        return;
    }

    const healthy = hosts.filter((h) => h.health === 'ok').length;
    const summary = document.createElement('span');
    summary.className = 'summary';
    summary.textContent = `${healthy}/${hosts.length} hosts healthy`;
    container.append(summary);

    for (const host of [...hosts].sort((a, b) => a.name.localeCompare(b.name))) {
        const chip = document.createElement('span');
        chip.className = `host health-${host.health}`;
        chip.textContent = plainText(host.name);
        chip.title = [`${host.name}: ${host.health}`, ...host.problems].join('\n');
        container.append(chip);
    }
}
