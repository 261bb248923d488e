#!/bin/bash
# AuthType PAA against a real httpd: every way a credential can be wrong
# is refused (each check here fails if the matching check in mod_paa is
# removed), the right ones are accepted, and the refusals say why in the
# log without ever writing a secret there.
. "$PAA_SRCDIR/tests/integration/lib.sh"

FIX="$PAA_SRCDIR/tests/fixtures"
NOW=$(date +%s)

sql() { sqlite3 "$HOME_DIR/db/paa.db" "$1"; }
secret() { paa_env_value "$CONFIG" JWT_SECRET; }
# mint ALG PAYLOAD [jwt_mint options]: a token signed with the instance secret
mint() {
    local alg=$1 payload=$2
    shift 2
    "$JWT_MINT" sign --alg "$alg" --key "$(secret)" --payload "$payload" "$@"
}
# The security model promises a refusal within one second of a change
# (each process remembers a verified credential for half a second, from
# the request that verified it). This pause starts after the change, so a
# busy machine can only lengthen it: it is a bound, not a guess.
settle() { sleep 1; }
bearer() { http GET "${2:-/api/me}" -H "Authorization: Bearer $1"; }
apikey() { http GET "${2:-/api/me}" -H "X-API-Key: $1"; }
adduser() { printf '%s\n' "$2" | "$PAACTL" --config "$CONFIG" user add "$1" "${@:3}" 2>/dev/null; }
keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }

# ------------------------------------------------------------- instance
new_instance sqlite3
cat >"$HOME_DIR/conf.d/roles.conf" <<'CONF'
<Location "/admin-only">
    Require paa-role admin
</Location>
<Location "/ops-or-admin">
    Require paa-role ops admin
</Location>
<Location "/jwt-only">
    PAAAuthMethods jwt
</Location>
<Location "/key-only">
    PAAAuthMethods apikey
</Location>
# This test sends hundreds of failing requests from one address on purpose;
# the rate limit on failures is tested in ratelimit.sh.
<Location "/">
    PAARateLimit 100000 60s
</Location>
LogFormat "%{PAA_AUTH_METHOD}e %{PAA_KEY_ID}e %{PAA_ROLES}e %u %{X-PAA-Principal}i %{X_PAA_Roles}i" paaauth
LogFormat "%P %>s %{PAA_KEY_ID}e" paapid
CustomLog "logs/pid.log" paapid
CustomLog "logs/auth.log" paaauth
CONF
LEGACY=legacy-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "API_KEYS=$LEGACY" >>"$CONFIG"
start_instance

ADMIN_KEY=$(keygen admin-key --role admin --client ci)
READER_KEY=$(keygen reader-key --role reader)
ALICE=$(adduser alice 'alice-password-1' --role admin --role ops)
BOB=$(adduser bob 'bob-password-123' --role reader)

# --------------------------------------------------------- no credentials
http GET /api/me
is "$STATUS" 401 "no credentials: 401"
like "$(header Content-Type)" '^application/problem\+json' "401 is problem+json"
is "$(json .status)" 401 "401 problem document has status"
like "$HEADERS" 'WWW-Authenticate: Bearer realm="paa"' "401 challenges with Bearer (RFC 6750)"
like "$HEADERS" 'WWW-Authenticate: ApiKey realm="paa", header="X-API-Key"' "401 names the API key header"
unlike "$HEADERS" 'error=' "no credentials: no error code in the challenge (RFC 6750 3.1)"

http GET /api/me -H "Authorization: Basic YWxpY2U6cHc="
is "$STATUS" 401 "wrong scheme (Basic): 401"
unlike "$HEADERS" 'error=' "wrong scheme: no error code"

http GET /api/me -H "Authorization: Bearer"
is "$STATUS" 401 "Bearer without a token: 401 (no bearer credentials)"
http GET /api/me -H "Authorization: Bearer a b"
is "$STATUS" 400 "malformed Bearer header: 400"
like "$HEADERS" 'error="invalid_request"' "malformed Bearer header: invalid_request"
http GET /api/me -H "Authorization: Bearer ab\"c"
is "$STATUS" 400 "Bearer token with characters outside b64token: 400"

http GET /api/me -H "X-API-Key: $ADMIN_KEY" -H "Authorization: Bearer abc"
is "$STATUS" 400 "two credentials at once: 400"

