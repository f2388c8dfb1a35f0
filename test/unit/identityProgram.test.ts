// What program a process is, from its exec facts: interpreters are named with their script,
// module, jar or class; inline code is `(inline)`; wrappers that exec are the final binary.
import { describe, expect, it } from 'vitest';
import { programOf } from '../../agent/identity/program';
import { identityKey } from '../../agent/fleet/identity';
import type { ProcessIdentity } from '../../agent/protocol';

const facts = (
    exe: string,
    args: string[],
    extra: Partial<Parameters<typeof programOf>[0]> = {},
) => ({
    exe,
    filename: exe,
    cwd: '/srv/app',
    args,
    viaInterpreter: false,
    ...extra,
});

describe('programOf', () => {
    it.each([
        [
            ['node', '--require', 'dotenv/config', 'server.js'],
            '/usr/bin/node',
            '/srv/app/server.js',
        ],
        [['node', '-e', 'x'], '/usr/bin/node', '(inline)'],
        // Inline code attached to its option must not borrow the next argument's name.
        [['node', '--eval=x', 'allowed.js'], '/usr/bin/node', '(inline)'],
        [['python3', '-cimport socket', '/opt/allowed.py'], '/usr/bin/python3.11', '(inline)'],
        [['python3', '-u', '-W', 'ignore', '/opt/job.py'], '/usr/bin/python3.11', '/opt/job.py'],
        [['python3', '-m', 'http.server'], '/usr/bin/python3.11', 'module:http.server'],
        [['python3', '-uc', 'import os'], '/usr/bin/python3.11', '(inline)'],
        [['bash', '-ec', 'echo'], '/usr/bin/bash', '(inline)'],
        [['bash', './run.sh', 'arg'], '/usr/bin/bash', '/srv/app/run.sh'],
        [['ruby', '-I', 'lib', 'app.rb'], '/usr/bin/ruby3.1', '/srv/app/app.rb'],
        [['perl', '-MStrict', 'tool.pl'], '/usr/bin/perl', '/srv/app/tool.pl'],
        [
            ['java', '-Xmx1g', '-jar', 'app.jar', '--port', '1'],
            '/usr/lib/jvm/j/bin/java',
            '/srv/app/app.jar',
        ],
        [
            ['java', '-cp', 'lib/*', 'com.example.Main'],
            '/usr/lib/jvm/j/bin/java',
            'class:com.example.Main',
        ],
        [
            ['java', '-m', 'app/com.example.Main'],
            '/usr/lib/jvm/j/bin/java',
            'module:app/com.example.Main',
        ],
    ])('%j runs script %s', (args, exe, script) => {
        expect(programOf(facts(exe, args)).script).toBe(script);
    });

    it('names a binary exec-ed by a shell wrapper by that binary, with no script', () => {
        // `#!/bin/sh\nexec /usr/bin/curl ...`: the second exec replaced the shell.
        expect(programOf(facts('/usr/bin/curl', ['/usr/bin/curl', '-s', 'x']))).toEqual({
            binary: '/usr/bin/curl',
        });
    });

    it('names a #! script by its interpreter and the script path', () => {
        const p = programOf(
            facts('/usr/bin/dash', ['/bin/sh', './wrap.sh'], {
                filename: './wrap.sh',
                viaInterpreter: true,
            }),
        );
        expect(p).toEqual({ binary: '/usr/bin/dash', script: '/srv/app/wrap.sh' });
    });

    it('keeps the symlink name as binary and the mapped file as exe', () => {
        expect(
            programOf(
                facts('/usr/bin/python3.11', ['python3', 'a.py'], { filename: '/usr/bin/python3' }),
            ),
        ).toEqual({
            binary: '/usr/bin/python3',
            exe: '/usr/bin/python3.11',
            script: '/srv/app/a.py',
        });
    });

    it('does not treat a non-interpreter argument as a script', () => {
        expect(programOf(facts('/usr/bin/curl', ['curl', 'http://x'])).script).toBeUndefined();
    });

    it('makes two node processes running different scripts different identities', () => {
        const id = (script: string): ProcessIdentity => ({
            kind: 'process',
            zone: 'lab',
            host: 'api',
            ...programOf(facts('/usr/bin/node', ['node', script])),
            user: 'app',
            uid: 1000,
            unit: 'api.service',
            cgroup: '/api.service',
        });
        expect(identityKey(id('a.js'))).not.toBe(identityKey(id('b.js')));
        expect(identityKey(id('a.js'))).toBe(identityKey(id('./a.js')));
    });
});
