// The questions an SSH connection may need to ask the person: trusting an unknown host key
// and unlocking an encrypted key. Secrets typed here go to ssh2 only, never to the log.
import * as vscode from 'vscode';
import type { UnknownHostInfo } from '../agent/remote/knownHosts';

export async function confirmUnknownHost(info: UnknownHostInfo): Promise<boolean> {
    const trust = 'Trust and Connect';
    const answer = await vscode.window.showWarningMessage(
        `The authenticity of host ${info.host} (port ${info.port}) can't be established.`,
        {
            modal: true,
            detail:
                `${info.keyType} key fingerprint is ${info.fingerprint}.\n` +
                'Trusting it adds the key to your known_hosts file.',
        },
        trust,
    );
    return answer === trust;
}

export async function askPassphrase(identityFile: string): Promise<string | undefined> {
    return vscode.window.showInputBox({
        title: 'Palisade: SSH key passphrase',
        prompt: `Passphrase for ${identityFile}`,
        password: true,
        ignoreFocusOut: true,
    });
}

/**
 * Passphrases asked once per key file and kept in this process's memory only (never in
 * settings, secret storage or the log), so reconnects do not ask again.
 */
export class PassphraseCache {
    private readonly known = new Map<string, string>();
    /** One prompt per file even when several hosts ask for the same key at once. */
    private readonly pending = new Map<string, Promise<string | undefined>>();

    async get(file: string, interactive: boolean): Promise<string | undefined> {
        const cached = this.known.get(file);
        if (cached !== undefined || !interactive) return cached;
        let asking = this.pending.get(file);
        if (!asking) {
            asking = askPassphrase(file);
            this.pending.set(file, asking);
        }
        try {
            const answer = await asking;
            if (answer !== undefined) this.known.set(file, answer);
            return answer;
        } finally {
            this.pending.delete(file);
        }
    }

    clear(): void {
        this.known.clear();
    }
}
