#!/bin/bash
# Benchmark: the same small handler (/health) with the edge policy enabled
# (CORS allowlist with an allowed Origin sent, security headers, a rate
# limit far above what the run sends) and disabled (no CORS, no security
# headers, no rate limit), in one run on one private httpd, chosen by a
# request header, with wrk on loopback. Prints requests/s for both and the
# ratio (target: enabled / disabled >= 0.95). Not part of the test suite.
#
#   tests/bench/policy.sh [SECONDS] [CONNECTIONS]     (defaults: 10 s, 32)
#
# Needs a built tree (./quickstart build) and wrk (apt-get install wrk).
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
new_instance sqlite3
ORIGIN=https://app.example.com
# The allowlist is a directive inside the "on" branch rather than
# CORS_ORIGIN, which would apply to both variants.
cat >"$HOME_DIR/conf.d/bench.conf" <<'CONF'
# One handler, policy on or off, chosen by a request header.
<LocationMatch "^/health$">
    <If "%{HTTP:X-Bench} == 'on'">
        PAACorsOrigin https://app.example.com https://*.example.com http://localhost:3000
        PAASecurityHeaders On
        PAARateLimit 100000000 60s
    </If>
    <Else>
        PAASecurityHeaders Off
        PAARateLimit Off
    </Else>
</LocationMatch>
CONF
start_instance

# Sanity: each variant really is what it claims to be.
hdrs() { curl -s -o /dev/null -D - -H "X-Bench: $1" -H "Origin: $ORIGIN" "$BASE/health" | tr -d '\r'; }
on=$(hdrs on)
off=$(hdrs off)
grep -qiE '^Vary:.*Origin' <<<"$on" || bail "the enabled variant lacks Vary: Origin"
for h in "HTTP/1.1 200" "Access-Control-Allow-Origin: $ORIGIN" "X-Frame-Options: DENY" \
    "Content-Security-Policy: " "RateLimit-Limit: 100000000"; do
    grep -qF "$h" <<<"$on" || bail "the enabled variant lacks '$h'"
done
grep -qF "HTTP/1.1 200" <<<"$off" || bail "the disabled variant does not answer 200"
for h in Access-Control- X-Frame-Options Content-Security-Policy RateLimit-; do
    grep -qiF "$h" <<<"$off" && bail "the disabled variant sends $h"
done
grep -qiE '^Vary:.*Origin' <<<"$off" && bail "the disabled variant sends Vary: Origin"

# wrk ARGS: "REQUESTS SECONDS" for one slice.
slice() {
    wrk -t2 -c"$CONNS" -d"${SLICE}s" -H "Origin: $ORIGIN" "$@" "$BASE/health" |
        awk '/ requests in / {sub(/s,$/, "", $4); print $1, $4} /Non-2xx/ {print "non-2xx " $0 > "/dev/stderr"}'
}
# The variants alternate in short slices, so that a change in the load of
# the machine during the run weighs on both alike.
SLICES=5
[ "$SECONDS_PER_RUN" -lt 5 ] && SLICES=$SECONDS_PER_RUN
SLICE=$((SECONDS_PER_RUN / SLICES))
slice -H 'X-Bench: off' >/dev/null # warm-up: children, connections, caches
: >"$T_TMP/off" && : >"$T_TMP/on"
for _ in $(seq 1 "$SLICES"); do
    slice -H 'X-Bench: off' >>"$T_TMP/off"
    slice -H 'X-Bench: on' >>"$T_TMP/on"
done
rate() { awk '{n += $1; t += $2} END {printf "%.0f", t ? n / t : 0}' "$1"; }
off_rps=$(rate "$T_TMP/off")
on_rps=$(rate "$T_TMP/on")
# The limiter really counted the enabled requests (none was refused:
# wrk reports non-2xx answers on stderr).
http GET /health -H 'X-Bench: on'
used=$((100000000 - $(header RateLimit-Remaining)))
awk -v o="$off_rps" -v n="$on_rps" -v s="$SECONDS_PER_RUN" -v c="$CONNS" -v u="$used" -v sl="$SLICES" 'BEGIN {
    printf "wrk -t2 -c%d, %d s per variant in %d alternating slices, 127.0.0.1, GET /health with Origin\n", c, s, sl
    printf "%-16s %10.0f req/s\n", "policy disabled", o
    printf "%-16s %10.0f req/s  ratio %.3f (target >= 0.95)\n", "policy enabled", n, n / o
    printf "rate limiter: %d requests counted in the current 60 s window\n", u
}'
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) CPUs"
