#!/bin/sh
# build.sh — builds the C fixture server of the parity runner (server.c, see
# ../PROTOCOL.md) against include/spikard.h and build/libspikard.so, with an
# rpath to build/, into build/parity/server-c. With the argument "broken" it
# also builds build/parity/server-c-broken (-DFIXTURE_BROKEN_STATUS: every
# answer's status is one too high), which proves that a wrong server fails
# the parity run.
#
# Env: CC (default cc), SANITIZE (default none; e.g.
# "-fsanitize=address,undefined", which then needs tests/c/run.sh's
# ASAN_OPTIONS to run), BUILD_DIR (default <repo>/build). libspikard.so is
# not built here: make build/libspikard.so.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
build=${BUILD_DIR:-$root/build}
cc=${CC:-cc}
sanitize=${SANITIZE:-}
out=$build/parity

case "${1-}" in
"" | broken) ;;
*)
    echo "usage: $0 [broken]" >&2
    exit 2
    ;;
esac
if [ ! -f "$build/libspikard.so" ]; then
    echo "build.sh: $build/libspikard.so is missing (make build/libspikard.so)" >&2
    exit 1
fi
mkdir -p "$out"

# compile OUTPUT [FLAGS...]
compile() {
    output=$1
    shift
    # shellcheck disable=SC2086 # $sanitize is a flag list
    $cc -std=c11 -Wall -Wextra -Werror -O1 -g $sanitize "$@" -I"$root/include" "$here/server.c" \
        -o "$output" -L"$build" -lspikard -Wl,-rpath,"$build" -lpthread
}

compile "$out/server-c"
if [ "${1-}" = broken ]; then
    compile "$out/server-c-broken" -DFIXTURE_BROKEN_STATUS
fi
