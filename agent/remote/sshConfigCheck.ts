// What in an ssh config Palisade does not do the way `ssh` would. Each one is reported to
// the person (a warning per directive and host), never skipped in silence: a ProxyCommand
// we ignore means we connect somewhere other than where `ssh` would.
import SSHConfig, { type Directive, type Line } from 'ssh-config';
import { loadSshConfig } from './sshConfig';

export interface ConfigWarning {
    /** The alias the directive applies to, or undefined for a Match block. */
    host?: string;
    directive: string;
    message: string;
}

/** Directives (lower case) that change how ssh connects and that we do not implement. */
const UNSUPPORTED: Record<string, string> = {
    proxycommand: 'ProxyCommand is not run; use ProxyJump',
    hostkeyalias: 'HostKeyAlias is ignored; host keys are checked under the real name',
    certificatefile: 'certificates are not offered; only plain keys',
    pkcs11provider: 'PKCS#11 keys are not supported',
    securitykeyprovider: 'security keys are not supported',
    identityagent: 'IdentityAgent is ignored; SSH_AUTH_SOCK is used',
    knownhostscommand: 'KnownHostsCommand is not run',
    canonicalizehostname: 'host names are not canonicalized',
    localforward: 'forwardings are not set up',
    remoteforward: 'forwardings are not set up',
    dynamicforward: 'forwardings are not set up',
};

/** ssh_config(5) spelling, for messages. */
const CANONICAL = [
    'ProxyCommand',
    'HostKeyAlias',
    'CertificateFile',
    'PKCS11Provider',
    'SecurityKeyProvider',
    'IdentityAgent',
    'KnownHostsCommand',
    'CanonicalizeHostname',
    'LocalForward',
    'RemoteForward',
    'DynamicForward',
];

export function sshConfigWarnings(file: string, aliases: string[]): ConfigWarning[] {
    const config = loadSshConfig(file);
    const warnings: ConfigWarning[] = [];

    for (const line of config) {
        if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'match') continue;
        const criteria = Object.keys((line as Directive & { criteria?: object }).criteria ?? {});
        const what = criteria.includes('exec') ? 'Match exec' : `Match ${criteria.join(' ')}`;
        warnings.push({
            directive: what,
            message: `${file}: "${matchText(line)}" is not evaluated; its settings are not applied`,
        });
    }

    for (const alias of aliases) {
        const computed = config.compute(alias, { ignoreCase: true, matchExec: false });
        for (const key of Object.keys(computed)) {
            const why = UNSUPPORTED[key.toLowerCase()];
            if (!why) continue;
            const directive = CANONICAL.find((c) => c.toLowerCase() === key.toLowerCase()) ?? key;
            warnings.push({ host: alias, directive, message: `${alias}: ${why}` });
        }
    }
    return warnings;
}

function matchText(line: Line): string {
    const d = line as Directive;
    const value = typeof d.value === 'string' ? d.value : d.value.map((v) => v.val).join(' ');
    return `${d.param} ${value}`;
}
