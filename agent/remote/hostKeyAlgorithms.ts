// Which host key algorithms ssh2 asks the server for. As OpenSSH does (order_hostkeyalgs),
// the types known_hosts already holds for the host come first, so a server with several host
// keys presents one we can check instead of one we would have to trust anew.
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { knownKeysFor, loadKnownHosts } from './knownHosts';

/**
 * ssh2 1.x's default list, most preferred first (lib/protocol/constants.js). An exact list
 * replaces ssh2's, so this one only reorders it: ssh-dss, which ssh2 supports but does not
 * offer, stays off even for a host known by a DSA key.
 */
export const SSH2_DEFAULT_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
];

/** Whether a server negotiating `algorithm` presents a key of `keyType` (known_hosts name). */
function serves(algorithm: ServerHostKeyAlgorithm, keyType: string): boolean {
    // One RSA key signs under three names; its blob and known_hosts line say ssh-rsa.
    if (keyType === 'ssh-rsa') return algorithm.startsWith('rsa-sha2-') || algorithm === 'ssh-rsa';
    return algorithm === keyType;
}

/**
 * The default list with the algorithms for `knownTypes` moved to the front, or undefined
 * when none of them is one ssh2 offers (then ssh2's own default applies unchanged).
 */
export function orderHostKeyAlgorithms(
    knownTypes: readonly string[],
): ServerHostKeyAlgorithm[] | undefined {
    const all = SSH2_DEFAULT_HOST_KEY_ALGORITHMS;
    const known = all.filter((a) => knownTypes.some((t) => serves(a, t)));
    if (known.length === 0) return undefined;

    return [...known, ...all.filter((a) => !known.includes(a))];
}

/** The order to ask `host:port` for, from what known_hosts holds for it. */
export function hostKeyAlgorithmsFor(
    files: string[],
    alias: string,
    host: string,
    port: number,
): ServerHostKeyAlgorithm[] | undefined {
    const known = knownKeysFor(loadKnownHosts(files, alias), host, port);
    return orderHostKeyAlgorithms(known.map((e) => e.keyType));
}