# ----------------------------------------------------------------- API keys
apikey "$ADMIN_KEY"
is "$STATUS" 200 "valid API key: 200"
is "$(json .method)" api-key "principal method is api-key"
ADMIN_ID=$(json .id)
like "$ADMIN_ID" '^key_[0-9a-f]{16}$' "REMOTE_USER is the key id"
is "$(json '.roles|join(",")')" admin "key roles reach the principal"
is "$(json .client)" ci "key client reaches the principal"

apikey "pak_$(printf '0%.0s' $(seq 64))"
is "$STATUS" 401 "unknown (well-formed) key: 401"
apikey "pak_1234"
is "$STATUS" 401 "malformed key (short): 401"
apikey "PAK_${ADMIN_KEY#pak_}"
is "$STATUS" 401 "malformed key (uppercase prefix): 401"
apikey "$(echo "$ADMIN_KEY" | tr 'a-f' 'A-F')"
is "$STATUS" 401 "malformed key (uppercase hex): 401"
apikey "${ADMIN_KEY}0"
is "$STATUS" 401 "malformed key (too long): 401"

apikey "$LEGACY"
is "$STATUS" 200 "legacy key from API_KEYS: 200"
is "$(json .id)" "legacy:1" "legacy key principal is its position in API_KEYS, nothing derived from the key"
apikey "${LEGACY}x"
is "$STATUS" 401 "near-miss of a legacy key: 401"
like "$(cat "$HOME_DIR/logs/error.log")" "legacy API key\(s\) from API_KEYS" "startup warns about legacy keys"

# expired
EXP_KEY=$(keygen expiring)
EXP_ID=$(sql "SELECT id FROM paa_api_keys WHERE name='expiring'")
apikey "$EXP_KEY"
is "$STATUS" 200 "key before its expiry: 200"
sql "UPDATE paa_api_keys SET expires_at=$((NOW - 1)) WHERE id='$EXP_ID'"
settle
apikey "$EXP_KEY"
is "$STATUS" 401 "expired key: 401"

# rotated: the old key works until its grace ends, then not. The grace
# leaves room for two requests on a busy machine; its end is computed
# from a timestamp taken after the rotation (the module caches a key no
# longer than its expiry), so the check after it is exact.
GRACE=6
OLD_KEY=$(keygen rotating --role reader)
NEW_KEY=$("$PAACTL" --config "$CONFIG" rotate "$OLD_KEY" --grace "${GRACE}s" 2>/dev/null)
T_ROTATED=$(now_ms)
like "$NEW_KEY" '^pak_[0-9a-f]{64}$' "rotate prints a new key"
apikey "$OLD_KEY"
is "$STATUS" 200 "rotated key inside its grace: 200"
apikey "$NEW_KEY"
is "$STATUS" 200 "replacement key: 200"
sleep_until "$(secs_after "$T_ROTATED" "$GRACE")"
apikey "$OLD_KEY"
is "$STATUS" 401 "rotated key after its grace: 401"
apikey "$NEW_KEY"
is "$STATUS" 200 "replacement key after the grace: 200"

# revoked, seen by every child at once: warm many connections, revoke,
# then ask again over 32 parallel connections (both children serve them)
REV_KEY=$(keygen revoking)
for i in $(seq 1 32); do
    curl -s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: $REV_KEY" "$BASE/api/me" &
done >"$T_TMP/before" 
wait
is "$(sort -u "$T_TMP/before")" 200 "32 parallel requests with a key: all 200"
"$PAACTL" --config "$CONFIG" revoke "$REV_KEY" --reason test >/dev/null 2>&1 ||
    sql "UPDATE paa_api_keys SET revoked_at=$NOW WHERE name='revoking'"
settle
# Until two different children have refused it (or 5 rounds), ask again.
: >"$T_TMP/after"
: >"$HOME_DIR/logs/pid.log"
for round in 1 2 3 4 5; do
    for i in $(seq 1 32); do
        curl -s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: $REV_KEY" "$BASE/api/me" &
    done >>"$T_TMP/after"
    wait
    children=$(awk '$2 == 401' "$HOME_DIR/logs/pid.log" | awk '{print $1}' | sort -u | wc -l)
    [ "$children" -ge 2 ] && break
done
is "$(sort -u "$T_TMP/after")" 401 "one second after revoke: every parallel request is 401"
[ "$children" -ge 2 ] && ok "the revocation was enforced by $children different child processes" ||
    not_ok "revocation seen by several children" "only $children child process answered"

