import { describe, expect, it } from 'vitest';
import { isExtensionMessage, isWebviewMessage } from '../../webview/messages';

describe('webview message guards', () => {
    it('accepts the typed actions the extension subscribes to', () => {
        expect(isWebviewMessage({ type: 'action', action: 'allow', edgeIds: ['e1'] })).toBe(true);
        expect(
            isWebviewMessage({
                type: 'action',
                action: 'deny',
                edgeIds: ['e1', 'e2'],
                pattern: { client: { binary: '/usr/bin/*' } },
            }),
        ).toBe(true);
        expect(isWebviewMessage({ type: 'openInPolicy', edgeId: 'e1' })).toBe(true);
        expect(isWebviewMessage({ type: 'export', format: 'svg', data: '<svg/>' })).toBe(true);
    });

    it('refuses anything malformed, since the page renders attacker-chosen names', () => {
        for (const bad of [
            null,
            'ready',
            { type: 'action', action: 'delete', edgeIds: ['e1'] },
            { type: 'action', action: 'allow', edgeIds: [] },
            { type: 'action', action: 'allow', edgeIds: [1] },
            { type: 'action', action: 'allow', edgeIds: ['e'], pattern: { client: { binary: 1 } } },
            { type: 'openInPolicy' },
            { type: 'export', format: 'exe', data: '' },
            { type: 'shell', command: 'rm -rf /' },
        ]) {
            expect(isWebviewMessage(bad)).toBe(false);
        }
    });

    it('knows snapshots and deltas from the extension', () => {
        expect(isExtensionMessage({ type: 'graph', graph: { hosts: [], edges: [] } })).toBe(true);
        expect(isExtensionMessage({ type: 'delta', edges: [], annotations: {} })).toBe(true);
        expect(isExtensionMessage({ type: 'delta', edges: 'x' })).toBe(false);
        expect(isExtensionMessage({ type: 'other' })).toBe(false);
    });
});
