#!/bin/bash
# An external identity provider: a real OpenID provider (the npm package
# oidc-provider, run by tests/oidc/provider.mjs on a free loopback port
# with keys it generates) issues client-credentials access tokens for the
# MCP endpoint (a resource indicator, RFC 8707); mod_paa verifies them
# with the provider's key set (PAAJWTJWKS), selected by kid and shared by
# all children, as external principals (PAAJWTUsers external) with roles
# mapped from realm_access.roles. Covered: the protected-resource metadata
# names the provider; the provider rotates its keys and new tokens verify
# without restarting httpd; wrong audience, wrong issuer, expired, too
# long-lived, unknown kid, alg confusion (HS256 with the public key) and
# alg none are refused; a key set endpoint that returns garbage, errors or
# is down leaves the last good set in place; a flood of random kids costs
# at most one key set fetch per minimum interval (counted at the
# provider); Require paa-scope gives 403 insufficient_scope; OpenID
# discovery (PAAJWTIssuer alone) finds the key set; PAAJWTUsers either;
# a file: key set; the MCP TypeScript SDK client lists tools with the
# provider's token.
#
# Plain http on loopback: oidc-provider serves http outside production,
# and mod_paa accepts an http:// key set only from a loopback address.
# That certificate verification is on for https is shown with a key set
# behind a self-signed certificate (openssl s_server): it is refused.
#
# The provider's exact version is pinned by tests/oidc/package-lock.json
# and installed with `npm ci` into the test's temporary directory. Without
# node 20+ the test is skipped; when npm cannot reach the registry it is
# skipped with the reason. Waits are polls with generous bounds.

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "1..0 # SKIP node is not installed"
    exit 0
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "1..0 # SKIP node $(node --version) is too old (oidc-provider needs 20+)"
    exit 0
fi

. "$PAA_SRCDIR/tests/integration/lib.sh"

: "${JWT_MINT:?run through make check}"
NODE_DIR="$T_TMP/oidc"
STATE="$T_TMP/oidc-state"
SECRET=oidc-test-client-secret-not-a-real-one
MIN_INTERVAL=3 # PAAJWTJWKSRefresh's minimum between fetches, seconds

# ------------------------------------------------ the locked dependencies
mkdir -p "$STATE"
npm_ci oidc oidc-provider
echo "# oidc-provider $(jq -r .version "$NODE_DIR/node_modules/oidc-provider/package.json"), node $(node --version)"

# ------------------------------------------------------------ the provider
provider_ready() { [ -s "$STATE/ready" ] || ! kill -0 "$1" 2>/dev/null; }
start_provider() {
    local tries=5 pid
    while [ $tries -gt 0 ]; do
        OP_PORT=$(paa_free_port) || bail "no free port"
        rm -f "$STATE/ready"
        (cd "$NODE_DIR" && exec node provider.mjs "$OP_PORT" "$STATE" "urn:paa:unused") \
            >>"$T_TMP/provider.log" 2>&1 &
        pid=$!
        wait_for 30 provider_ready "$pid"
        if [ -s "$STATE/ready" ] && kill -0 "$pid" 2>/dev/null; then
            FAKE_PIDS+=("$pid")
            OP="http://127.0.0.1:$OP_PORT"
            OP_PID=$pid
            return 0
        fi
        kill "$pid" 2>/dev/null
        tries=$((tries - 1))
    done
    bail "the OpenID provider did not start: $(cat "$T_TMP/provider.log")"
}
start_provider

