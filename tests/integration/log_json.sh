#!/bin/bash
# The JSON access log (LogFormat paa_json, conf/paa.conf) on an instance:
# every line parses with jq, whatever bytes clients send (a decoded path
# with UTF-8, invalid UTF-8, quotes and backslashes; a User-Agent with a
# byte above 127 and a tab; a request line httpd refuses), and each line
# carries who made the request: auth method, principal, key id and roles
# for an API key, the user for a JWT, null when anonymous. The control:
# the same requests through httpd's own %U and %{...}i escaping (\xNN) give
# lines jq refuses, which is why the format uses mod_paa's %^j items.
. "$PAA_SRCDIR/tests/integration/lib.sh"

new_instance sqlite3
cat >"$HOME_DIR/conf.d/json-log.conf" <<'CONF'
CustomLog "logs/access.json" paa_json
# The control: JSON built from httpd's own escaping.
LogFormat "{\"path\":\"%U\",\"ua\":\"%{User-Agent}i\"}" naive_json
CustomLog "logs/naive.json" naive_json
CONF
start_instance
LOG="$HOME_DIR/logs/access.json"
# From here on, only this test's requests (the start probed /health); the
# logs are opened for appending, so truncating them is safe.
: >"$LOG"
: >"$HOME_DIR/logs/naive.json"

ADMIN=$("$PAACTL" --config "$CONFIG" keygen --name admin --role admin --role ops 2>/dev/null)
ADMIN_ID=$("$PAACTL" --config "$CONFIG" list --json | jq -r '.[] | select(.name == "admin") | .id')
printf '%s\n' 'a-user-password-1' | "$PAACTL" --config "$CONFIG" user add alice --role reader >/dev/null 2>&1
ALICE_ID=$("$PAACTL" --config "$CONFIG" user list --json | jq -r '.[] | select(.username == "alice") | .id')
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub alice --ttl 10m 2>/dev/null)
[ -n "$ADMIN" ] && [ -n "$ADMIN_ID" ] && [ -n "$TOKEN" ] && [ -n "$ALICE_ID" ] || bail "cannot create the credentials"

# raw REQUEST: send bytes curl would not (printf escapes), print the status line
raw() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf "$1" >&3
    IFS= read -r line <&3
    exec 3<&-
    printf '%s\n' "${line%$'\r'}"
}

http GET /health -H "User-Agent: log-test"
http GET /api/personas -H "X-API-Key: $ADMIN" -H "User-Agent: tester/1.0"
is "$STATUS" 200 "an admin key: 200"
http GET /api/me -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "a user's JWT: 200"
http GET "/api/personas?q=%22quoted%22&x=a%5Cb" -H "X-API-Key: pak_$(printf '0%.0s' $(seq 1 64))"
is "$STATUS" 401 "an unknown key: 401"
http GET "/api/personas/caf%C3%A9-%FF%22%5C" -H "X-API-Key: $ADMIN"
is "$STATUS" 404 "an odd persona path (UTF-8, an invalid byte, a quote, a backslash): 404"
like "$(raw 'GET /api/me HTTP/1.1\r\nHost: x\r\nUser-Agent: \xff\tbot"\\\r\nConnection: close\r\n\r\n')" \
    ' 401 ' "a User-Agent with a byte above 127, a tab, a quote and a backslash: 401"
like "$(raw 'GET /health?caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" \
    ' 200 ' "raw UTF-8 in the query: 200"
like "$(raw 'G\xc3T /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" \
    ' 400 ' "a method with a byte above 127: httpd's 400"
# httpd writes the line after the response: wait for all eight.
# start_instance's own /health polls are logged too, whenever they land:
# they are the /health lines without this test's User-Agent.
ours() {
    jq -c 'select(.path != "/health" or .query != null or .method != "GET" or .user_agent == "log-test")' "$LOG" 2>/dev/null | wc -l
}
wait_for 5 test "$(ours)" -ge 8
is "$(ours)" 8 "eight requests, eight lines"

# ------------------------------------------------------ every line is JSON
bad=0
while IFS= read -r line; do
    if ! printf '%s' "$line" | jq -e 'type == "object"' >/dev/null 2>&1; then
        bad=$((bad + 1))
        echo "# not JSON: $line"
    fi
done <"$LOG"
is "$bad" 0 "every line of the JSON access log parses with jq"
is "$(jq -s -c '[.[] | keys] | unique' "$LOG")" \
    '[["auth_method","bytes","client","duration_us","key_id","method","path","principal","query","roles","status","time","user_agent"]]' \
    "every line has the same fields"
is "$(jq -s -c '[.[] | [(.status | type), (.duration_us | type), (.bytes | type)]] | unique' "$LOG")" \
    '[["number","number","number"]]' "status, duration and bytes are numbers"
like "$(jq -r -s '.[0].time' "$LOG")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4}$' \
    "time: ISO 8601 with milliseconds and the offset"

# ------------------------------------------------------- who, line by line
line() { jq -c -s "[.[] | select($1)] | .[0] | $2" "$LOG"; }
is "$(line '.path == "/api/personas" and .status == 200' '[.auth_method, .principal, .key_id, .roles, .user_agent]')" \
    "[\"api-key\",\"$ADMIN_ID\",\"$ADMIN_ID\",\"admin,ops\",\"tester/1.0\"]" \
    "an API key's line: auth method, principal and key id, roles, user agent"
is "$(line '.path == "/api/me" and .status == 200' '[.auth_method, .principal, .key_id, .roles]')" \
    "[\"jwt\",\"$ALICE_ID\",null,\"reader\"]" "a JWT's line: the user as principal, no key id"
is "$(line '.status == 200 and .path == "/health" and .query == null' '[.method, .status, .auth_method, .principal, .key_id, .roles]')" \
    '["GET",200,null,null,null,null]' "an anonymous line: null identity"
is "$(line '.status == 401 and .query != null' '[.query, .principal]')" \
    '["q=%22quoted%22&x=a%5Cb",null]' "a refused key: its query as sent, no principal"
is "$(line '.status == 404' '[.path, .principal]')" \
    "[\"/api/personas/café-\\\\xff\\\"\\\\\",\"$ADMIN_ID\"]" \
    "the decoded path: UTF-8 kept, an invalid byte as \\xff, quote and backslash escaped"
is "$(line '.path == "/api/me" and .status == 401' '.user_agent')" '"\\xff\tbot\"\\"' \
    "the User-Agent: \\xff, the tab, the quote and the backslash"
is "$(line '.query == "café"' '.status')" 200 "raw UTF-8 in the query is kept"
is "$(line '.status == 400' '.method')" '"G\\xc3T"' "the refused method, its byte as \\xc3"

# --------------------------------------------------------------- control
naive_bad=$(while IFS= read -r l; do printf '%s' "$l" | jq . >/dev/null 2>&1 || echo x; done <"$HOME_DIR/logs/naive.json" | wc -l)
like "$naive_bad" '^[1-9]' "(control) httpd's own escaping in a JSON-looking format gives $naive_bad line(s) jq refuses"

# ------------------------------------------------ the format as shipped
like "$(grep -c 'LogFormat .* paa_json' "$PAA_SRCDIR/conf/paa.conf")" '^1$' "conf/paa.conf defines paa_json once"
for v in PAA_AUTH_METHOD PAA_PRINCIPAL PAA_KEY_ID PAA_ROLES; do
    like "$(grep 'paa_json' "$PAA_SRCDIR/conf/paa.conf")" "%\\{$v\\}\\^je" "paa_json logs $v as a JSON value"
done

done_testing
