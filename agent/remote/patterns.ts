// OpenSSH pattern lists (ssh_config(5) PATTERNS): `*` and `?` wildcards, `!` negation.
// Used by Host lines in ssh configs and by host fields of known_hosts.

function globMatch(pattern: string, value: string): boolean {
    const re = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.');
    return new RegExp(`^${re}$`, 'i').test(value);
}

/** True when some pattern matches and no negated one does; case-insensitive. */
export function matchesPatternList(patterns: string[], value: string): boolean {
    let matched = false;
    for (const p of patterns) {
        const negated = p.startsWith('!');
        if (!globMatch(negated ? p.slice(1) : p, value)) continue;
        if (negated) return false;
        matched = true;
    }
    return matched;
}
