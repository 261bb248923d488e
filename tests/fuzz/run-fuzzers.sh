#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Fuzzes every parser of network and configuration input for real: builds
# each target with clang's libFuzzer, AddressSanitizer and UndefinedBehavior-
# Sanitizer against the core sources (mod_paa/core/*.c, instrumented the
# same way), copies the seed corpus to a working corpus and runs the
# targets one after another (one process each) for a bounded time or
# number of executions. "make check" only replays the corpus; this is what
# finds new inputs. See tests/fuzz/README.
#
#   tests/fuzz/run-fuzzers.sh [TARGET...]
#
# TARGET is a fuzz_TARGET.c in this directory; default: all of them (jwt
# credentials persona body mcp cors config llm).
#
# Environment:
#   FUZZ_SECONDS   time per target (default 60)
#   FUZZ_RUNS      stop a target after this many executions instead, if
#                  that comes first (-runs; e.g. 10000000)
#   FUZZ_BUILDDIR  build and work directory, outside the source tree
#                  (default /tmp/paa-fuzz); the working corpus is kept
#                  there between runs, delete it to start from the seeds
#   FUZZ_CC        compiler (default clang)
#   FUZZ_ARGS      more libFuzzer options (e.g. -jobs=2, -only_ascii=1)
#   FUZZ_KEEP_GOING=1  do not stop at the first crash: libFuzzer's fork
#                  mode with -ignore_crashes=1, every crash saved
#
# Exit status: 0 when no target crashed, 1 when one did (the input is in
# FUZZ_BUILDDIR/artifacts/TARGET/), 2 when the build failed.

# Flag lists are split into words on purpose, and the quotes around
# PAA_VERSION_STRING's value are meant to reach the compiler.
# shellcheck disable=SC2086,SC2089,SC2090

set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILDDIR:-/tmp/paa-fuzz}
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
targets=${*:-jwt credentials persona body mcp cors config llm}

case $out in
"$top" | "$top"/*)
    echo "run-fuzzers.sh: FUZZ_BUILDDIR must be outside the source tree" >&2
    exit 2
    ;;
esac

version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' \
    "$top/configure.ac")
deps="apr-1 apr-util-1 jansson libcrypto libjwt"
pkg_cflags=$(pkg-config --cflags $deps) || exit 2
pkg_libs=$(pkg-config --libs $deps) || exit 2

# Any sanitizer report is a crash: UBSan halts on its first error
# (recoverable checks, so UBSAN_OPTIONS suppressions can still be used).
san="-fsanitize=address,undefined"
cflags="-g -O1 -fno-omit-frame-pointer $san -I$top/mod_paa -D_GNU_SOURCE
    -DPAA_VERSION_STRING=\"$version\" $pkg_cflags"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

mkdir -p "$out/obj"
echo "== building in $out with $($cc --version | head -n 1)"
for src in "$top"/mod_paa/core/*.c; do
    obj=$out/obj/$(basename "$src" .c).o
    $cc $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 2
done
$cc $cflags -c "$here/pool_asan.c" -o "$out/pool_asan.o" || exit 2
$cc $cflags -c "$here/reference.c" -o "$out/reference.o" || exit 2

# The pool allocations must be visible to ASan, or an overflow inside a
# pool block would go unnoticed (see pool_asan.c).
$cc $cflags -DPOOL_ASAN_SELFTEST -o "$out/pool_asan_selftest" \
    "$here/pool_asan.c" $pkg_libs -ldl || exit 2
if "$out/pool_asan_selftest" 2>&1 | grep -q 'heap-buffer-overflow'; then
    echo "== pool allocations are checked by ASan"
else
    echo "run-fuzzers.sh: ASan does not see pool allocations" >&2
    exit 2
fi

status=0
for t in $targets; do
    src=$here/fuzz_$t.c
    [ -r "$src" ] || {
        echo "run-fuzzers.sh: no target $src" >&2
        exit 2
    }
    bin=$out/fuzz_$t
    $cc $cflags -fsanitize=fuzzer -I"$here" -o "$bin" "$src" \
        "$out/reference.o" "$out"/obj/*.o "$out/pool_asan.o" $pkg_libs -ldl ||
        exit 2

    corpus=$out/corpus/$t
    artifacts=$out/artifacts/$t
    log=$out/fuzz_$t.log
    mkdir -p "$corpus" "$artifacts"
    cp "$here/corpus/$t"/* "$corpus"/
    opts="-max_total_time=$seconds -timeout=10 -print_final_stats=1"
    if [ -n "${FUZZ_RUNS:-}" ]; then
        opts="$opts -runs=$FUZZ_RUNS"
    fi
    opts="$opts -artifact_prefix=$artifacts/"
    [ -r "$here/$t.dict" ] && opts="$opts -dict=$here/$t.dict"
    case $t in
    # JSON-mode inputs grow by 4/3 when encoded: reach PAA_JWT_MAX_LEN.
    jwt) opts="$opts -max_len=10000" ;;
    esac
    if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
        opts="$opts -fork=1 -ignore_crashes=1 -ignore_timeouts=1"
        opts="$opts -ignore_ooms=1"
    fi

    n=$(find "$corpus" -type f | wc -l)
    echo "== fuzz_$t: ${seconds}s from $n inputs in $corpus, log $log"
    if "$bin" $opts ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^INFO: exiting' \
        "$log" || true
    # Fork mode reports progress as "#N: cov: ..." lines; show the last.
    grep -E '^#[0-9]+: ' "$log" | tail -n 1 || true
    n=$(find "$corpus" -type f | wc -l)
    crashes=$(find "$artifacts" -type f | wc -l)
    echo "== fuzz_$t: exit $rc, $n inputs in corpus," \
        "$crashes crash artifact(s) in $artifacts"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        grep -E -A 30 'ERROR: |runtime error|invariant broken' "$log" |
            head -n 60 || true
        status=1
    fi
done
exit $status
