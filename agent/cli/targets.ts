// Which agents a CLI command talks to: named ssh hosts, every lab host, or the local socket.
import { existsSync } from 'node:fs';
import { connectLocalAgent, DEFAULT_AGENT_SOCKET, type AgentClient } from '../remote/agentClient';
import { connectAgentOverSsh } from '../remote/ssh';
import { DEFAULT_SSH_CONFIG, listHosts, resolveHost } from '../remote/sshConfig';
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

export function selectTargets(opts: TargetOptions): Target[] {
    const chosen = [opts.host !== undefined, opts.lab, opts.local].filter(Boolean).length;
    if (chosen > 1) throw new UsageError('choose one of --host, --lab, --local');

    if (opts.host !== undefined) {
        const file = opts.sshConfig ?? DEFAULT_SSH_CONFIG;
        const names = opts.host
            .split(',')
            .map((h) => h.trim())
            .filter(Boolean);
        if (names.length === 0) throw new UsageError('--host needs at least one ssh host alias');
        return names.map((name) => sshTarget(name, file));
    }
    if (opts.lab || (!opts.local && existsSync(LAB_SSH_CONFIG))) {
        const file = opts.sshConfig ?? LAB_SSH_CONFIG;
        if (!existsSync(file))
            throw new Error(`no lab: ${file} does not exist (run: palisade lab up)`);
        const names = listHosts(file);
        if (names.length === 0) throw new Error(`${file} lists no hosts`);
        return names.map((name) => sshTarget(name, file));
    }
    const socket = opts.socket ?? process.env.PALISADE_SOCKET ?? DEFAULT_AGENT_SOCKET;
    return [{ name: 'local', connect: () => connectLocalAgent(socket) }];
}

function sshTarget(name: string, file: string): Target {
    // Resolved on connect so that one bad entry fails that host only, not the whole command.
    return {
        name,
        connect: async () => connectAgentOverSsh(resolveHost(name, file), { log: debug }),
    };
}
