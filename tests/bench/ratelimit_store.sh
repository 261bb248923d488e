#!/bin/bash
# Benchmark: the rate limiter's two stores under the policy + API key
# scenario (an API key checked on every request, CORS and security headers,
# PAARateLimit far above what the run sends), one private httpd each on one
# database: "shm" (the node's shared memory) and "redis" (PAARateLimitStore
# on a throwaway redis-server on loopback). wrk alternates between them in
# short slices. Prints requests/s, p99 latency, the ratio redis / shm
# (target >= 0.85), the Redis scripts a request cost, the decisions a
# read of Redis carried (the pipelining's batch size), Redis's CPU time a
# decision, and the decisions that failed over to the node's own table
# (store failures: they must stay 0 for the figure to mean anything). Not
# part of the test suite.
#
#   tests/bench/ratelimit_store.sh [SECONDS] [CONNECTIONS]   (defaults: 10 s, 32)
#
# BENCH_LEASES=on gives the Redis node PAARateLimitStoreLeases On (the
# limit here is far above what the run sends, so a child then grants most
# requests from a lease); default off: every decision is one script.
#
# Needs a built tree (./quickstart build), wrk and redis-server.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_RUN=${1:-10}
CONNS=${2:-32}
PAA_SRCDIR=$SRC PAA_BUILDDIR=$SRC PAA_MODULE=$SRC/.libs/mod_paa.so \
    PAACTL=$SRC/paactl/paactl PAA_HTTPD=${PAA_HTTPD:-/usr/sbin/apache2} \
    JWT_MINT=$SRC/tests/tools/jwt_mint
export PAA_SRCDIR PAA_BUILDDIR PAA_MODULE PAACTL PAA_HTTPD JWT_MINT
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ "$SECONDS_PER_RUN" -ge 1 ] && [ "$SECONDS_PER_RUN" -le 120 ] ||
    { echo "1 to 120 s per run" >&2; exit 2; }

. "$SRC/tests/integration/lib.sh"
have_redis || bail "redis-server is not installed (apt-get install redis-server)"
start_redis
ORIGIN=https://app.example.com
LEASES=${BENCH_LEASES:-off}
case $LEASES in on | off) ;; *) echo "BENCH_LEASES: on or off" >&2; exit 2 ;; esac
# bench_conf HOME STORE
bench_conf() {
    cat >"$1/conf.d/bench.conf" <<CONF
PAARateLimitStore $2
$([ "$2" = shm ] || echo "PAARateLimitStoreLeases $LEASES")
<Location "/bench">
    SetHandler none
    PAACorsOrigin https://app.example.com https://*.example.com
    PAASecurityHeaders On
    PAARateLimit 100000000 60s
</Location>
CONF
    echo ok >"$1/htdocs/bench"
}
new_instance sqlite3
SHM_HOME=$HOME_DIR
bench_conf "$SHM_HOME" shm
start_instance
SHM_BASE=$BASE
new_instance_like "$SHM_HOME"
bench_conf "$HOME_DIR" "redis://127.0.0.1:$REDIS_PORT"
start_instance
REDIS_BASE=$BASE
KEY=$("$PAACTL" --config "$CONFIG" keygen --name bench 2>/dev/null)
ADMIN=$("$PAACTL" --config "$CONFIG" keygen --name bench-admin --role admin 2>/dev/null)

# Sanity: both answer 200 through the limiter, and only one uses Redis.
evals() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info commandstats |
        sed -n 's/^cmdstat_\(evalsha\|eval\):calls=\([0-9]*\).*/\2/p' | awk '{ n += $1 } END { print n + 0 }'
}
for b in "$SHM_BASE" "$REDIS_BASE"; do
    h=$(curl -s -o /dev/null -D - -H "X-API-Key: $KEY" -H "Origin: $ORIGIN" "$b/bench" | tr -d '\r')
    for want in "HTTP/1.1 200" "RateLimit-Limit: 100000000" "Access-Control-Allow-Origin: $ORIGIN"; do
        grep -qF "$want" <<<"$h" || bail "$b/bench lacks '$want'"
    done
