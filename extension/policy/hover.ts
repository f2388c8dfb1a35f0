// Hovers on a link's client or server: the pattern, and the live identities it matches
// with their details. Every name came from a host, so it is added as escaped text.
import * as vscode from 'vscode';
import type { EndpointPattern } from '../../agent/policy/types';
import type { Identity } from '../../agent/protocol';
import { identityKey } from '../../agent/fleet/identity';
import type { FleetConnection } from '../fleetConnection';
import { endpointMatches } from '../model/linkMatch';
import { linkAtLine, policyLayout } from '../model/policyLayout';
import type { PolicyIndex } from '../policyIndex';

const MAX_IDENTITIES = 5;

export class PolicyHover implements vscode.HoverProvider {
    constructor(
        private readonly policies: PolicyIndex,
        private readonly connection: FleetConnection,
    ) {}

    provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
        const policy = this.policies.get(doc.uri)?.policy;
        if (!policy) return undefined;
        const place = linkAtLine(policyLayout(doc.getText()), pos.line);
        const link = place ? policy.links[place.index] : undefined;
        if (!place || !link) return undefined;

        const side = (['client', 'server'] as const).find((f) => {
            const span = place.fields[f];
            return span && span.line <= pos.line && pos.line <= span.endLine;
        });
        if (!side) return undefined;
        const span = place.fields[side];
        const range = span
            ? new vscode.Range(span.line, 0, span.endLine, Number.MAX_SAFE_INTEGER)
            : undefined;
        return new vscode.Hover(this.describe(side, link[side]), range);
    }

    private describe(side: string, pattern: EndpointPattern): vscode.MarkdownString {
        const md = new vscode.MarkdownString();
        md.isTrusted = false;
        md.supportHtml = false;
        md.appendMarkdown(`**${side}** pattern\n\n`);
        md.appendText(JSON.stringify(pattern, null, 2));

        const edges = this.connection.latestGraph?.edges ?? [];
        const seen = new Map<string, Identity>();
        for (const e of edges) {
            for (const id of [e.client, e.server]) {
                if (endpointMatches(pattern, id)) seen.set(identityKey(id), id);
            }
        }
        if (seen.size === 0) {
            md.appendText('\nNo live identity matches this pattern.');
            return md;
        }
        md.appendMarkdown(`\n**Live identities** (${seen.size})\n\n`);
        for (const id of [...seen.values()].slice(0, MAX_IDENTITIES)) {
            // appendText escapes Markdown: a process name cannot become a link or markup.
            md.appendText(`${identityDetails(id)}\n\n`);
        }
        if (seen.size > MAX_IDENTITIES) md.appendText(`… and ${seen.size - MAX_IDENTITIES} more`);
        return md;
    }
}

export function identityDetails(id: Identity): string {
    switch (id.kind) {
        case 'process':
            return [
                id.spiffe ?? `${id.zone}/${id.host}`,
                `binary ${id.binary}${id.exe && id.exe !== id.binary ? ` (→ ${id.exe})` : ''}`,
                ...(id.script ? [`script ${id.script}`] : []),
                ...(id.parent ? [`parent ${id.parent}`] : []),
                `user ${id.user} (${id.uid})`,
                ...(id.unit ? [`unit ${id.unit}`] : []),
                `cgroup ${id.cgroup}`,
            ].join('\n');
        case 'external':
            return `${id.name} (${id.address})`;
        case 'unknown':
            return `unknown on ${id.host}: ${id.reason}`;
    }
}
