#!/bin/bash
# Benchmark: the same small handler (/health) served unprotected, behind an
# API key and behind a JWT, in one run on one private httpd, with wrk on
# loopback. Prints requests/s and the ratios to the unprotected case
# (target: each protected variant >= 0.90). Not part of the test suite.
#
#   tests/bench/auth.sh [SECONDS] [CONNECTIONS]     (defaults: 10 s, 32)
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
[ "$SECONDS_PER_RUN" -le 120 ] || { echo "at most 120 s per run" >&2; exit 2; }

. "$SRC/tests/integration/lib.sh"
new_instance sqlite3
cat >"$HOME_DIR/conf.d/bench.conf" <<'CONF'
# One handler, three protections, chosen by a request header.
<LocationMatch "^/health$">
    <If "%{HTTP:X-Bench} == 'key'">
        AuthType PAA
        PAAAuthMethods apikey
        Require valid-user
    </If>
    <ElseIf "%{HTTP:X-Bench} == 'jwt'">
        AuthType PAA
        PAAAuthMethods jwt
        Require valid-user
    </ElseIf>
</LocationMatch>
CONF
# The access log would measure the disk, not mod_paa.
start_instance
KEY=$("$PAACTL" --config "$CONFIG" keygen --name bench 2>/dev/null)
printf 'bench-password-1\n' | "$PAACTL" --config "$CONFIG" user add bench >/dev/null 2>&1
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub bench --ttl 1h 2>/dev/null)

# Sanity: each variant really is protected and really is served.
for v in key jwt; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Bench: $v" "$BASE/health")" = 401 ] ||
        bail "the $v variant is not protected"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Bench: key' -H "X-API-Key: $KEY" "$BASE/health")" = 200 ] ||
    bail "the API key variant does not answer 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Bench: jwt' -H "Authorization: Bearer $TOKEN" "$BASE/health")" = 200 ] ||
    bail "the JWT variant does not answer 200"

rps() {
    wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" "$@" "$BASE/health" |
        awk '/^Requests\/sec:/ {print $2} /Non-2xx/ {print "non-2xx " $0 > "/dev/stderr"}'
}
rps -H 'X-Bench: none' >/dev/null # warm-up: children, connections, caches
open_rps=$(rps -H 'X-Bench: none')
key_rps=$(rps -H 'X-Bench: key' -H "X-API-Key: $KEY")
jwt_rps=$(rps -H 'X-Bench: jwt' -H "Authorization: Bearer $TOKEN")
awk -v o="$open_rps" -v k="$key_rps" -v j="$jwt_rps" -v s="$SECONDS_PER_RUN" -v c="$CONNS" 'BEGIN {
    printf "wrk -t2 -c%d -d%ds on 127.0.0.1, GET /health, SQLite\n", c, s
    printf "%-14s %10.0f req/s\n", "unprotected", o
    printf "%-14s %10.0f req/s  ratio %.3f\n", "API key", k, k / o
    printf "%-14s %10.0f req/s  ratio %.3f\n", "JWT (HS256)", j, j / o
}'
