import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyFileError } from '../../agent/policy/file';
import { checkLinkIds, setLinkState, mergeLinks } from '../../agent/policy/fileEdit';

const FILE = path.join(__dirname, '../fixtures/policy/db.palisade.yaml');
const text = readFileSync(FILE, 'utf8');

function issuesOf(src: string) {
    try {
        parsePolicy(src, 'p.palisade.yaml');
    } catch (err) {
        if (err instanceof PolicyFileError) return err;
        throw err;
    }
    throw new Error('expected the policy to be rejected');
}

describe('policy file', () => {
    it('parses a hand-written file with comments and flow-style maps', () => {
        const p = parsePolicy(text, FILE);
        expect(p.app).toBe('db');
        expect(p.links.map((l) => l.id)).toEqual(['api-to-redis', 'intruder-to-redis']);
        expect(p.links[1]?.client).toEqual({
            host: 'web',
            unit: 'intruder.service',
            binary: '/usr/bin/redis-cli',
        });
    });

    it('names file:line:col and the field for an unknown state', () => {
        const err = issuesOf(text.replace('state: alert   # TODO', 'state: maybe   # TODO'));
        expect(err.issues).toHaveLength(1);
        expect(err.message).toBe(
            'p.palisade.yaml:18:12: links[0].state: must be one of "alert", "allowed", "snoozed", "denied"',
        );
    });

    it('names the place of a schema error: a port out of range, an unknown field', () => {
        const err = issuesOf(
            text.replace(
                'ports: [6379]\n    protocol: tcp\n    state: alert   #',
                'ports: [70000]\n    protocol: tcp\n    colour: red\n    state: alert   #',
            ),
        );
        const messages = err.message.split('\n');
        expect(messages).toContain('p.palisade.yaml:16:13: links[0].ports[0]: must be <= 65535');
        expect(messages).toContain('p.palisade.yaml:18:5: links[0].colour: unknown field "colour"');
    });

    it('reports a file truncated mid-line with its position', () => {
        const cut = text.slice(0, text.indexOf('binary: /usr/bin/redis-cli') + 10);
        const err = issuesOf(cut + '\n  - { id: x');
        expect(err.issues[0]?.line).toBeGreaterThan(20);
        expect(err.message).toMatch(/^p\.palisade\.yaml:\d+:\d+: /);
    });

    it('rejects duplicate link ids at the second one', () => {
        const err = issuesOf(text.replace('id: intruder-to-redis', 'id: api-to-redis'));
        expect(err.message).toBe(
            'p.palisade.yaml:19:9: links[1].id: duplicate link id "api-to-redis" (also links[0])',
        );
    });

    it('places an unknown link id at the links: key and lists the ids there are', () => {
        expect(() => setLinkState(text, 'p.palisade.yaml', 'no-such-link', 'allowed')).toThrow(
            'p.palisade.yaml:11:1: links: no link with id "no-such-link"; ' +
                'links in the file: api-to-redis, intruder-to-redis',
        );
    });

    it('names every unknown id at once and shortens a long list of the ids there are', () => {
        const item = text.slice(text.indexOf('  - id: intruder-to-redis'));
        const many = Array.from({ length: 10 }, (_, i) =>
            item.replace('intruder-to-redis', `link-${i}`),
        );
        const long = text.replace(item, many.join(''));
        expect(() => checkLinkIds(long, 'p.palisade.yaml', ['a', 'link-3', 'b\n'])).toThrow(
            'p.palisade.yaml:11:1: links: no links with ids "a", "b\\n"; links in the file: ' +
                'api-to-redis, link-0, link-1, link-2, link-3, link-4, link-5, link-6 and 3 more',
        );
    });

    it('changes one state and keeps every comment and the formatting', () => {
        const out = setLinkState(text, FILE, 'api-to-redis', 'allowed');
        expect(out).toBe(
            text.replace('state: alert   # TODO(dba)', 'state: allowed   # TODO(dba)'),
        );
        for (const comment of text.match(/#.*$/gm) ?? []) expect(out).toContain(comment.trim());
        expect(parsePolicy(out, FILE).links[0]?.state).toBe('allowed');
    });

    it('stamps a snooze on its own line, re-stamps a second snooze, and drops it on review', () => {
        const first = new Date('2026-12-03T10:00:00.000Z');
        const snoozed = setLinkState(text, FILE, 'api-to-redis', 'snoozed', first);
        expect(snoozed).toBe(
            text.replace(
                'state: alert   # TODO(dba): confirm\n',
                'state: snoozed   # TODO(dba): confirm\n    snoozedAt: 2026-12-03T10:00:00.000Z\n',
            ),
        );
        expect(parsePolicy(snoozed, FILE).links[0]).toMatchObject({
            state: 'snoozed',
            snoozedAt: '2026-12-03T10:00:00.000Z',
        });

        const again = setLinkState(snoozed, FILE, 'api-to-redis', 'snoozed', new Date(7e12));
        expect(parsePolicy(again, FILE).links[0]?.snoozedAt).toBe(new Date(7e12).toISOString());
        expect(again.split('\n')).toHaveLength(snoozed.split('\n').length);

        // Back to unreviewed: byte for byte the file it was.
        expect(setLinkState(again, FILE, 'api-to-redis', 'alert')).toBe(text);
        // The last link, at the end of the file, too.
        const last = setLinkState(text, FILE, 'intruder-to-redis', 'snoozed', first);
        expect(last.endsWith('    state: snoozed\n    snoozedAt: 2026-12-03T10:00:00.000Z\n')).toBe(
            true,
        );
        expect(setLinkState(last, FILE, 'intruder-to-redis', 'alert')).toBe(text);
    });

    it('snoozes a link written as a flow map', () => {
        const flow = text.replace(
            /  - id: intruder-to-redis[\s\S]*$/,
            '  - { id: x, client: { host: web }, server: { host: db }, ports: [1], ' +
                'protocol: tcp, state: alert }\n',
        );
        const out = setLinkState(flow, FILE, 'x', 'snoozed', new Date(0));
        expect(parsePolicy(out, FILE).links[1]).toMatchObject({
            state: 'snoozed',
            snoozedAt: '1970-01-01T00:00:00.000Z',
        });
        expect(parsePolicy(setLinkState(out, FILE, 'x', 'denied'), FILE).links[1]?.snoozedAt).toBe(
            undefined,
        );
    });

    it('adds new links and refreshes evidence without touching reviewed states', () => {
        const reviewed = setLinkState(text, FILE, 'api-to-redis', 'allowed');
        const out = mergeLinks(reviewed, FILE, [
            {
                id: 'api-to-redis',
                client: { host: 'api' },
                server: { host: 'db' },
                ports: [6379],
                protocol: 'tcp',
                state: 'alert',
                evidence: { flows: 42 },
            },
            {
                id: 'batch-to-redis',
                client: { host: 'api', unit: 'batch.service' },
                server: { host: 'db', unit: 'redis.service' },
                ports: [6379],
                protocol: 'tcp',
                state: 'alert',
            },
        ]);
        const p = parsePolicy(out, FILE);
        expect(p.links.map((l) => [l.id, l.state])).toEqual([
            ['api-to-redis', 'allowed'],
            ['intruder-to-redis', 'alert'],
            ['batch-to-redis', 'alert'],
        ]);
        expect(p.links[0]?.evidence?.flows).toBe(42);
        expect(out).toContain('# The API reads and writes sessions.');
    });

    it('changes nothing but what it merges: a new link goes after the last, byte for byte', () => {
        const batch = {
            id: 'batch-to-redis',
            client: { host: 'api', unit: 'batch.service', binary: '/usr/bin/redis-cli' },
            server: { host: 'db', unit: 'redis.service' },
            ports: [6379],
            protocol: 'tcp' as const,
            state: 'alert' as const,
        };
        const out = mergeLinks(text, FILE, [batch]);
        expect(out.startsWith(text)).toBe(true);
        expect(parsePolicy(out, FILE).links[2]).toEqual(batch);

        // Evidence of a link in the file: one line added under it, nothing else moves.
        const refreshed = mergeLinks(out, FILE, [
            { ...batch, evidence: { flows: 7, hosts: ['api'] } },
        ]);
        expect(refreshed).toBe(`${out.trimEnd()}\n    evidence: { flows: 7, hosts: [api] }\n`);
    });

    it('writes a reviewed pattern where the old one stood, in its style, quoting what needs it', () => {
        const out = mergeLinks(
            text,
            FILE,
            [
                {
                    id: 'intruder-to-redis',
                    client: { host: 'web', binary: '/opt/my app/*' },
                    server: { host: 'db', unit: 'redis.service' },
                    ports: [6379],
                    protocol: 'tcp',
                    state: 'denied',
                },
            ],
            { reviewed: true },
        );
        const expected = text
            .replace(
                'host: web\n      unit: intruder.service\n      binary: /usr/bin/redis-cli',
                'host: web\n      binary: "/opt/my app/*"',
            )
            .replace(/state: alert\n$/, 'state: denied\n');
        expect(out).toBe(expected);
    });
});
