// Paths that change with every build of the same program normalize to one stable key; the
// exact path stays as evidence, and a second build is flagged, not merged silently.
import { describe, expect, it } from 'vitest';
import { BuildHistory, stablePath } from '../../agent/identity/stable';

describe('stable program keys', () => {
    it.each([
        [
            '/snap/firefox/4136/usr/lib/firefox/firefox',
            '/snap/firefox/current/usr/lib/firefox/firefox',
        ],
        ['/snap/hello/x1/bin/hello', '/snap/hello/current/bin/hello'],
        [
            '/nix/store/0c9z3kvxdbkx6g8w1j8vk6q5w0m6l0ra-python3-3.11.6/bin/python3.11',
            '/nix/store/*-python3/bin/python3.11',
        ],
        [
            '/nix/store/7zr1bx9z3kvxdbkx6g8w1j8vk6q5w0m6-hello/bin/hello',
            '/nix/store/*-hello/bin/hello',
        ],
        ['/tmp/.mount_FooAppQx7Zk2/usr/bin/fooapp', '/tmp/.mount_FooApp*/usr/bin/fooapp'],
        ['/root/.nvm/versions/node/v20.11.1/bin/node', '/root/.nvm/versions/node/*/bin/node'],
        ['/opt/node-v20.11.1-linux-x64/bin/node', '/opt/node-*/bin/node'],
        ['/opt/idea-IU-233.11799.241/bin/idea', '/opt/idea-IU-*/bin/idea'],
        [
            '/home/dev/.vscode-server/bin/8b3775030ed1a69b13e4f4c628c612102e30a681/node',
            '/home/dev/.vscode-server/bin/*/node',
        ],
        ['/usr/sbin/nginx (deleted)', '/usr/sbin/nginx'],
    ])('%s → %s', (exact, key) => {
        expect(stablePath(exact)).toEqual({ key, build: exact });
    });

    it.each([
        '/usr/bin/python3.11',
        '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
        '/usr/lib/gcc/x86_64-linux-gnu/12/cc1',
        '/usr/bin/curl',
        '/snap/bin/firefox',
    ])('leaves %s alone', (exact) => {
        expect(stablePath(exact)).toEqual({ key: exact });
    });

    it('keeps programs with different names apart after normalization', () => {
        expect(stablePath('/opt/foo-1.2/bin/foo').key).not.toBe(
            stablePath('/opt/bar-1.2/bin/foo').key,
        );
        expect(stablePath('/snap/a/1/bin/x').key).not.toBe(stablePath('/snap/b/1/bin/x').key);
    });
});

describe('build history', () => {
    it('flags a new build of a known program with the build first seen', () => {
        const h = new BuildHistory();
        const a = stablePath('/snap/hello/41/bin/hello');
        const b = stablePath('/snap/hello/42/bin/hello');
        expect(a.key).toBe(b.key);
        expect(h.observe(a.key, a.build ?? a.key)).toBeUndefined();
        expect(h.observe(a.key, a.build ?? a.key)).toBeUndefined();
        expect(h.observe(b.key, b.build ?? b.key)).toBe('/snap/hello/41/bin/hello');
    });

    it('flags a process still running a replaced executable', () => {
        const h = new BuildHistory();
        h.observe('/usr/sbin/nginx', '/usr/sbin/nginx');
        expect(h.observe('/usr/sbin/nginx', '/usr/sbin/nginx (deleted)')).toBe('/usr/sbin/nginx');
    });

    it('stays bounded', () => {
        const h = new BuildHistory(2);
        h.observe('a', '1');
        h.observe('b', '1');
        h.observe('c', '1');
        expect(h.observe('a', '2')).toBeUndefined();
    });
});
