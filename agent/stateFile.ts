// Files under the agent's state directory (/var/lib/palisade): written whole or not at all,
// so a crash mid-write leaves the previous version, never half of the next one.
import * as fs from 'node:fs';

export function writeAtomic(file: string, text: string): void {
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
}
