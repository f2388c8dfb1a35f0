import { describe, expect, it } from 'vitest';
import { Fleet } from '../../agent/fleet/fleet';
import type { AgentStatus, FleetGraph, HostLink, LinksChangedParams } from '../../agent/protocol';
import type { AgentClient, Disposable } from '../../agent/remote/agentClient';
import { RemoteError } from '../../agent/remote/errors';
import { processOn } from '../fixtures/identities';

// An in-memory AgentClient: this suite is about Fleet's bookkeeping, not the transport
// (test/root/ssh.test.ts covers that with a real sshd).
class MemoryClient implements AgentClient {
    private closeCbs: ((reason?: Error) => void)[] = [];
    private notify: ((p: LinksChangedParams) => void) | undefined;
    constructor(
        readonly host: string,
        private readonly st: AgentStatus,
        private readonly ls: HostLink[],
        private readonly failStatus = false,
    ) {}
    async status() {
        if (this.failStatus) throw new RemoteError('timeout', this.host, `${this.host}: timed out`);
        return this.st;
    }
    async flows() {
        return [];
    }
    async links() {
        return this.ls;
    }
    async subscribe(cb: (p: LinksChangedParams) => void): Promise<Disposable> {
        this.notify = cb;
        return { dispose: () => (this.notify = undefined) };
    }
    push(links: HostLink[]) {
        this.notify?.({ host: this.st.host, links });
    }
    async applyPolicy(): Promise<never> {
        throw new Error('not used by Fleet');
    }
    async replay(): Promise<never> {
        throw new Error('not used by Fleet');
    }
    async alerts() {
        return [];
    }
    async audit() {
        return [];
    }
    onAlert(): Disposable {
        return { dispose: () => undefined };
    }
    onAudit(): Disposable {
        return { dispose: () => undefined };
    }
    close() {}
    drop(reason: Error) {
        for (const cb of this.closeCbs) cb(reason);
    }
    onClose(cb: (reason?: Error) => void): Disposable {
        this.closeCbs.push(cb);
        return { dispose: () => undefined };
    }
}

function status(host: string, address: string): AgentStatus {
    return {
        protocolVersion: 1,
        version: 't',
        host,
        zone: 'lab',
        addresses: [address],
        cgroup: '/',
        pinDir: '/',
        health: 'ok',
        problems: [],
        attached: [],
        startedAt: 0,
        counters: { events: 0, lostEvents: 0, identityMisses: 0, flows: 0, links: 0 },
    };
}

const egress: HostLink = {
    key: 'e1',
    host: 'web',
    direction: 'egress',
    protocol: 'tcp',
    local: processOn('web', '/usr/sbin/nginx', { user: 'www', uid: 33 }),
    remoteAddress: '10.0.0.3',
    port: 3000,
    count: 1,
    firstSeen: 1,
    lastSeen: 1,
};

function nextGraph(fleet: Fleet): Promise<FleetGraph> {
    return new Promise((resolve) => {
        const sub = fleet.onGraph((g) => {
            sub.dispose();
            resolve(g);
        });
    });
}

describe('Fleet', () => {
    it('lists hosts that failed to connect or to answer as unreachable and still draws the rest', async () => {
        const fleet = new Fleet({ debounceMs: 5 });
        fleet.addUnreachable(
            'db',
            new RemoteError('unreachable', 'db', 'db: cannot reach 10.0.0.4:22'),
        );
        await fleet.add('web', new MemoryClient('web', status('web', '10.0.0.2'), [egress]));
        await fleet.add('api', new MemoryClient('api', status('api', '10.0.0.3'), [], true));
        const g = fleet.graph();
        expect(g.hosts.map((h) => `${h.name}:${h.health}`).sort()).toEqual([
            'api:unreachable',
            'db:unreachable',
            'web:ok',
        ]);
        expect(g.hosts.find((h) => h.name === 'api')?.problems).toEqual(['api: timed out']);
        expect(g.edges).toHaveLength(1);
        fleet.dispose();
    });

    it('applies linksChanged notifications and emits one debounced graph per burst', async () => {
        const fleet = new Fleet({ debounceMs: 20 });
        const web = new MemoryClient('web', status('web', '10.0.0.2'), [egress]);
        await fleet.add('web', web);
        await nextGraph(fleet);

        let graphs = 0;
        fleet.onGraph(() => (graphs += 1));
        const next = nextGraph(fleet);
        web.push([{ ...egress, count: 5 }]);
        web.push([{ ...egress, count: 7 }]);
        const g = await next;
        expect(g.edges[0]?.count).toBe(7);
        await new Promise((r) => setTimeout(r, 50));
        expect(graphs).toBe(1);
        fleet.dispose();
    });

    it('marks a host unreachable with the reason when its session drops', async () => {
        const fleet = new Fleet({ debounceMs: 5 });
        const web = new MemoryClient('web', status('web', '10.0.0.2'), [egress]);
        await fleet.add('web', web);
        const next = nextGraph(fleet);
        web.drop(new RemoteError('closed', 'web', 'web: ssh connection closed'));
        const g = await next;
        expect(g.hosts).toEqual([
            {
                name: 'web',
                addresses: ['10.0.0.2'],
                health: 'unreachable',
                problems: ['web: ssh connection closed'],
            },
        ]);
        fleet.dispose();
    });
});