done
e0=$(evals)
curl -s -o /dev/null -H "X-API-Key: $KEY" "$SHM_BASE/bench"
[ "$(evals)" = "$e0" ] || bail "the shm instance talks to Redis"
# (A Redis node's child may grant from a lease without a script: the
# counters Redis holds tell that it counts.)
[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern 'paa:rl:*' | wc -l)" -gt 0 ] ||
    bail "the redis instance does not use Redis"

# redis_stat FIELD: a number from INFO (cpu and stats sections)
redis_stat() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info everything | tr -d '\r' |
        awk -F: -v f="$1" '$1 == f { print $2 }'
}
redis_cpu() { echo "$(redis_stat used_cpu_user) $(redis_stat used_cpu_sys)" | awk '{ printf "%.6f", $1 + $2 }'; }
failures() {
    curl -s -H "X-API-Key: $ADMIN" "$REDIS_BASE/metrics" |
        awk '$1 ~ /^paa_ratelimit_store_failures_total/ { n += $2 } END { print n + 0 }'
}

# slice BASE: "REQUESTS SECONDS P99_MS" for one slice
slice() {
    wrk -t2 -c"$CONNS" -d"${SLICE}s" --latency -H "X-API-Key: $KEY" -H "Origin: $ORIGIN" "$1/bench" |
        awk '/ requests in / {sub(/s,$/, "", $4); n = $1; t = $4}
             $1 == "99%" {v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
                          p = (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v)}
             /Non-2xx/ {print "non-2xx " $0 > "/dev/stderr"}
             END {print n, t, p}'
}
SLICES=5
[ "$SECONDS_PER_RUN" -lt 5 ] && SLICES=$SECONDS_PER_RUN
SLICE=$((SECONDS_PER_RUN / SLICES))
slice "$SHM_BASE" >/dev/null # warm-up: children, connections, caches
slice "$REDIS_BASE" >/dev/null
: >"$T_TMP/shm" && : >"$T_TMP/redis"
e0=$(evals)
r0=$(redis_stat total_reads_processed) c0=$(redis_cpu) f0=$(failures)
for _ in $(seq 1 "$SLICES"); do
    slice "$SHM_BASE" >>"$T_TMP/shm"
    slice "$REDIS_BASE" >>"$T_TMP/redis"
done
e1=$(evals)
r1=$(redis_stat total_reads_processed) c1=$(redis_cpu) f1=$(failures)
rate() { awk '{n += $1; t += $2} END {printf "%.0f", t ? n / t : 0}' "$1"; }
reqs() { awk '{n += $1} END {print n}' "$1"; }
# the worst slice's p99
p99() { awk '$3 > p {p = $3} END {printf "%.2f", p}' "$1"; }
awk -v s="$(rate "$T_TMP/shm")" -v r="$(rate "$T_TMP/redis")" -v ps="$(p99 "$T_TMP/shm")" \
    -v pr="$(p99 "$T_TMP/redis")" -v e=$((e1 - e0)) -v n="$(reqs "$T_TMP/redis")" \
    -v d="$SECONDS_PER_RUN" -v c="$CONNS" -v sl="$SLICES" -v rd=$((r1 - r0)) \
    -v cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v f=$((f1 - f0)) -v leases="$LEASES" 'BEGIN {
    printf "wrk -t2 -c%d, %d s per store in %d alternating slices, 127.0.0.1, GET /bench with an API key, leases %s\n", c, d, sl, leases
    printf "%-12s %10.0f req/s  p99 %7.2f ms\n", "shm", s, ps
    printf "%-12s %10.0f req/s  p99 %7.2f ms  ratio %.3f (target >= 0.85)\n", "redis", r, pr, r / s
    printf "Redis scripts run: %d for %d requests (%.4f a request)\n", e, n, n ? e / n : 0
    printf "Redis: %.1f scripts a read (batch), %.1f us CPU a script; store failures: %d\n",
        rd ? e / rd : 0, e ? cpu * 1e6 / e : 0, f
}'
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) CPUs"
