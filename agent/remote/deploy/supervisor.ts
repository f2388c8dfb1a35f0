// Where there is no systemd (the embedded lab, minimal containers), the agent runs under
// this small supervisor: it restarts the agent with backoff when it dies and stops it on
// TERM. POSIX sh so that it runs wherever the agent could.
export const SUPERVISOR_SCRIPT = `#!/bin/sh
# palisade-supervise PIDFILE CGROUP_DIR -- COMMAND...
# Restarts COMMAND when it exits (1 s doubling to 30 s; reset after 60 s of uptime).
set -u
pidfile=$1
cgroup=$2
shift 3
# Joining the unit's cgroup first keeps the agent out of the ssh session that started us.
[ -n "$cgroup" ] && mkdir -p "$cgroup" && echo $$ >"$cgroup/cgroup.procs"
echo $$ >"$pidfile"
child=
stop() {
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
    rm -f "$pidfile"
    exit 0
}
trap stop TERM INT
delay=1
while :; do
    started=$(date +%s)
    "$@" &
    child=$!
    wait "$child"
    code=$?
    echo "palisade-supervise: agent exited ($code); restarting in $delay s" >&2
    [ $(($(date +%s) - started)) -ge 60 ] && delay=1
    sleep "$delay" &
    wait $!
    delay=$((delay * 2))
    [ "$delay" -gt 30 ] && delay=30
done
`;

export function systemdUnit(node: string, installDir: string, args: string[]): string {
    const exec = [node, `${installDir}/current/agent.js`, ...args].map(systemdQuote).join(' ');
    return `[Unit]
Description=Palisade agent (identity-based firewall)
After=network.target

[Service]
ExecStart=${exec}
Restart=always
RestartSec=2
# The agent pins its maps and links, so a restart adopts the running enforcement.
KillSignal=SIGTERM

[Install]
WantedBy=multi-user.target
`;
}

function systemdQuote(s: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}
