// Files under the agent's state directory (/var/lib/palisade): written whole or not at all,
// so a crash mid-write leaves the previous version, never half of the next one.
import * as fs from 'node:fs';

/**
 * Replaces `file` whole or not at all (fsynced, then renamed over it). `mode` is the new
 * file's, before the umask: state files are root's alone; the CLI writes users' files 0666.
 * A failed write removes its temporary file.
 */
export function writeAtomic(file: string, text: string, mode = 0o600): void {
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
        fd = fs.openSync(tmp, 'w', mode);
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = undefined;
        fs.renameSync(tmp, file);
    } catch (err) {
        if (fd !== undefined) fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw err;
    }
}
