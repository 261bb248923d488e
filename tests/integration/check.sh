#!/bin/bash
# paactl check: the security guide's section 5 was a checklist ticked by
# hand. Each check is run against a fixture that passes and one that fails
# (both databases where the check applies, a real TLS listener for the TLS
# checks), and the quick-start instance must give exactly the WARN, FAIL
# and SKIP lines listed below. Also pinned here: httpd refuses to start
# with the guide's example API keys in API_KEYS, and with the guide's
# PostgreSQL grants (no sequence USAGE) a failed audit insert is logged
# with the driver's real error, not "prepared statement already exists".
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
sql() { sqlite3 "$HOME_DIR/db/paa.db" "$1"; }
SECRET=$("$PAACTL" secret gen --bytes 48)
# lacks TEXT NEEDLE DESCRIPTION: NEEDLE (a fixed string) is not in TEXT.
lacks() {
    if printf '%s' "$1" | grep -qF -- "$2"; then not_ok "$3" "found: $2"; else ok "$3"; fi
}
# dump [anon]: the database's content, which a read must not change (the
# file's bytes may: SQLite checkpoints its WAL when a connection closes),
# and the env file. With "anon", without the records httpd itself writes
# when the live checks' anonymous requests arrive.
dump() {
    sqlite3 "$HOME_DIR/db/paa.db" .dump | if [ -n "${1:-}" ]; then
        grep -v -e "'auth.failure','failure','','','','127.0.0.1','no credentials'" -e sqlite_sequence
    else cat; fi | sha256sum
    sha256sum <"$CONFIG"
}

