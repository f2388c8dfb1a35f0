import { describe, expect, it } from 'vitest';
import { edgeToLink } from '../../extension/model/edgeToLink';
import {
    exactPattern,
    patternOfRows,
    pinnable,
    samePattern,
    widenPath,
} from '../../webview/graphPatterns';
import { coveringPatterns, storeFromGraph } from '../../webview/graphStore';
import { linkNoteKey } from '../../webview/messages';
import { fleetEdge, processOn } from '../fixtures/identities';

const api = processOn('api', '/usr/bin/node', { script: '/srv/api/server.js', unit: 'api' });
const redis = processOn('db', '/usr/bin/redis-server', { unit: 'redis.service' });
const edge = fleetEdge('e1', api, redis, 6379);

describe('identity pattern edits', () => {
    it('start from the pattern the extension writes, host pinned', () => {
        expect(exactPattern(api)).toEqual(edgeToLink(edge)?.client);
        expect(exactPattern(api)).toMatchObject({ host: 'api', unit: 'api' });
        expect(exactPattern(redis)).toEqual(edgeToLink(edge)?.server);
    });

    it('keep every pinned field until it is unpinned, and offer the identity’s others', () => {
        const rows = pinnable(exactPattern(api) as object, api);
        expect(rows.map((r) => [r.field, r.pinned])).toEqual([
            ['host', true],
            ['zone', false],
            ['unit', true],
            ['binary', true],
            ['script', true],
            ['user', false],
        ]);
        expect(patternOfRows(rows)).toEqual(exactPattern(api));

        const binary = rows.find((r) => r.field === 'binary')!;
        binary.value = widenPath(binary.value);
        rows.find((r) => r.field === 'script')!.pinned = false;
        rows.find((r) => r.field === 'user')!.pinned = true;
        expect(patternOfRows(rows)).toEqual({
            host: 'api',
            unit: 'api',
            binary: '/usr/bin/*',
            user: 'root',
        });

        rows.find((r) => r.field === 'host')!.pinned = false;
        expect(patternOfRows(rows)).not.toHaveProperty('host');
    });

    it('start from the covering link when the extension sent its patterns', () => {
        const link = { client: { host: 'api', unit: 'api' }, server: { dns: '*.stripe.com' } };
        const store = storeFromGraph(
            { hosts: [], edges: [edge], generatedAt: 0 },
            {
                edges: { e1: { rule: 'api-out', policyFile: 'api.palisade.yaml' } },
                links: { [linkNoteKey('api.palisade.yaml', 'api-out')]: link },
            },
        );
        expect(coveringPatterns(store, 'e1')).toEqual(link);
        expect(coveringPatterns(store, 'other')).toBeUndefined();
        expect(pinnable(link.client, api).filter((r) => r.pinned).map((r) => r.field)).toEqual([
            'host',
            'unit',
        ]);
    });

    it('widen versioned paths and compare patterns by their fields', () => {
        expect(widenPath('/opt/app/releases/1.4.2/bin/api')).toBe('/opt/app/releases/*/bin/api');
        expect(widenPath('/usr/bin/python3.11')).toBe('/usr/bin/python*');
        expect(widenPath('/usr/sbin/nginx')).toBe('/usr/sbin/*');
        expect(samePattern({ host: 'a', unit: 'u' }, { unit: 'u', host: 'a' })).toBe(true);
        expect(samePattern({ host: 'a' }, { host: 'a', unit: 'u' })).toBe(false);
    });
});
