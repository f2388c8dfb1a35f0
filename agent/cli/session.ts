// Options and agent sessions shared by the policy, alerts and audit commands.
import type { HostClient } from '../fleet/push';
import { describeError, isRemoteError } from '../remote/errors';
import { parseOptions } from './args';
import { TARGET_OPTIONS, targetsFrom } from './targets';

const options = {
    ...TARGET_OPTIONS,
    app: { type: 'string' },
    owner: { type: 'string' },
    member: { type: 'string', multiple: true },
    out: { type: 'string' },
    'from-log': { type: 'string' },
    'dry-run': { type: 'boolean' },
    since: { type: 'string' },
    link: { type: 'string', multiple: true },
    all: { type: 'boolean' },
    except: { type: 'string', multiple: true },
    push: { type: 'boolean' },
    file: { type: 'string' },
    force: { type: 'boolean' },
    follow: { type: 'boolean' },
} as const;

export type Values = ReturnType<typeof parse>['values'];

export function parse(argv: string[]) {
    return parseOptions(argv, options);
}

export async function connect(values: Values): Promise<HostClient[]> {
    const targets = targetsFrom(values);
    // Policy must reach every host or none: one unreachable target stops the command, and
    // the sessions that did open are closed so that the process can exit.
    const results = await Promise.allSettled(
        targets.map(async (t) => ({ name: t.name, client: await t.connect() })),
    );
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r, i) => {
        if (r.status === 'fulfilled') return [];
        // A RemoteError names its host already.
        const text = describeError(r.reason);
        return [isRemoteError(r.reason) ? text : `${targets[i]!.name}: ${text}`];
    });
    if (failed.length > 0) {
        closeAll(opened);
        throw new Error(failed.join('; '));
    }
    return opened;
}

export function closeAll(hosts: HostClient[]): void {
    for (const h of hosts) h.client.close();
}
