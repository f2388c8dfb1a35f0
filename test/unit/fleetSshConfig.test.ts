// Named fleet* because this engineer's test files share that prefix; covers agent/remote/sshConfig.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jumpHosts } from '../../agent/remote/jump';
import { listHosts, resolveHost } from '../../agent/remote/sshConfig';

const dir = mkdtempSync(join(tmpdir(), 'palisade-sshcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, 'config');
mkdirSync(join(dir, 'conf.d'));
writeFileSync(
    join(dir, 'conf.d', 'lab.conf'),
    ['Host db', '    HostName 10.77.0.4', '    Port 2204', ''].join('\n'),
);
writeFileSync(
    join(dir, 'conf.d', 'jumpy-only.inc'),
    ['    User jumper', 'Host db', '    User leaked', ''].join('\n'),
);
writeFileSync(
    config,
    [
        // At the top, outside any Host block: applies to every host.
        `Include ${dir}/conf.d/*.conf`,
        'Host web api',
        '    HostName 10.77.0.2',
        '    Port 2202',
        '    User deploy',
        '    IdentityFile ~/.ssh/lab_%h',
        '    IdentitiesOnly yes',
        `    UserKnownHostsFile ${dir}/known_hosts ${dir}/known_hosts2`,
        '    StrictHostKeyChecking accept-new',
        `    GlobalKnownHostsFile ${dir}/ssh_known_hosts`,
        'Host nofiles',
        '    UserKnownHostsFile none',
        '    GlobalKnownHostsFile none',
        'Host jumpy',
        '    ProxyJump bastion',
        // Inside a Host block: only for hosts that block matches (ssh_config(5)).
        `Include ${dir}/conf.d/jumpy-only.inc`,
        '    Port 2299',
        'Host *.example !skip.example',
        '    User pattern',
        'Host *',
        '    User fallback',
        '',
    ].join('\n'),
);

describe('resolveHost', () => {
    it('follows an Include inside a Host block only for hosts that block matches', () => {
        expect(resolveHost('jumpy', config)).toMatchObject({ user: 'jumper', port: 2299 });
        // Neither the included Host db block nor the lines after the Include leak out.
        expect(resolveHost('db', config)).toMatchObject({ user: 'fallback', port: 2204 });
    });

    it('applies HostName, Port, User, IdentityFile with ~ and %h, and known_hosts files', () => {
        const t = resolveHost('web', config);
        expect(t).toMatchObject({
            alias: 'web',
            hostName: '10.77.0.2',
            port: 2202,
            user: 'deploy',
            identityFiles: [join(homedir(), '.ssh', 'lab_10.77.0.2')],
            identityFilesExplicit: true,
            identitiesOnly: true,
            userKnownHostsFiles: [`${dir}/known_hosts`, `${dir}/known_hosts2`],
            globalKnownHostsFiles: [`${dir}/ssh_known_hosts`],
            strictHostKeyChecking: 'accept-new',
            configFile: config,
        });
        expect(t.proxyJump).toBeUndefined();
    });

    it('falls back to the alias as host name, port 22, ssh default keys and ask', () => {
        const t = resolveHost('plain', config);
        expect(t).toMatchObject({ hostName: 'plain', port: 22, user: 'fallback' });
        expect(t.identityFilesExplicit).toBe(false);
        expect(t.identityFiles).toContain(join(homedir(), '.ssh', 'id_ed25519'));
        expect(t.userKnownHostsFiles).toContain(join(homedir(), '.ssh', 'known_hosts'));
        expect(t.globalKnownHostsFiles).toEqual([
            '/etc/ssh/ssh_known_hosts',
            '/etc/ssh/ssh_known_hosts2',
        ]);
        expect(t.strictHostKeyChecking).toBe('ask');
    });

    it('reads known_hosts file lists of none as no file at all', () => {
        const t = resolveHost('nofiles', config);
        expect(t.userKnownHostsFiles).toEqual([]);
        expect(t.globalKnownHostsFiles).toEqual([]);
    });

    it('follows Include with wildcards', () => {
        expect(resolveHost('db', config)).toMatchObject({ hostName: '10.77.0.4', port: 2204 });
    });

    it('keeps ProxyJump so that connecting can refuse it by name', () => {
        expect(resolveHost('jumpy', config).proxyJump).toBe('bastion');
    });

    it('names the file when the config cannot be read', () => {
        expect(() => resolveHost('web', join(dir, 'missing'))).toThrow(/missing/);
    });
});

describe('jumpHosts', () => {
    it('resolves each ProxyJump hop from the same config, with user@host:port overrides', () => {
        const t = { ...resolveHost('web', config), proxyJump: 'ops@db:2300,api' };
        expect(jumpHosts(t).map((h) => `${h.user}@${h.hostName}:${h.port}`)).toEqual([
            'ops@10.77.0.4:2300',
            'deploy@10.77.0.2:2202',
        ]);
    });

    it('refuses a hop that has its own ProxyJump, naming the target', () => {
        const t = { ...resolveHost('web', config), proxyJump: 'jumpy' };
        expect(() => jumpHosts(t)).toThrow(/web: jump host jumpy/);
    });
});

describe('listHosts', () => {
    it('lists concrete aliases, skipping patterns and negations, including included files', () => {
        expect(listHosts(config)).toEqual(['db', 'web', 'api', 'nofiles', 'jumpy']);
    });
});
