// Replay predicts what the kernel does with recorded flows: it matches a process by the
// program hashes the kernel computed at exec (argv[1] only), not by the identity's names.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Datapath } from '../../agent/bpf/datapath';
import { ExecFacts, kernelProgramOf, programOf } from '../../agent/identity/program';
import { createLogger } from '../../agent/log';
import { PolicyEngine } from '../../agent/policy/engine';
import { fnv64, kernelHashes, programHash } from '../../agent/policy/hash';
import type { Policy } from '../../agent/policy/types';
import type { FlowRecord } from '../../agent/protocol';

const NODE = '/usr/bin/node';

const exec = (args: string[], over: Partial<ExecFacts> = {}): ExecFacts => ({
    exe: NODE,
    filename: NODE,
    cwd: '/srv',
    args,
    viaInterpreter: false,
    ...over,
});

describe('kernelProgramOf: what bpf/program.bpf.h hashes', () => {
    it.each([
        [['node', '/srv/api.js'], '/srv/api.js'],
        [['node', 'api.js'], '/srv/api.js'],
        // One leading "./" is dropped; nothing else is normalized.
        [['node', './api.js'], '/srv/api.js'],
        [['node', '../srv/api.js'], '/srv/../srv/api.js'],
        // An option first: whatever follows is not a script to the kernel.
        [['node', '-r', 'x', 'api.js'], undefined],
        [['node', '--require=x', 'api.js'], undefined],
        [['node', '', 'api.js'], undefined],
        [['node'], undefined],
        // No interpreter grammar: any program's argv[1] counts.
        [['curl', 'http://x'], '/srv/http://x'],
    ])('%j has argv[1] script %s', (args, arg) => {
        expect(kernelProgramOf(exec(args)).arg).toBe(arg);
    });

    it('joins a relative executed path to the working directory, "/" without doubling', () => {
        const k = kernelProgramOf(exec(['./tool'], { filename: './tool', cwd: '/' }));
        expect(k).toEqual({ file: '/tool', exe: NODE });
    });

    it('hashes a #! file as interpreter + file and interpreter alone', () => {
        const k = kernelProgramOf(
            exec(['/bin/sh', './job.sh'], {
                exe: '/usr/bin/dash',
                filename: './job.sh',
                viaInterpreter: true,
            }),
        );
        expect(k).toEqual({ file: '/srv/job.sh', exe: '/usr/bin/dash', shebang: true });
        expect(kernelHashes(k)).toEqual([
            programHash('/usr/bin/dash', '/srv/job.sh'),
            fnv64('/usr/bin/dash'),
            0n,
            0n,
        ]);
    });

    it('orders hashes as pal_proc.progs: file+argv1, exe+argv1, file, exe', () => {
        const k = kernelProgramOf(exec(['node', 'a.js'], { filename: '/usr/local/bin/node' }));
        expect(kernelHashes(k)).toEqual([
            programHash('/usr/local/bin/node', '/srv/a.js'),
            programHash(NODE, '/srv/a.js'),
            fnv64('/usr/local/bin/node'),
            fnv64(NODE),
        ]);
        expect(kernelHashes(kernelProgramOf(exec(['node', '-e', 'x'])))).toEqual([
            0n,
            0n,
            fnv64(NODE),
            fnv64(NODE),
        ]);
    });
});

describe('replay', () => {
    let dir: string;
    let engine: PolicyEngine;

    const policy: Policy = {
        apiVersion: 'palisade.dev/v1',
        kind: 'Policy',
        app: 'api',
        owner: 'dev@example.com',
        mode: 'monitor',
        members: [{ host: 'api', unit: 'api.service' }],
        links: [
            {
                id: 'api-to-redis',
                client: { host: 'api', unit: 'api.service', binary: NODE, script: '/srv/api.js' },
                server: { cidr: '10.213.0.4/32' },
                ports: [6379],
                protocol: 'tcp',
                state: 'allowed',
            },
        ],
    };

    let nextId = 1;
    const flowOf = (args: string[]): FlowRecord => {
        const facts = exec(args);
        return {
            id: nextId++,
            host: 'api',
            direction: 'egress',
            protocol: 'tcp',
            local: {
                kind: 'process',
                zone: 'lab',
                host: 'api',
                ...programOf(facts),
                user: 'app',
                uid: 1000,
                unit: 'api.service',
                cgroup: '/api.service',
            },
            pid: nextId,
            startNs: '1',
            remoteAddress: '10.213.0.4',
            port: 6379,
            count: 1,
            firstSeen: 1000,
            lastSeen: 1000,
            kernelProgram: kernelProgramOf(facts),
        };
    };

    /** An engine for the api host, whose unit api.service is cgroup 20. */
    const engineWith = (datapath: Datapath) =>
        new PolicyEngine({
            stateDir: dir,
            host: 'api',
            zone: 'lab',
            datapath,
            hostCgroups: () => [{ id: 20n, path: '/api.service', unit: 'api.service' }],
            cgroupIdOf: (p) => (p === '/api.service' ? 20n : undefined),
            dnsAddresses: () => [],
            log: createLogger('test', 'error'),
            onAlert: () => undefined,
            onAudit: () => undefined,
        });

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-replay-'));
        // Replay compiles and evaluates in userspace; it never touches the datapath.
        engine = engineWith({} as Datapath);
    });

    afterEach(() => {
        engine.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('predicts the refusal of `node -r x api.js`, which its identity names api.js', () => {
        const plain = flowOf(['node', '/srv/api.js']);
        const preload = flowOf(['node', '-r', 'x', 'api.js']);
        // Both look like the allowed program to a person...
        expect(preload.local).toMatchObject({ binary: NODE, script: '/srv/api.js' });

        const r = engine.replay({ policy, hostAddresses: {} }, [plain, preload]);

        // ...but the kernel names the second by no script, so enforce refuses it.
        expect(r.evaluated).toBe(2);
        expect(r.dropped.map((d) => d.flow.id)).toEqual([preload.id]);
        expect(r.dropped[0]).toMatchObject({ verdict: 'deny', rule: 'default-deny' });
        expect(r.dropped[0]?.note).toMatch(/only argv\[1\] names one/);
    });

    it('predicts a refusal when a flow carries no kernel program (only any-program rules)', () => {
        const { kernelProgram: _, ...unnamed } = flowOf(['node', '/srv/api.js']);
        const r = engine.replay({ policy, hostAddresses: {} }, [unnamed]);
        expect(r.dropped).toHaveLength(1);
    });

    it('warns when a file switches an enforced app back to monitor', () => {
        const swaps: unknown[] = [];
        const applying = engineWith({
            swapPolicy: (...args: unknown[]) => swaps.push(args),
            namePatterns: () => [],
        } as unknown as Datapath);
        const enforced = { ...policy, mode: 'enforce' as const };
        expect(
            applying.apply({ policy: enforced, source: 'f', hostAddresses: {} }).warnings,
        ).toEqual([]);
        const back = applying.apply({
            policy: { ...policy, mode: 'monitor' },
            source: 'f',
            hostAddresses: {},
            dryRun: true,
        });
        expect(back.warnings).toEqual([
            'api: mode enforce → monitor, as the file says: nothing of this app is dropped any more',
        ]);
        expect(swaps).toHaveLength(1);
        applying.stop();
    });
});
