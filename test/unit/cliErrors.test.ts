// The CLI's answers to a user's mistakes, from the bundled CLI run as a user would: one line
// that names the place and what to do, the exit status the help promises, nothing changed.
// No command here reaches an agent: each fails before connecting, or has no key to offer.
import { spawnSync } from 'node:child_process';
import {
    copyFileSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'palisade-cli-'));
const home = join(dir, 'home');
const work = join(dir, 'work');
const CLI = join(dir, 'cli.js');
const POLICY = 'db.palisade.yaml';
const FIXTURE = join(__dirname, '../fixtures/policy', POLICY);

beforeAll(async () => {
    mkdirSync(home);
    mkdirSync(work);
    copyFileSync(FIXTURE, join(work, POLICY));
    // Bundled here like scripts/build.mjs does, so the test never runs a stale dist/cli.js.
    await build({
        entryPoints: [join(__dirname, '../../agent/cli/main.ts')],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        external: ['koffi', 'vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
        outfile: CLI,
        logLevel: 'silent',
    });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
    const base = { ...process.env };
    // No ssh agent and no debug lines: the messages are all that reaches stderr.
    delete base.SSH_AUTH_SOCK;
    delete base.PALISADE_DEBUG;
    const r = spawnSync(process.execPath, [CLI, ...args], {
        cwd: work,
        env: { ...base, HOME: home, PALISADE_SOCKET: join(dir, 'no.sock') },
        encoding: 'utf8',
        timeout: 20_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The files in the work folder with their contents: what a failed command must not change. */
function snapshot(): Record<string, string> {
    const files = readdirSync(work).sort();
    return Object.fromEntries(files.map((f) => [f, readFileSync(join(work, f), 'utf8')]));
}

function sshConfig(name: string, lines: string[]): string {
    const file = join(dir, name);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
}

describe('a policy file that is not there', () => {
    it.each([
        ['policy', 'apply', 'nope.yaml'],
        ['policy', 'replay', 'nope.yaml'],
        ['policy', 'allow', 'nope.yaml', '--link', 'x'],
        ['policy', 'snooze', 'nope.yaml', '--all'],
        ['policy', 'deny', 'nope.yaml', '--link', 'x'],
        ['policy', 'alert', 'nope.yaml', '--link', 'x'],
        ['mode', 'enforce', '--app', 'db', '--file', 'nope.yaml'],
        ['mode', 'monitor', '--app', 'db', '--file', 'nope.yaml'],
    ])('is named in one line by %s %s, which exits 1 and creates nothing', (...args) => {
        const before = snapshot();
        const r = cli(args);
        expect(r.stderr).toBe('palisade: nope.yaml: no such policy file\n');
        expect(r.code).toBe(1);
        expect(snapshot()).toEqual(before);
    });

    it('a directory given as one is called that', () => {
        const r = cli(['policy', 'apply', home]);
        expect(r.stderr).toBe(`palisade: ${home}: a directory, not a policy file\n`);
    });

    it('mode without --file says where it looked and how to name or write the file', () => {
        const r = cli(['mode', 'enforce', '--app', 'nosuchapp']);
        expect(r.code).toBe(1);
        expect(r.stderr.split('\n')).toHaveLength(2);
        expect(r.stderr).toContain(`looked for ${join(work, 'nosuchapp.palisade.yaml')}`);
        expect(r.stderr).toContain('--file FILE');
        expect(r.stderr).toContain('palisade policy infer --app nosuchapp');
        expect(r.stderr).not.toContain('ENOENT');
    });

    it('keeps a hostile file name as text', () => {
        const r = cli(['policy', 'apply', 'evil\u001b[2J\u202e.yaml']);
        expect(r.stderr).toBe('palisade: evil\\u001b[2J\\u202e.yaml: no such policy file\n');
    });
});

describe('link ids that the file does not have', () => {
    it('are reported at the links: key with the ids there are, and the file is unchanged', () => {
        const before = snapshot();
        const r = cli(['policy', 'allow', POLICY, '--link', 'no-such-link']);
        expect(r.stderr).toBe(
            `palisade: ${POLICY}:11:1: links: no link with id "no-such-link"; ` +
                'links in the file: api-to-redis, intruder-to-redis\n',
        );
        expect(r.code).toBe(1);
        expect(snapshot()).toEqual(before);
    });

    it('in --except stop --all before any link is set', () => {
        const before = snapshot();
        const r = cli(['policy', 'allow', POLICY, '--all', '--except', 'api-to-rediss']);
        expect(r.stderr).toContain('no link with id "api-to-rediss"');
        expect(r.code).toBe(1);
        expect(snapshot()).toEqual(before);
    });
});

describe('ssh targets', () => {
    it('say once that the ssh config cannot be read, however many hosts are named', () => {
        const r = cli(['status', '--host', 'web,bogus,api,db']);
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`cannot read ssh config ${home}/.ssh/config (ENOENT)`);
        expect(r.code).toBe(1);
    });

    it('name the hosts of a given config when an alias has no Host entry there', () => {
        const config = sshConfig('listed_config', [
            'Host web',
            '    HostName 127.0.0.1',
            'Host api db',
            '    HostName 127.0.0.1',
            'Host *',
            '    User root',
        ]);
        const r = cli(['status', '--host', 'bogus', '--ssh-config', config]);
        expect(r.stderr).toBe(
            `palisade: bogus: no Host entry in ${config}; hosts there: web, api, db\n`,
        );
        expect(r.code).toBe(1);
    });

    it('list at most twelve hosts', () => {
        const names = Array.from({ length: 15 }, (_, i) => `h${i}`);
        const config = sshConfig(
            'long_config',
            names.map((n) => `Host ${n}`),
        );
        const r = cli(['status', '--host', 'bogus', '--ssh-config', config]);
        expect(r.stderr).toContain(
            'hosts there: h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11 and 3 more',
        );
    });

    it('connect to a name without a Host entry as ssh does, and say so when that fails', () => {
        // Only `Host *`: the config holds defaults, so a name is a hostname, as with ssh -F.
        const config = sshConfig('defaults_config', [
            'Host *',
            `    IdentityFile ${join(dir, 'no_key')}`,
            '    IdentitiesOnly yes',
        ]);
        const r = cli(['status', '--host', '127.0.0.1', '--ssh-config', config]);
        expect(r.stderr).toBe(
            `palisade: 127.0.0.1: no usable key (tried ${join(dir, 'no_key')}); 127.0.0.1 ` +
                `has no Host entry in ${config}, so it was taken as the hostname\n`,
        );
        expect(r.code).toBe(1);
    });
});

describe('usage errors', () => {
    it.each([
        [['status', '--hots', 'web'], 'unknown option --hots'],
        [['status', '-q'], 'unknown option -q'],
        [['flows', '--limit'], '--limit needs a value'],
        [['flows', '--limit', '--json'], '--limit needs a value'],
        [['flows', '--limit', 'many'], '--limit needs a positive integer'],
        [['status', '--json=yes'], '--json takes no value'],
        [['audit', '--since', 'yesterday'], '--since: "yesterday" is neither'],
        [['policy', 'replay', POLICY, '--since', 'yesterday'], '--since: "yesterday"'],
        [['policy', 'apply', POLICY, '--dryrun'], 'unknown option --dryrun'],
        [['status', '--host', 'web', '--local'], 'choose one of --host, --lab, --local'],
    ])('%j exits 2 with one plain line and the usage', (args, message) => {
        const r = cli(args);
        const [first, second] = r.stderr.split('\n');
        expect(first).toMatch(/^palisade: /);
        expect(first).toContain(message);
        expect(first).not.toMatch(/'|To specify/);
        expect(second).toBe('usage: palisade <command> [options]');
        expect(r.code).toBe(2);
    });

    it('keep a hostile option name as text', () => {
        const r = cli(['status', '--x\u001b[2J']);
        expect(r.stderr.split('\n')[0]).toBe('palisade: unknown option --x\\u001b[2J');
    });

    it('the help lists every exit status the commands use', () => {
        const r = cli(['--help']);
        expect(r.code).toBe(0);
        for (const code of [0, 1, 2, 3, 4])
            expect(r.stdout).toMatch(new RegExp(`^  ${code}  `, 'm'));
        expect(r.stdout).toMatch(/^ {2}3 {2}.*refused.*would drop/m);
        expect(r.stdout).toMatch(/^ {2}4 {2}.*degraded/m);
    });
});
