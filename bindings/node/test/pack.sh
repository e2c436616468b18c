#!/usr/bin/env bash
# The package as a user gets it: `npm pack` the binding, install the tarball
# into an empty project, and serve the Quick Start from it, once as ESM
# (import) and once as CommonJS (require), with nothing but `node` on PATH
# (no go, cc or g++) and no LD_LIBRARY_PATH: the addon must find
# libspikard.so beside it through its $ORIGIN rpath. Expects a built addon
# (make setup-node). Prints "pack: ok" and exits 0, or names what failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
server=""

cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -KILL "$server" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "pack: FAIL: $*" >&2
    exit 1
}

# 1. The tarball, and exactly the files it should hold.
mkdir "$tmp/pack"
tarball="$(cd "$here" && npm pack --silent --pack-destination "$tmp/pack" | tail -n 1)"
tarball="$tmp/pack/$tarball"
[[ -f "$tarball" ]] || fail "npm pack made no tarball"
tar -tzf "$tarball" | sort >"$tmp/contents"
for want in package/package.json package/lib/index.js package/lib/index.mjs package/lib/index.d.ts \
    package/lib/index.d.mts package/build/Release/spikard.node package/build/Release/libspikard.so; do
    grep -qxF "$want" "$tmp/contents" || fail "$want is missing from $(basename "$tarball")"
done
if stray="$(grep -vE '^package/(package\.json|README[^/]*|LICEN[CS]E[^/]*|lib/[^/]+|build/Release/(spikard\.node|libspikard\.so))$' "$tmp/contents")"; then
    fail "unexpected files in $(basename "$tarball"): $stray"
fi

# 2. An empty project that installs it (it has no dependencies: offline).
mkdir "$tmp/app"
printf '{ "name": "pack-check", "version": "1.0.0", "private": true }\n' >"$tmp/app/package.json"
(cd "$tmp/app" && npm install --offline --no-audit --no-fund --silent "$tarball") ||
    fail "npm install $(basename "$tarball") failed"
[[ -f "$tmp/app/node_modules/@spikard/node/build/Release/spikard.node" ]] || fail "the installed package has no addon"

# 3. The Quick Start, importing the package by name, on a free port.
sed -e "s#'../../bindings/node/lib/index.mjs'#'@spikard/node'#" -e 's/port: 8000/port: 0/' \
    "$root/examples/node/quickstart.mjs" >"$tmp/app/quickstart.mjs"
grep -qF "from '@spikard/node'" "$tmp/app/quickstart.mjs" || fail "quickstart.mjs: import line not rewritten"
grep -qF "port: 0," "$tmp/app/quickstart.mjs" || fail "quickstart.mjs: port not rewritten"

# The same app through require().
cat >"$tmp/app/quickstart.cjs" <<'EOF'
const { Spikard } = require('@spikard/node');

const app = new Spikard();
app.get('/users/{id}', { params: { type: 'object', properties: { id: { type: 'integer' } } } }, async (req) => ({
  id: req.params.id,
  name: 'Alice',
  email: 'alice@example.com',
}));
app.listen({ port: 0, signals: true }).then(({ url }) => console.log(`serving the Quick Start on ${url}`));
EOF

# A PATH holding node alone.
mkdir "$tmp/bin"
ln -s "$(readlink -f "$(command -v node)")" "$tmp/bin/node"

# get URL PATH: prints "status body".
get() {
    node -e 'fetch(process.argv[1]).then(async (r) => console.log(r.status, await r.text()), (e) => { console.error(e.message); process.exit(1); })' "$1$2"
}

serve() { # serve FILE: start it, check both answers, SIGTERM it, expect exit 0.
    local file="$1" line url="" out rc answer
    exec {out}< <(cd "$tmp/app" && exec env -i PATH="$tmp/bin" HOME="$tmp" node "$file" 2>"$tmp/$file.err")
    server=$!
    # The first line naming the URL, within 15 s and 100 lines.
    for _ in $(seq 1 100); do
        IFS= read -r -t 15 line <&"$out" || break
        if [[ "$line" =~ (http://[^[:space:]]+) ]]; then
            url="${BASH_REMATCH[1]}"
            break
        fi
    done
    [[ -n "$url" ]] || fail "$file printed no URL; stderr: $(cat "$tmp/$file.err")"

    answer="$(get "$url" /users/7)"
    [[ "$answer" == '200 {"id":7,"name":"Alice","email":"alice@example.com"}' ]] ||
        fail "$file: GET /users/7 answered: $answer"
    answer="$(get "$url" /users/x)"
    [[ "$answer" == 422\ * ]] || fail "$file: GET /users/x answered: $answer"

    kill -TERM "$server"
    # Read to end of file (the server closes its stdout by exiting), within 15 s.
    rc=0
    while :; do IFS= read -r -t 15 line <&"$out" || { rc=$?; break; }; done
    ((rc <= 128)) || fail "$file still running 15 s after SIGTERM"
    rc=0
    wait "$server" || rc=$?
    server=""
    exec {out}<&-
    [[ "$rc" == 0 ]] || fail "$file exited $rc after SIGTERM; stderr: $(cat "$tmp/$file.err")"
}

serve quickstart.mjs
serve quickstart.cjs
echo "pack: ok"
