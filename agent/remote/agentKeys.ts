// Keys from ssh-agent, offered the way OpenSSH does: the agent key that matches a
// configured IdentityFile (by its .pub) first, and with IdentitiesOnly only those. ssh2's
// own agent method offers every agent key in agent order, which trips MaxAuthTries on
// servers long before it reaches the right key (S12).
import { readFileSync } from 'node:fs';
import {
    BaseAgent,
    OpenSSHAgent,
    utils,
    type ParsedKey,
    type SignCallback,
    type SigningRequestOptions,
} from 'ssh2';
import { fingerprint } from './knownHosts';

/** An agent that lists only `keys` and signs through the real agent. */
export class SubsetAgent extends BaseAgent {
    constructor(
        private readonly inner: OpenSSHAgent,
        private readonly keys: ParsedKey[],
    ) {
        super();
    }

    getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
        cb(undefined, this.keys);
    }

    sign(
        pubKey: string | Buffer | ParsedKey,
        data: Buffer,
        options: SigningRequestOptions | SignCallback,
        cb?: SignCallback,
    ): void {
        // ssh2 calls sign(key, data, options, cb) or sign(key, data, cb).
        if (typeof options === 'function') this.inner.sign(pubKey, data, {}, options);
        else this.inner.sign(pubKey, data, options, cb);
    }
}

export function listAgentKeys(agent: OpenSSHAgent): Promise<ParsedKey[]> {
    return new Promise((resolve) =>
        agent.getIdentities((err, keys) => resolve(err || !keys ? [] : (keys as ParsedKey[]))),
    );
}

/** The public blob of an identity file, from `file.pub` (readable even when file is locked). */
export function publicBlobOf(file: string): Buffer | undefined {
    for (const candidate of [`${file}.pub`, file]) {
        let text: Buffer;
        try {
            text = readFileSync(candidate);
        } catch {
            continue;
        }
        const parsed = utils.parseKey(text);
        if (!(parsed instanceof Error)) {
            const key = Array.isArray(parsed) ? parsed[0] : parsed;
            if (key) return key.getPublicSSH();
        }
    }
    return undefined;
}

export function describeKey(key: ParsedKey): string {
    const comment = key.comment ? ` (${key.comment})` : '';
    return `${key.type} ${fingerprint(key.getPublicSSH())}${comment}`;
}
