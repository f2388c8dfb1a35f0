import { describe, expect, it } from 'vitest';
import { edgeLabel, externalLabel, formatCount, plainText } from '../../webview/graphLabels';

describe('formatCount', () => {
    it.each([
        [0, '0'],
        [999, '999'],
        [1000, '1k'],
        [1234, '1.2k'],
        [12_345, '12k'],
        [3_456_789, '3.4M'],
        [2e9, '2G'],
    ])('formats %d as %s', (count, text) => {
        expect(formatCount(count)).toBe(text);
    });
});

describe('labels', () => {
    it('marks udp edges and keeps tcp edges to :port ×count', () => {
        expect(edgeLabel({ port: 53, count: 12, protocol: 'udp' })).toBe(':53/udp ×12');
        expect(edgeLabel({ port: 443, count: 1500, protocol: 'tcp' })).toBe(':443 ×1.5k');
    });

    it('shows a single-address cidr as the bare address', () => {
        expect(
            externalLabel({ kind: 'external', name: 'cidr:10.9.0.7/32', address: '10.9.0.7' }),
        ).toBe('10.9.0.7');
        expect(
            externalLabel({ kind: 'external', name: 'cidr:10.9.0.0/24', address: '10.9.0.1' }),
        ).toBe('10.9.0.0/24');
        // S3: the name asked for, then where its CNAME chain ends.
        expect(
            externalLabel({
                kind: 'external',
                name: 'dns:db.example.com',
                canonical: 'host.example.com',
                address: '10.10.10.1',
            }),
        ).toBe('db.example.com → host.example.com');
        expect(
            externalLabel({
                kind: 'external',
                name: 'dns:api.example',
                address: '1.2.3.4',
                stale: true,
            }),
        ).toBe('api.example (stale)');
    });

    it('bounds the length of an untrusted name', () => {
        const text = plainText('a'.repeat(500));
        expect(Array.from(text)).toHaveLength(48);
        expect(text.endsWith('…')).toBe(true);
    });
});
