// ProxyJump: each hop is a full ssh connection (its own keys and host-key check), and the
// next hop runs over a direct-tcpip channel of the previous one, as `ssh -J` does.
import { RemoteError } from './errors';
import { resolveHost, type SshTarget } from './sshConfig';

const MAX_HOPS = 8;

/** The hops to pass through, first to last, each resolved from the target's config file. */
export function jumpHosts(target: SshTarget): SshTarget[] {
    if (!target.proxyJump) return [];
    const hops = target.proxyJump.split(',').map((spec) => resolveHop(spec.trim(), target));
    if (hops.length > MAX_HOPS) {
        throw new RemoteError('config', target.alias, `${target.alias}: too many ProxyJump hops`);
    }
    return hops;
}

function resolveHop(spec: string, target: SshTarget): SshTarget {
    const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
    if (!m?.[2]) {
        throw new RemoteError('config', target.alias, `${target.alias}: bad ProxyJump "${spec}"`);
    }
    const name = m[2].replace(/^\[(.*)\]$/, '$1');
    const hop = resolveHost(name, target.configFile);
    if (hop.proxyJump) {
        // NOTE: ssh would chain the hop's own ProxyJump too; list every hop on the target
        // instead, which is equivalent and keeps the chain visible in one place.
        throw new RemoteError(
            'unsupported',
            target.alias,
            `${target.alias}: jump host ${name} has its own ProxyJump; ` +
                `list all hops on ${target.alias}`,
        );
    }
    return {
        ...hop,
        ...(m[1] ? { user: m[1] } : {}),
        ...(m[3] ? { port: Number(m[3]) } : {}),
    };
}