# chk [ARGS...]: paactl check --json with the instance's env file (or
# --config given in ARGS); sets OUT, ERR, RC and CJ (the JSON).
chk() {
    run "$PAACTL" --config "${CHK_CONFIG:-$CONFIG}" check --json "$@"
    CJ=$OUT
}
# st ID / why ID: the status / reason (and fix) of one check in CJ.
st() { printf '%s' "$CJ" | jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status' 2>/dev/null; }
why() { printf '%s' "$CJ" | jq -r --arg id "$1" '.checks[] | select(.id == $id) | "\(.reason) / fix: \(.fix)"' 2>/dev/null; }
# expect ID STATUS [REGEX] DESCRIPTION: the check's status (and reason).
expect() {
    local id=$1 want=$2 re desc
    if [ $# -ge 4 ]; then re=$3 desc=$4; else re="" desc=$3; fi
    if [ "$(st "$id")" = "$want" ] && { [ -z "$re" ] || why "$id" | grep -Eq -- "$re"; }; then
        ok "$id $want: $desc"
    else
        not_ok "$id $want: $desc" "got: $(st "$id"): $(why "$id")"
    fi
}
# env_file NAME [LINES...]: an env file (0600) for the instance's database
# with the fresh secret and more lines; prints its path.
env_file() {
    local f="$T_TMP/$1.env" line
    shift
    (
        umask 077
        printf 'PAA_DB_DRIVER=%s\nPAA_DB_PARAMS="%s"\nJWT_SECRET=%s\n' \
            "$(paa_env_value "$CONFIG" PAA_DB_DRIVER)" "$(paa_env_value "$CONFIG" PAA_DB_PARAMS)" "$SECRET" >"$f"
        for line in "$@"; do printf '%s\n' "$line" >>"$f"; done
    )
    echo "$f"
}

# ------------------------------------------------------------ usage
run "$PAACTL" --config /nonexistent check --no-such-option
is "$RC" 2 "an unknown option is a usage error (2)"
run "$PAACTL" check --max-key-age 90 days
is "$RC" 2 "a stray argument is a usage error"
run "$PAACTL" check --unused soon
is "$RC" 2 "a bad duration is a usage error"
run "$PAACTL" check --live-only
is "$RC" 2 "--live-only without --url is a usage error"
run "$PAACTL" check --url ftp://127.0.0.1/
is "$RC" 2 "--url must be http(s)"
run "$PAACTL" check --help
is "$RC" 0 "--help exits 0"

# ------------------------------------------- the quick-start instance
# What ./quickstart makes: tools/instance.sh's instance and its first
# admin key, served on plain HTTP.
new_instance sqlite3
"$PAACTL" --config "$CONFIG" keygen --name quickstart-admin --client quickstart --role admin >/dev/null 2>&1 ||
    bail "keygen failed"
start_instance
before=$(dump)
chk --httpd-conf "$HOME_DIR/httpd.conf"
is "$(dump)" "$before" "read-only: the offline checks change neither the database nor the env file"
before=$(dump anon)
chk --url "$BASE" --httpd-conf "$HOME_DIR/httpd.conf"
is "$RC" 1 "quick start: exit status 1 (it has FAIL lines)"
got=$(printf '%s' "$CJ" | jq -r '.checks[] | select(.status != "PASS") | "\(.status) \(.id)"' | sort)
expected=$(sort <<'LIST'
WARN env.secret-sources
FAIL keys.admin-expiry
SKIP db.ssl
SKIP db.role
SKIP db.grants
SKIP db.backup
FAIL live.https
SKIP live.hsts
SKIP tls.modern
SKIP tls.v1.0
SKIP tls.v1.1
SKIP tls.cert
LIST
)
is "$got" "$expected" "quick start: only the expected WARN/FAIL/SKIP lines (JWT secret in the env file, admin key without expiry, SQLite, no backup, no HTTPS)"
is "$(printf '%s' "$CJ" | jq -r '[.checks[].id] | length')" 31 "quick start: 31 checks reported"
is "$(printf '%s' "$CJ" | jq -r '.ok, .summary.FAIL')" "false
2" "JSON: ok false, summary counts the FAILs"
lacks "$CJ$ERR" "$(paa_env_value "$CONFIG" JWT_SECRET)" "the JWT secret never appears in the output"
is "$(dump anon)" "$before" "read-only: with --url, only the server's own records of the anonymous probes (auth.failure, no credentials) are new"
run "$PAACTL" --config "$CONFIG" check --url "$BASE"
like "$OUT" $'^STATUS +GUIDE +CHECK +DETAIL\n' "table output: a header"
like "$OUT" 'FAIL +4\.3 +keys\.admin-expiry +1 admin key\(s\) never expire: key_[0-9a-f]{16} \(quickstart-admin\); fix: paactl rotate' \
    "table output: status, guide item, check, reason and fix on one line"
like "$ERR" 'paactl check: 1[0-9] pass, 1 warn, 2 fail, [0-9]+ skip' "a summary on stderr"
KEY_QS=$(sql "SELECT id FROM paa_api_keys WHERE name = 'quickstart-admin'")

# ------------------------------------------------------- env.file
chmod 644 "$CONFIG"
chk
expect env.file FAIL "mode 0644: every local user" "a world-readable env file"
chmod 640 "$CONFIG"
chk
expect env.file PASS "mode 0640" "0640 (root and a group of operators)"
chmod 660 "$CONFIG"
chk
expect env.file WARN "can change it" "a group-writable env file"
chmod 600 "$CONFIG"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$CONFIG"
    chk
    expect env.file WARN "belongs to nobody" "an env file owned by another user"
    chown root "$CONFIG"
fi
CHK_CONFIG="$T_TMP/missing.env" chk
is "$RC" 1 "a missing env file: exit 1"
expect env.file FAIL "cannot read" "a missing env file"
expect env.jwt-secret SKIP "cannot read" "... and the checks needing it are skipped"

# ------------------------------------------------ env.jwt-secret
CHK_CONFIG=$(env_file weak)
sed -i 's/^JWT_SECRET=.*/JWT_SECRET=your_generated_secret_here/' "$CHK_CONFIG"
chk
expect env.jwt-secret FAIL "published example" "the guide's example JWT secret"
CHK_CONFIG=$(env_file rs JWT_ALGORITHM=RS256)
sed -i '/^JWT_SECRET=/d' "$CHK_CONFIG"
chk
expect env.jwt-secret SKIP "public key" "RS256: no shared secret"
expect env.secret-sources PASS "no secret values" "secret sources: an env file without secret values"
unset CHK_CONFIG
chk
expect env.jwt-secret PASS "64 bytes" "a generated secret"

# ---------------------------------------------- env.jwt-previous
chk
expect env.jwt-previous PASS "not set" "no JWT_SECRET_PREVIOUS"
CHK_CONFIG=$(env_file prevweak JWT_SECRET_PREVIOUS=short)
chk
expect env.jwt-previous FAIL "unacceptable" "a weak previous secret"
# A rotation made now with paactl: recorded in the audit trail.
cp "$CONFIG" "$T_TMP/rot.env"
CHK_CONFIG="$T_TMP/rot.env"
"$PAACTL" --config "$CHK_CONFIG" secret set JWT_SECRET_PREVIOUS --generate 2>/dev/null || bail "secret set failed"
chk
expect env.jwt-previous PASS "audit record secret.set of JWT_SECRET_PREVIOUS" "set by a rotation just now (audit record)"
sql "UPDATE paa_audit SET at = at - 3 * 86400 WHERE event = 'secret.set'"
chk
expect env.jwt-previous WARN "still accepted 3 days after the rotation.*JWT_EXPIRES_IN" "still set 3 days after the rotation (24h tokens)"
sql "DELETE FROM paa_audit WHERE event = 'secret.set'"
touch -d '2 days ago' "$CHK_CONFIG"
chk
expect env.jwt-previous WARN "env file's last change" "no audit record: the env file unchanged for 2 days"
touch "$CHK_CONFIG"
chk
expect env.jwt-previous PASS "env file's last change" "no audit record, the env file changed just now"
unset CHK_CONFIG

# ----------------------------------------------- env.legacy-keys
LEGACY=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
CHK_CONFIG=$(env_file legacy "API_KEYS=$LEGACY")
chk
expect env.legacy-keys WARN "1 legacy key" "a legacy API_KEYS list"
for k in pak_your_api_key_here pak_another_key_here pak_a1b2c3d4e5f6...; do
    CHK_CONFIG=$(env_file legacy "API_KEYS=$LEGACY,$k")
    chk
    expect env.legacy-keys FAIL "security guide's example" "the guide's example key $k"
done
lacks "$CJ" "$LEGACY" "a legacy key is never printed"
unset CHK_CONFIG
chk
expect env.legacy-keys PASS "not set" "no API_KEYS"

# httpd refuses the guide's example keys at startup, as the example secret.
refuse_key() {
    local home=$HOME_DIR cfg=$CONFIG out
    new_instance sqlite3
    echo "API_KEYS=$1" >>"$CONFIG"
    paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
    out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
    RC=$?
    HOME_DIR=$home CONFIG=$cfg
    OUT=$out
}
for k in pak_your_api_key_here PAK_ANOTHER_KEY_HERE "pak_a1b2c3d4e5f6..."; do
    refuse_key "$LEGACY,$k"
    [ "$RC" != 0 ] && ok "httpd refuses to start with API_KEYS holding $k" ||
        not_ok "httpd refuses to start with API_KEYS holding $k" "$OUT"
    like "$OUT" "PAAAPIKeys: a key in API_KEYS is the security guide's example" "... saying why"
done
lacks "$OUT" "$LEGACY" "... without printing the other keys"
refuse_key "$LEGACY"
is "$RC" 0 "control: httpd starts with a random legacy key"

# ------------------------------------------------------ env.cors
CHK_CONFIG=$(env_file cors 'CORS_ORIGIN=*')
chk
expect env.cors FAIL "every origin" "CORS_ORIGIN=*"
CHK_CONFIG=$(env_file cors 'CORS_ORIGIN=http://localhost:3000,https://app.example.com')
chk
expect env.cors WARN "1 plain-http origin" "the guide's development origins"
CHK_CONFIG=$(env_file cors 'CORS_ORIGIN=https://app.example.com,https://*.example.com')
chk
expect env.cors PASS "2 https origin" "https origins and a subdomain wildcard"
unset CHK_CONFIG
chk
expect env.cors PASS "not set" "no CORS_ORIGIN"

# --------------------------------------------- env.secret-sources
CHK_CONFIG=$(env_file trap OPENAI_API_KEY=file:/run/secrets/openai)
chk
expect env.secret-sources FAIL "OPENAI_API_KEY is written as a source" "a source written into the env file is taken literally"
lacks "$CJ" "/run/secrets/openai" "... and the value is not printed"
CHK_CONFIG=$(env_file pw)
sed -i 's/^PAA_DB_PARAMS=.*/PAA_DB_PARAMS="host=db port=5432 dbname=paa user=paa password=s3cret"/; s/^PAA_DB_DRIVER=.*/PAA_DB_DRIVER=pgsql/' "$CHK_CONFIG"
chk
expect env.secret-sources WARN "PAA_DB_PARAMS" "a database password in the env file is a secret too"
lacks "$CJ" "s3cret" "... and is not printed"
unset CHK_CONFIG

# -------------------------------------------- conf.secret-sources
chk
expect conf.secret-sources SKIP "no --httpd-conf" "without --httpd-conf"
printf 'PAAJWTPreviousSecret env:JWT_SECRET_PREVIOUS\nPAAProvider openai https://api.openai.com/v1 gpt-4o key=file:/run/secrets/openai\n' \
    >"$HOME_DIR/conf.d/sources.conf"
chk --httpd-conf "$HOME_DIR/httpd.conf"
expect conf.secret-sources PASS "2 secret directive" "sources in an Included file"
printf 'PAAProvider openai https://api.openai.com/v1 gpt-4o \\\n    key=sk-literal-key\n' >>"$HOME_DIR/conf.d/sources.conf"
chk --httpd-conf "$HOME_DIR/httpd.conf"
expect conf.secret-sources FAIL "conf\.d/sources\.conf:3 PAAProvider key= holds a literal" "a literal provider key (continued line), named by file and line"
lacks "$CJ" "sk-literal-key" "... and not printed"
printf 'PAAJWTSecret "%s"\n' "$SECRET" >"$HOME_DIR/conf.d/sources.conf"
chk --httpd-conf "$HOME_DIR/httpd.conf"
expect conf.secret-sources FAIL "PAAJWTSecret holds a literal" "a literal JWT secret in httpd.conf"
rm -f "$HOME_DIR/conf.d/sources.conf"

# ----------------------------------------------------------- keys
chk
expect keys.admin-expiry FAIL "$KEY_QS \(quickstart-admin\).*fix: paactl rotate $KEY_QS --expires 90d" \
    "the quick start's admin key never expires (the fix names it)"
NEWKEY=$("$PAACTL" --config "$CONFIG" rotate "$KEY_QS" --expires 90d 2>/dev/null)
[ -n "$NEWKEY" ] || bail "rotate failed"
chk
expect keys.admin-expiry PASS "every admin key has an expiry" "rotated with --expires 90d (the old key in grace is not judged)"
expect keys.expiring PASS "" "a key in its grace period (ending in 24h) is not 'expiring'"
"$PAACTL" --config "$CONFIG" keygen --name soon --expires 3d >/dev/null 2>&1
chk
expect keys.expiring WARN "soon, in [23] days" "a key expiring in 3 days"
chk --expiry-warning 1d
expect keys.expiring PASS "within 24 hours" "--expiry-warning 1d: not yet"
"$PAACTL" --config "$CONFIG" keygen --name old --expires 30d >/dev/null 2>&1
sql "UPDATE paa_api_keys SET created_at = created_at - 100 * 86400 WHERE name = 'old'"
chk
expect keys.age WARN "old, 100 days old" "a key created 100 days ago"
expect keys.unused WARN "old, never used" "... never used since"
chk --max-key-age 200d --unused 200d
expect keys.age PASS "older than 200 days" "--max-key-age 200d"
expect keys.unused PASS "within 200 days" "--unused 200d"
sql "UPDATE paa_api_keys SET last_used_at = strftime('%s','now') WHERE name = 'old'"
chk
expect keys.unused PASS "" "the old key used today"
expect keys.age WARN "old" "... is still old"

# ------------------------------------------------------ db (SQLite)
chk
expect db.schema PASS "schema version [0-9]+ \(current\)" "SQLite: current schema"
# The newest migration's row is renumbered, not deleted: migrate would
# then run it again over existing tables.
sql "UPDATE paa_schema SET version = -version WHERE version = (SELECT max(version) FROM paa_schema)"
chk
expect db.schema FAIL "paactl migrate" "SQLite: an old schema"
sql "UPDATE paa_schema SET version = 99 WHERE version < 0"
chk
expect db.schema FAIL "newer than this paactl" "SQLite: a newer schema"
sql "UPDATE paa_schema SET version = (SELECT max(version) FROM paa_schema WHERE version < 99) + 1 WHERE version = 99"
chk
expect db.schema PASS "current" "SQLite: restored"
touch "$T_TMP/empty.db"
CHK_CONFIG=$(env_file empty)
sed -i "s|^PAA_DB_PARAMS=.*|PAA_DB_PARAMS=\"$T_TMP/empty.db\"|" "$CHK_CONFIG"
chk
expect db.schema FAIL "has no mod_paa schema.*paactl init" "SQLite: no schema"
unset CHK_CONFIG
chk
DBF="$HOME_DIR/db/paa.db"
expect db.file PASS "mode 0600; directory mode 0700" "SQLite file 0600 in a 0700 directory"
chmod 644 "$DBF"
chk
expect db.file FAIL "mode 0644: every local user" "a world-readable database"
chmod 660 "$DBF"
chk
expect db.file WARN "can write" "a group-writable database"
chmod 600 "$DBF"
chmod 777 "$HOME_DIR/db"
chk
expect db.file FAIL "world-writable" "a world-writable directory"
chmod 700 "$HOME_DIR/db"
if [ "$(id -u)" = 0 ]; then
    owner=$(stat -c %U "$DBF")
    chown root "$DBF"
    chk
    expect db.file WARN "belongs to root" "a database httpd's children cannot write"
    chown "$owner" "$DBF"
fi
expect db.backup SKIP "^no paactl backup recorded" "no backup recorded"
sql "INSERT INTO paa_audit (at, event, outcome) VALUES (strftime('%s','now') - 10 * 86400, 'backup.create', 'success')"
chk
expect db.backup WARN "10 days ago" "the last backup 10 days ago"
sql "INSERT INTO paa_audit (at, event, outcome) VALUES (strftime('%s','now') - 3600, 'backup.create', 'success')"
chk
expect db.backup PASS "60 minutes ago" "a backup an hour ago"
stop_instance

# ---------------------------------------------- live: failing server
# Every live check fails on one misconfigured server: no security headers
# or rate limit, a public API and /metrics, the version in Server, CORS *.
new_instance sqlite3
echo 'CORS_ORIGIN=*' >>"$CONFIG"
echo "paa_metric 1" >"$HOME_DIR/htdocs/metrics"
cat >"$HOME_DIR/conf.d/bad.conf" <<'CONF'
ServerTokens Full
<Location "/">
    PAASecurityHeaders Off
    PAARateLimit Off
</Location>
<Location "/api/personas">
    Require all granted
</Location>
<Location "/metrics">
    SetHandler none
    Require all granted
</Location>
CONF
start_instance
chk --url "$BASE" --live-only
is "$RC" 1 "a misconfigured server: exit 1"
expect env.file "" "--live-only: no offline check"
expect live.reach PASS "" "it answers"
expect live.headers FAIL "lacks Content-Security-Policy, X-Frame-Options: DENY, X-Content-Type-Options: nosniff" "no security headers on /health"
expect live.error-headers FAIL "GET /paactl-check-404 \(40[14]\) lacks" "nor on an error response"
expect live.anonymous FAIL "200, the API is public" "a public /api"
expect live.ratelimit FAIL "no RateLimit-Limit" "no rate limit on /api"
expect live.metrics FAIL "200, public" "a public /metrics"
expect live.server-header FAIL "Server: Apache/[0-9]" "the version in Server"
expect live.cors FAIL "Origin: https://evil-yourdomain.com is allowed" "the guide's suffix trap is allowed (CORS_ORIGIN=*)"
rm -f "$HOME_DIR/htdocs/metrics"
chk --url "$BASE" --live-only
expect live.metrics SKIP "no /metrics endpoint \(404\)" "a /metrics that does not exist (404)"
stop_instance

# CORS with an allowlist: the look-alikes of an allowed origin get nothing,
# while the origin itself is allowed (the control shows the check would
# see an allow).
new_instance sqlite3
echo 'CORS_ORIGIN=https://yourdomain.com' >>"$CONFIG"
start_instance
chk --url "$BASE/"
expect live.cors PASS "3 foreign origins" "evil-yourdomain.com, yourdomain.com.evil.example and null get no CORS allow"
http GET /health -H 'Origin: https://yourdomain.com'
is "$(header Access-Control-Allow-Origin)" "https://yourdomain.com" "control: the allowed origin itself gets Access-Control-Allow-Origin"
stop_instance
port=$(paa_free_port)
run "$PAACTL" --config "$CONFIG" check --json --url "http://127.0.0.1:$port" --live-only
CJ=$OUT
is "$RC" 1 "nothing listening: exit 1"
expect live.reach FAIL "127\.0\.0\.1:$port" "nothing listening at --url"
expect live.headers SKIP "did not answer" "... the other live checks are skipped"

# ------------------------------------------------------ live: TLS
tls_skip_all() {
    local t
    for t in live.https live.hsts tls.modern tls.v1.0 tls.v1.1 tls.cert; do
        skip "$t pass and fail fixtures" "$1"
    done
}
if [ ! -f "$MODDIR/mod_ssl.so" ] || ! command -v openssl >/dev/null; then
    tls_skip_all "mod_ssl or the openssl command is not installed"
else
    TLS="$T_TMP/tls"
    mkdir -p "$TLS"
    # cert NAME DAYS: a self-signed certificate for 127.0.0.1
    cert() {
        openssl req -x509 -newkey rsa:2048 -nodes -days "$2" -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1" -keyout "$TLS/$1.key" -out "$TLS/$1.pem" \
            >"$TLS/openssl.log" 2>&1 || bail "openssl: $(tail -n 1 "$TLS/openssl.log")"
    }
    cert good 60
    cert soon 5
    new_instance sqlite3
    # Two TLS listeners: GOOD (TLS 1.2+ only, a 60-day certificate) and OLD
    # (every protocol and cipher, a 5-day certificate); plain HTTP redirects
    # to GOOD, which PAAPublicURL names.
    tls_conf() {
        GOOD=$(paa_free_port) && OLD=$(paa_free_port) || bail "no free port"
        cat >"$HOME_DIR/conf.d/tls.conf" <<CONF
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule ssl_module $MODDIR/mod_ssl.so
PAAPublicURL https://127.0.0.1:$GOOD
Listen 127.0.0.1:$GOOD
Listen 127.0.0.1:$OLD
<VirtualHost 127.0.0.1:$GOOD>
    SSLEngine on
    SSLCertificateFile "$TLS/good.pem"
    SSLCertificateKeyFile "$TLS/good.key"
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    SSLCipherSuite ALL:@SECLEVEL=0
</VirtualHost>
<VirtualHost 127.0.0.1:$OLD>
    SSLEngine on
    SSLCertificateFile "$TLS/soon.pem"
    SSLCertificateKeyFile "$TLS/soon.key"
    SSLProtocol all
    SSLCipherSuite ALL:@SECLEVEL=0
    <Location "/">
        PAASecurityHeaders Off
    </Location>
</VirtualHost>
<Location "/">
    PAAHTTPSOnly On
</Location>
CONF
    }
    start_instance tls_conf
    chk --url "$BASE" --cacert "$TLS/good.pem"
    expect live.https PASS "redirects \(301\) to https://127\.0\.0\.1:$GOOD/health" "plain HTTP redirects to HTTPS"
    expect live.hsts PASS "max-age=31536000" "HSTS over HTTPS (found from the redirect)"
    expect tls.modern PASS "TLSv1\.[23] negotiated" "TLS 1.2+ accepted"
    expect tls.cert PASS "verifies and is valid for (59|60) days" "a valid certificate, 60 days left"
    expect live.headers PASS "" "headers over HTTPS"
    for v in 1.0 1.1; do
        expect "tls.v$v" PASS "TLS $v refused" "TLS $v refused by SSLProtocol -all +TLSv1.2 +TLSv1.3"
    done

    chk --url "https://127.0.0.1:$OLD" --http-url "$BASE" --cacert "$TLS/soon.pem"
    expect tls.cert WARN "expires in [45] days" "a certificate expiring within 14 days"
    expect live.hsts FAIL "no Strict-Transport-Security" "no HSTS over HTTPS"
    # Whether this OpenSSL can still speak TLS 1.0/1.1 as a client decides
    # between FAIL (it can: the server accepted) and an honest SKIP.
    for v in 1.0 1.1; do
        flag=-tls1; [ "$v" = 1.1 ] && flag=-tls1_1
        if echo | openssl s_client -connect "127.0.0.1:$OLD" "$flag" -cipher 'ALL:@SECLEVEL=0' 2>/dev/null |
            grep -q 'Cipher is [A-Z]'; then
            expect "tls.v$v" FAIL "accepts TLS $v" "TLS $v accepted by SSLProtocol all"
        else
            expect "tls.v$v" SKIP "cannot offer TLS $v" "this OpenSSL cannot speak TLS $v: SKIP, not PASS"
        fi
    done
    chk --url "https://127.0.0.1:$GOOD" --http-url "$BASE"
    expect tls.cert FAIL "does not verify: self-signed certificate" "a self-signed certificate without --cacert"
    chk --url "https://localhost:$GOOD" --http-url "$BASE" --cacert "$TLS/good.pem"
    expect tls.cert FAIL "does not verify: hostname mismatch" "a certificate for another host name"
    chk --url "https://127.0.0.1:$GOOD"
    expect live.https SKIP "give --http-url" "https on a port other than 443 without --http-url"
    stop_instance
fi

# ------------------------------------------------------ PostgreSQL
if ! have_pg; then
    for t in keys db.schema db.ssl db.role db.grants db.backup "audit with the guide's grants"; do
        skip "PostgreSQL: $t" "PostgreSQL 15 is not installed"
    done
    done_testing
fi
PGTLS="$T_TMP/pgtls"
mkdir -p "$PGTLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -keyout "$PGTLS/server.key" -out "$PGTLS/server.crt" >/dev/null 2>&1 || bail "openssl failed"
chmod 600 "$PGTLS/server.key"
[ "$(id -u)" = 0 ] && chown nobody "$PGTLS/server.key"
new_pg "-c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$PGTLS/server.crt -c ssl_key_file=$PGTLS/server.key"
psql_su() {
    paa_pg_run "$PAA_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U paa -d "${2:-paa}" -c "$1" 2>&1
}
new_instance pgsql "$PG_PARAMS"
# pg_env NAME PARAMS: an env file naming this cluster with other params.
pg_env() {
    local f
    f=$(env_file "$1")
    sed -i "s|^PAA_DB_PARAMS=.*|PAA_DB_PARAMS=\"$2\"|" "$f"
    echo "$f"
}
TCP="host=127.0.0.1 port=$PG_PORT dbname=paa"

# The cluster's superuser, over the Unix socket: what the tests use.
chk
expect db.schema PASS "current" "pgsql: current schema"
expect db.ssl PASS "Unix socket" "pgsql: a Unix socket does not cross the network"
expect db.role FAIL "role paa is a superuser" "pgsql: a superuser"
expect db.grants SKIP "superuser or an owner" "pgsql: grants do not apply to a superuser"
expect db.file SKIP "PostgreSQL" "pgsql: no file to check"
expect db.backup SKIP "^no paactl backup recorded" "pgsql: no backup recorded"
expect keys.admin-expiry PASS "no active API key" "pgsql: no keys yet"

# An owner that is not a superuser.
psql_su "CREATE ROLE paa_owner LOGIN" >/dev/null
paa_pg_run "$PAA_PG_BINDIR/createdb" -h "$PG_DIR" -p "$PG_PORT" -U paa -O paa_owner paa_owned || bail "createdb"
CHK_CONFIG=$(pg_env owner "host=$PG_DIR port=$PG_PORT dbname=paa_owned user=paa_owner")
"$PAACTL" --config "$CHK_CONFIG" init >/dev/null 2>&1 || bail "init as paa_owner failed"
chk
expect db.role FAIL "role paa_owner owns the database" "pgsql: the database's owner"
expect db.grants SKIP "" "... grants are not judged"

# The guide's 5.5 grants: no USAGE on the sequences.
psql_su "CREATE ROLE paa_app LOGIN; GRANT CONNECT ON DATABASE paa TO paa_app;
         GRANT USAGE ON SCHEMA public TO paa_app;
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO paa_app" >/dev/null ||
    bail "cannot create paa_app"
CHK_CONFIG=$(pg_env app "$TCP user=paa_app sslmode=disable")
chk
expect db.role PASS "role paa_app: not a superuser" "pgsql: a dedicated role"
expect db.grants FAIL "lacks USAGE on paa_audit_id_seq" "pgsql: the guide's grants lack sequence USAGE"
expect db.ssl FAIL "not encrypted \(sslmode=disable\)" "pgsql: TCP without TLS"
expect db.schema PASS "" "pgsql: the schema is readable with the guide's grants"
CHK_CONFIG=$(pg_env app "$TCP user=paa_app")
chk
expect db.ssl WARN "sslmode=prefer" "pgsql: TLS by default, but prefer can be downgraded"
CHK_CONFIG=$(pg_env app "$TCP user=paa_app sslmode=require")
chk
expect db.ssl PASS "TLS to .*sslmode=require" "pgsql: sslmode=require"

# httpd as paa_app with the guide's grants: the audit insert fails, and
# the log says why (the driver's error), not "prepared statement already
# exists" as before the lazy preparation.
sed -i "s|^PAA_DB_PARAMS=.*|PAA_DB_PARAMS=\"host=$PG_DIR port=$PG_PORT dbname=paa user=paa_app\"|" "$CONFIG"
start_instance
http GET /api/me -H "X-API-Key: pak_$(printf '0%.0s' $(seq 64))"
is "$STATUS" 401 "pgsql as paa_app: an unknown key gets 401"
denied() { grep -q 'permission denied for sequence paa_audit_id_seq' "$HOME_DIR/logs/error.log"; }
wait_for 10 denied && ok "the failed audit insert is logged with the driver's error (permission denied for sequence)" ||
    not_ok "the failed audit insert is logged with the driver's error" "$(tail -n 5 "$HOME_DIR/logs/error.log")"
unlike "$(cat "$HOME_DIR/logs/error.log")" "already exists" "... and never as 'prepared statement already exists'"
psql_su "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO paa_app" >/dev/null
http GET /api/me -H "X-API-Key: pak_$(printf '1%.0s' $(seq 64))"
recorded() { [ "$(psql_su "SELECT count(*) FROM paa_audit WHERE event = 'auth.failure'")" -ge 1 ]; }
wait_for 10 recorded && ok "with sequence USAGE granted the audit record is written" ||
    not_ok "audit record written after GRANT USAGE ON ALL SEQUENCES" "$(tail -n 5 "$HOME_DIR/logs/error.log")"
stop_instance
chk
expect db.grants PASS "what mod_paa needs and no more: .* [0-9]+ tables, USAGE on 3 sequences" "pgsql: the README's grants"
psql_su "GRANT TRUNCATE ON paa_audit TO paa_app" >/dev/null
chk
expect db.grants WARN "more than mod_paa needs: TRUNCATE on paa_audit" "pgsql: TRUNCATE is more than needed"
psql_su "REVOKE TRUNCATE ON paa_audit FROM paa_app" >/dev/null

# Keys, schema and backup on PostgreSQL too.
CHK_CONFIG=$(pg_env su "$PG_PARAMS")
"$PAACTL" --config "$CHK_CONFIG" keygen --name pg-admin --role admin >/dev/null 2>&1
"$PAACTL" --config "$CHK_CONFIG" keygen --name pg-old --expires 3d >/dev/null 2>&1
psql_su "UPDATE paa_api_keys SET created_at = created_at - 100 * 86400 WHERE name = 'pg-old'" >/dev/null
chk
expect keys.admin-expiry FAIL "pg-admin" "pgsql: an admin key without expiry"
expect keys.age WARN "pg-old, 100 days old" "pgsql: an old key"
expect keys.expiring WARN "pg-old, in [23] days" "pgsql: an expiring key"
expect keys.unused WARN "pg-old, never used" "pgsql: an unused key"
psql_su "UPDATE paa_schema SET version = -version WHERE version = (SELECT max(version) FROM paa_schema)" >/dev/null
chk
expect db.schema FAIL "paactl migrate" "pgsql: an old schema"
psql_su "UPDATE paa_schema SET version = -version WHERE version < 0" >/dev/null
psql_su "INSERT INTO paa_audit (at, event, outcome) VALUES (extract(epoch FROM now())::bigint - 60, 'backup.create', 'success')" >/dev/null
chk
expect db.backup PASS "ago" "pgsql: a recent backup record"
expect db.schema PASS "current" "pgsql: restored"

done_testing
