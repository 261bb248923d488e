#!/bin/bash
# mod_status's /server-status with mod_paa: a mod_paa section (HTML, and
# key: value lines with ?auto) showing the rate-limit table's live entries,
# the credential cache's hits and misses, each provider's breaker and the
# database gauge. Slots grow with distinct keys, hits with one key asked
# again, a failing provider's breaker shows open; an httpd that loads
# mod_paa without using it shows no section.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
[ -f "$MODDIR/mod_status.so" ] || { skip "server-status" "mod_status.so not in $MODDIR"; done_testing; exit 0; }

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
# auto: fetch ?auto into AUTO; val KEY: its value there
auto() { AUTO=$(curl -s --max-time 20 "$BASE/server-status?auto"); }
val() { awk -F': ' -v k="$1" '$1 == k { print $2 }' <<<"$AUTO"; }
STATUS_LOC='<Location "/server-status">
    SetHandler server-status
    AuthType None
    Require all granted
    PAARateLimit Off
</Location>'

start_fake st-bad fail500
new_instance sqlite3
cat >"$HOME_DIR/conf.d/status.conf" <<CONF
LoadModule status_module $MODDIR/mod_status.so
PAAProvider st-bad http://127.0.0.1:${FPORT[st-bad]} model-bad timeout=2s
PAAProviderBreaker 2 300s
$STATUS_LOC
CONF
start_instance
ADMIN=$(keygen admin --role admin)
[ -n "$ADMIN" ] || bail "keygen failed"
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"

# ------------------------------------------------------------- ?auto
auto
like "$AUTO" 'Total Accesses|ServerUptime' "?auto is mod_status's page"
for k in PAARateLimitSlotsUsed PAARateLimitSlotsTotal PAAAuthCacheHits \
    PAAAuthCacheMisses PAADatabaseUp PAAProviderBreaker-st-bad; do
    like "$(val "$k")" '.' "?auto has $k"
done
is "$(val PAARateLimitSlotsTotal)" 16384 "slots total is the default table size"
is "$(val PAADatabaseUp)" 1 "database up"
is "$(val PAAProviderBreaker-st-bad)" closed "an unused provider's breaker is closed"

# ------------------------------------------- slots grow with distinct keys
used0=$(val PAARateLimitSlotsUsed)
for i in 1 2 3 4; do
    K=$(keygen "distinct-$i" --role reader)
    http GET /api/me -H "X-API-Key: $K"
    [ "$STATUS" = 200 ] || not_ok "distinct key $i: GET /api/me" "$STATUS"
done
auto
used1=$(val PAARateLimitSlotsUsed)
[ "$used1" -ge $((used0 + 4)) ] 2>/dev/null && ok "four distinct keys take four more slots ($used0 -> $used1)" ||
    not_ok "four distinct keys take four more slots" "$used0 -> $used1"
[ "$used1" -le 16384 ] 2>/dev/null && ok "slots used within total" || not_ok "slots used within total" "$used1"

# ------------------------------------------- cache hits grow with one key
hits0=$(val PAAAuthCacheHits)
miss0=$(val PAAAuthCacheMisses)
ONE=$(keygen one-key --role reader)
for _ in $(seq 1 12); do
    curl -s -o /dev/null --max-time 20 -H "X-API-Key: $ONE" "$BASE/api/me"
done
auto
hits1=$(val PAAAuthCacheHits)
miss1=$(val PAAAuthCacheMisses)
[ "$hits1" -gt "$hits0" ] 2>/dev/null && ok "one key asked again: cache hits grow ($hits0 -> $hits1)" ||
    not_ok "one key asked again: cache hits grow" "$hits0 -> $hits1"
[ "$miss1" -gt "$miss0" ] 2>/dev/null && ok "a new key is a cache miss first ($miss0 -> $miss1)" ||
    not_ok "a new key is a cache miss first" "$miss0 -> $miss1"
[ $((hits1 - hits0 + miss1 - miss0)) -eq 12 ] 2>/dev/null &&
    ok "each of 12 requests is one hit or one miss" ||
    not_ok "each of 12 requests is one hit or one miss" "hits $hits0->$hits1 misses $miss0->$miss1"

# ---------------------------------------- a failing provider's breaker
for i in 1 2 3; do
    http POST /api/chat -H "X-API-Key: $ADMIN" -H 'Content-Type: application/json' \
        --data-binary "{\"agent_id\":\"general-assistant\",\"question\":\"fail $i\"}"
    [ "$STATUS" -ge 500 ] 2>/dev/null || not_ok "chat $i with only a failing provider fails" "$STATUS $BODY"
done
auto
is "$(val PAAProviderBreaker-st-bad)" open "after two failures the provider's breaker shows open"

# ------------------------------------------------------------- HTML
http GET /server-status
is "$STATUS" 200 "the HTML page is served"
like "$BODY" '<h2>mod_paa</h2>' "the HTML page has the mod_paa section"
like "$BODY" 'provider st-bad breaker</th><td>open' "the HTML section shows the breaker"
like "$BODY" 'rate-limit slots used</th><td>[0-9]+' "the HTML section shows the slots"
stop_instance

# ------------------------------- control: mod_paa loaded but not in use
d="$T_TMP/bare"
T_HOMES+=("$d")
mkdir -p "$d/logs" "$d/run" "$d/htdocs"
for try in 1 2 3; do
    port=$(paa_free_port) || bail "no free port"
    cat >"$d/httpd.conf" <<CONF
ServerRoot "$d"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$d/run/httpd.pid"
DefaultRuntimeDir "$d/run"
Mutex file:$d/run default
ErrorLog "$d/logs/error.log"
DocumentRoot "$d/htdocs"
$(u=$(paa_httpd_user); [ -n "$u" ] && printf 'User %s\nGroup %s\n' "$u" "$(id -gn "$u")")
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule status_module $MODDIR/mod_status.so
LoadModule paa_module "$PAA_MODULE"
StartServers 1
<Location "/server-status">
    SetHandler server-status
    Require all granted
</Location>
CONF
    paa_httpd_start "$d" "$PAA_HTTPD" "http://127.0.0.1:$port/server-status" 2>/dev/null && break
    paa_httpd_stop "$d" "$PAA_HTTPD"
    [ $try = 3 ] && bail "bare httpd did not start: $(cat "$d/logs/error.log")"
done
AUTO=$(curl -s --max-time 20 "http://127.0.0.1:$port/server-status?auto")
like "$AUTO" 'Total Accesses|ServerUptime' "bare httpd: ?auto is served"
unlike "$AUTO" 'PAA' "mod_paa loaded but unused: no PAA line in ?auto"
HTML=$(curl -s --max-time 20 "http://127.0.0.1:$port/server-status")
like "$HTML" 'Apache Server Status' "bare httpd: the HTML page is served"
unlike "$HTML" 'mod_paa' "mod_paa loaded but unused: no mod_paa section"
paa_httpd_stop "$d" "$PAA_HTTPD"

done_testing
