// `palisade lab up|down|status`: the lab's own scripts do the work; this only picks the
// driver and passes their exit code through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const LAB_ACTIONS = ['up', 'down', 'status'] as const;
export type LabAction = (typeof LAB_ACTIONS)[number];

export function isLabAction(value: string | undefined): value is LabAction {
    return (LAB_ACTIONS as readonly string[]).includes(value ?? '');
}

export async function runLab(root: string, action: LabAction, json: boolean): Promise<number> {
    if (action === 'up' && onPath('limactl')) {
        // TODO: a Lima driver (lab/lima/) should bring up VMs when limactl exists; only the
        // netns driver is written, so say so and use it.
        process.stderr.write(
            'palisade: limactl found, but only the netns lab driver exists; using netns\n',
        );
    }
    const script = join(root, 'lab', 'netns', `${action}.sh`);
    if (!existsSync(script)) {
        process.stderr.write(`palisade: lab script missing: ${script}\n`);
        return 1;
    }

    const args = [script, ...(json && action === 'status' ? ['--json'] : [])];
    const child = spawn('bash', args, {
        stdio: 'inherit',
        env: { ...process.env, PALISADE_ROOT: root, PALISADE_NODE: process.execPath },
    });
    return new Promise((resolve) => {
        child.once('error', (err) => {
            process.stderr.write(`palisade: cannot run ${script}: ${err.message}\n`);
            resolve(1);
        });
        child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    });
}

function onPath(binary: string): boolean {
    return (process.env.PATH ?? '')
        .split(delimiter)
        .some((dir) => dir !== '' && existsSync(join(dir, binary)));
}
