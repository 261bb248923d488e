#!/bin/bash
# mod_paa in a shared httpd: it must disturb nothing it was not configured
# for. Another virtual host authenticating with mod_authn_dbd on its own
# database (no paa tables) keeps working next to the API; a start with 1,
# 3 and 10 virtual hosts logs no warning (mod_dbd's AH02653 "conflicting
# SQL statements" was logged per vhost when mod_paa registered its SQL
# everywhere); a configuration that loads mod_paa without using it gets
# no shared memory and no log line from it; and a database one migration
# behind keeps serving what it can while /health/ready names the
# migration.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
command -v sqlite3 >/dev/null || bail "sqlite3 (the CLI) is needed"

# other_db FILE: a mod_authn_dbd user table with alice:secret ({SHA}).
other_db() {
    local hash
    hash="{SHA}$(printf 'secret' | openssl dgst -sha1 -binary | base64)"
    sqlite3 "$1" "CREATE TABLE users (name TEXT PRIMARY KEY, pass TEXT);
                  INSERT INTO users VALUES ('alice', '$hash');"
    chmod 644 "$1"
    chmod 755 "$(dirname "$1")"
}

# warnings: error.log lines at warn level or worse.
warnings() {
    grep -E '^\[[^]]*\] \[[a-z_0-9]*:(warn|error|crit|alert|emerg)\]' \
        "$HOME_DIR/logs/error.log"
}

# ----------------------------------- another vhost using mod_authn_dbd
new_instance sqlite3
KEY=$("$PAACTL" --config "$CONFIG" keygen --name coexist --role reader 2>/dev/null)
OTHER="$HOME_DIR/other"
mkdir -p "$OTHER/htdocs/private"
echo "private page" >"$OTHER/htdocs/private/index.html"
other_db "$OTHER/users.db"
# The vhost overrides the main server's default-deny location with its
# own authentication; it has no mod_paa directive at all.
other_conf() {
    VPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/other.conf" <<CONF
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
LoadModule authn_dbd_module $MODDIR/mod_authn_dbd.so
Listen 127.0.0.1:$VPORT
<VirtualHost 127.0.0.1:$VPORT>
    ServerName other.test
    DocumentRoot "$OTHER/htdocs"
    DBDriver sqlite3
    DBDParams "$OTHER/users.db"
    <Location "/">
        SetHandler none
        AuthType Basic
        AuthName "other"
        AuthBasicProvider dbd
        AuthDBDUserPWQuery "SELECT pass FROM users WHERE name = %s"
        Require valid-user
    </Location>
</VirtualHost>
CONF
}
start_instance other_conf
VBASE="http://127.0.0.1:$VPORT"

codes=""
for _ in $(seq 1 12); do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -u alice:secret "$VBASE/private/index.html")"
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "$BASE/api/me")"
done
is "$(tr ' ' '\n' <<<"$codes" | grep -v '^$' | sort -u | tr '\n' ' ')" "200 " \
    "mod_authn_dbd vhost and mod_paa API answer 200, interleaved, 12 times each"
BODY=$(curl -s -u alice:secret "$VBASE/private/index.html")
is "$BODY" "private page" "the mod_authn_dbd vhost serves its page"
is "$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$VBASE/private/index.html")" 401 \
    "the mod_authn_dbd vhost still refuses a wrong password"
http GET /api/personas -H "X-API-Key: $KEY"
is "$STATUS" 200 "the mod_paa API works next to it"
unlike "$(cat "$HOME_DIR/logs/error.log")" 'no such table|AH00632|AH02653' \
    "no mod_dbd error or statement conflict in the error log"
unlike "$(curl -s -D - -o /dev/null -u alice:secret "$VBASE/private/index.html" | tr 'A-Z' 'a-z')" \
    'content-security-policy|x-frame-options' \
    "mod_paa adds no security headers to the other vhost"
unlike "$(curl -s -D - -o /dev/null -u alice:secret "$VBASE/private/missing.html" | tr 'A-Z' 'a-z')" \
    'content-security-policy|x-frame-options|application/problem' \
    "... nor to its 404 (which stays httpd's own)"
unlike "$(sqlite3 "$OTHER/users.db" .tables)" 'paa_' \
    "the other vhost's database has no paa table"
stop_instance

