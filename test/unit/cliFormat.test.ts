import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../agent/cli/format';
import type { FlowRecord } from '../../agent/protocol';
import { processOn } from '../fixtures/identities';

describe('CLI flow lines', () => {
    it('show the DNS name of the remote address, with terminal controls taken out', () => {
        const flow: FlowRecord = {
            id: 1,
            host: 'web',
            direction: 'egress',
            protocol: 'tcp',
            local: processOn('web', '/usr/bin/curl'),
            pid: 42,
            startNs: '1',
            remoteAddress: '192.0.2.7',
            remoteName: { name: 'pay.example\u001b[2J\u202eevil' },
            port: 443,
            count: 3,
            firstSeen: 0,
            lastSeen: 0,
        };
        const line = formatFlow(flow);
        expect(line).toContain('192.0.2.7 (pay.example');
        expect(line).toContain('evil) :443/tcp ×3');
        expect(line).not.toMatch(/[\u001b\u202e]/);
    });
});
