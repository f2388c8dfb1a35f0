// Settings read into one typed object, rebuilt whenever the user changes them. In an
// untrusted workspace only user-level values count: a cloned repo's .vscode/settings.json
// must not point our ssh connections at files or hosts of its choosing.
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_SECTION } from './ids';

export const DEFAULT_LAB_SSH_CONFIG = '/run/palisade-lab/ssh_config';
export const DEFAULT_SSH_CONFIG = join(homedir(), '.ssh', 'config');

export interface PalisadeConfig {
    lab: {
        /** SSH config written by `palisade lab up`; its hosts are the lab's agents. */
        sshConfig: string;
    };
    ssh: {
        /** The user's ssh config for Connect Host…. */
        configFile: string;
    };
    alerts: {
        /** Whose alerts notify; empty means `git config user.email`. */
        owner: string;
    };
    policy: {
        /** An allowed link not seen for this many days gets a diagnostic; 0 turns it off. */
        staleDays: number;
    };
    deploy: {
        /** Folder with agent.js, palisade.bpf.o and node_modules/ (the built dist/). */
        bundleDir: string;
    };
}

export function readConfig(): PalisadeConfig {
    const section = vscode.workspace.getConfiguration(CONFIG_SECTION);
    const trusted = vscode.workspace.isTrusted;
    const text = (key: string, fallback: string): string => {
        const value = trusted ? section.get<unknown>(key) : userValue(section, key);
        return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
    };
    const days = section.get<unknown>('policy.staleDays');
    return {
        lab: { sshConfig: text('lab.sshConfig', DEFAULT_LAB_SSH_CONFIG) },
        ssh: { configFile: text('ssh.configFile', DEFAULT_SSH_CONFIG) },
        alerts: { owner: text('alerts.owner', '') },
        policy: { staleDays: typeof days === 'number' && days >= 0 ? days : 30 },
        deploy: { bundleDir: text('deploy.bundleDir', '') },
    };
}

function userValue(section: vscode.WorkspaceConfiguration, key: string): unknown {
    const inspected = section.inspect<unknown>(key);
    return inspected?.globalValue ?? inspected?.defaultValue;
}

/** Keeps `current` up to date; dispose to stop listening. */
export class ConfigWatcher implements vscode.Disposable {
    current: PalisadeConfig = readConfig();
    private readonly subscriptions: vscode.Disposable[];

    constructor() {
        const reread = (): void => {
            this.current = readConfig();
        };
        this.subscriptions = [
            vscode.workspace.onDidChangeConfiguration((event) => {
                if (event.affectsConfiguration(CONFIG_SECTION)) reread();
            }),
            vscode.workspace.onDidGrantWorkspaceTrust(reread),
        ];
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
    }
}
