#!/bin/bash
# Several httpd nodes as behind a load balancer: three instances (own
# ports, children and shared memory) on one PostgreSQL and one Redis
# (PAARateLimitStore). A limit holds for the cluster, not per node (with
# the shm store as the control: each node grants it once), and so do a
# failed-auth budget and an MCP tool-call limit; a revoked key, and a role
# taken away, are refused by every node within 1 s; an MCP session opened
# on one node works on another, a chat session too; a login lockout counts
# failures on every node; a provider failover is recorded with the name of
# the node that saw it. Redis killed (also in the middle of a flood): nodes
# that fail open keep serving with their own limits, a node that fails
# closed answers 503 at once, and once Redis is back the cluster limit is
# exact again.
. "$PAA_SRCDIR/tests/integration/lib.sh"

if ! have_pg || ! have_redis; then
    skip "several nodes" "needs PostgreSQL 15 and redis-server"
    done_testing
fi

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
# A password on Redis, so that the logs can be checked for it.
REDIS_PASSWORD=multinode-redis-pass-$$
NODES=(0 1 2)
declare -a NODE_HOME NODE_BASE

# node_conf I STORE FAILURE: the cluster's configuration on node I.
node_conf() {
    cat >"${NODE_HOME[$1]}/conf.d/multinode.conf" <<CONF
PAARateLimitStore $2
PAARateLimitStoreFailure $3
# Leases only ever apply to limits of 65,536 a window or more (/rl-high):
# every other limit here must stay exact with them on.
PAARateLimitStoreLeases $([ "$2" = shm ] && echo Off || echo On)
# Generous: a command slower than this falls back to the node's own count,
# which would make an exact count depend on the machine's load. A Redis that
# is down refuses connections at once, whatever the timeout.
PAARateLimitStoreTimeout 2000ms
PAANodeName node-$1
PAAProvider alpha http://127.0.0.1:${FPORT[alpha]} model-alpha
PAAProvider gamma http://127.0.0.1:${FPORT[gamma]} model-gamma
# Room for the unauthenticated requests below (each is counted by address).
<Location "/">
    PAARateLimit 10000 60s
</Location>
<Location "/rl50">
    PAARateLimit 50 60s
</Location>
<Location "/rl-high">
    PAARateLimit 1000000 60s
</Location>
<Location "/rl-fail">
    PAARateLimit 5 60s
</Location>
<Location "/api/mcp">
    PAAMcpToolRateLimit 5 60s
</Location>
CONF
}
start_node() {
    HOME_DIR=${NODE_HOME[$1]}
    start_instance
    NODE_BASE[$1]=$BASE
}
stop_node() { paa_httpd_stop "${NODE_HOME[$1]}" "$PAA_HTTPD"; }
on() { BASE=${NODE_BASE[$1]}; }
# flood KEY PATH N NODE...: N requests with KEY over 30 connections, the
# i-th to the (i mod count)-th NODE; the status codes in $T_TMP/codes.
flood() {
    local key=$1 path=$2 n=$3 i
    shift 3
    local nodes=("$@")
    for ((i = 0; i < n; i++)); do
        echo "${NODE_BASE[${nodes[$((i % ${#nodes[@]}))]}]}$path"
    done | xargs -P 30 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
        -H "X-API-Key: $key" {} >"$T_TMP/codes"
}
# tally: "404=50 429=250" from $T_TMP/codes
tally() { sort "$T_TMP/codes" | uniq -c | awk '{printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1}'; }
status_on() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "X-API-Key: $2" "${NODE_BASE[$1]}$3"
}
# evalsha_calls: scripts Redis has run so far
evalsha_calls() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info commandstats 2>/dev/null |
        sed -n 's/^cmdstat_\(evalsha\|eval\):calls=\([0-9]*\).*/\2/p' | awk '{ n += $1 } END { print n + 0 }'
}
metric_on() {
    curl -s --max-time 20 -H "X-API-Key: $ADMIN" "${NODE_BASE[$1]}/metrics" |
        awk -v m="$2" '$1 == m { print $2 }'
}

# ----------------------------------------------------------------- setup
start_fake alpha fail500
start_fake gamma
new_pg
start_redis
STORE="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/2"
new_instance pgsql "$PG_PARAMS"
NODE_HOME[0]=$HOME_DIR
for i in 1 2; do
    new_instance_like "${NODE_HOME[0]}"
    NODE_HOME[i]=$HOME_DIR
