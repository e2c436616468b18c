#!/bin/sh
# run.sh — builds the C consumers of spikard.h against build/libspikard.so,
# runs abi_test, stream_test, ws_test, hooks_test and supervise_test, then serves
# two_routes and checks it with curl.
# abi_test runs a second time, the same binary, against the next-minor test
# library (build/next/libspikard.so, go build -tags spikard_abi_next; see
# capi/abinext.go), which is how the GROWTH rule of spikard.h is shown on a
# compiled host.
# Prints "N passed, M failed" last; exits non-zero on any failure.
#
# Env: CC (default cc), SANITIZE (default -fsanitize=address,undefined),
# BUILD_DIR (default <repo>/build), SKIP_LIB_BUILD=1 to use an existing
# libspikard.so as is.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
cc=${CC:-cc}
sanitize=${SANITIZE--fsanitize=address,undefined}
out=$build/tests-c
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

mkdir -p "$out"
if [ "${SKIP_LIB_BUILD:-0}" != 1 ]; then
    (cd "$root" && go build -buildmode=c-shared -o "$build/libspikard.so" ./capi) || { bad "build libspikard.so"; finish; }
    rm -f "$build/next/libspikard.so" # a failed build must not leave an old one to test
    if (cd "$root" && go build -tags spikard_abi_next -buildmode=c-shared -o "$build/next/libspikard.so" ./capi); then
        ok "build the next-minor test library"
    else
        bad "build the next-minor test library"
    fi
fi
for prog in abi_test stream_test ws_test hooks_test supervise_test two_routes; do
    # --enable-new-dtags writes the rpath as DT_RUNPATH, which LD_LIBRARY_PATH
    # overrides: that is how abi_test's second run loads the test library.
    # shellcheck disable=SC2086 # $sanitize is a flag list
    if $cc -std=c11 -Wall -Wextra -Werror -g $sanitize -I"$root/include" "$here/$prog.c" -o "$out/$prog" \
        -L"$build" -lspikard -Wl,--enable-new-dtags -Wl,-rpath,"$build" -lpthread; then
        ok "build $prog"
    else
        bad "build $prog"
        finish
    fi
done

# Go turns SIGSEGV/SIGBUS/SIGFPE into panics (nil checks), so ASan must leave
# those signals to it. Leak checking stays on: C allocations of libspikard
# (handles, poller buffers, messages) must all be freed.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ABI_TEST_WANT_ABI makes abi_test check which library it loaded: the
# header's version, then the test library's, one minor later.
abi=$(sed -n 's/^#define SPIKARD_ABI_VERSION \([0-9]*\).*/\1/p' "$root/include/spikard.h")
if ABI_TEST_WANT_ABI=$abi "$out/abi_test"; then ok "abi_test"; else bad "abi_test"; fi
if [ -f "$build/next/libspikard.so" ]; then
    if ABI_TEST_WANT_ABI=$((abi + 1)) LD_LIBRARY_PATH="$build/next${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$out/abi_test"; then
        ok "abi_test against the next-minor test library"
    else
        bad "abi_test against the next-minor test library"
    fi
else
    bad "abi_test against the next-minor test library: $build/next/libspikard.so missing"
fi
if "$out/stream_test"; then ok "stream_test"; else bad "stream_test"; fi
if "$out/ws_test"; then ok "ws_test"; else bad "ws_test"; fi
if "$out/hooks_test"; then ok "hooks_test"; else bad "hooks_test"; fi
# supervise_test supervises copies of itself (its own workers).
if "$out/supervise_test"; then ok "supervise_test"; else bad "supervise_test"; fi

portfile=$out/two_routes.port
: >"$portfile"
"$out/two_routes" >"$portfile" &
pid=$!
port=
i=0
while [ $i -lt 100 ]; do
    port=$(head -n 1 "$portfile")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    bad "two_routes printed no port"
    kill -TERM "$pid" 2>/dev/null
    finish
fi
ok "two_routes listening on $port"
base=http://127.0.0.1:$port

# check NAME WANT_STATUS WANT_BODY CURL_ARGS...; WANT_BODY "-" skips the body.
check() {
    name=$1 want_status=$2 want_body=$3
    shift 3
    resp=$(curl -s -m 5 -w '\n%{http_code}' "$@")
    status=$(printf '%s' "$resp" | tail -n 1)
    body=$(printf '%s' "$resp" | sed '$d')
    if [ "$status" = "$want_status" ] && { [ "$want_body" = - ] || [ "$body" = "$want_body" ]; }; then
        ok "$name"
    else
        bad "$name: got $status $body"
    fi
}

alice='{"id":1,"name":"Alice","email":"alice@example.com"}'
check "GET /users/42" 200 '{"id":42,"name":"Alice","email":"alice@example.com"}' "$base/users/42"
check "POST /users echoes the body" 200 "$alice" -X POST -H 'content-type: application/json' -d "$alice" "$base/users"
check "POST /users rejects {\"id\":\"x\"}" 422 - -X POST -H 'content-type: application/json' -d '{"id":"x"}' "$base/users"
# {user_id:int} does not take "abc" and no other route matches: the
# parameter's parse error, not a 404.
check "GET /users/abc is user_id's parse error" 422 '{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["path","user_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}' "$base/users/abc"
check "GET /nothing does not match" 404 - "$base/nothing"

# Concurrent clients make polls return batches of more than one event.
n=$(seq 1 400 | xargs -P 32 -I{} curl -s -m 10 -o /dev/null -w '%{http_code}\n' "$base/users/{}" | grep -c '^200$')
if [ "$n" = 400 ]; then ok "400 concurrent GETs"; else bad "400 concurrent GETs: $n answered 200"; fi

kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 0 ]; then ok "two_routes exits 0 on SIGTERM"; else bad "two_routes exit status $rc on SIGTERM"; fi
finish
