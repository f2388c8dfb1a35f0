// Every failure to reach an agent carries a kind the caller can switch on (the extension
// offers "trust this key" for host-key-unknown, the CLI only prints) and a message that
// names the host, so a fleet of twenty hosts never yields an anonymous "connection failed".

export type RemoteErrorKind =
    | 'config'
    | 'unsupported'
    | 'host-key-mismatch'
    | 'host-key-unknown'
    | 'host-key-revoked'
    | 'known-hosts-unreadable'
    | 'auth'
    | 'unreachable'
    | 'timeout'
    | 'agent-missing'
    | 'agent-failed'
    | 'permission'
    | 'closed';

export class RemoteError extends Error {
    override readonly name = 'RemoteError';

    constructor(
        readonly kind: RemoteErrorKind,
        readonly host: string,
        message: string,
        readonly details: Record<string, string> = {},
    ) {
        super(message);
    }
}

export function isRemoteError(err: unknown): err is RemoteError {
    return err instanceof RemoteError;
}

/** A short, single-line description of any error, for CLI output and fleet host problems. */
export function describeError(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    return text.replace(/\s+/g, ' ').trim();
}
