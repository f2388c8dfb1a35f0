// Resolves host aliases the way `ssh` does, from the same files, so that a host that works
// in a terminal works in Palisade with the same key, port and known_hosts.
import { matchesPatternList } from './patterns';
import { readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import SSHConfig, { type Directive } from 'ssh-config';
import { RemoteError } from './errors';

export type StrictHostKeyChecking = 'yes' | 'ask' | 'accept-new' | 'no';

export interface SshTarget {
    /** The name the user typed or the config listed; used in every message. */
    alias: string;
    hostName: string;
    port: number;
    user: string;
    /** Absolute paths, in the order ssh tries them; may not exist. */
    identityFiles: string[];
    /** True when IdentityFile was given explicitly (ssh's defaults are tried otherwise). */
    identityFilesExplicit: boolean;
    identitiesOnly: boolean;
    userKnownHostsFiles: string[];
    /** Read like the user's files, never written: ssh appends only to the first user file. */
    globalKnownHostsFiles: string[];
    strictHostKeyChecking: StrictHostKeyChecking;
    /** Comma-separated jump hops, resolved from the same config when connecting. */
    proxyJump?: string;
    configFile: string;
}

export const DEFAULT_SSH_CONFIG = join(homedir(), '.ssh', 'config');

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const DEFAULT_USER_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
const MAX_INCLUDE_DEPTH = 16;

/**
 * Reads a config with its Include lines inlined (ssh-config does not follow them). Given the
 * alias being resolved, an Include inside a Host block is followed only when that block
 * matches the alias, as OpenSSH does; without one (listing hosts), every Include is.
 */
export function loadSshConfig(file: string, alias?: string): SSHConfig {
    return SSHConfig.parse(expandIncludes(resolve(file), 0, [], alias));
}

/** Concrete aliases (Host entries without wildcards or negation) in file order. */
export function listHosts(file: string = DEFAULT_SSH_CONFIG): string[] {
    const config = loadSshConfig(file);
    const hosts: string[] = [];
    for (const line of config) {
        if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
        for (const name of valueList(line.value)) {
            if (!/[*?!]/.test(name) && !hosts.includes(name)) hosts.push(name);
        }
    }
    return hosts;
}

/**
 * Whether a Host block other than `Host *` matches `alias`. ssh connects to a name without one
 * too, using the name as the hostname; in a config that lists hosts, that is mostly a typo.
 */
export function hasHostEntry(alias: string, file: string = DEFAULT_SSH_CONFIG): boolean {
    for (const line of loadSshConfig(file, alias)) {
        if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
        const patterns = valueList(line.value);
        if (patterns.every((p) => p === '*')) continue;
        if (matchesPatternList(patterns, alias)) return true;
    }
    return false;
}

export function resolveHost(alias: string, file: string = DEFAULT_SSH_CONFIG): SshTarget {
    const computed = loadSshConfig(file, alias).compute(alias, {
        ignoreCase: true,
        matchExec: false,
    });
    const one = (key: string): string | undefined => {
        const v = computed[key];
        return Array.isArray(v) ? v[0] : v;
    };
    const many = (key: string): string[] => {
        const v = computed[key];
        return v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);
    };

    const hostName = one('hostname')?.replace(/%h/g, alias) ?? alias;
    const portText = one('port') ?? '22';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RemoteError('config', alias, `${file}: host ${alias}: bad Port "${portText}"`);
    }
    const user = one('user') ?? userInfo().username;
    const tokens = { alias, hostName, port, user };

    const explicit = many('identityfile');
    const identityFiles = (
        explicit.length > 0 ? explicit : DEFAULT_IDENTITIES.map((n) => `~/.ssh/${n}`)
    ).map((f) => expandPath(f, tokens));
    // ssh_config(5): a list of files, or `none` for no file at all.
    const files = (key: string, defaults: string[]): string[] => {
        const given = many(key);
        if (given.length === 1 && given[0]!.toLowerCase() === 'none') return [];
        return (given.length > 0 ? given : defaults).map((f) => expandPath(f, tokens));
    };
    const userKnownHostsFiles = files('userknownhostsfile', DEFAULT_USER_KNOWN_HOSTS);
    const globalKnownHostsFiles = files('globalknownhostsfile', DEFAULT_GLOBAL_KNOWN_HOSTS);

    const proxyJump = one('proxyjump');
    return {
        alias,
        hostName,
        port,
        user,
        identityFiles,
        identityFilesExplicit: explicit.length > 0,
        identitiesOnly: yes(one('identitiesonly')),
        userKnownHostsFiles,
        globalKnownHostsFiles,
        strictHostKeyChecking: strictness(one('stricthostkeychecking')),
        ...(proxyJump && proxyJump.toLowerCase() !== 'none' ? { proxyJump } : {}),
        configFile: file,
    };
}

