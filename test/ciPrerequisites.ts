// In CI nothing may be skipped: the suites skip only where a machine lacks something, so
// here every such thing must be present, or the run fails before any test starts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

export default function setup(): void {
    if (process.env.CI !== 'true') return;
    const missing: string[] = [];
    if (process.getuid?.() !== 0) missing.push('root');
    for (const tool of [
        'ip',
        'ss',
        'nsenter',
        'unshare',
        'ssh',
        'ssh-keygen',
        'redis-cli',
        'getent',
        'curl',
        'bpftool',
    ]) {
        if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
    }
    for (const file of [
        '/usr/sbin/sshd',
        '/usr/sbin/nginx',
        '/usr/bin/redis-server',
        '/usr/sbin/dnsmasq',
        '/usr/bin/chromium',
        path.join(ROOT, 'dist/palisade.bpf.o'),
        path.join(ROOT, 'dist/agent.js'),
        path.join(ROOT, 'node_modules/playwright-core/package.json'),
    ]) {
        if (!existsSync(file)) missing.push(file);
    }
    if (missing.length > 0) {
        throw new Error(
            `CI=true but the machine lacks: ${missing.join(', ')} (run scripts/setup.sh)`,
        );
    }
}