# ------------------------------------------------------------------ roles
apikey "$ADMIN_KEY" /admin-only
is "$STATUS" 404 "admin role on 'Require paa-role admin': passes authz (404 from the API)"
apikey "$READER_KEY" /admin-only
is "$STATUS" 403 "reader on 'Require paa-role admin': 403"
like "$(header Content-Type)" '^application/problem\+json' "403 is problem+json"
http GET /admin-only
is "$STATUS" 401 "no credentials on a role location: 401"
apikey "$LEGACY" /admin-only
is "$STATUS" 403 "legacy key has no roles: 403"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")" /ops-or-admin
is "$STATUS" 404 "any-of roles: admin passes 'Require paa-role ops admin'"
bearer "$(mint HS256 "{\"sub\":\"$BOB\",\"exp\":\"now+300\"}")" /ops-or-admin
is "$STATUS" 403 "any-of roles: reader refused"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"roles\":[\"ops\"],\"exp\":\"now+300\"}")" /admin-only
is "$STATUS" 403 "a token naming fewer roles narrows the user's roles"
bearer "$(mint HS256 "{\"sub\":\"$BOB\",\"roles\":[\"admin\"],\"exp\":\"now+300\"}")" /admin-only
is "$STATUS" 403 "a token cannot grant a role the user lacks"

apikey "$ADMIN_KEY" /jwt-only/x
is "$STATUS" 401 "PAAAuthMethods jwt: API key refused"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")" /jwt-only/x
is "$STATUS" 404 "PAAAuthMethods jwt: token accepted"
# A token is not a key, cached or not: the credential cache files both
# under the SHA-256 of what was sent, so a verified token sent again as
# X-API-Key finds the token's entry, which must not pass for a key's.
T=$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")
bearer "$T" /jwt-only/x
is "$STATUS" 404 "a token verified once (and so cached)"
apikey "$T" /key-only/x
is "$STATUS" 401 "PAAAuthMethods apikey: that token sent as X-API-Key is refused"
apikey "$T"
is "$STATUS" 401 "that token sent as X-API-Key is refused where tokens are allowed too"
apikey "$ADMIN_KEY" /key-only/x
is "$STATUS" 404 "PAAAuthMethods apikey: API key accepted"

# -------------------------------------------------------------------- JWT
T=$(mint HS256 "{\"sub\":\"$ALICE\",\"iat\":\"now\",\"exp\":\"now+300\"}")
bearer "$T"
is "$STATUS" 200 "valid HS256 token: 200"
is "$(json .method)" jwt "principal method is jwt"
is "$(json .id)" "$ALICE" "REMOTE_USER is the user id"
is "$(json .username)" alice "username comes from the database"
is "$(json '.roles|join(",")')" "admin,ops" "roles come from the database"

