#!/bin/bash
# Benchmark: the cost of metrics. Two private httpd instances with the same
# configuration, one with PAAMetrics Off (no table, nothing counted), run
# in alternating slices with wrk on loopback against the same handler
# (/health, the cheapest, where counting weighs most). Prints requests/s
# for both and the ratio (target: on / off >= 0.95), and checks that the
# "on" instance counted every request it answered. Not part of the suite.
#
#   tests/bench/metrics.sh [SECONDS] [CONNECTIONS]    (defaults: 10 s, 32)
#
# Needs a built tree (./quickstart build) and wrk (apt-get install wrk).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_RUN=${1:-10}
CONNS=${2:-32}
PAA_SRCDIR=$SRC PAA_BUILDDIR=$SRC PAA_MODULE=$SRC/.libs/mod_paa.so \
    PAACTL=$SRC/paactl/paactl PAA_HTTPD=${PAA_HTTPD:-/usr/sbin/apache2}
export PAA_SRCDIR PAA_BUILDDIR PAA_MODULE PAACTL PAA_HTTPD
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ "$SECONDS_PER_RUN" -ge 1 ] && [ "$SECONDS_PER_RUN" -le 120 ] ||
    { echo "1 to 120 s per run" >&2; exit 2; }

. "$SRC/tests/integration/lib.sh"
new_instance sqlite3
start_instance
ON_BASE=$BASE ON_HOME=$HOME_DIR
KEY=$("$PAACTL" --config "$CONFIG" keygen --name bench --role admin 2>/dev/null)
new_instance sqlite3
echo "PAAMetrics Off" >"$HOME_DIR/conf.d/metrics-off.conf"
start_instance
OFF_BASE=$BASE

# Sanity: each instance is what it claims to be.
scrape() { curl -s -H "X-API-Key: $KEY" "$ON_BASE/metrics"; }
health_total() { scrape | awk '$1 == "paa_http_requests_total{route=\"/health\",code=\"2xx\"}" { print $2 }'; }
[ -n "$(health_total)" ] || bail "the metrics instance has no /health counter"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$OFF_BASE/metrics")" = 401 ] || bail "off instance: /metrics not protected"

# wrk BASE: "REQUESTS SECONDS" for one slice.
slice() {
    wrk -t2 -c"$CONNS" -d"${SLICE}s" "$1/health" |
        awk '/ requests in / {sub(/s,$/, "", $4); print $1, $4} /Non-2xx/ {print "non-2xx " $0 > "/dev/stderr"}'
}
SLICES=5
[ "$SECONDS_PER_RUN" -lt 5 ] && SLICES=$SECONDS_PER_RUN
SLICE=$((SECONDS_PER_RUN / SLICES))
slice "$OFF_BASE" >/dev/null # warm-up
slice "$ON_BASE" >/dev/null
before=$(health_total)
: >"$T_TMP/off" && : >"$T_TMP/on"
for _ in $(seq 1 "$SLICES"); do
    slice "$OFF_BASE" >>"$T_TMP/off"
    slice "$ON_BASE" >>"$T_TMP/on"
done
after=$(health_total)
rate() { awk '{n += $1; t += $2} END {printf "%.0f", t ? n / t : 0}' "$1"; }
sent=$(awk '{n += $1} END {print n}' "$T_TMP/on")
off_rps=$(rate "$T_TMP/off")
on_rps=$(rate "$T_TMP/on")
awk -v o="$off_rps" -v n="$on_rps" -v s="$SECONDS_PER_RUN" -v c="$CONNS" -v sl="$SLICES" 'BEGIN {
    printf "wrk -t2 -c%d, %d s per variant in %d alternating slices, 127.0.0.1, GET /health\n", c, s, sl
    printf "%-16s %10.0f req/s\n", "metrics off", o
    printf "%-16s %10.0f req/s  ratio %.3f (target >= 0.95)\n", "metrics on", n, n / o
}'
echo "counted: $((after - before)) /health requests; wrk completed $sent (wrk does not count those cut off at the end)"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) CPUs"
