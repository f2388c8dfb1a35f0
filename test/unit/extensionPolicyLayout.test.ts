import { describe, expect, it } from 'vitest';
import { linkAtLine, policyLayout } from '../../extension/model/policyLayout';
import { missingPrereqs, parsePrereqs } from '../../agent/remote/deploy/prereqs';

const FILE = `# cache policy
apiVersion: palisade.dev/v1
kind: Policy
app: cache
owner: ops@example.com
mode: monitor # not yet
members:
  - host: db
links:
  # the batch job
  - id: batch-to-redis
    client: { host: api, unit: batch.service }
    server:
      host: db
      binary: /usr/bin/redis-server
    ports: [6379]
    protocol: tcp
    state: alert
  - id: api-to-redis
    client: { host: api }
    server: { host: db }
    ports: [6379]
    protocol: tcp
    state: allowed
`;

describe('policy file layout for CodeLens and navigation', () => {
    it('places each link on its id line and spans its fields', () => {
        const layout = policyLayout(FILE);
        expect(layout.mode?.line).toBe(5);
        expect(layout.links.map((l) => [l.id, l.line])).toEqual([
            ['batch-to-redis', 10],
            ['api-to-redis', 18],
        ]);
        expect(layout.links[0]?.fields.server).toMatchObject({ line: 12, endLine: 14 });
    });

    it('finds the link under a line, for hovers', () => {
        const layout = policyLayout(FILE);
        expect(linkAtLine(layout, 13)?.id).toBe('batch-to-redis');
        expect(linkAtLine(layout, 20)?.id).toBe('api-to-redis');
        expect(linkAtLine(layout, 2)).toBeUndefined();
    });
});

describe('deploy prerequisites', () => {
    const good = [
        'uid=0',
        'kernel=6.18.0-1-amd64',
        'arch=x86_64',
        'btf=yes',
        'cgroup2=/sys/fs/cgroup/unified',
        'bpffs=',
        'node=/usr/bin/node',
        'nodeVersion=v20.20.2',
        'systemd=no',
        'libbpf=/usr/lib/x86_64-linux-gnu/libbpf.so.1',
    ].join('\n');

    it('accepts a host that has everything (bpffs is mounted by the installer)', () => {
        expect(missingPrereqs(parsePrereqs(good))).toEqual([]);
    });

    it('names every missing piece, not just the first', () => {
        const bad = parsePrereqs(
            'uid=1000\nkernel=5.4.0\narch=x86_64\nbtf=no\ncgroup2=\nnode=/usr/bin/node\nnodeVersion=v18.1.0\nlibbpf=',
        );
        const missing = missingPrereqs(bad).join('\n');
        expect(missing).toMatch(/root/);
        expect(missing).toMatch(/kernel 5\.4\.0 is older than 5\.8/);
        expect(missing).toMatch(/BTF/);
        expect(missing).toMatch(/cgroup v2/);
        expect(missing).toMatch(/libbpf/);
        expect(missing).toMatch(/Node\.js v18\.1\.0/);
    });
});
