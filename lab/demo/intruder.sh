#!/usr/bin/env bash
# The intruder on the web host: a process that has no business talking to the database,
# probing redis every 3 s. The firewall should flag it (monitor) or stop it (enforce).
set -euo pipefail

redis_host=${INTRUDER_REDIS_HOST:-10.213.0.4}

while true; do
    /usr/bin/redis-cli -h "$redis_host" -p 6379 PING >/dev/null 2>&1 ||
        echo "intruder: PING refused" >&2
    sleep 3
done