function yes(value: string | undefined): boolean {
    return value?.toLowerCase() === 'yes';
}

function strictness(value: string | undefined): StrictHostKeyChecking {
    switch (value?.toLowerCase()) {
        case 'yes':
            return 'yes';
        case 'accept-new':
            return 'accept-new';
        case 'no':
        case 'off':
            return 'no';
        default:
            return 'ask';
    }
}

interface Tokens {
    alias: string;
    hostName: string;
    port: number;
    user: string;
}

/** `~` and the ssh_config(5) tokens that make sense for file paths. */
function expandPath(path: string, t: Tokens): string {
    const home = homedir();
    const expanded = path.replace(/%([%dhnpru])/g, (_m, c: string) => {
        const map: Record<string, string> = {
            '%': '%',
            d: home,
            h: t.hostName,
            n: t.alias,
            p: String(t.port),
            r: t.user,
            u: userInfo().username,
        };
        return map[c] ?? '';
    });
    if (expanded === '~') return home;
    if (expanded.startsWith('~/')) return join(home, expanded.slice(2));
    return expanded;
}

function valueList(value: Directive['value']): string[] {
    if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
    return value.map((v) => v.val);
}

function expandIncludes(file: string, depth: number, stack: string[] = [], alias?: string): string {
    // ssh itself only stops at a depth limit; naming the cycle tells the user what to fix.
    const seen = stack.indexOf(file);
    if (seen >= 0) {
        const cycle = [...stack.slice(seen), file].map((f) => basename(f)).join(' → ');
        throw new RemoteError('config', basename(file), `Include cycle in ssh config: ${cycle}`, {
            file,
        });
    }
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new RemoteError('config', basename(file), `cannot read ssh config ${file} (${code})`);
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
        throw new RemoteError('config', basename(file), `${file}: Include nested too deeply`);
    }

    // The Host or Match line whose block we are in: an Include belongs to it.
    let header: string | undefined;
    return text
        .split('\n')
        .map((line) => {
            if (/^\s*(host|match)\s*[=\s]/i.test(line)) header = line;
            const m = /^\s*include\s*[=\s]\s*(.+)$/i.exec(line);
            if (!m?.[1]) return line;
            if (alias !== undefined && header !== undefined && !blockMatches(header, alias)) {
                return '';
            }
            const included = m[1]
                .split(/\s+/)
                .flatMap((pattern) => globFiles(includePath(pattern, file)))
                .map((f) => expandIncludes(f, depth + 1, [...stack, file], alias))
                .join('\n');
            // The lines after the Include are still in the enclosing block, not in the
            // included file's last one.
            return header === undefined ? included : `${included}\n${header}`;
        })
        .join('\n');
}

/** Whether a `Host` (or `Match all`) line applies to `alias`; other Match criteria do not. */
function blockMatches(header: string, alias: string): boolean {
    const m = /^\s*(host|match)\s*[=\s]\s*(.*)$/i.exec(header);
    if (!m) return false;
    const words = (m[2] ?? '').split(/[\s,]+/).filter(Boolean);
    if (m[1]!.toLowerCase() === 'match') return words.length === 1 && words[0] === 'all';
    return matchesPatternList(words, alias);
}

/** Relative Include paths are relative to ~/.ssh for user configs, as in ssh_config(5). */
function includePath(pattern: string, from: string): string {
    const unquoted = pattern.replace(/^"(.*)"$/, '$1');
    if (unquoted.startsWith('~/')) return join(homedir(), unquoted.slice(2));
    if (isAbsolute(unquoted)) return unquoted;
    const sshDir = join(homedir(), '.ssh');
    return join(from.startsWith(sshDir) ? sshDir : dirname(from), unquoted);
}

// NOTE: only the last path segment may hold wildcards; that covers `config.d/*`, the form
// people use, without pulling in a glob library.
function globFiles(pattern: string): string[] {
    const dir = dirname(pattern);
    const name = basename(pattern);
    if (!/[*?]/.test(name)) return [pattern];
    const re = new RegExp(
        '^' +
            name
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '.*')
                .replace(/\?/g, '.') +
            '$',
    );
    try {
        return readdirSync(dir)
            .filter((f) => re.test(f))
            .sort()
            .map((f) => join(dir, f));
    } catch {
        return [];
    }
}
