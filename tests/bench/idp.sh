#!/bin/bash
# Benchmark: an identity provider's access token (RS256, the key set read
# from a file: PAAJWTJWKS file:) against the same static file at an open
# location, on one private httpd, with wrk on loopback, the two taken in
# turn for ROUNDS rounds. Prints each round's requests/s and the median of
# the rounds' ratios. Not part of the test suite.
#
#   tests/bench/idp.sh [SECONDS] [ROUNDS] [CONNECTIONS]   (defaults: 6 s, 3, 32)
#
# PAA_MODULE=/path/mod_paa.so measures another build (before/after). Needs
# a built tree (./quickstart build, make check TESTS= for jwt_mint), wrk
# and openssl.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-6}
ROUNDS=${2:-3}
CONNS=${3:-32}
PAA_SRCDIR=$SRC PAA_BUILDDIR=$SRC PAA_MODULE=${PAA_MODULE:-$SRC/.libs/mod_paa.so} \
    PAACTL=$SRC/paactl/paactl PAA_HTTPD=${PAA_HTTPD:-/usr/sbin/apache2} \
    JWT_MINT=$SRC/tests/tools/jwt_mint
export PAA_SRCDIR PAA_BUILDDIR PAA_MODULE PAACTL PAA_HTTPD JWT_MINT
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$JWT_MINT" ] || { echo "build tests/tools first (make check TESTS=)" >&2; exit 1; }
[ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || { echo "1 to 60 s per run" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 9 ] || { echo "1 to 9 rounds" >&2; exit 2; }

. "$SRC/tests/integration/lib.sh"
# The provider's key pair and its key set (the modulus as base64url).
"$JWT_MINT" genkey rsa "$T_TMP/idp.pem" "$T_TMP/idp.pub.pem" >/dev/null || bail "jwt_mint genkey failed"
hex=$(openssl rsa -pubin -in "$T_TMP/idp.pub.pem" -noout -modulus | cut -d= -f2)
n=$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64 -w0 | tr '+/' '-_' | tr -d '=')
printf '{"keys":[{"kty":"RSA","kid":"bench","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}]}' \
    "$n" >"$T_TMP/jwks.json"
chmod 755 "$T_TMP"
chmod 644 "$T_TMP/jwks.json"

new_instance sqlite3
for d in open idp; do
    mkdir -p "$HOME_DIR/htdocs/$d"
    head -c 512 /dev/zero | tr '\0' x >"$HOME_DIR/htdocs/$d/bench.txt"
done
cat >"$HOME_DIR/conf.d/bench.conf" <<CONF
PAAJWTAlgorithm RS256
PAAJWTJWKS file:$T_TMP/jwks.json
PAAJWTIssuer https://idp.bench.test
PAAJWTAudience https://api.bench.test
PAAJWTUsers external
<Location "/open/">
    SetHandler None
    PAARateLimit Off
    Require all granted
</Location>
<Location "/idp/">
    SetHandler None
    PAARateLimit Off
    PAAAuthMethods jwt
</Location>
CONF
start_instance
token=$("$JWT_MINT" sign --alg RS256 --key-file "$T_TMP/idp.pem" --header '{"kid":"bench"}' \
    --payload '{"iss":"https://idp.bench.test","aud":"https://api.bench.test","sub":"bench-client","scope":"read write","iat":"now","exp":"now+3000"}') ||
    bail "jwt_mint sign failed"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/idp/bench.txt")" = 401 ] || bail "/idp/ is not protected"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE/idp/bench.txt")" = 200 ] ||
    bail "the provider's token is not accepted: $(tail -n 3 "$HOME_DIR/logs/error.log")"

rps() {
    wrk -t2 -c"$CONNS" -d"${SECS}s" "$@" |
        awk '/^Requests\/sec:/ {print $2} /Non-2xx/ {print "non-2xx " $0 > "/dev/stderr"}'
}
rps "$BASE/open/bench.txt" >/dev/null # warm-up: children, connections, caches
printf 'wrk -t2 -c%d -d%ds on 127.0.0.1, a 512-byte file, module %s\n' "$CONNS" "$SECS" "$PAA_MODULE"
for r in $(seq 1 "$ROUNDS"); do
    o=$(rps "$BASE/open/bench.txt")
    i=$(rps -H "Authorization: Bearer $token" "$BASE/idp/bench.txt")
    awk -v r="$r" -v o="$o" -v i="$i" 'BEGIN {
        printf "round %d: open %.0f req/s, provider token %.0f req/s, ratio %.3f\n", r, o, i, i / o }'
done | tee "$T_TMP/rounds"
awk '{ print $NF }' "$T_TMP/rounds" | sort -n | awk '{ v[NR] = $1 }
    END { printf "median ratio (provider token / open): %.3f\n", v[int((NR + 1) / 2)] }'
stop_instance
