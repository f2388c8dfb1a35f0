#!/usr/bin/env bash
# Removes everything the embedded lab made, also after a crash or a half-finished up.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
source "$here/../lib.sh"
# shellcheck source=lab/netns/topology.sh
source "$here/topology.sh"

lab_require_root
lab_lock

if ! lab_has_leftovers; then
    INFO "the lab is not up; nothing to remove"
    exit 0
fi
lab_teardown
INFO "the lab is down"
