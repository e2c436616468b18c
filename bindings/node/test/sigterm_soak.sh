#!/usr/bin/env bash
# SIGTERM soak for `workers: 2` (not part of `make test`): ROUNDS times, start
# a fresh 2-worker server, put it under load (LOADERS background loops of curl
# on fresh connections), send the supervisor SIGTERM mid-load, and require
# exit status 0, no crash on stderr (Go panic, fatal error, segfault, abort)
# and no worker left behind. Prints a summary; exits 1 if any round failed.
#
#   bash bindings/node/test/sigterm_soak.sh [ROUNDS]      (default 50)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(cd "$here/.." && pwd)"
rounds="${1:-50}"
loaders="${LOADERS:-4}"
command -v curl >/dev/null || { echo "sigterm_soak.sh: needs curl" >&2; exit 2; }

tmp="$(mktemp -d)"
sup=""
load_pids=()
cleanup() {
    for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; done
    [[ -n "$sup" ]] && kill -KILL "$sup" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/app.js" <<JS
'use strict';
const { Spikard } = require(${pkg@Q});
const app = new Spikard({ workers: 2, port: 0, shutdownTimeout: 2 });
app.get('/pid', () => ({ pid: process.pid }));
app.get('/slow', () => new Promise((resolve) => setTimeout(resolve, 20, 'slow')));
app.listen();
JS

pass=0 fail=0 total_ok=0
for ((round = 1; round <= rounds; round++)); do
    err="$tmp/stderr.$round"
    node "$tmp/app.js" 2>"$err" &
    sup=$!
    port=""
    for _ in $(seq 300); do # up to 30 s for the "listening" line
        port="$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) (2 workers).*/\1/p' "$err")"
        [[ -n "$port" ]] && break
        kill -0 "$sup" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        echo "round $round: FAIL: no listening line"; sed 's/^/    /' "$err"; fail=$((fail + 1))
        kill -KILL "$sup" 2>/dev/null; wait "$sup" 2>/dev/null; sup=""; continue
    fi
    workers="$(pgrep -P "$sup" | tr '\n' ' ')"
    load_pids=()
    for ((l = 0; l < loaders; l++)); do
        (
            n=0
            while :; do
                path=/pid; ((n % 3 == 0)) && path=/slow
                curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "http://127.0.0.1:$port$path" || echo fail
                n=$((n + 1))
            done >"$tmp/load.$round.$l"
        ) &
        load_pids+=($!)
    done
    # Let the load build up (not synchronisation: any moment under load will do).
    sleep "0.$((RANDOM % 5 + 3))"
    kill -TERM "$sup"
    status=""
    for _ in $(seq 200); do # up to 20 s (shutdown 2 s, SIGKILL 5 s after)
        kill -0 "$sup" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$sup" 2>/dev/null; then
        status="hung"; kill -KILL "$sup"
    fi
    wait "$sup"; rc=$?
    [[ -z "$status" ]] && status="$rc"
    sup=""
    for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    load_pids=()
    ok="$(cat "$tmp"/load."$round".* | grep -c '^200$')"
    total_ok=$((total_ok + ok))
    left=""
    for _ in $(seq 100); do
        left=""
        for w in $workers; do kill -0 "$w" 2>/dev/null && left+="$w "; done
        [[ -z "$left" ]] && break
        sleep 0.1
    done
    crash="$(grep -E -m1 'panic|fatal error|SIGSEGV|Segmentation|Aborted|core dumped|exited with status' "$err")"
    if [[ "$status" == 0 && -z "$left" && -z "$crash" && "$ok" -gt 0 ]]; then
        pass=$((pass + 1))
        echo "round $round: ok ($ok requests answered 200)"
    else
        fail=$((fail + 1))
        echo "round $round: FAIL: status=$status workers_left='$left' answered=$ok crash='$crash'"
        sed 's/^/    /' "$err" | head -40
    fi
done

echo "sigterm_soak: $pass/$rounds rounds passed, $fail failed; $total_ok requests answered 200 under load"
[[ "$fail" == 0 ]]
