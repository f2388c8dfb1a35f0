// Which agents a CLI command talks to: named ssh hosts, every lab host, or the local socket.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { connectLocalAgent, DEFAULT_AGENT_SOCKET, type AgentClient } from '../remote/agentClient';
import { isRemoteError, RemoteError } from '../remote/errors';
import { connectAgentOverSsh } from '../remote/ssh';
import { DEFAULT_SSH_CONFIG, hasHostEntry, listHosts, resolveHost } from '../remote/sshConfig';
import { UsageError } from './args';
import { debug } from './debug';

export const LAB_SSH_CONFIG = '/run/palisade-lab/ssh_config';

export interface TargetOptions {
    host?: string;
    sshConfig?: string;
    lab?: boolean;
    local?: boolean;
    socket?: string;
}

/** The command-line options that choose targets, shared by every command. */
export const TARGET_OPTIONS = {
    host: { type: 'string' },
    'ssh-config': { type: 'string' },
    lab: { type: 'boolean' },
    local: { type: 'boolean' },
    socket: { type: 'string' },
    json: { type: 'boolean' },
} as const;

interface TargetValues {
    host?: string;
    'ssh-config'?: string;
    socket?: string;
    lab?: boolean;
    local?: boolean;
}

/** Targets named by parsed TARGET_OPTIONS values. */
export function targetsFrom(values: TargetValues): Target[] {
    return selectTargets({
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(values['ssh-config'] !== undefined ? { sshConfig: values['ssh-config'] } : {}),
        ...(values.socket !== undefined ? { socket: values.socket } : {}),
        lab: values.lab ?? false,
        local: values.local ?? false,
    });
}

export interface Target {
    name: string;
    connect(): Promise<AgentClient>;
}

/** `lab` is where the lab's ssh config would be; tests point it elsewhere. */
export function selectTargets(opts: TargetOptions, lab = LAB_SSH_CONFIG): Target[] {
    const chosen = [opts.host !== undefined, opts.lab, opts.local].filter(Boolean).length;
    if (chosen > 1) throw new UsageError('choose one of --host, --lab, --local');

    if (opts.host !== undefined) {
        const file = opts.sshConfig ?? DEFAULT_SSH_CONFIG;
        const names = opts.host
            .split(',')
            .map((h) => h.trim())
            .filter(Boolean);
        if (names.length === 0) throw new UsageError('--host needs at least one ssh host alias');
        // Once here rather than on each connect: one missing file is one message.
        checkSshConfig(file, lab);
        // A config named with --ssh-config is the list to pick hosts from; in the default
        // one, as for ssh, a name without a Host entry is taken as the hostname.
        const listed = opts.sshConfig !== undefined;
        return names.map((name) => sshTarget(name, file, listed));
    }
    if (opts.lab || (!opts.local && existsSync(lab))) {
        const file = opts.sshConfig ?? lab;
        if (!existsSync(file))
            throw new Error(`no lab: ${file} does not exist (run: palisade lab up)`);
        const names = listHosts(file);
        if (names.length === 0) throw new Error(`${file} lists no hosts`);
        return names.map((name) => sshTarget(name, file, true));
    }
    const socket = opts.socket ?? process.env.PALISADE_SOCKET ?? DEFAULT_AGENT_SOCKET;
    return [{ name: 'local', connect: () => connectLocalAgent(socket) }];
}

function checkSshConfig(file: string, lab: string): void {
    try {
        readFileSync(file);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        let hint = '';
        if (file === lab) hint = '; is the lab up? (palisade lab up)';
        else if (existsSync(lab)) hint = `; the lab is up: use --lab, or --ssh-config ${lab}`;
        else if (file === DEFAULT_SSH_CONFIG) hint = '; name a config with --ssh-config FILE';
        const message = `cannot read ssh config ${file} (${code})${hint}`;
        throw new RemoteError('config', basename(file), message);
    }
}

/** How many hosts a message lists before it says how many more there are. */
const HOSTS_SHOWN = 12;

function sshTarget(name: string, file: string, listed: boolean): Target {
    // Resolved on connect so that one bad entry fails that host only, not the whole command.
    return {
        name,
        connect: async () => {
            const known = hasHostEntry(name, file);
            const hosts = known || !listed ? [] : listHosts(file);
            if (hosts.length > 0) {
                const more =
                    hosts.length > HOSTS_SHOWN ? ` and ${hosts.length - HOSTS_SHOWN} more` : '';
                const there = `${hosts.slice(0, HOSTS_SHOWN).join(', ')}${more}`;
                const message = `${name}: no Host entry in ${file}; hosts there: ${there}`;
                throw new RemoteError('config', name, message, { configFile: file });
            }
            try {
                return await connectAgentOverSsh(resolveHost(name, file), { log: debug });
            } catch (err) {
                throw known ? err : withoutEntryNote(err, name, file);
            }
        },
    };
}

/** A failure to reach a name that only ssh's defaults apply to says so. */
function withoutEntryNote(err: unknown, name: string, file: string): unknown {
    if (!isRemoteError(err) || !['auth', 'unreachable', 'timeout'].includes(err.kind)) return err;
    const note = `${name} has no Host entry in ${file}, so it was taken as the hostname`;
    return new RemoteError(err.kind, err.host, `${err.message}; ${note}`, {
        ...err.details,
        configFile: file,
    });
}
