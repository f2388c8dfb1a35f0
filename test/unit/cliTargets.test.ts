// Which targets the CLI picks and how it reads their ssh config; agent/cli/targets.ts and
// hasHostEntry in agent/remote/sshConfig.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../agent/cli/args';
import { selectTargets } from '../../agent/cli/targets';
import { hasHostEntry } from '../../agent/remote/sshConfig';

const dir = mkdtempSync(join(tmpdir(), 'palisade-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const missing = join(dir, 'missing_config');
const lab = join(dir, 'lab_ssh_config');
writeFileSync(lab, 'Host web\n    HostName 10.77.0.2\n');

describe('an ssh config that cannot be read', () => {
    it('points to the lab when the lab is up', () => {
        expect(() => selectTargets({ host: 'web', sshConfig: missing }, lab)).toThrow(
            `cannot read ssh config ${missing} (ENOENT); the lab is up: use --lab, ` +
                `or --ssh-config ${lab}`,
        );
    });

    it('asks whether the lab is up when it is the lab config', () => {
        expect(() => selectTargets({ host: 'web', sshConfig: missing }, missing)).toThrow(
            '; is the lab up? (palisade lab up)',
        );
    });

    it('is reported when the targets are chosen, before any host is tried', () => {
        const noLab = join(dir, 'no_lab');
        expect(() => selectTargets({ host: 'a,b,c', sshConfig: missing }, noLab)).toThrow(
            new RegExp(`^cannot read ssh config ${missing} \\(ENOENT\\)$`),
        );
    });
});

describe('target options', () => {
    it('that contradict each other are a usage error', () => {
        expect(() => selectTargets({ host: 'web', lab: true }, lab)).toThrow(UsageError);
        expect(() => selectTargets({ host: ' , ' }, lab)).toThrow(UsageError);
    });
});

describe('hasHostEntry', () => {
    const config = join(dir, 'config');
    writeFileSync(
        config,
        ['Host web api', 'Host *.example !skip.example', 'Host *', '    User x', ''].join('\n'),
    );

    it('is true for a name a Host block other than Host * matches', () => {
        expect(hasHostEntry('api', config)).toBe(true);
        expect(hasHostEntry('WEB', config)).toBe(true);
        expect(hasHostEntry('db.example', config)).toBe(true);
    });

    it('is false for a name that only Host * or a negated pattern covers', () => {
        expect(hasHostEntry('bogus', config)).toBe(false);
        expect(hasHostEntry('skip.example', config)).toBe(false);
    });
});
