#!/bin/bash
# /metrics (SetHandler paa-metrics) against a real httpd with several
# child processes. The counters live in one shared-memory table that every
# child adds to atomically, so they must be exact: a burst of parallel
# requests served by more than one child is counted to the request, 25 bad
# keys are 25 failures, and scraping any child shows the same totals. The
# exposition must parse (promtool check metrics when installed, and a
# strict line grammar here), the location must not be public, and the
# database-up gauge must follow the database down and back. Each other
# family is driven at its source (JWT reasons, a rate limit, MCP sessions
# and tools, a failing and an answering provider) and no client-chosen
# value becomes a label; a graceful restart resets the counters and moves
# paa_start_time_seconds. With PostgreSQL stopped, a scrape through
# Require local shows paa_db_up 0 and the errors, and 1 once it is back.
# The system-wide paa-api.conf protects /metrics
# the same way. Then a real
# Prometheus (when installed) scrapes the instance with an admin JWT, loads
# the shipped rules and its query API returns the exact failure count.
# A process that kept counters per child, or counted without atomics,
# fails the totals.
. "$PAA_SRCDIR/tests/integration/lib.sh"

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
scrape() {
    curl -s --max-time 20 -H "X-API-Key: $ADMIN" "$BASE/metrics" >"$T_TMP/metrics.txt"
}
# metric 'NAME{LABELS}': its value in the last scrape (0 when absent)
metric() {
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$T_TMP/metrics.txt"
}

# Two providers: the first always fails (500), the second answers.
start_fake m-first fail500
start_fake m-second
new_instance sqlite3
# Which child served each request: the access log names its pid.
mkdir -p "$HOME_DIR/conf.d"
cat >"$HOME_DIR/conf.d/pids.conf" <<CONF
LogFormat "%P %>s %U" pids
CustomLog "$HOME_DIR/logs/pids.log" pids
PAAProvider m-first http://127.0.0.1:${FPORT[m-first]} model-first
PAAProvider m-second http://127.0.0.1:${FPORT[m-second]} model-second
PAAProviderBreaker 1000 1s
<Location "/rl3">
    PAARateLimit 3 60s
</Location>
# What mod_paa(8) recommends for a scraper: no database needed to scrape.
LoadModule authz_host_module ${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}/mod_authz_host.so
<Location "/metrics-local">
    SetHandler paa-metrics
    Require local
    PAARateLimit Off
</Location>
CONF
start_instance
ADMIN=$(keygen admin --role admin)
READER=$(keygen reader --role reader)
[ -n "$ADMIN" ] && [ -n "$READER" ] || bail "keygen failed"

# ------------------------------------------------------------ not public
http GET /metrics
is "$STATUS" 401 "anonymous GET /metrics is 401"
unlike "$BODY" "paa_http_requests_total" "a 401 shows no metric"
http GET /metrics -H "X-API-Key: $READER"
is "$STATUS" 403 "a key without role admin gets 403"
unlike "$BODY" "paa_http_requests_total" "a 403 shows no metric"
http GET /metrics -H "X-API-Key: $ADMIN"
is "$STATUS" 200 "an admin key gets the metrics"
like "$(header Content-Type)" '^text/plain; version=0.0.4' "Prometheus text format 0.0.4"
http POST /metrics -H "X-API-Key: $ADMIN"
is "$STATUS" 405 "POST /metrics is 405"

