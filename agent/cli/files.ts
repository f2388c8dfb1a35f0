// Files the CLI reads and writes for the user. A problem is one line that names the file and
// what to do, never Node's errno text; a failed write leaves the file as it was.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeAtomic } from '../stateFile';

export type FileProblem = 'missing' | 'directory' | 'unreadable' | 'unwritable';

export class CliFileError extends Error {
    override readonly name = 'CliFileError';

    constructor(
        readonly kind: FileProblem,
        readonly file: string,
        message: string,
    ) {
        super(message);
    }
}

/** `what` names the file's role in messages: "policy file", "flow log". */
export function readInput(file: string, what: string): string {
    try {
        return readFileSync(file, 'utf8');
    } catch (err) {
        const code = errno(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
            throw new CliFileError('missing', file, `${file}: no such ${what}`);
        }
        if (code === 'EISDIR') {
            throw new CliFileError('directory', file, `${file}: a directory, not a ${what}`);
        }
        throw new CliFileError('unreadable', file, `${file}: cannot read ${what} (${code})`);
    }
}

/** The policy of `app` where `mode` looks for it when no --file is given. */
export function readAppPolicy(app: string, file: string): string {
    try {
        return readInput(file, 'policy file');
    } catch (err) {
        if (!(err instanceof CliFileError) || err.kind !== 'missing') throw err;
        throw new CliFileError(
            'missing',
            file,
            `no policy file for app ${app}: looked for ${resolve(file)}; name one with ` +
                `--file FILE, or write it with: palisade policy infer --app ${app} --out ${file}`,
        );
    }
}

/** Replaces `file` whole or not at all: a reader never sees half a policy. */
export function writeFileAtomic(file: string, text: string): void {
    try {
        writeAtomic(file, text, 0o666);
    } catch (err) {
        throw new CliFileError('unwritable', file, `${file}: cannot write (${errno(err)})`);
    }
}

function errno(err: unknown): string {
    return (err as NodeJS.ErrnoException).code ?? 'error';
}
