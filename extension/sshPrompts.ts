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
