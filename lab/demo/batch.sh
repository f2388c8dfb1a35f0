#!/usr/bin/env bash
# The legitimate batch job on the api host: records a heartbeat in redis every 2 s.
set -euo pipefail

redis_host=${BATCH_REDIS_HOST:-10.213.0.4}

while true; do
    /usr/bin/redis-cli -h "$redis_host" SET batch:last "$(date +%s)" >/dev/null ||
        echo "batch: redis SET failed" >&2
    sleep 2
done