# ---------------------------------------------------------------- format
scrape
# Every line is a comment (HELP/TYPE) or name{labels} value; each sample's
# family was TYPEd first; no series appears twice.
bad=$(awk '
    /^# (HELP|TYPE) / { if ($2 == "TYPE") typed[$3] = 1; next }
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [0-9.e+-]+(\.[0-9]+)?$/ {
        fam = $1; sub(/\{.*/, "", fam); base = fam
        sub(/_(bucket|sum|count)$/, "", base)
        if (!(fam in typed) && !(base in typed)) { print "untyped: " $0; next }
        if (seen[$1]++) print "duplicate: " $0
        next
    }
    { print "bad line: " $0 }' "$T_TMP/metrics.txt")
is "$bad" "" "every line of the exposition is well formed"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <"$T_TMP/metrics.txt" 2>&1)
    is "$?" 0 "promtool check metrics accepts the exposition ($out)"
else
    skip "promtool check metrics" "promtool is not installed (apt-get install prometheus)"
fi
like "$(grep '^paa_build_info' "$T_TMP/metrics.txt")" 'version="[0-9]' "build info carries the version"
start=$(metric paa_start_time_seconds)
now=$(date +%s)
ok_if=$([ "$start" -gt $((now - 600)) ] && [ "$start" -le "$now" ] && echo yes)
is "$ok_if" yes "paa_start_time_seconds is when the table was created ($start)"
like "$(grep -c '^paa_http_request_duration_seconds_bucket{le="2"}' "$T_TMP/metrics.txt")" '^1$' \
    "the duration histogram has a 2 s bucket"
unlike "$(grep -v '^#' "$T_TMP/metrics.txt")" "pak_|$ADMIN|key_id|127\.0\.0\.1" \
    "no key, key id or address in any label"

# ------------------------------------------ exact across child processes
N=600
before=$(metric 'paa_http_requests_total{route="/health",code="2xx"}')
seq 1 "$N" | xargs -P 32 -I{} curl -s -o /dev/null --max-time 20 "$BASE/health"
scrape
after=$(metric 'paa_http_requests_total{route="/health",code="2xx"}')
is "$((after - before))" "$N" "$N parallel requests counted exactly ($before -> $after)"
children=$(awk '$3 == "/health" { print $1 }' "$HOME_DIR/logs/pids.log" | sort -u | wc -l)
ok_if=$([ "$children" -ge 2 ] && echo yes)
is "$ok_if" yes "the burst was served by several children ($children)"
# Each scrape may land on any child: all show the same total.
same=yes
for i in 1 2 3 4 5 6; do
    scrape
    [ "$(metric 'paa_http_requests_total{route="/health",code="2xx"}')" = "$after" ] || same=no
done
is "$same" yes "six scrapes (any child) show the same /health total"
scrape_pids=$(awk '$3 == "/metrics" { print $1 }' "$HOME_DIR/logs/pids.log" | sort -u | wc -l)
echo "# scrapes answered by $scrape_pids child(ren)"

# --------------------------------------------------- auth failures, exact
before=$(metric 'paa_auth_failures_total{method="api_key",reason="unknown_key"}')
seq 1 25 | xargs -P 8 -I{} curl -s -o /dev/null --max-time 20 \
    -H "X-API-Key: pak_$(printf '%064d' 0)" "$BASE/api/agents"
scrape
after=$(metric 'paa_auth_failures_total{method="api_key",reason="unknown_key"}')
is "$((after - before))" 25 "25 bad keys: auth failure counter +25 exactly"
before=$(metric 'paa_auth_failures_total{method="api_key",reason="malformed"}')
curl -s -o /dev/null -H "X-API-Key: not-a-key" "$BASE/api/agents"
before_none=$(metric 'paa_auth_failures_total{method="none",reason="no_credentials"}')
scrape
is "$(($(metric 'paa_auth_failures_total{method="api_key",reason="malformed"}') - before))" 1 \
    "a malformed key counts as reason malformed"
curl -s -o /dev/null "$BASE/api/agents"
scrape
is "$(($(metric 'paa_auth_failures_total{method="none",reason="no_credentials"}') - before_none))" 1 \
    "no credentials counts as method none, reason no_credentials"
ok_if=$([ "$(metric 'paa_auth_success_total{method="api_key"}')" -ge 9 ] && echo yes)
is "$ok_if" yes "admin scrapes count as api_key successes"
ok_if=$([ "$(metric 'paa_http_requests_total{route="/api/agents",code="4xx"}')" -ge 27 ] && echo yes)
is "$ok_if" yes "the refused /api/agents requests are 4xx on their route"

# ------------------------------------------------------- database gauge
is "$(metric paa_db_up)" 1 "paa_db_up is 1 with the database up"
chmod 000 "$HOME_DIR/db/paa.db"
http GET /health/ready
is "$STATUS" 503 "unreadable database: /health/ready is 503"
scrape
is "$(metric paa_db_up)" 0 "paa_db_up is 0 once readiness failed"
chmod 600 "$HOME_DIR/db/paa.db"
http GET /health/ready
is "$STATUS" 200 "readable again: /health/ready is 200"
scrape
is "$(metric paa_db_up)" 1 "paa_db_up is back to 1"

# ------------------------------------- the other families, at their source
secret() { paa_env_value "$CONFIG" JWT_SECRET; }
count() { metric "$1"; }
scrape
b_sig=$(count 'paa_auth_failures_total{method="jwt",reason="bad_signature"}')
b_exp=$(count 'paa_auth_failures_total{method="jwt",reason="expired"}')
b_rl=$(count 'paa_ratelimit_rejections_total{kind="requests"}')
b_ses=$(count paa_mcp_sessions_created_total)
b_lp=$(count 'paa_mcp_tool_calls_total{tool="list_personas",outcome="ok"}')
b_unk=$(count 'paa_mcp_tool_calls_total{tool="unknown",outcome="error"}')
b_pf=$(count 'paa_provider_requests_total{provider="m-first",outcome="failure"}')
b_ps=$(count 'paa_provider_requests_total{provider="m-second",outcome="success"}')
b_fo=$(count paa_provider_failovers_total)
b_lock=$(count paa_login_lockouts_total)
curl -s -o /dev/null -H "Authorization: Bearer $("$JWT_MINT" sign --alg HS256 \
    --key "another-secret-another-secret-12345" --payload '{"sub":"x","exp":"now+300"}')" "$BASE/api/agents"
curl -s -o /dev/null -H "Authorization: Bearer $("$JWT_MINT" sign --alg HS256 \
    --key "$(secret)" --payload '{"sub":"x","exp":"now-3600"}')" "$BASE/api/agents"
for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -H "X-API-Key: $READER" "$BASE/rl3"
done
mcp() {
    curl -s -D "$T_TMP/mcp.h" -o "$T_TMP/mcp.b" -H "X-API-Key: $READER" -H "Content-Type: application/json" \
        -H "Accept: application/json, text/event-stream" --data-binary "$1" "$BASE/api/mcp"
}
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
grep -qi '^Mcp-Session-Id:' "$T_TMP/mcp.h" || echo "# initialize gave no session: $(cat "$T_TMP/mcp.b")"
mcp '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_personas","arguments":{}}}'
mcp '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}'
# 5 wrong passwords for one name, then a 6th attempt: locked out (429).
for _ in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data-binary '{"username":"nobody-here","password":"wrong-password"}' "$BASE/api/auth/login"
done >"$T_TMP/logins"
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
http POST /api/chat -H "X-API-Key: $READER" -H 'Content-Type: application/json' \
    --data-binary '{"agent_id":"general-assistant","question":"Who answers?"}'
is "$STATUS" 200 "chat answered by the second provider"
scrape
is "$(($(count 'paa_auth_failures_total{method="jwt",reason="bad_signature"}') - b_sig))" 1 \
    "a token signed with another secret: jwt bad_signature +1"
is "$(($(count 'paa_auth_failures_total{method="jwt",reason="expired"}') - b_exp))" 1 \
    "an expired token: jwt expired +1"
is "$(($(count 'paa_ratelimit_rejections_total{kind="requests"}') - b_rl))" 2 \
    "5 requests against a limit of 3: rate-limit rejections +2"
is "$(($(count paa_mcp_sessions_created_total) - b_ses))" 1 "MCP initialize: sessions +1"
is "$(($(count 'paa_mcp_tool_calls_total{tool="list_personas",outcome="ok"}') - b_lp))" 1 \
    "tools/call list_personas: ok +1"
is "$(($(count 'paa_mcp_tool_calls_total{tool="unknown",outcome="error"}') - b_unk))" 1 \
    "tools/call of an unknown name: tool=\"unknown\" (not the name) error +1"
is "$(($(count 'paa_provider_requests_total{provider="m-first",outcome="failure"}') - b_pf))" 1 \
    "the failing provider: failure +1"
is "$(($(count 'paa_provider_requests_total{provider="m-second",outcome="success"}') - b_ps))" 1 \
    "the answering provider: success +1"
is "$(($(count paa_provider_failovers_total) - b_fo))" 1 "one failover"
is "$(tr '\n' ' ' <"$T_TMP/logins")" "401 401 401 401 401 429 " "five failed logins, then a lockout"
is "$(($(count paa_login_lockouts_total) - b_lock))" 1 "the lockout is counted once"
is "$(count 'paa_provider_breaker_open{provider="m-first"}')" 0 \
    "one failure under a threshold of 1000 leaves the breaker closed"
unlike "$(grep -v '^#' "$T_TMP/metrics.txt")" 'no_such_tool|general-assistant|/rl3' \
    "no tool name, agent id or raw path a client sent became a label"

# ------------------------------------------ a real Prometheus scrapes it
# Prometheus 2.x sends a Bearer token: a JWT of an admin user. Its own
# directory and free loopback port; stopped by the EXIT trap's kill.
PROM=$(command -v prometheus || true)
if [ -z "$PROM" ]; then
    skip "Prometheus scrapes /metrics" "prometheus is not installed (apt-get install prometheus)"
else
    printf 'prometheus-scraper-pw\n' | "$PAACTL" --config "$CONFIG" user add prometheus --role admin >/dev/null 2>&1
    "$PAACTL" --config "$CONFIG" token issue --sub prometheus --role admin --ttl 1h \
        >"$T_TMP/prom.jwt" 2>/dev/null
    [ -s "$T_TMP/prom.jwt" ] || bail "token issue failed"
    PROM_DIR="$T_TMP/prometheus"
    mkdir -p "$PROM_DIR/data"
    PROM_PORT=$(paa_free_port) || bail "no free port"
    cat >"$PROM_DIR/prometheus.yml" <<CONF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$PAA_SRCDIR/conf/prometheus/paa-alerts.yml"]
scrape_configs:
  - job_name: paa
    authorization: {credentials_file: "$T_TMP/prom.jwt"}
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
  - job_name: paa-local
    metrics_path: /metrics-local
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
CONF
    "$PROM" --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" >"$PROM_DIR/log" 2>&1 &
    FAKE_PIDS+=($!)
    # query EXPR: the value of the first sample, or nothing
    query() {
        curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
            jq -r '.data.result[0].value[1] // empty' 2>/dev/null
    }
    scrape
    expect=$(metric 'paa_auth_failures_total{method="api_key",reason="unknown_key"}')
    seen='' deadline=$(($(date +%s) + 40))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        seen=$(query 'paa_auth_failures_total{job="paa",method="api_key",reason="unknown_key"}')
        [ "$seen" = "$expect" ] && break
        sleep 1
    done
    is "$seen" "$expect" "Prometheus scraped the exact failure count through its query API"
    ok_if=$([ "$expect" -ge 25 ] && echo yes)
    is "$ok_if" yes "... a count that includes the 25 bad keys ($expect)"
    up=$(query 'up{job="paa"}')
    is "$up" 1 "Prometheus's scrape of /metrics with an admin JWT is up"
    rules=$(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/rules" | jq -r '[.data.groups[].rules[]] | length' 2>/dev/null)
    is "$rules" 11 "Prometheus loaded the shipped rules (11)"
    # prom_wait EXPR VALUE: poll Prometheus until EXPR is VALUE (bounded).
    prom_wait() {
        local v='' deadline=$(($(date +%s) + 40))
        while [ "$(date +%s)" -lt "$deadline" ]; do
            v=$(query "$1")
            [ "$v" = "$2" ] && break
            sleep 1
        done
        printf '%s' "$v"
    }
    is "$(prom_wait 'paa_db_up{job="paa-local"}' 1)" 1 \
        "Prometheus (Require local scrape): paa_db_up is 1"
    chmod 000 "$HOME_DIR/db/paa.db"
    http GET /health/ready
    is "$STATUS" 503 "database made unreachable: /health/ready 503"
    is "$(prom_wait 'paa_db_up{job="paa-local"}' 0)" 0 \
        "Prometheus sees the DB gauge at 0 while the database is unreachable"
    chmod 600 "$HOME_DIR/db/paa.db"
    http GET /health/ready
    is "$(prom_wait 'paa_db_up{job="paa-local"}' 1)" 1 \
        "... and back at 1 once it is reachable again"
fi

# ------------------------------------------------------ graceful restart
# The table belongs to the configuration generation: a graceful restart
# creates a new one (counters from zero), and paa_start_time_seconds moves
# so that Prometheus sees the reset.
scrape
old_start=$(metric paa_start_time_seconds)
old_total=$(metric 'paa_http_requests_total{route="/health",code="2xx"}')
sleep 1
graceful
scrape
new_start=$(metric paa_start_time_seconds)
ok_if=$([ "$new_start" -gt "$old_start" ] && echo yes)
is "$ok_if" yes "after a graceful restart paa_start_time_seconds moved ($old_start -> $new_start)"
ok_if=$([ "$(metric 'paa_http_requests_total{route="/health",code="2xx"}')" -lt "$old_total" ] && echo yes)
is "$ok_if" yes "... and the counters started again from zero (/health was $old_total)"

# ------------------------------------------- PostgreSQL down, then back
# With "Require paa-role admin" a scrape needs the database (the key or the
# token's user is looked up), so during an outage Prometheus sees the
# scrape fail (up == 0), not paa_db_up 0. "Require local" (or ip) keeps
# /metrics independent of the database: that is what this part uses, and
# what mod_paa(8) recommends for the scraper.
if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    cat >"$HOME_DIR/conf.d/metrics-local.conf" <<CONF
LoadModule authz_host_module ${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}/mod_authz_host.so
<Location "/metrics">
    Require local
</Location>
CONF
    start_instance
    lscrape() { curl -s --max-time 20 "$BASE/metrics" >"$T_TMP/metrics.txt"; }
    lscrape
    is "$(metric paa_db_up)" 1 "pgsql: paa_db_up 1, scraped with Require local"
    errs=$(metric paa_db_errors_total)
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    http GET /health/ready
    is "$STATUS" 503 "pgsql stopped: /health/ready is 503"
    curl -s -o /dev/null -H "X-API-Key: pak_$(printf '%064d' 1)" "$BASE/api/agents"
    lscrape
    is "$(metric paa_db_up)" 0 "pgsql stopped: paa_db_up 0 (the scrape itself needs no database)"
    ok_if=$([ "$(metric paa_db_errors_total)" -gt "$errs" ] && echo yes)
    is "$ok_if" yes "pgsql stopped: paa_db_errors_total grew ($errs -> $(metric paa_db_errors_total))"
    is "$(metric 'paa_auth_failures_total{method="api_key",reason="unavailable"}')" 1 \
        "a key that could not be looked up counts as reason unavailable"
    port=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" \
        -o "-k $PG_DIR -p $port -c listen_addresses=''" -w start >/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        http GET /health/ready
        [ "$STATUS" = 200 ] && break
        sleep 0.2
    done
    lscrape
    is "$(metric paa_db_up)" 1 "pgsql back: paa_db_up 1 once /health/ready succeeds"
    stop_instance
else
    skip "paa_db_up with PostgreSQL" "PostgreSQL 15 server binaries not installed"
fi

# ------------------------------------- the system-wide paa-api.conf too
# What a2enconf paa-api enables on Debian (conf/paa-api.conf, as built):
# /metrics for role admin there as well, and nothing else of the site
# changes. Its env file and database are pointed at a private instance.
new_instance sqlite3
API_HOME=$HOME_DIR
sed -e "s|^    PAAEnvFile .*|    PAAEnvFile \"$API_HOME/paa.env\"|" \
    -e "s|^    DBDParams .*|    DBDParams \"$API_HOME/db/paa.db\"|" \
    "$PAA_BUILDDIR/conf/paa-api.conf" >"$API_HOME/paa-api.conf"
cat >"$T_TMP/api.conf.in" <<'CONF'
ServerRoot "@HOME@"
ServerName 127.0.0.1
Listen @LISTEN@
PidFile "@HOME@/run/httpd.pid"
DefaultRuntimeDir "@HOME@/run"
Mutex "file:@HOME@/run" default
ErrorLog "@HOME@/logs/error.log"
DocumentRoot "@HOME@/htdocs"
@USER@
LoadModule mpm_event_module "@APACHE_MODDIR@/mod_mpm_event.so"
LoadModule authn_core_module "@APACHE_MODDIR@/mod_authn_core.so"
LoadModule authz_core_module "@APACHE_MODDIR@/mod_authz_core.so"
LoadModule authz_user_module "@APACHE_MODDIR@/mod_authz_user.so"
LoadModule dbd_module "@APACHE_MODDIR@/mod_dbd.so"
LoadModule paa_module "@MODULE@"
Include "@HOME@/paa-api.conf"
CONF
PORT=$(paa_free_port) || bail "no free port"
BASE="http://127.0.0.1:$PORT"
paa_render_conf "$API_HOME" "127.0.0.1:$PORT" "$PAA_MODULE" "$T_TMP/api.conf.in" ||
    bail "cannot render the paa-api.conf server"
echo static >"$API_HOME/htdocs/page.txt"
paa_httpd_start "$API_HOME" "$PAA_HTTPD" "$BASE/health" 2>"$T_TMP/api.err" ||
    bail "httpd with paa-api.conf did not start: $(cat "$T_TMP/api.err")"
CONFIG="$API_HOME/paa.env"
SYS_ADMIN=$(keygen sysadmin --role admin)
SYS_READER=$(keygen sysreader --role reader)
http GET /metrics
is "$STATUS" 401 "paa-api.conf: anonymous /metrics is 401"
http GET /metrics -H "X-API-Key: $SYS_READER"
is "$STATUS" 403 "paa-api.conf: a non-admin key gets 403"
http GET /metrics -H "X-API-Key: $SYS_ADMIN"
is "$STATUS" 200 "paa-api.conf: an admin key gets the metrics"
like "$BODY" 'paa_http_requests_total\{route="/health",code="2xx"\} [1-9]' "... counting this server's requests"
http GET /page.txt
is "$STATUS:$BODY" "200:static" "paa-api.conf: the rest of the site is untouched"

done_testing