# ------------------------------------------- warnings with 1, 3, 10 vhosts
for n in 1 3 10; do
    new_instance sqlite3
    for i in $(seq 1 "$n"); do
        mkdir -p "$HOME_DIR/v$i"
        other_db "$HOME_DIR/v$i/users.db"
    done
    vhosts_conf() {
        : >"$HOME_DIR/conf.d/vhosts.conf"
        for i in $(seq 1 "$n"); do
            p=$(paa_free_port) || bail "no free port"
            # Odd vhosts have a database of their own, even ones inherit
            # the main server's.
            dbd=""
            [ $((i % 2)) = 1 ] && dbd="DBDriver sqlite3
    DBDParams \"$HOME_DIR/v$i/users.db\""
            cat >>"$HOME_DIR/conf.d/vhosts.conf" <<CONF
Listen 127.0.0.1:$p
<VirtualHost 127.0.0.1:$p>
    ServerName v$i.test
    $dbd
</VirtualHost>
CONF
        done
    }
    start_instance vhosts_conf
    is "$(warnings | head -n 5)" "" "$n vhosts: no warning or error in error.log at start"
    is "$(grep -c AH02653 "$HOME_DIR/logs/error.log")" 0 \
        "$n vhosts: no AH02653 (conflicting SQL statements)"
    http GET /health/ready
    is "$STATUS" 200 "$n vhosts: /health/ready"
    stop_instance
done

# ------------------------------ loaded but unused: no shm, no log line
# The same bare configuration with and without LoadModule paa_module.
anon_shm() {
    local pid=$1 c=0 p
    for p in $pid $(pgrep -P "$pid"); do
        c=$((c + $(grep -c '/dev/zero (deleted)\|SYSV' "/proc/$p/maps" 2>/dev/null || echo 0)))
    done
    echo $c
}
bare_conf() { # DIR PORT LOAD_PAA
    local d=$1
    mkdir -p "$d/logs" "$d/run" "$d/htdocs"
    echo hello >"$d/htdocs/index.html"
    cat >"$d/httpd.conf" <<CONF
ServerRoot "$d"
ServerName 127.0.0.1
Listen 127.0.0.1:$2
PidFile "$d/run/httpd.pid"
DefaultRuntimeDir "$d/run"
Mutex file:$d/run default
ErrorLog "$d/logs/error.log"
LogLevel info
DocumentRoot "$d/htdocs"
$(u=$(paa_httpd_user); [ -n "$u" ] && printf 'User %s\nGroup %s\n' "$u" "$(id -gn "$u")")
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule dbd_module $MODDIR/mod_dbd.so
StartServers 1
$([ "$3" = 1 ] && echo "LoadModule paa_module \"$PAA_MODULE\"")
CONF
}
declare -A SHM
for load in 0 1; do
    d="$T_TMP/bare$load"
    T_HOMES+=("$d")
    for try in 1 2 3; do
        port=$(paa_free_port) || bail "no free port"
        bare_conf "$d" "$port" $load
        paa_httpd_start "$d" "$PAA_HTTPD" "http://127.0.0.1:$port/" 2>/dev/null && break
        paa_httpd_stop "$d" "$PAA_HTTPD"
        [ $try = 3 ] && bail "bare httpd ($load) did not start: $(cat "$d/logs/error.log")"
    done
    pid=$(paa_httpd_pid "$d")
    SHM[$load]=$(anon_shm "$pid")
    is "$(curl -s "http://127.0.0.1:$port/index.html")" hello "bare httpd (mod_paa loaded: $load) serves its page"
    paa_httpd_stop "$d" "$PAA_HTTPD"
done
is "${SHM[1]}" "${SHM[0]}" "mod_paa loaded but unused: no shared memory segment of its own"
unlike "$(cat "$T_TMP/bare1/logs/error.log")" 'PAA[0-9]|paa:' \
    "mod_paa loaded but unused: not one log line from it"

# --------------------- a database one migration behind keeps serving
new_instance sqlite3
KEY=$("$PAACTL" --config "$CONFIG" keygen --name behind --role admin 2>/dev/null)
GONE=$("$PAACTL" --config "$CONFIG" keygen --name behind-gone 2>/dev/null)
DB=$(paa_env_value "$CONFIG" PAA_DB_PARAMS)
# As the database's owner, so that no root-owned journal is left behind.
as_owner() { if [ -n "$(paa_httpd_user)" ]; then runuser -u "$(paa_httpd_user)" -- "$@"; else "$@"; fi; }
printf 'behind-password-1\n' | "$PAACTL" --config "$CONFIG" user add behind >/dev/null 2>&1 || bail "user add"
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub behind 2>/dev/null)
# Back to version 3, so that a table the API uses (MCP sessions) is missing,
# and so is JWT revocation (version 6), which every token lookup asks
# (and the failover's node, version 7, the credential cache's change
# markers, version 8, the personas' marker, version 9, keys_added,
# version 10, and the replacing inserts' triggers, version 11).
as_owner sqlite3 "$DB" "DROP TRIGGER paa_api_keys_replaced; DROP TRIGGER paa_users_replaced; DROP TRIGGER paa_personas_added; DROP TRIGGER paa_personas_changed; DROP TRIGGER paa_personas_deleted; DROP TRIGGER paa_keys_added; DROP TRIGGER paa_keys_deleted; DROP TRIGGER paa_keys_changed; DROP TRIGGER paa_users_added; DROP TRIGGER paa_users_changed; DROP TRIGGER paa_users_deleted; DROP TRIGGER paa_mcp_sessions_deleted; DROP TRIGGER paa_mcp_sessions_changed; DROP TABLE paa_revoked_tokens; DROP TABLE paa_changes; ALTER TABLE paa_failovers DROP COLUMN node; ALTER TABLE paa_users DROP COLUMN tokens_not_before; DROP TABLE paa_consents; DROP TABLE paa_mcp_sessions; DELETE FROM paa_schema WHERE version >= 4;" ||
    bail "cannot roll the schema back"