done
CONFIG=${NODE_HOME[0]}/paa.env
ADMIN=$(keygen admin --role admin)
[ -n "$ADMIN" ] || bail "keygen failed"

# ------------------------------------------- control: the node's own shm
for i in "${NODES[@]}"; do
    node_conf "$i" shm open
    start_node "$i"
done
K=$(keygen control)
flood "$K" /rl50/x 300 0 1 2
is "$(tally)" "404=150 429=150" "control, shm store: each node grants the 50 once (150 of 300)"
for i in "${NODES[@]}"; do stop_node "$i"; done

# -------------------------------------------- the cluster's limit, exact
# Node 2 fails closed, nodes 0 and 1 open (the default).
for i in "${NODES[@]}"; do
    node_conf "$i" "$STORE" "$([ "$i" = 2 ] && echo closed || echo open)"
    start_node "$i"
done
K=$(keygen exact)
flood "$K" /rl50/x 300 0 1 2
is "$(tally)" "404=50 429=250" "redis store: 300 requests over 3 nodes, exactly 50 accepted"
for i in "${NODES[@]}"; do
    on "$i"
    http GET /rl50/x -H "X-API-Key: $K"
    is "$STATUS $(header RateLimit-Limit) $(header RateLimit-Remaining)" "429 50 0" \
        "node $i: 429 with RateLimit-Limit 50 and Remaining 0"
    like "$(header Retry-After)" '^[1-9][0-9]?$' "node $i: Retry-After within the window"
done
# Far below a high limit a child grants from a lease: counted in Redis in
# advance, a few scripts serve many requests.
K=$(keygen leased)
c0=$(evalsha_calls)
flood "$K" /rl-high/x 300 0 1 2
is "$(tally)" "404=300" "leases on: 300 requests under a limit of 1,000,000, all accepted"
c1=$(evalsha_calls)
[ $((c1 - c0)) -lt 100 ] && ok "... with $((c1 - c0)) Redis scripts for the 300 (leases of up to 256 a child)" ||
    not_ok "leases: fewer scripts than requests" "$((c1 - c0)) scripts for 300 requests"
keys=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n 2 --scan --pattern 'paa:rl:*')
like "$keys" '^paa:rl:[0-9a-f]{64}' "counters in Redis under hashed names (no user or key id)"
ttls=$(for k in $keys; do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n 2 ttl "$k"; done | sort -un | tr '\n' ' ')
like "$ttls" '^([1-9][0-9]? )+$' "every counter expires with its window ($ttls)"
is "$(metric_on 0 'paa_ratelimit_store_failures_total{action="open"}')" 0 "no store failures counted while Redis is up"

# Failed authentication spends the address's budget of the cluster.
for i in 0 1 2 3 4 5 6 7 8; do
    status_on $((i % 3)) "pak_nonsense$i" /rl-fail/x
    echo
done >"$T_TMP/codes"
is "$(tally)" "401=5 429=4" "failed-auth budget (5/min) over 3 nodes: 5 x 401, then 429"

# ----------------------------------------------------------- revocation
K=$(keygen revoked)
for i in "${NODES[@]}"; do
    is "$(status_on "$i" "$K" /api/personas)" 200 "node $i: the key works before revocation"
done
run "$PAACTL" --config "$CONFIG" revoke "$K" --reason "multinode test"
t0=$(now_ms)
is "$RC" 0 "paactl revoke exits 0"
# A round that starts 1 s or more after the command decides (a busy
# machine only delays rounds; one that ends late still counts).
# codes_on CHECK: three requests to every node, one status a line (CHECK I
# prints the status node I gave); round_on WANT CHECK: all were WANT.
codes_on() {
    local i
    for _ in 1 2 3; do for i in "${NODES[@]}"; do "$1" "$i"; echo; done; done
}
round_on() { [ "$(codes_on "$2" | sort -u)" = "$1" ]; }
personas_as_k() { status_on "$1" "$K" /api/personas; }
round_after "$t0" "revoked key refused (401) by every node" \
    "codes_on personas_as_k | sort | uniq -c | tr '\\n' ' '" round_on 401 personas_as_k