# token [SCOPE [RESOURCE]]: an access token from the provider (client
# credentials, a resource indicator).
token() {
    curl -s --max-time 20 -u "mcp-client:$SECRET" -d grant_type=client_credentials \
        -d "scope=${1:-mcp:tools}" --data-urlencode "resource=${2:-$RESOURCE}" \
        "$OP/token" | jq -r '.access_token // empty'
}
jwks_count() { curl -s --max-time 20 "$OP/_test/stats" | jq -r .jwks; }
op_kid() { cat "$STATE/kid"; }
# forge HEADER PAYLOAD [ALG KEYFILE]: a token signed by jwt_mint, by
# default with the provider's current private key and kid.
forge() {
    local kid key=${4:-}
    kid=$(op_kid)
    "$JWT_MINT" sign --alg "${3:-RS256}" --key-file "${key:-$STATE/$kid.pem}" \
        --header "$(jq -c --arg k "$kid" '{kid: $k} + .' <<<"$1")" --payload "$2"
}
# part N TOKEN: the JSON of a token's header (1) or payload (2).
part() {
    local p
    p=$(cut -d. -f"$1" <<<"$2" | tr '_-' '/+')
    while [ $((${#p} % 4)) -ne 0 ]; do p="$p="; done
    base64 -d <<<"$p" 2>/dev/null
}
claims() { # claims [JQ-EXPR]: good claims, then changed by the expression
    jq -nc --arg iss "$OP" --arg aud "$RESOURCE" \
        "{iss: \$iss, aud: \$aud, sub: \"forged-client\", scope: \"mcp:tools\", iat: \"now\", exp: \"now+300\"} | ${1:-.}"
}

# --------------------------------------------------------- the instance
new_instance sqlite3
# The instance's port is part of the resource identifier (the audience),
# so the configuration is written once the port is chosen.
start_with_idp() {
    local tries=3
    while [ $tries -gt 0 ]; do
        PORT=$(paa_free_port) || bail "no free port"
        BASE="http://127.0.0.1:$PORT"
        RESOURCE="$BASE/api/mcp"
        "$1" >"$HOME_DIR/conf.d/oidc.conf"
        paa_render_conf "$HOME_DIR" "127.0.0.1:$PORT" "$PAA_MODULE" \
            "$PAA_SRCDIR/conf/instance.conf.in" || bail "cannot render $HOME_DIR/httpd.conf"
        if paa_httpd_start "$HOME_DIR" "$PAA_HTTPD" "$BASE/health" 2>"$T_TMP/start.err"; then
            return 0
        fi
        paa_httpd_stop "$HOME_DIR" "$PAA_HTTPD"
        tries=$((tries - 1))
    done
    cat "$T_TMP/start.err" >&2
    bail "httpd did not start"
}
jwks_conf() {
    cat <<CONF
PAAJWTJWKS $OP/jwks
PAAJWTJWKSRefresh 1h ${MIN_INTERVAL}s
PAAJWTIssuer $OP
PAAJWTAudience $RESOURCE
PAAJWTUsers external
PAAJWTRolesClaim realm_access.roles
PAAJWTRoleMap mcp-user reader
PAAJWTMaxLifetime 1h
LogFormat "%>s %m %U user=%u roles=%{PAA_ROLES}e scopes=%{PAA_SCOPES}e pid=%P" paaoidc
CustomLog "logs/oidc.log" paaoidc
# Many refusals from one address: the test is not about the rate limit.
<Location "/">
    PAARateLimit 1000 60s
</Location>
<Location "/api/mcp">
    Require paa-scope mcp:tools
</Location>
CONF
    # mod_status's counters show when a token was served from the cache.
    status_conf
}
MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
start_with_idp jwks_conf
HTTPD_PID=$(cat "$HOME_DIR/run/httpd.pid")

# mcp TOKEN: tools/list on /api/mcp with a bearer token (or none).
mcp() {
    local args=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")
    [ -n "$1" ] && args+=(-H "Authorization: Bearer $1")
    http POST /api/mcp "${args[@]}" --data-binary '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
}
accepted() { mcp "$1" && [ "$STATUS" = 200 ]; }
ERRLOG="$HOME_DIR/logs/error.log"
# holds DESCRIPTION COMMAND...: a test that passes when COMMAND succeeds.
holds() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# ------------------------------------------------------- metadata, basics
http GET /.well-known/oauth-protected-resource
is "$STATUS" 200 "metadata: 200"
is "$(json '.authorization_servers | tojson')" "[\"$OP\"]" "metadata: authorization_servers names the provider"
is "$(json .resource)" "$RESOURCE" "metadata: the resource is the audience tokens must carry"

mcp ""
is "$STATUS" 401 "control: no token, 401"
like "$(grep -i '^WWW-Authenticate: Bearer' <<<"$HEADERS")" 'resource_metadata=' "control: the challenge points at the metadata"

TOK=$(token)
[ -n "$TOK" ] || bail "the provider issued no token: $(tail -5 "$T_TMP/provider.log")"
is "$(part 2 "$TOK" | jq -r .aud)" "$RESOURCE" "the provider's token is bound to this resource (RFC 8707)"
mcp "$TOK"
is "$STATUS" 200 "a provider token is accepted on /api/mcp"
is "$(json '[.result.tools[].name] | sort | tojson')" '["ask_agent","list_personas"]' "... and lists the tools"
like "$(tail -n 1 "$HOME_DIR/logs/oidc.log")" '^200 POST /api/mcp user=mcp-client roles=reader scopes=mcp:tools pid=' \
    "REMOTE_USER is the token's sub; mcp-user is mapped to reader; PAA_SCOPES"
http GET /api/me -H "Authorization: Bearer $TOK"
is "$(json '[.id, .method, .roles] | tojson')" '["mcp-client","jwt",["reader"]]' "/api/me shows the external principal"
# A provider's token is remembered as a local one is, bound to the key
# set it was verified with (a retired key's token is verified again,
# below): the same principal, roles and scopes, without a verification.
if [ -f "$MODDIR/mod_status.so" ]; then
    m0=$(authcache_misses)
    mcp "$TOK"
    line=$(tail -n 1 "$HOME_DIR/logs/oidc.log")
    is "$STATUS $(authcache_misses)" "200 $m0" "a provider token seen before is served from the credential cache (no miss)"
    like "$line" '^200 POST /api/mcp user=mcp-client roles=reader scopes=mcp:tools pid=' \
        "... as the same principal, with its roles and scopes"
    BOTH=$(token "mcp:tools mcp:other")
    for i in 1 2; do
        mcp "$BOTH"
        like "$STATUS $(tail -n 1 "$HOME_DIR/logs/oidc.log")" '^200 200 POST /api/mcp user=mcp-client roles=reader scopes=mcp:tools mcp:other pid=' \
            "a token with two scopes, use $i: both, in order"
    done
    is "$(authcache_misses)" "$((m0 + 1))" "... its second use from the cache"
else
    skip "provider tokens from the credential cache" "mod_status.so not in $MODDIR"
fi
# The official MCP TypeScript SDK client with the provider's token (its
# pinned version from tests/mcp, as mcp_sdk.sh installs it).
SDK_DIR="$T_TMP/mcp"
mkdir -p "$SDK_DIR"
cp "$PAA_SRCDIR/tests/mcp/package.json" "$PAA_SRCDIR/tests/mcp/package-lock.json" \
    "$PAA_SRCDIR/tests/mcp/client.mjs" "$SDK_DIR/" || bail "cannot copy tests/mcp"
if (cd "$SDK_DIR" && timeout 90 npm ci --no-audit --no-fund --ignore-scripts --fetch-retries=1 \
    --prefer-offline --loglevel=error) >"$T_TMP/npm-sdk.log" 2>&1; then
    (cd "$SDK_DIR" && timeout 30 node client.mjs bearer "$RESOURCE" "$(token)") >"$T_TMP/sdk.out" 2>"$T_TMP/sdk.err"
    is "$?" 0 "MCP SDK client with the provider's token: every step ran"
    sed 's/^/# /' "$T_TMP/sdk.err"
    is "$(jq -c 'select(.step == "tools") | .names' "$T_TMP/sdk.out" 2>/dev/null)" \
        '["ask_agent","list_personas"]' "MCP SDK client with the provider's token: listTools"
else
    skip "MCP SDK client with the provider's token" "npm ci of tests/mcp failed: $(tail -n 1 "$T_TMP/npm-sdk.log")"
fi
FIRST_FETCHES=$(jwks_count)
like "$FIRST_FETCHES" '^[1-9][0-9]*$' "control: the provider counted mod_paa's key set fetch"

# ---------------------------------------------------------- refusals
WRONG_AUD=$(token mcp:tools "https://other.example/api")
[ -n "$WRONG_AUD" ] || bail "no token for the other resource"
mcp "$WRONG_AUD"
is "$STATUS" 401 "a token for another resource (audience) is refused"
like "$(grep -i '^WWW-Authenticate: Bearer' <<<"$HEADERS")" 'error="invalid_token"' "... as invalid_token"

NOSCOPE=$(token mcp:other)
mcp "$NOSCOPE"
is "$STATUS" 403 "a token without the mcp:tools scope: 403"
like "$(header WWW-Authenticate)" 'error="insufficient_scope", scope="mcp:tools"' "... insufficient_scope with the scope hint"
mcp "$NOSCOPE"
is "$STATUS" 403 "... and again, its scopes as remembered: 403"

mcp "$(forge '{}' "$(claims)")"
is "$STATUS" 200 "control: a token forged with the provider's own key and good claims is accepted"
mcp "$(forge '{}' "$(claims '.iss = "https://evil.example"')")"
is "$STATUS" 401 "wrong issuer: refused"
mcp "$(forge '{}' "$(claims '.iat = "now-1200" | .exp = "now-600"')")"
is "$STATUS" 401 "expired: refused"
like "$(json .detail)" 'expired' "... the client is told it expired"
mcp "$(forge '{}' "$(claims 'del(.exp)')")"
is "$STATUS" 401 "no exp: refused"
mcp "$(forge '{}' "$(claims '.exp = "now+7200"')")"
is "$STATUS" 401 "a lifetime over PAAJWTMaxLifetime (1h): refused"
"$JWT_MINT" genkey rsa "$T_TMP/other.pem" "$T_TMP/other.pub.pem" || bail "genkey failed"
mcp "$(forge '{"kid":"not-a-provider-kid"}' "$(claims)" RS256 "$T_TMP/other.pem")"
is "$STATUS" 401 "an unknown kid (another key): refused"
mcp "$(forge '{}' "$(claims)" RS256 "$T_TMP/other.pem")"
is "$STATUS" 401 "the provider's kid with another key's signature: refused"
mcp "$(forge '{}' "$(claims)" HS256 "$STATE/$(op_kid).pub.pem")"
is "$STATUS" 401 "alg confusion (HS256 keyed with the provider's public key): refused"
mcp "$("$JWT_MINT" sign --alg none --header "{\"kid\":\"$(op_kid)\"}" --payload "$(claims)")"
is "$STATUS" 401 "alg none: refused"
like "$(grep -c 'PAA00501' "$ERRLOG")" '^[1-9]' "refusals are logged"

# ----------------------------------------------------------- kid flood
# Tokens with random kids, sent 8 at a time: each child that sees one may
# ask for a fetch, but all children share one rate limit.
for i in $(seq 1 40); do
    forge "{\"kid\":\"flood-$i-$RANDOM\"}" "$(claims)" RS256 "$T_TMP/other.pem"
done >"$T_TMP/flood.tokens"
# A minimum interval after the last fetch attempt (whole seconds, so one
# more), the first unknown kid may fetch: the flood must cause one fetch
# (the control) and no more than the interval allows. Sleeping here only
# makes sure enough time has passed; a slow machine sleeps longer.
sleep $((MIN_INTERVAL + 1))
BEFORE=$(jwks_count)
T0=$(now_ms)
xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -X POST \
    -H "Authorization: Bearer {}" -H "Content-Type: application/json" \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' "$RESOURCE" \
    <"$T_TMP/flood.tokens" >"$T_TMP/flood.codes"
ELAPSED=$((($(now_ms) - T0 + 999) / 1000))
AFTER=$(jwks_count)
is "$(sort -u "$T_TMP/flood.codes" | tr '\n' ' ')" "401 " "kid flood: all 40 refused"
FLOOD_FETCHES=$((AFTER - BEFORE))
# Fetch times are whole seconds: two fetches MIN_INTERVAL apart on the
# server's clock can be a second less apart in real time.
MAX=$(((ELAPSED + 1) / MIN_INTERVAL + 1))
echo "# kid flood: $FLOOD_FETCHES key set fetches in ${ELAPSED}s (at most $MAX allowed)"
holds "kid flood: an unknown kid makes mod_paa fetch the key set (control)" \
    [ "$FLOOD_FETCHES" -ge 1 ]
holds "kid flood: at most one fetch per ${MIN_INTERVAL}s ($FLOOD_FETCHES for 40 tokens)" \
    [ "$FLOOD_FETCHES" -le "$MAX" ]

# ------------------------------------------------------------- rotation
OLD_TOK=$TOK
curl -s --max-time 20 -X POST "$OP/_test/rotate" >/dev/null
NEW_TOK=$(token)
holds "the provider signs with a new kid" \
    [ "$(part 1 "$NEW_TOK" | jq -r .kid)" != "$(part 1 "$OLD_TOK" | jq -r .kid)" ]
wait_for 60 accepted "$NEW_TOK"
is "$STATUS" 200 "after rotation, a token signed with the new key is accepted"
is "$(cat "$HOME_DIR/run/httpd.pid")" "$HTTPD_PID" "... without restarting httpd"
mcp "$OLD_TOK"
is "$STATUS" 200 "a token of the previous key, still published, is accepted"

curl -s --max-time 20 -X POST "$OP/_test/rotate?drop=1" >/dev/null
DROP_TOK=$(token)
wait_for 60 accepted "$DROP_TOK"
is "$STATUS" 200 "a second rotation that retires the old key: the newest token is accepted"
mcp "$OLD_TOK"
is "$STATUS" 401 "... and a token of the retired key is refused"

# --------------------------------------- garbage, errors, provider down
fetch_refused() { [ "$(grep -c 'PAA01703' "$ERRLOG")" -gt "$1" ]; }
for mode in garbage error; do
    curl -s --max-time 20 -X POST "$OP/_test/jwks?mode=$mode" >/dev/null
    curl -s --max-time 20 -X POST "$OP/_test/rotate" >/dev/null
    UNSEEN=$(token)
    N=$(grep -c 'PAA01703' "$ERRLOG")
    # Tokens of the unseen key make mod_paa ask (at most once per
    # interval); each asking is logged as not updated.
    wait_for 60 sh -c "curl -s -o /dev/null -X POST -H 'Authorization: Bearer $UNSEEN' \
        -H 'Content-Type: application/json' --data-binary '{}' '$RESOURCE'; \
        [ \$(grep -c PAA01703 '$ERRLOG') -gt $N ]"
    holds "key set $mode: the fetch is refused and logged" fetch_refused "$N"
    mcp "$UNSEEN"
    is "$STATUS" 401 "key set $mode: a token of a key never fetched is refused"
    mcp "$DROP_TOK"
    is "$STATUS" 200 "key set $mode: the last good set is kept (a known key's token is accepted)"
done
curl -s --max-time 20 -X POST "$OP/_test/jwks?mode=ok" >/dev/null
wait_for 60 accepted "$UNSEEN"
is "$STATUS" 200 "the key set answers again: the new key's token is accepted"

kill "$OP_PID"
wait "$OP_PID" 2>/dev/null
N=$(grep -c 'PAA01703' "$ERRLOG")
STRAY=$(forge '{"kid":"after-the-provider-died"}' "$(claims)" RS256 "$T_TMP/other.pem")
wait_for 60 sh -c "curl -s -o /dev/null -X POST -H 'Authorization: Bearer $STRAY' \
    -H 'Content-Type: application/json' --data-binary '{}' '$RESOURCE'; \
    [ \$(grep -c PAA01703 '$ERRLOG') -gt $N ]"
holds "provider down: the failed fetch is logged" fetch_refused "$N"
mcp "$UNSEEN"
is "$STATUS" 200 "provider down: tokens of known keys are still accepted"
# A graceful restart while the provider is down: the new children find the
# last good set where the old ones left it.
OLD_PIDS=" $(pgrep -P "$HTTPD_PID" | tr '\n' ' ') "
"$PAA_HTTPD" -f "$HOME_DIR/httpd.conf" -k graceful || bail "graceful restart failed"
new_child() {
    mcp "$UNSEEN"
    local pid
    pid=$(tail -n 1 "$HOME_DIR/logs/oidc.log" | sed -n 's/.* pid=\([0-9]*\)$/\1/p')
    [ -n "$pid" ] && [ "${OLD_PIDS#* $pid }" = "$OLD_PIDS" ]
}
wait_for 60 new_child
holds "graceful restart: a child of the new generation answers" \
    [ "${OLD_PIDS#* $(tail -n 1 "$HOME_DIR/logs/oidc.log" | sed -n 's/.* pid=\([0-9]*\)$/\1/p') }" = "$OLD_PIDS" ]
is "$STATUS" 200 "graceful restart with the provider down: the last good set is still used"
unlike "$(cat "$ERRLOG")" "$SECRET" "the client secret is in no log line"

# ----------------------------------------------------- OpenID discovery
stop_instance
start_provider
discovery_conf() {
    cat <<CONF
PAAJWTAlgorithm RS256
PAAJWTIssuer $OP
PAAJWTAudience $RESOURCE
PAAJWTUsers either
CONF
}
start_with_idp discovery_conf
DAVE=$(printf '%s\n' 'dave-password-123' | "$PAACTL" --config "$CONFIG" user add dave --role admin 2>/dev/null)
like "$DAVE" '^usr_' "control: a local user"
http GET /api/me -H "Authorization: Bearer $(forge '{}' "$(claims ".sub = \"$DAVE\"")")"
is "$(json '[.id, .username, .roles] | tojson')" "[\"$DAVE\",\"dave\",[\"admin\"]]" \
    "PAAJWTUsers either: a provider token whose sub is a local user id is that user"
http GET /api/me -H "Authorization: Bearer $(token)"
is "$(json '[.id, .roles] | tojson')" '["mcp-client",[]]' \
    "PAAJWTUsers either: any other subject is an external principal (no roles claim: none)"
http GET /api/me -H "Authorization: Bearer $(forge '{}' "$(claims '.sub = "usr_ffffffffffffffff"')")"
is "$STATUS" 401 "an external subject that looks like a local user id is refused"
mcp "$(token)"
is "$STATUS" 200 "discovery: PAAJWTIssuer alone finds the key set (jwks_uri)"
mcp "$(token mcp:tools "https://other.example/api")"
is "$STATUS" 401 "discovery: the audience is still checked"
like "$(grep 'PAA01702' "$HOME_DIR/logs/error.log" | tail -n 1)" "$OP/jwks" "discovery: the key set came from the jwks_uri"

# -------------------------------------------- file: and an untrusted https
curl -s --max-time 20 "$OP/jwks" >"$T_TMP/jwks.json"
stop_instance
file_conf() {
    cat <<CONF
PAAJWTJWKS file:$T_TMP/jwks.json
PAAJWTIssuer $OP
PAAJWTAudience $RESOURCE
PAAJWTUsers external
CONF
}
start_with_idp file_conf
mcp "$(token)"
is "$STATUS" 200 "PAAJWTJWKS file:PATH: the provider's token verifies with the file's keys"
mcp "$(forge '{"kid":"not-in-the-file"}' "$(claims)" RS256 "$T_TMP/other.pem")"
is "$STATUS" 401 "PAAJWTJWKS file:PATH: an unknown kid is refused"

# libcurl verifies the certificate: a key set behind a self-signed one is
# never used (the reason in the log is the certificate, not the content).
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T_TMP/tls.key" -out "$T_TMP/tls.crt" -days 1 >/dev/null 2>&1 || bail "openssl req failed"
start_tls() {
    local tries=5 pid
    while [ $tries -gt 0 ]; do
        TLS_PORT=$(paa_free_port) || bail "no free port"
        openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$T_TMP/tls.crt" -key "$T_TMP/tls.key" \
            -www -quiet </dev/null >/dev/null 2>&1 &
        pid=$!
        if wait_for 20 curl -sk -o /dev/null "https://127.0.0.1:$TLS_PORT/"; then
            FAKE_PIDS+=("$pid")
            return 0
        fi
        kill "$pid" 2>/dev/null
        tries=$((tries - 1))
    done
    bail "openssl s_server did not start"
}
start_tls
holds "control: the https server answers (certificate not verified by the test)" \
    curl -sk -o /dev/null --max-time 20 "https://127.0.0.1:$TLS_PORT/jwks"
stop_instance
tls_conf() {
    cat <<CONF
PAAJWTJWKS https://127.0.0.1:$TLS_PORT/jwks
PAAJWTIssuer $OP
PAAJWTAudience $RESOURCE
PAAJWTUsers external
CONF
}
start_with_idp tls_conf
mcp "$(token)"
is "$STATUS" 401 "a key set behind an untrusted certificate: tokens are refused"
like "$(grep 'PAA01703' "$HOME_DIR/logs/error.log")" '[Cc]ertificate' \
    "... because libcurl refused the certificate"

# ------------------------------------ configurations httpd refuses to run
configtest() {
    printf '%s\n' "$1" >"$HOME_DIR/conf.d/oidc.conf"
    "$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1
}
like "$(configtest "$(file_conf)")" 'Syntax OK' "control: configtest accepts a complete provider configuration"
like "$(configtest 'PAAJWTJWKS http://idp.example.com/jwks')" 'only to a loopback address' \
    "a plain http key set to another host is refused"
like "$(configtest "$(printf 'PAAJWTJWKS https://idp.example.com/jwks\nPAAJWTIssuer https://idp.example.com')")" \
    'need PAAJWTIssuer and PAAJWTAudience' "a key set without an audience is refused"
like "$(configtest "$(printf 'PAAJWTJWKS https://i.example/jwks\nPAAJWTIssuer https://i.example\nPAAJWTAudience a\nPAAJWTAlgorithm HS256')")" \
    'serves RS256, RS384, RS512 or ES256 only' "a key set with an HMAC algorithm is refused"

done_testing
