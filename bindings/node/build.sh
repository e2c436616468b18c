#!/usr/bin/env bash
# Build the addon (build/Release/spikard.node) against Node's headers under
# NODEDIR (default /usr: no header download), and put libspikard.so next to
# it, where the addon's rpath ($ORIGIN) finds it. Expects ../../build/libspikard.so
# (make build/libspikard.so at the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/../../build/libspikard.so"
nodedir="${NODEDIR:-/usr}"
cd "$here"

if [[ ! -f "$lib" ]]; then
    echo "build.sh: $lib is missing; build it first (go build -buildmode=c-shared -o build/libspikard.so ./capi)" >&2
    exit 1
fi

# 1. node_modules (node-addon-api), exactly as locked.
if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi

# 2. The addon. npm's own node-gyp unless one is on PATH or named by npm.
gyp="${npm_config_node_gyp:-}"
if [[ -z "$gyp" ]]; then
    if command -v node-gyp >/dev/null; then
        gyp="$(command -v node-gyp)"
    else
        gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
    fi
fi
node "$gyp" rebuild --nodedir="$nodedir"

# 3. libspikard.so beside spikard.node: a copy, not a link, so that rebuilding
# the library never changes an addon that is loaded.
rm -f build/Release/libspikard.so
cp "$lib" build/Release/libspikard.so
echo "build.sh: built $here/build/Release/spikard.node"