# A role taken away: the user's JWT loses it on every node within 1 s.
printf 'dave-password-123\n' | "$PAACTL" --config "$CONFIG" user add dave --role admin >/dev/null 2>&1 ||
    bail "user add failed"
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub dave 2>/dev/null)
metrics_as_dave() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $TOKEN" "${NODE_BASE[$1]}/metrics"
}
for i in "${NODES[@]}"; do
    is "$(metrics_as_dave "$i")" 200 "node $i: dave's token has role admin (/metrics)"
done
run "$PAACTL" --config "$CONFIG" user roles dave --role reader
t0=$(now_ms)
is "$RC" 0 "paactl user roles exits 0"
round_after "$t0" "role admin gone (403) on every node" \
    "codes_on metrics_as_dave | sort | uniq -c | tr '\\n' ' '" round_on 403 metrics_as_dave

# ---------------------------------------------------------- MCP session
mcp() {
    curl -s -o "$T_TMP/mcp.body" -D "$T_TMP/mcp.hdr" -w '%{http_code}' --max-time 20 \
        -H "X-API-Key: $1" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' ${3:+-H "Mcp-Session-Id: $3"} \
        --data-binary "$4" "${NODE_BASE[$2]}/api/mcp"
}
K=$(keygen mcp)
st=$(mcp "$K" 0 "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"multinode","version":"1"}}}')
SID=$(tr -d '\r' <"$T_TMP/mcp.hdr" | awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }')
is "$st" 200 "MCP initialize on node 0"
like "$SID" '^[0-9a-f]{64}$' "it issues a session id"
for i in 1 2; do
    st=$(mcp "$K" "$i" "$SID" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')
    is "$st $(jq -r '.result.tools | length > 0' "$T_TMP/mcp.body" 2>/dev/null)" "200 true" \
        "node $i serves tools/list in node 0's session"
done
st=$(mcp "$K" 1 "$(printf '0%.0s' $(seq 64))" '{"jsonrpc":"2.0","id":3,"method":"tools/list"}')
is "$st" 404 "control: an unknown session id on node 1 is 404"
# PAAMcpToolRateLimit 5 60s, the session's tool calls spread over the nodes
for i in 0 1 2 3 4 5 6 7 8; do
    mcp "$K" $((i % 3)) "$SID" '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_personas","arguments":{}}}'
    echo
done >"$T_TMP/codes"
is "$(tally)" "200=5 429=4" "tool-call limit (5/min) over 3 nodes: 5 calls, then 429"

# ------------------------------------------------------- login lockout
printf 'carol-password-123\n' | "$PAACTL" --config "$CONFIG" user add carol >/dev/null 2>&1 ||
    bail "user add failed"
login() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H 'Content-Type: application/json' \
        --data "{\"username\":\"carol\",\"password\":\"$2\"}" "${NODE_BASE[$1]}/api/auth/login"
}
is "$(login 2 carol-password-123)" 200 "control: carol logs in on node 2"
codes=$(for i in 0 1 2 3 4; do login $((i % 3)) "wrong-guess-$i"; echo; done | sort -u | tr '\n' ' ')
is "$codes" "401 " "5 failed logins spread over the 3 nodes: 401 each"
is "$(login 2 carol-password-123)" 429 "then the right password is locked out on node 2 too"

# -------------------------------------------------------------- failover
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
K=$(keygen chat --role reader)
# chat NODE QUESTION [SESSION]: the answer in $T_TMP/chat.body
chat() {
    curl -s -o "$T_TMP/chat.body" -w '%{http_code}' --max-time 30 -H "X-API-Key: $K" \
        -H 'Content-Type: application/json' --data-binary "$(jq -nc --arg q "$2" --arg s "${3:-}" \
            '{agent_id: "general-assistant", question: $q} + (if $s == "" then {} else {sessionId: $s} end)')" \
        "${NODE_BASE[$1]}/api/chat"
}
st=$(chat 1 "first on node 1")
CS=$(jq -r .sessionId "$T_TMP/chat.body" 2>/dev/null)
is "$st $(jq -r .modelUsed "$T_TMP/chat.body" 2>/dev/null)" "200 model-gamma" "node 1: alpha fails (500), gamma answers"
st=$(chat 2 "then on node 2" "$CS")
is "$st $(jq -r .modelUsed "$T_TMP/chat.body" 2>/dev/null)" "200 model-gamma" "node 2: alpha fails (500), gamma answers"
is "$(jq -r .sessionId "$T_TMP/chat.body" 2>/dev/null)" "$CS" "node 2 continues node 1's chat session"
is "$(tail -n 1 "$T_TMP/gamma.rec" | jq -c '[.body.messages[] | select(.role == "user") | .content]')" \
    '["first on node 1","then on node 2"]' "... with node 1's turn in the history it sends"
run "$PAACTL" --config "$CONFIG" providers failovers --json
is "$(jq -c '[.[] | [.provider, .answered_by, .node]]' <<<"$OUT")" \
    '[["alpha","gamma","node-2"],["alpha","gamma","node-1"]]' \
    "each failover is recorded with the PAANodeName of the node that saw it"

# ------------------------------------------------------ Redis goes away
# Killed under load: requests in flight on dead connections, then none to
# connect to. Every request gets an answer, from Redis or from the node.
answered() { [ "$(wc -l <"$T_TMP/codes")" -ge "$1" ]; }
K=$(keygen midrun)
flood "$K" /rl50/x 300 0 1 &
flood_pid=$!
wait_for 60 answered 60 || not_ok "the flood got under way"
stop_redis
wait "$flood_pid"
codes=$(sort -u "$T_TMP/codes" | tr '\n' ' ')
is "$(wc -l <"$T_TMP/codes") $codes" "300 404 429 " \
    "Redis killed mid-flood: all 300 answered, each 404 or 429 (none failed or hung)"
K=$(keygen open)
flood "$K" /rl50/x 200 0 1
is "$(tally)" "404=100 429=100" "Redis down, fail open: nodes 0 and 1 serve with their own limits (50 each)"
s=$(curl -s -o "$T_TMP/closed.body" -w '%{http_code} %{time_total}' --max-time 20 -H "X-API-Key: $K" "${NODE_BASE[2]}/rl50/x")
is "${s% *}" 503 "Redis down, fail closed: node 2 answers 503"
like "$(jq -r .status "$T_TMP/closed.body" 2>/dev/null)" '^503$' "as a problem document"
# Refused at once (nothing listens), or nothing tried during the backoff;
# 5 s is a bound for a busy machine, not the expected time.
awk -v t="${s#* }" 'BEGIN { exit !(t < 5) }' && ok "and quickly (${s#* } s)" || not_ok "503 quickly" "took ${s#* } s"
n_open=$(metric_on 0 'paa_ratelimit_store_failures_total{action="open"}')
[ "${n_open:-0}" -ge 100 ] && ok "node 0 counts its failures in /metrics ($n_open failed open)" ||
    not_ok "failures counted" "open '$n_open'"
# (node 2's /metrics is a limited location too: 503 until Redis is back)
lines=$(grep -c 'PAA01602: .*unavailable' "${NODE_HOME[0]}/logs/error.log")
# ServerLimit 4: at most one line per child in a minute
[ "$lines" -ge 1 ] && [ "$lines" -le 4 ] && ok "node 0 logs it once a minute per child at most ($lines lines)" ||
    not_ok "logged once a minute per child" "$lines lines"
logs=$(cat "${NODE_HOME[@]/%//logs/error.log}")
unlike "$logs" "$REDIS_PASSWORD" "the Redis password is in no log"
like "$logs" 'redis://:\*\*\*@127' "the store is logged with its password masked"

# ------------------------------------------------------ Redis comes back
start_redis "$REDIS_PORT"
t_up=$(now_ms)
# A connection backs off at most 1 s after its last failure, all of which
# were before t_up: from t_up + 1 s every connection tries Redis again.
sleep_until $((t_up + 1200))
back_on() {
    local before
    before=$(evalsha_calls)
    status_on "$1" "$ADMIN" /rl50/probe >/dev/null
    [ "$(evalsha_calls)" -gt "$before" ]
}
for i in "${NODES[@]}"; do
    wait_for 20 back_on "$i" && ok "node $i counts in Redis again" || not_ok "node $i counts in Redis again"
done
n_closed=$(metric_on 2 'paa_ratelimit_store_failures_total{action="closed"}')
[ "${n_closed:-0}" -ge 1 ] && ok "node 2 counted its refusals in /metrics ($n_closed failed closed)" ||
    not_ok "failures counted" "closed '$n_closed'"
K=$(keygen after)
flood "$K" /rl50/x 300 0 1 2
is "$(tally)" "404=50 429=250" "Redis back: the cluster limit is exact again (50 of 300)"

done_testing
