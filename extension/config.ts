// Settings read into one typed object, rebuilt whenever the user changes them.
import * as vscode from 'vscode';
import { CONFIG_SECTION } from './ids';

export const DEFAULT_LAB_SSH_CONFIG = '/run/palisade-lab/ssh_config';

export interface PalisadeConfig {
    lab: {
        /** SSH config written by `palisade lab up`; its hosts are the lab's agents. */
        sshConfig: string;
    };
}

export function readConfig(): PalisadeConfig {
    const section = vscode.workspace.getConfiguration(CONFIG_SECTION);
    const sshConfig = section.get<unknown>('lab.sshConfig');
    return {
        lab: {
            sshConfig:
                typeof sshConfig === 'string' && sshConfig.trim() !== ''
                    ? sshConfig.trim()
                    : DEFAULT_LAB_SSH_CONFIG,
        },
    };
}

/** Keeps `current` up to date; dispose to stop listening. */
export class ConfigWatcher implements vscode.Disposable {
    current: PalisadeConfig = readConfig();
    private readonly subscription: vscode.Disposable;

    constructor() {
        this.subscription = vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(CONFIG_SECTION)) {
                this.current = readConfig();
            }
        });
    }

    dispose(): void {
        this.subscription.dispose();
    }
}