bearer "$("$JWT_MINT" sign --alg none --payload "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "alg none: 401"
like "$HEADERS" 'error="invalid_token"' "refused token: invalid_token"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}" --header '{"alg":"none"}')"
is "$STATUS" 401 "header claiming none over an HS256 signature: 401"
bearer "$(mint HS512 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "HS512 token against the HS256 pin: 401"
bearer "$(mint HS384 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "HS384 token against the HS256 pin: 401"
bearer "$("$JWT_MINT" tamper "$T")"
is "$STATUS" 401 "tampered payload: 401"
bearer "${T%.*}.$(echo "${T##*.}" | rev)"
is "$STATUS" 401 "mangled signature: 401"
bearer "${T%.*}."
is "$STATUS" 401 "signature removed: 401"
bearer "$("$JWT_MINT" sign --alg HS256 --key "another-secret-another-secret-12345" --payload "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "signed with another secret: 401"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now-60\"}")"
is "$STATUS" 401 "expired (beyond the 30 s leeway): 401"
is "$(json .detail)" "the access token has expired" "expired token says so"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now-10\"}")"
is "$STATUS" 200 "expired 10 s ago, inside the 30 s leeway: 200"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\"}")"
is "$STATUS" 401 "no exp: 401"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\",\"nbf\":\"now+120\"}")"
is "$STATUS" 401 "nbf in the future: 401"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\",\"iat\":\"now+120\"}")"
is "$STATUS" 401 "iat in the future: 401"
bearer "$(mint HS256 "{\"exp\":\"now+300\"}")"
is "$STATUS" 401 "no sub: 401"
bearer "$(mint HS256 "{\"sub\":\"$ALICE\",\"exp\":\"now+300\"}" --header '{"crit":["x"]}')"
is "$STATUS" 401 "unknown crit header: 401"
bearer "$(mint HS256 "{\"sub\":\"usr_ffffffffffffffff\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "token for a user that never existed: 401"

CAROL=$(adduser carol 'carol-password-1' --role admin)
TC=$(mint HS256 "{\"sub\":\"$CAROL\",\"exp\":\"now+300\"}")
bearer "$TC"
is "$STATUS" 200 "carol's token: 200"
"$PAACTL" --config "$CONFIG" user disable carol >/dev/null 2>&1
settle
bearer "$TC"
is "$STATUS" 401 "token of a disabled user: 401"
"$PAACTL" --config "$CONFIG" user enable carol >/dev/null 2>&1
bearer "$TC"
is "$STATUS" 200 "re-enabled user: 200"
"$PAACTL" --config "$CONFIG" user del carol >/dev/null 2>&1
settle
bearer "$TC"
is "$STATUS" 401 "token of a deleted user: 401"

# ------------------------------------------------------------------ login
login() { http POST "${2:-/api/auth/login}" -H 'Content-Type: application/json' --data "$1"; }
login '{"username":"alice","password":"alice-password-1"}'
is "$STATUS" 200 "login: 200"
is "$(json .token_type)" Bearer "login: token_type Bearer"
is "$(json .expires_in)" 86400 "login: expires_in from JWT_EXPIRES_IN (24h)"
is "$(json .user.username)" alice "login: user in the response"
is "$(header Cache-Control)" no-store "login response is not cacheable"
LT=$(json .access_token)
bearer "$LT"
is "$STATUS" 200 "token from login works"
is "$(json .id)" "$ALICE" "token from login names the user"
login '{"username":"alice","password":"alice-password-1"}' /api/admin/auth/login
is "$STATUS" 200 "login alias /api/admin/auth/login: 200"

t_wrong=$(curl -s -o "$T_TMP/wrong" -w '%{time_total}' -H 'Content-Type: application/json' \
    --data '{"username":"bob","password":"not-bobs-password"}' "$BASE/api/auth/login")
t_unknown=$(curl -s -o "$T_TMP/unknown" -w '%{time_total}' -H 'Content-Type: application/json' \
    --data '{"username":"nobody-here","password":"not-bobs-password"}' "$BASE/api/auth/login")
is "$(sed 's#"instance":"[^"]*"##' "$T_TMP/unknown")" "$(sed 's#"instance":"[^"]*"##' "$T_TMP/wrong")" \
    "unknown user and wrong password: identical 401 bodies"
# both pay a bcrypt comparison (cost 12: far above 20 ms here)
awk -v a="$t_wrong" -v b="$t_unknown" 'BEGIN { exit !(a > 0.02 && b > 0.02 && b > a / 4 && a > b / 4) }' &&
    ok "unknown user and wrong password take similar time ($t_unknown s vs $t_wrong s)" ||
    not_ok "similar time" "unknown $t_unknown s, wrong password $t_wrong s"

for i in 1 2 3 4; do
    login '{"username":"bob","password":"wrong-wrong-wrong"}'
done
is "$STATUS" 401 "5th failed login (the first was above): still 401"
login '{"username":"bob","password":"bob-password-123"}'
is "$STATUS" 429 "after 5 failures, even the right password: 429"
like "$(header Retry-After)" '^[0-9]+$' "429 has Retry-After"
ra=$(header Retry-After)
[ "${ra:-0}" -gt 800 ] && [ "${ra:-0}" -le 900 ] && ok "Retry-After is the rest of the 15 min window ($ra s)" ||
    not_ok "Retry-After within the window" "got $ra"
login '{"username":"alice","password":"alice-password-1"}'
is "$STATUS" 200 "lockout is per username: alice can still log in"
# The table holds a keyed hash of each name, never the name: age every row.
sql "UPDATE paa_login_failures SET at = at - 901"
login '{"username":"bob","password":"bob-password-123"}'
is "$STATUS" 200 "after the window, bob logs in"

# Concurrent guesses cannot outrun the lockout: attempts are recorded
# before they are counted, so at most 5 reach the password check.
printf 'ivan-password-123\n' | "$PAACTL" --config "$CONFIG" user add ivan >/dev/null 2>&1
for i in $(seq 1 20); do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data "{\"username\":\"ivan\",\"password\":\"guess-$i\"}" "$BASE/api/auth/login" &
done >"$T_TMP/race"
wait
is "$(grep -c 401 "$T_TMP/race")" 5 "20 concurrent guesses: exactly 5 are checked (401)"
is "$(grep -c 429 "$T_TMP/race")" 15 "20 concurrent guesses: the other 15 are refused (429)"
# Changing the username does not buy more checks from one address.
for i in $(seq 1 35); do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data "{\"username\":\"nobody$i\",\"password\":\"x\"}" "$BASE/api/auth/login"
done >"$T_TMP/spray"
like "$(tail -n 1 "$T_TMP/spray")" 429 "a spray over many usernames from one address ends in 429"
sql "DELETE FROM paa_login_failures"

http POST /api/auth/login -H 'Content-Type: text/plain' --data '{}'
is "$STATUS" 415 "login with the wrong Content-Type: 415"
login '{"username":"alice",'
is "$STATUS" 400 "login with malformed JSON: 400"
login '{"username":"alice"}'
is "$STATUS" 400 "login without a password: 400"
head -c 20000 /dev/zero | tr '\0' 'a' >"$T_TMP/big"
http POST /api/auth/login -H 'Content-Type: application/json' --data-binary "@$T_TMP/big"
is "$STATUS" 413 "oversized login body: 413"
http GET /api/auth/login
is "$STATUS" 405 "GET on login: 405"
login '{"username":"alice","password":"alice-password-1","remember":true}'
is "$STATUS" 400 "login with an unknown field: 400"
is "$(json '.errors[0].field')" remember "the 400 names the unknown field"
login "{\"username\":\"alice\",\"password\":\"alice-password-1$(printf 'x%.0s' $(seq 1 60))\"}"
is "$STATUS" 400 "a password over 72 bytes (bcrypt would ignore its tail): 400"
like "$(json .detail)" 'longer than 72 bytes' "the 400 says why"
# A password typed into the username field goes nowhere in clear.
MISTYPED="Tr0ub4dor-and-3-horses"
login "{\"username\":\"$MISTYPED\",\"password\":\"whatever-it-was\"}"
is "$STATUS" 401 "login with an unknown name: 401"
unlike "$(cat "$HOME_DIR/logs/error.log")" "$MISTYPED" "an unknown username is not in the error log"
unlike "$(sql 'SELECT username FROM paa_login_failures')" "$MISTYPED" \
    "an unknown username is not in the lockout table"
unlike "$(sql 'SELECT subject, detail FROM paa_audit')" "$MISTYPED" "an unknown username is not in the audit trail"
like "$(sql "SELECT subject FROM paa_audit WHERE event = 'auth.login' ORDER BY id DESC LIMIT 1")" '^name:[0-9a-f]{24}$' \
    "the audit names it by a keyed hash"
sql "DELETE FROM paa_login_failures"

# ----------------------------------------------------- identity headers
http GET /api/me -H "X-API-Key: $READER_KEY" -H "X-PAA-Principal: $ADMIN_ID"
is "$STATUS" 200 "request with a forged X-PAA-Principal: served"
like "$(tail -n 1 "$HOME_DIR/logs/auth.log")" "^api-key key_[0-9a-f]{16} reader key_[0-9a-f]{16} key_" \
    "env exports method, key id and roles for LogFormat"
unlike "$(tail -n 1 "$HOME_DIR/logs/auth.log")" "$ADMIN_ID" "a forged X-PAA-Principal is replaced by the real principal"
http GET /api/me -H "X-API-Key: $READER_KEY" -H "X_PAA_Roles: admin"
like "$(tail -n 1 "$HOME_DIR/logs/auth.log")" ' -$' "an underscore spelling (X_PAA_Roles) is stripped too"

# ------------------------------------------------------------------- logs
LOG=$(cat "$HOME_DIR/logs/error.log")
like "$LOG" "authentication failure for \"/api/me\": revoked API key" "log says why: revoked"
like "$LOG" "authentication failure for \"/api/me\": expired API key" "log says why: expired"
like "$LOG" "unknown API key" "log says why: unknown key"
# A malformed key is refused by its format, not by a lookup that finds
# nothing (the cache answers well-formed keys only).
like "$LOG" 'malformed API key \(8 characters; expected pak_ and 64 hex\)' "log says why: malformed key (short)"
like "$LOG" 'malformed API key \(69 characters; expected pak_ and 64 hex\)' "log says why: malformed key (too long)"
like "$LOG" "token refused: algorithm mismatch" "log says why: alg mismatch"
like "$LOG" "token refused: bad signature" "log says why: bad signature"
like "$LOG" "token for a disabled user" "log says why: disabled user"
for s in "$ADMIN_KEY" "$READER_KEY" "$REV_KEY" "$LEGACY" "$(secret)" "$T" "$LT" alice-password-1 bob-password-123; do
    if grep -qF -- "$s" "$HOME_DIR"/logs/*.log; then
        not_ok "no secret in the logs" "found: ${s:0:12}..."
        break
    fi
done
ok "no key, token, password or JWT secret appears in any log"
is "$(sql "SELECT count(*) FROM paa_audit WHERE event='auth.failure'" | awk '$1>0{print "yes"}')" yes \
    "authentication failures are audited"
found=0
for k in "$ADMIN_KEY" "$READER_KEY" "$REV_KEY" "$OLD_KEY" "$NEW_KEY" "$LEGACY"; do
    sqlite3 "$HOME_DIR/db/paa.db" .dump | grep -qF -- "${k#pak_}" && found=1
done
is "$found" 0 "no key appears anywhere in the database (audit included)"
# Last-used times are written in batches by each child: poll, with a bound.
admin_used() { [ -n "$(sql "SELECT last_used_at FROM paa_api_keys WHERE name='admin-key'")" ]; }
wait_for 30 admin_used && ok "last_used_at recorded" || not_ok "last_used_at recorded"
stop_instance

# ------------------------------------------- previous secret, iss and aud
new_instance sqlite3
OLD_SECRET=$(secret)
NEW_SECRET=$("$PAACTL" secret gen --bytes 48)
sed -i "s#^JWT_SECRET=.*#JWT_SECRET=$NEW_SECRET#" "$CONFIG"
{
    echo "JWT_SECRET_PREVIOUS=$OLD_SECRET"
    echo "JWT_ISSUER=https://issuer.test"
    echo "JWT_AUDIENCE=paa-tests"
} >>"$CONFIG"
start_instance
U=$(adduser dave 'dave-password-12' --role admin)
P="\"sub\":\"$U\",\"exp\":\"now+300\",\"iss\":\"https://issuer.test\",\"aud\":\"paa-tests\""
bearer "$("$JWT_MINT" sign --alg HS256 --key "$NEW_SECRET" --payload "{$P}")"
is "$STATUS" 200 "current secret: 200"
bearer "$("$JWT_MINT" sign --alg HS256 --key "$OLD_SECRET" --payload "{$P}")"
is "$STATUS" 200 "previous secret still verifies while rotating"
bearer "$("$JWT_MINT" sign --alg HS256 --key "$NEW_SECRET" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\",\"iss\":\"https://evil.test\",\"aud\":\"paa-tests\"}")"
is "$STATUS" 401 "wrong iss: 401"
bearer "$("$JWT_MINT" sign --alg HS256 --key "$NEW_SECRET" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\",\"aud\":\"paa-tests\"}")"
is "$STATUS" 401 "missing iss: 401"
bearer "$("$JWT_MINT" sign --alg HS256 --key "$NEW_SECRET" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\",\"iss\":\"https://issuer.test\",\"aud\":\"other\"}")"
is "$STATUS" 401 "wrong aud: 401"
bearer "$("$JWT_MINT" sign --alg HS256 --key "$NEW_SECRET" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\",\"iss\":\"https://issuer.test\",\"aud\":[\"x\",\"paa-tests\"]}")"
is "$STATUS" 200 "aud array containing ours: 200"
login() { http POST /api/auth/login -H 'Content-Type: application/json' --data "$1"; }
login '{"username":"dave","password":"dave-password-12"}'
bearer "$(json .access_token)"
is "$STATUS" 200 "login tokens carry the configured iss and aud"
stop_instance

# ---------------------------- environment-specific names (JWT_SECRET_PROD)
new_instance sqlite3
PROD_SECRET=$("$PAACTL" secret gen --bytes 40)
sed -i "s#^JWT_SECRET=.*#JWT_SECRET=dev-secret-here#" "$CONFIG"
printf 'PAA_ENV=prod\nJWT_SECRET_PROD=%s\n' "$PROD_SECRET" >>"$CONFIG"
start_instance
U=$(adduser hank 'hank-password-12' --role admin)
bearer "$("$JWT_MINT" sign --alg HS256 --key "$PROD_SECRET" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\"}")"
is "$STATUS" 200 "PAA_ENV=prod: JWT_SECRET_PROD is the secret in use"
bearer "$("$JWT_MINT" sign --alg HS256 --key "dev-secret-here" --payload "{\"sub\":\"$U\",\"exp\":\"now+300\"}")"
is "$STATUS" 401 "PAA_ENV=prod: the development secret is not accepted"
stop_instance

# --------------------------------------- interop: a token made by jose
new_instance sqlite3
sed -i "s#^JWT_SECRET=.*#JWT_SECRET=mod-paa-interop-test-secret-0123456789abcdef#" "$CONFIG"
printf 'JWT_ISSUER=https://issuer.test\nJWT_AUDIENCE=paa-tests\n' >>"$CONFIG"
start_instance
sql "INSERT INTO paa_users (id, username, password_hash, roles, disabled, created_at, updated_at)
     VALUES ('usr_00000000000000aa', 'interop', 'x', 'admin', 0, 1, 1)"
bearer "$(tr -d '\n' <"$FIX/jose_hs256.jwt")"
is "$STATUS" 200 "HS256 token signed by jose (npm) verifies"
is "$(json .username)" interop "jose token: the user is found"
stop_instance

# ------------------------- RS256 and ES256 pins, and algorithm confusion
"$JWT_MINT" genkey rsa "$T_TMP/rsa.pem" "$T_TMP/rsa.pub" >/dev/null
"$JWT_MINT" genkey ec "$T_TMP/ec.pem" "$T_TMP/ec.pub" >/dev/null
new_instance sqlite3
cat >"$HOME_DIR/conf.d/rs.conf" <<CONF
PAAJWTAlgorithm RS256
PAAJWTPublicKey file:$T_TMP/rsa.pub
CONF
start_instance
U=$(adduser erin 'erin-password-12' --role admin)
P="{\"sub\":\"$U\",\"exp\":\"now+300\"}"
bearer "$("$JWT_MINT" sign --alg RS256 --key-file "$T_TMP/rsa.pem" --payload "$P")"
is "$STATUS" 200 "RS256 pin: a token signed with the private key: 200"
bearer "$("$JWT_MINT" sign --alg HS256 --key-file "$T_TMP/rsa.pub" --payload "$P")"
is "$STATUS" 401 "RS256 pin: HS256 token using the public key as HMAC secret: 401"
bearer "$("$JWT_MINT" sign --alg HS256 --key-file "$T_TMP/rsa.pub" --payload "$P" --header '{"alg":"RS256"}')"
is "$STATUS" 401 "RS256 pin: HMAC-with-public-key signature labelled RS256: 401"
bearer "$(mint HS256 "$P")"
is "$STATUS" 401 "RS256 pin: HS256 token with the instance secret: 401"
login '{"username":"erin","password":"erin-password-12"}'
is "$STATUS" 503 "RS256 pin: login cannot sign and says so (503)"
stop_instance

new_instance sqlite3
printf 'PAAJWTAlgorithm ES256\nPAAJWTPublicKey file:%s\n' "$T_TMP/ec.pub" >"$HOME_DIR/conf.d/es.conf"
start_instance
U=$(adduser frank 'frank-password-1' --role admin)
P="{\"sub\":\"$U\",\"exp\":\"now+300\"}"
bearer "$("$JWT_MINT" sign --alg ES256 --key-file "$T_TMP/ec.pem" --payload "$P")"
is "$STATUS" 200 "ES256 pin: a token signed with the private key: 200"
bearer "$("$JWT_MINT" sign --alg RS256 --key-file "$T_TMP/rsa.pem" --payload "$P")"
is "$STATUS" 401 "ES256 pin: an RS256 token: 401"
stop_instance

new_instance sqlite3
printf 'PAAJWTAlgorithm RS256\nPAAJWTPublicKey file:%s\nPAAJWTIssuer https://issuer.test\nPAAJWTAudience paa-tests\n' \
    "$FIX/jose_rs256_public.pem" >"$HOME_DIR/conf.d/jose.conf"
start_instance
sql "INSERT INTO paa_users (id, username, password_hash, roles, disabled, created_at, updated_at)
     VALUES ('usr_00000000000000aa', 'interop', 'x', 'admin', 0, 1, 1)"
bearer "$(tr -d '\n' <"$FIX/jose_rs256.jwt")"
is "$STATUS" 200 "RS256 token signed by jose (npm) verifies"
stop_instance

# ------------------------------------------------- startup refusals
refuse() {
    local desc=$1 line=$2 want=$3 out
    new_instance sqlite3
    sed -i '/^JWT_SECRET=/d' "$CONFIG"
    [ -n "$line" ] && echo "$line" >>"$CONFIG"
    paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
    out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
    [ $? -ne 0 ] && ok "httpd refuses to start: $desc" || not_ok "httpd refuses to start: $desc" "$out"
    like "$out" "$want" "refusal names the problem: $desc"
}
refuse "missing JWT secret" "" "JWT_SECRET is not set|PAAJWTSecret.*not set"
refuse "short JWT secret" "JWT_SECRET=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 31)" \
    "PAAJWTSecret.*at least 32"
refuse "the guide's example secret" "JWT_SECRET=your_generated_secret_here" "PAAJWTSecret.*published example"
refuse "a long but trivial secret" "JWT_SECRET=$(printf 'a%.0s' $(seq 40))" "PAAJWTSecret.*variety"
refuse "a weak previous secret" "JWT_SECRET=$("$PAACTL" secret gen)
JWT_SECRET_PREVIOUS=short" "PAAJWTPreviousSecret"
new_instance sqlite3
printf 'PAAJWTSecret file:/nonexistent/secret\n' >"$HOME_DIR/conf.d/s.conf"
paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
like "$out" "PAAJWTSecret: cannot open /nonexistent/secret" "an unreadable secret file stops httpd with its name"
printf '%s' "$("$PAACTL" secret gen)" >"$T_TMP/jwt.secret"
printf 'PAAJWTSecret file:%s\n' "$T_TMP/jwt.secret" >"$HOME_DIR/conf.d/s.conf"
"$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" >/dev/null 2>&1 && ok "PAAJWTSecret file: source accepted" || not_ok "file: source"
printf '#!/bin/sh\necho %s\n' "$("$PAACTL" secret gen --hex)" >"$T_TMP/vault"
chmod 700 "$T_TMP/vault"
printf 'PAAJWTSecret "exec:%s --field jwt"\n' "$T_TMP/vault" >"$HOME_DIR/conf.d/s.conf"
"$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" >/dev/null 2>&1 && ok "PAAJWTSecret exec: source accepted" || not_ok "exec: source"
printf 'PAAJWTSecret exec:/bin/false\n' >"$HOME_DIR/conf.d/s.conf"
out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
like "$out" "PAAJWTSecret: /bin/false exited with status 1" "a failing exec: source stops httpd"
printf 'PAAJWTSecret %s\n' "$("$PAACTL" secret gen)" >"$HOME_DIR/conf.d/s.conf"
out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
like "$out" "PAAJWTSecret holds a literal secret" "a literal secret in httpd.conf is flagged"

# ------------------------------------------------------- PostgreSQL too
if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    start_instance
    K=$(keygen pg-key --role admin)
    apikey "$K"
    is "$STATUS" 200 "pgsql: API key: 200"
    "$PAACTL" --config "$CONFIG" revoke "$K" >/dev/null 2>&1
    settle
    apikey "$K"
    is "$STATUS" 401 "pgsql: revoked key: 401"
    U=$(adduser gina 'gina-password-12' --role admin)
    login '{"username":"gina","password":"gina-password-12"}'
    is "$STATUS" 200 "pgsql: login: 200"
    bearer "$(json .access_token)"
    is "$STATUS" 200 "pgsql: token from login: 200"
    for i in 1 2 3 4 5; do login '{"username":"gina","password":"nope-nope-nope"}'; done
    login '{"username":"gina","password":"gina-password-12"}'
    is "$STATUS" 429 "pgsql: lockout after 5 failures"
    stop_instance
else
    skip "pgsql authentication" "PostgreSQL 15 server binaries not installed"
fi

done_testing
