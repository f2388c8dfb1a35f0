import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../agent/policy/file';
import { mergeLinks } from '../../agent/policy/fileEdit';
import type { LinkState, PolicyLink } from '../../agent/policy/types';
import { edgeToLink, reviewedLink } from '../../extension/model/edgeToLink';
import { edgeMatchesLink } from '../../extension/model/linkMatch';
import type { LinkPatternEdit } from '../../webview/messages';
import { fleetEdge, processOn } from '../fixtures/identities';

const FILE = path.join(__dirname, '../fixtures/policy/db.palisade.yaml');
const text = readFileSync(FILE, 'utf8');

const intruder = fleetEdge(
    'e-intruder',
    processOn('web', '/usr/bin/redis-cli', { unit: 'intruder.service' }),
    processOn('db', '/usr/bin/redis-server', { unit: 'redis.service' }),
    6379,
);

/** What GraphReview writes for an action from the graph: reviewedLink, then the merge. */
function review(
    src: string,
    state: LinkState,
    edit: LinkPatternEdit,
    covering?: PolicyLink,
): { text: string; link: PolicyLink } {
    const link = reviewedLink(intruder, state, edit, covering, new Date(0));
    if (!link) throw new Error('no link for the edge');
    return { text: mergeLinks(src, FILE, [link], { reviewed: true }), link };
}

function linkOf(src: string, id: string): PolicyLink | undefined {
    return parsePolicy(src, FILE).links.find((l) => l.id === id);
}

describe('an edited review from the graph', () => {
    it('lands with the chosen state and pattern when its link id is already in the file', () => {
        // Accepted once from the graph as observed: the edge's own link, allowed.
        const own = edgeToLink(intruder, 'allowed')!;
        const accepted = mergeLinks(text.replace(/  - id: intruder-to-redis[\s\S]*$/, ''), FILE, [
            own,
        ]);
        const widened = { ...own.client, binary: '/usr/bin/*' };

        const { text: out } = review(accepted, 'denied', { client: widened });

        expect(linkOf(out, own.id)).toMatchObject({
            state: 'denied',
            client: { host: 'web', unit: 'intruder.service', binary: '/usr/bin/*' },
            server: own.server,
        });
        expect(parsePolicy(out, FILE).links.filter((l) => l.id === own.id)).toHaveLength(1);
    });

    it('rewrites the covering link in place: id, ports and the side left alone stay', () => {
        const covering = linkOf(text, 'intruder-to-redis')!;
        expect(edgeMatchesLink(intruder, covering)).toBe(true);
        const client = { host: 'web', binary: '/usr/bin/redis-cli' };

        const { text: out, link } = review(text, 'denied', { client }, covering);

        expect(link.id).toBe('intruder-to-redis');
        expect(linkOf(out, 'intruder-to-redis')).toMatchObject({
            state: 'denied',
            client,
            // The server keeps the file's pattern, not the edge's exact one.
            server: { host: 'db', unit: 'redis.service' },
            ports: [6379],
        });
        expect(parsePolicy(out, FILE).links).toHaveLength(2);
        expect(out).toContain('# The API reads and writes sessions.');
        expect(out).toContain('state: alert   # TODO(dba): confirm');
    });

    it('edited twice, the second decision replaces the first on the same link', () => {
        const covering = linkOf(text, 'intruder-to-redis')!;
        const first = review(text, 'denied', { client: { host: 'web' } }, covering).text;
        const again = linkOf(first, 'intruder-to-redis')!;
        const server = { host: 'db', unit: 'redis.service', user: 'root' };

        const second = review(first, 'allowed', { server }, again).text;

        expect(parsePolicy(second, FILE).links).toHaveLength(2);
        expect(linkOf(second, 'intruder-to-redis')).toMatchObject({
            state: 'allowed',
            client: { host: 'web' },
            server,
        });
    });

    it('gives an edge nothing covers its own link, with the pattern as edited', () => {
        const none = text.replace(/  - id: intruder-to-redis[\s\S]*$/, '');
        const client = { host: 'web', unit: 'intruder.service', binary: '/usr/bin/*' };

        const { text: out, link } = review(none, 'allowed', { client });

        expect(link.id).toBe(edgeToLink(intruder)!.id);
        expect(linkOf(out, link.id)).toMatchObject({
            state: 'allowed',
            client,
            server: edgeToLink(intruder)!.server,
        });
    });

    it('stamps a snooze and drops the stamp for any other state', () => {
        const covering = linkOf(text, 'intruder-to-redis')!;
        const client = { host: 'web', binary: '/usr/bin/redis-cli' };
        const snoozed = review(text, 'snoozed', { client }, covering).text;
        expect(linkOf(snoozed, 'intruder-to-redis')?.snoozedAt).toBe('1970-01-01T00:00:00.000Z');

        const again = linkOf(snoozed, 'intruder-to-redis')!;
        const denied = review(snoozed, 'denied', { client }, again).text;
        expect(linkOf(denied, 'intruder-to-redis')).not.toHaveProperty('snoozedAt');
    });

    it('refuses a pattern the schema refuses instead of writing it', () => {
        const covering = linkOf(text, 'intruder-to-redis')!;
        expect(() => review(text, 'allowed', { client: {} }, covering)).toThrow(/client/);
    });
});