start_instance
http GET /health/ready
is "$STATUS" 503 "schema migrations behind: /health/ready is 503"
like "$(json .detail)" 'version 3.*migrations 4 to [0-9]+.*paactl migrate' \
    "the 503 names the missing migrations and the command"
http GET /api/me -H "X-API-Key: $KEY"
is "$STATUS" 200 "schema behind: API keys still authenticate"
# Without the change marker (version 8) a verified credential is kept
# 500 ms only: said once per process, not per request, and a revocation
# still reaches every child within 1 s.
for i in $(seq 1 20); do http GET /api/me -H "X-API-Key: $GONE"; done
is "$STATUS" 200 "schema behind: another key, twenty times"
n=$(grep -c 'PAA01511.*change marker cannot be read.*500 ms' "$HOME_DIR/logs/error.log")
is "$([ "$n" -ge 1 ] && [ "$n" -le 4 ] && echo "1 to 4" || echo "$n")" "1 to 4" \
    "without the change marker: PAA01511 says credentials are kept 500 ms, once per process (ServerLimit 4), not per request"
t0=$(now_ms)
as_owner sqlite3 "$DB" "UPDATE paa_api_keys SET revoked_at = $(date +%s) WHERE name = 'behind-gone'" ||
    bail "cannot revoke by hand"
refused_after "$t0" "without the change marker: a key revoked (the 500 ms kept)" "$GONE"
http GET /api/me -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "schema behind (no revocation table yet): JWTs still authenticate"
http GET /api/personas -H "X-API-Key: $KEY"
is "$STATUS" 200 "schema behind: personas are still served"
http POST /api/personas -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    -d '{"id":"behind","name":"Behind","description":"Written before the migrations.","knowledgeCategory":"general","temperature":0.5,"maxTokens":100}'
is "$STATUS" 201 "schema behind: a persona can still be created"
http GET /api/personas -H "X-API-Key: $KEY"
is "$(json '[.items[].id] | index("behind") != null')" true "schema behind: ... and is listed at once"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
http POST /api/mcp -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -d "$INIT"
is "$STATUS" 503 "schema behind: what needs the missing table (MCP sessions) is 503"
like "$(cat "$HOME_DIR/logs/error.log")" 'no such table: paa_mcp_sessions' \
    "the error log names the missing table"
"$PAACTL" --config "$CONFIG" migrate >/dev/null 2>&1 || not_ok "paactl migrate"
http GET /health/ready
is "$STATUS $(json .detail)" "200 null" "after paactl migrate, without a restart: /health/ready is 200"
http POST /api/mcp -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -d "$INIT"
is "$STATUS" 200 "after paactl migrate: MCP sessions work on the same connections"
http GET /api/me -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "after paactl migrate: the JWT still authenticates"
"$PAACTL" --config "$CONFIG" user logout behind >/dev/null 2>&1 || not_ok "paactl user logout"
wait_for 10 eval '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" "$BASE/api/me")" = 401 ]' &&
    ok "after paactl migrate: revocation works on the same connections (logout refuses the token)" ||
    not_ok "after paactl migrate: revocation works on the same connections"

# ------------------- a database httpd cannot write says so in those words
stop_instance
chmod 400 "$DB"
start_instance
http POST /api/auth/login -H 'Content-Type: application/json' \
    --data '{"username":"someone","password":"a-password-here"}'
is "$STATUS" 503 "read-only SQLite file: a login (which writes) is 503"
like "$(cat "$HOME_DIR/logs/error.log")" 'httpd cannot write the SQLite database' \
    "the error log says httpd cannot write the database"
chmod 600 "$DB"

done_testing
