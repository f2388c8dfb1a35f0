// SPIFFE-style identity names: render, parse, and compare by fields, never by prefix.
import { describe, expect, it } from 'vitest';
import {
    parseSpiffe,
    renderSpiffe,
    sameSpiffe,
    SpiffeError,
    spiffeMatches,
} from '../../agent/identity/spiffe';

describe('spiffe identities', () => {
    it('renders the host form of the architecture page', () => {
        expect(
            renderSpiffe({
                zone: 'lab',
                host: 'web',
                unit: 'nginx.service',
                binary: '/usr/sbin/nginx',
            }),
        ).toBe('spiffe://lab/host/web/unit/nginx.service/bin/usr/sbin/nginx');
    });

    it('renders the Kubernetes form', () => {
        expect(
            renderSpiffe({
                zone: 'kind',
                namespace: 'shop',
                account: 'api',
                binary: '/usr/local/bin/node',
            }),
        ).toBe('spiffe://kind/ns/shop/sa/api/bin/usr/local/bin/node');
    });

    it.each([
        { zone: 'lab', host: 'web', unit: 'nginx.service', binary: '/usr/sbin/nginx' },
        { zone: 'lab', host: 'web', binary: '/usr/bin/curl' },
        {
            zone: 'lab',
            host: 'api',
            unit: 'api.service',
            script: '/srv/api/server.js',
            binary: '/usr/bin/node',
        },
        { zone: 'kind', namespace: 'shop', account: 'api', binary: '/usr/local/bin/node' },
        { zone: 'lab', host: 'h', unit: 'user@1000.service', binary: '/opt/my app/bin/ä%x' },
        { zone: 'lab', host: 'h', binary: '/a/../b/./c' },
    ])('round-trips %o', (fields) => {
        const uri = renderSpiffe(fields);
        expect(uri).toMatch(/^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._%-]+)+$/);
        expect(parseSpiffe(uri)).toEqual(fields);
    });

    it('compares by fields: a longer binary, host or unit is another identity', () => {
        const nginx = 'spiffe://lab/host/web/unit/nginx.service/bin/usr/sbin/nginx';
        expect(sameSpiffe(nginx, nginx)).toBe(true);
        expect(
            sameSpiffe(nginx, 'spiffe://lab/host/web/unit/nginx.service/bin/usr/sbin/nginx-evil'),
        ).toBe(false);
        expect(
            sameSpiffe(nginx, 'spiffe://lab/host/web2/unit/nginx.service/bin/usr/sbin/nginx'),
        ).toBe(false);
        expect(
            sameSpiffe(nginx, 'spiffe://lab/host/web/unit/nginx.service/bin/usr/sbin/nginx/x'),
        ).toBe(false);
        expect(sameSpiffe(nginx, 'spiffe://lab/host/web/bin/usr/sbin/nginx')).toBe(false);
        expect(
            sameSpiffe(nginx, 'spiffe://lab2/host/web/unit/nginx.service/bin/usr/sbin/nginx'),
        ).toBe(false);
    });

    it('tells two scripts of one interpreter apart', () => {
        const a = renderSpiffe({
            zone: 'lab',
            host: 'h',
            script: '/srv/a.js',
            binary: '/usr/bin/node',
        });
        const b = renderSpiffe({
            zone: 'lab',
            host: 'h',
            script: '/srv/b.js',
            binary: '/usr/bin/node',
        });
        expect(sameSpiffe(a, b)).toBe(false);
    });

    it('matches patterns by whole fields', () => {
        const id = 'spiffe://lab/host/web/unit/nginx.service/bin/usr/sbin/nginx';
        expect(spiffeMatches('spiffe://lab/host/*/unit/nginx.service/bin/usr/sbin/nginx', id)).toBe(
            true,
        );
        expect(spiffeMatches('spiffe://lab/host/web/unit/nginx.service/bin/*', id)).toBe(true);
        expect(
            spiffeMatches('spiffe://lab/host/we/unit/nginx.service/bin/usr/sbin/nginx', id),
        ).toBe(false);
        expect(spiffeMatches('spiffe://lab/host/web/bin/usr/sbin/nginx', id)).toBe(false);
    });

    it.each([
        'http://lab/host/web/bin/x',
        'spiffe://lab',
        'spiffe://LAB/host/web/bin/x',
        'spiffe://lab/host/web/unit/x',
        'spiffe://lab/host/web/bin',
        'spiffe://lab/ns/a/bin/x',
        'spiffe://lab/pod/a/bin/x',
        'spiffe://lab/host/web//bin/x',
        'spiffe://lab/host/web/bin/x?y',
        'spiffe://lab/host/%E0%A4%A/bin/x',
    ])('refuses %s with a SpiffeError', (uri) => {
        expect(() => parseSpiffe(uri)).toThrow(SpiffeError);
    });
});
