#!/bin/bash
# The MCP endpoint (Streamable HTTP, MCP 2025-06-18 / 2025-11-25) against a
# real httpd and a fake OpenAI-compatible provider: every HTTP status and
# JSON-RPC error code, protocol-version negotiation, sessions (random,
# bound to their principal, known to every httpd child, ended by DELETE),
# tool argument validation, ask_agent through the chat path (history sent
# to the provider), the Origin check, the 401 challenge pointing at the
# RFC 9728 metadata, JWT as well as API keys, and the tools/call limit.
. "$PAA_SRCDIR/tests/integration/lib.sh"

: "${FAKE_LLM:?run through make check}"
ALLOWED_ORIGIN=https://app.example.com
RECORD="$T_TMP/fake-one.rec"


keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }

# rpc CRED SID BODY [curl args...]: POST one JSON-RPC message to /api/mcp.
# CRED: an API key, "Bearer TOKEN", or "" (no credentials); SID "" sends
# no Mcp-Session-Id.
rpc() {
    local cred=$1 sid=$2 body=$3
    shift 3
    local args=(-H "Content-Type: application/json"
        -H "Accept: application/json, text/event-stream")
    case $cred in
    "") ;;
    Bearer\ *) args+=(-H "Authorization: $cred") ;;
    *) args+=(-H "X-API-Key: $cred") ;;
    esac
    [ -n "$sid" ] && args+=(-H "Mcp-Session-Id: $sid")
    http POST /api/mcp "${args[@]}" --data-binary "$body" "$@"
}
# request ID METHOD [PARAMS-JSON]: a JSON-RPC request
request() {
    if [ $# -ge 3 ]; then
        jq -nc --argjson id "$1" --arg m "$2" --argjson p "$3" '{jsonrpc:"2.0",id:$id,method:$m,params:$p}'
    else
        jq -nc --argjson id "$1" --arg m "$2" '{jsonrpc:"2.0",id:$id,method:$m}'
    fi
}
init_body() {
    request 1 initialize "$(jq -nc --arg v "$1" \
        '{protocolVersion:$v,capabilities:{},clientInfo:{name:"paa-test",version:"1"}}')"
}
# initialize CRED [VERSION]: sets SID (empty on failure)
initialize() {
    rpc "$1" "" "$(init_body "${2:-2025-11-25}")"
    SID=$(header Mcp-Session-Id)
}
# call CRED SID TOOL ARGS-JSON: tools/call
call() {
    rpc "$1" "$2" "$(request 7 tools/call "$(jq -nc --arg n "$3" --argjson a "$4" '{name:$n,arguments:$a}')")"
}
# tool_error DESC: the last answer is a tool result with isError true and a message
tool_error() {
    is "$STATUS" 200 "$1: HTTP 200"
    is "$(json '.result.isError')" true "$1: result.isError is true"
    like "$(json '.result.content[0].text')" '[a-z]' "$1: with a message" 
    is "$(json '.error')" null "$1: not a JSON-RPC error"
}
# rpc_err STATUS CODE DESC: the last answer is a JSON-RPC error
rpc_err() {
    is "$STATUS" "$1" "$3: HTTP $1"
    is "$(json '.error.code')" "$2" "$3: error.code $2"
    is "$(json '.jsonrpc')" 2.0 "$3: a JSON-RPC 2.0 message"
}
# jsonc FILTER: as json, compact output
jsonc() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null || echo invalid-json; }
provider_calls() { [ -f "$RECORD" ] && wc -l <"$RECORD" | tr -d ' ' || echo 0; }

# ---------------------------------------------------------- fake provider
start_fake fake-one
FAKE_PORT=${FPORT[fake-one]}

# --------------------------------------------------------------- instance
new_instance sqlite3
echo "CORS_ORIGIN=$ALLOWED_ORIGIN" >>"$CONFIG"
cat >"$HOME_DIR/conf.d/mcp.conf" <<CONF
PAAProvider fake http://127.0.0.1:$FAKE_PORT/v1 fake-model timeout=10s
# This test sends far more than 100 requests a minute with one key; the
# tools/call limit (PAAMcpToolRateLimit) is separate and stays in force.
<Location "/api/mcp">
    PAARateLimit Off
</Location>
# ask_agent spends the chat budget (tested at the end with a small one);
# the calls above it need more than the shipped 10 a minute.
<Location "/api/chat">
    PAARateLimit 60 60s
</Location>
LogFormat "%P %>s %m %U" paapid
CustomLog "logs/pid.log" paapid
CONF
# A virtual host whose MCP endpoint requires sessions (PAAMcpRequireSession).
strict_conf() {
    SPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/strict.conf" <<CONF
Listen 127.0.0.1:$SPORT
<VirtualHost 127.0.0.1:$SPORT>
    <Location "/api/mcp">
        PAAMcpRequireSession On
    </Location>
</VirtualHost>
CONF
}
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
start_instance strict_conf

# KEY makes about 25 tool calls below, under the configured 30 a minute
# (PAAMcpToolRateLimit 30 60s); the limit itself is tested at the end.
KEY=$(keygen mcp-one --role reader)
KEY2=$(keygen mcp-two --role reader)
{ [ -n "$KEY" ] && [ -n "$KEY2" ]; } || bail "keygen failed"

# ------------------------------------------------------------- initialize
SIDS=()
for v in 2024-11-05 2025-03-26 2025-06-18 2025-11-25; do
    initialize "$KEY" "$v"
    is "$STATUS" 200 "initialize $v: 200"
    like "$(header Content-Type)" '^application/json' "initialize $v: application/json"
    is "$(json .result.protocolVersion)" "$v" "initialize $v: the client's version is kept"
    like "$SID" '^[0-9a-f]{64}$' "initialize $v: Mcp-Session-Id is 64 hex digits"
    SIDS+=("$SID")
done
initialize "$KEY" 2099-01-01
is "$STATUS" 200 "initialize with an unknown version: 200"
is "$(json .result.protocolVersion)" 2025-11-25 "unknown version: the server's latest (2025-11-25)"
SIDS+=("$SID")
is "$(printf '%s\n' "${SIDS[@]}" | sort -u | wc -l | tr -d ' ')" 5 "each initialize issues a different session id"
is "$(json .jsonrpc)" 2.0 "initialize: jsonrpc 2.0"
is "$(json .id)" 1 "initialize: the request id is echoed"
is "$(jsonc .result.capabilities)" '{"tools":{"listChanged":false}}' "capabilities: tools.listChanged false"
is "$(json .result.serverInfo.name)" purpose-agnostic-agent "serverInfo.name"
like "$(json .result.serverInfo.version)" '^[0-9]' "serverInfo.version is set"

rpc "$KEY" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'
rpc_err 200 -32602 "initialize without protocolVersion"
is "$(header Mcp-Session-Id)" "" "failed initialize: no Mcp-Session-Id"

initialize "$KEY"
S1=$SID
[ -n "$S1" ] || bail "no session"

# ---------------------------------------------- notifications, responses
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
is "$STATUS" 202 "notification: 202"
is "$BODY" "" "notification: empty body"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}'
is "$STATUS" 202 "another notification: 202"
is "$BODY" "" "another notification: empty body"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":5,"result":{}}'
is "$STATUS" 202 "a response (result): 202"
is "$BODY" "" "a response (result): empty body"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":6,"error":{"code":-1,"message":"no"}}'
is "$STATUS" 202 "a response (error): 202"
is "$BODY" "" "a response (error): empty body"

# ---------------------------------------------------- malformed, invalid
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":1,"method":'
rpc_err 400 -32700 "malformed JSON"
is "$(json .id)" null "malformed JSON: id null"
rpc "$KEY" "$S1" 'not json at all'
rpc_err 400 -32700 "not JSON"
rpc "$KEY" "$S1" '{"id":1,"method":"ping"}'
rpc_err 400 -32600 "no jsonrpc member"
rpc "$KEY" "$S1" '{"jsonrpc":"1.0","id":1,"method":"ping"}'
rpc_err 400 -32600 "jsonrpc 1.0"
rpc "$KEY" "$S1" '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
rpc_err 400 -32600 "a batch (array)"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":null,"method":"ping"}'
rpc_err 400 -32600 "id null"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":1,"method":5}'
rpc_err 400 -32600 "method not a string"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'
rpc_err 400 -32600 "id an object"
# MCP (basic/messages): "Requests MUST include a string or integer ID".
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":-7.5,"method":"ping"}'
rpc_err 400 -32600 "a fractional id"
is "$(json .id)" null "a fractional id: id null (JSON-RPC: the id could not be told)"
rpc "$KEY" "$S1" '"ping"'
rpc_err 400 -32600 "a JSON string, not an object"
# neither a request (no method) nor a response (no result, no error)
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":1}'
rpc_err 400 -32600 "an id without method, result or error"

# --------------------------------------------------- methods and errors
rpc "$KEY" "$S1" "$(request 3 ping)"
is "$STATUS" 200 "ping: 200"
is "$(jsonc .result)" '{}' "ping: result {}"
is "$(json .id)" 3 "ping: id echoed"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":"str-id","method":"ping"}'
is "$(json .id)" str-id "ping with a string id: id echoed"

rpc "$KEY" "$S1" "$(request 4 no/such/method)"
rpc_err 200 -32601 "unknown method"
is "$(json .id)" 4 "unknown method: id echoed"

rpc "$KEY" "$S1" "$(request 5 tools/list)"
is "$STATUS" 200 "tools/list: 200"
is "$(jsonc '[.result.tools[].name] | sort')" '["ask_agent","list_personas"]' "tools/list: ask_agent and list_personas"
is "$(jsonc '[.result.tools[].inputSchema.type]')" '["object","object"]' "tools/list: each has an object inputSchema"
is "$(jsonc '[.jsonrpc, .id, (keys | sort)]')" '["2.0",5,["id","jsonrpc","result"]]' \
    "tools/list: a JSON-RPC result with the request's id"
is "$(jsonc '.result.tools[] | select(.name=="ask_agent") | .inputSchema.required | sort')" \
    '["agent_id","question"]' "ask_agent requires agent_id and question"
is "$(jsonc '.result.tools[] | select(.name=="ask_agent") | .inputSchema.properties | keys')" \
    '["agent_id","question","session_id"]' "ask_agent's properties"
is "$(json '.result.tools[] | select(.name=="ask_agent") | .inputSchema.properties.question.maxLength')" \
    5000 "ask_agent: question maxLength 5000"
like "$(json '[.result.tools[].description] | join("|")')" '^[^|]+\|[^|]+$' "each tool has a description"
LIST=$(jsonc .result)
# The list is kept as text once made: the next answers carry their own id,
# whatever it is, around the same list.
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":"a \"quoted\" id\u00e9","method":"tools/list"}'
is "$(jsonc '[.jsonrpc, .id]')" '["2.0","a \"quoted\" idé"]' "tools/list with a string id (quotes, non-ASCII): id echoed exactly"
is "$(jsonc .result)" "$LIST" "tools/list: the same list on the next call"
rpc "$KEY" "$S1" '{"jsonrpc":"2.0","id":-7,"method":"tools/list"}'
is "$(jsonc '[.id, .result == '"$LIST"']')" '[-7,true]' "tools/list with a negative id: id echoed, same list"

call "$KEY" "$S1" no_such_tool '{}'
rpc_err 200 -32602 "tools/call of an unknown tool"
like "$(json .error.message)" no_such_tool "unknown tool: named in the message"
rpc "$KEY" "$S1" "$(request 8 tools/call)"
rpc_err 200 -32602 "tools/call without params"
rpc "$KEY" "$S1" "$(request 8 tools/call '{"arguments":{}}')"
rpc_err 200 -32602 "tools/call without a tool name"

# ----------------------------------------------------------------- tools
call "$KEY" "$S1" list_personas '{}'
is "$STATUS" 200 "list_personas: 200"
is "$(json .result.isError)" false "list_personas: isError false"
is "$(header RateLimit-Limit)" 30 "tools/call counts against PAAMcpToolRateLimit 30"
is "$(jsonc '[.result.structuredContent.personas[].id] | sort')" \
    '["creative-writer","general-assistant","tech-support","technical-expert"]' \
    "list_personas: the four personas"
is "$(json '.result.content[0].type')" text "list_personas: a text content block"
is "$(jsonc '.result.content[0].text | fromjson | length')" 4 "list_personas: the text lists them too"
call "$KEY" "$S1" list_personas '{"x":1}'
tool_error "list_personas with an argument"
rpc "$KEY" "$S1" "$(request 7 tools/call '{"name":"list_personas"}')"
is "$(json .result.isError)" false "list_personas without arguments: isError false"

before=$(provider_calls)
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":"first question"}'
is "$STATUS" 200 "ask_agent: 200"
is "$(json .result.isError)" false "ask_agent: isError false"
is "$(json '.result.content[0].text')" "fake-one says: first question" "ask_agent: the provider's answer"
is "$(json .result.structuredContent.answer)" "fake-one says: first question" "ask_agent: structuredContent.answer"
is "$(json .result.structuredContent.modelUsed)" fake-model "ask_agent: structuredContent.modelUsed"
CHAT=$(json .result.structuredContent.session_id)
like "$CHAT" '^ses_' "ask_agent: structuredContent.session_id"
is "$(provider_calls)" "$((before + 1))" "ask_agent: one provider call"
like "$(tail -n 1 "$RECORD" | jq -r .path)" '/v1/chat/completions$' "the provider got a chat completion"
is "$(tail -n 1 "$RECORD" | jq -r '.body.messages[0].role')" system "the persona's system prompt is sent"

call "$KEY" "$S1" ask_agent "$(jq -nc --arg s "$CHAT" '{agent_id:"general-assistant",question:"second question",session_id:$s}')"
is "$STATUS" 200 "ask_agent with session_id: 200"
is "$(json '.result.content[0].text')" "fake-one says: second question" "ask_agent with session_id: the answer"
is "$(json .result.structuredContent.session_id)" "$CHAT" "ask_agent with session_id: the same session"
is "$(tail -n 1 "$RECORD" | jq -c '[.body.messages[1:][] | [.role, .content]]')" \
    '[["user","first question"],["assistant","fake-one says: first question"],["user","second question"]]' \
    "second call sends the session's history to the provider"

# ---------------------------------------------------- argument validation
before=$(provider_calls)
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant"}'
tool_error "ask_agent without question"
call "$KEY" "$S1" ask_agent '{"question":"hi"}'
tool_error "ask_agent without agent_id"
call "$KEY" "$S1" ask_agent '{}'
tool_error "ask_agent with no arguments"
rpc "$KEY" "$S1" "$(request 7 tools/call '{"name":"ask_agent"}')"
tool_error "ask_agent with arguments absent"
long=$(head -c 5001 /dev/zero | tr '\0' a)
call "$KEY" "$S1" ask_agent "$(jq -nc --arg q "$long" '{agent_id:"general-assistant",question:$q}')"
tool_error "ask_agent with a question of 5001 characters"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":""}'
tool_error "ask_agent with an empty question"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":"hi","mood":"x"}'
tool_error "ask_agent with an unknown argument"
like "$(json '.result.content[0].text')" mood "unknown argument: named in the message"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":5}'
tool_error "ask_agent with a numeric question"
call "$KEY" "$S1" ask_agent '{"agent_id":7,"question":"hi"}'
tool_error "ask_agent with a numeric agent_id"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":"hi","session_id":42}'
tool_error "ask_agent with a numeric session_id"
# The limits of POST /api/chat (one validation for both).
call "$KEY" "$S1" ask_agent "{\"agent_id\":\"$(printf 'a%.0s' $(seq 51))\",\"question\":\"hi\"}"
tool_error "ask_agent with a 51-byte agent_id (POST /api/chat's limit is 50)"
call "$KEY" "$S1" ask_agent "{\"agent_id\":\"general-assistant\",\"question\":\"hi\",\"session_id\":\"$(printf 's%.0s' $(seq 41))\"}"
tool_error "ask_agent with a 41-byte session_id (POST /api/chat's limit is 40)"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":["hi"]}'
tool_error "ask_agent with an array question"
call "$KEY" "$S1" ask_agent '{"agent_id":"no-such-agent","question":"hi"}'
tool_error "ask_agent with an unknown agent"
like "$(json '.result.content[0].text')" 'agent' "unknown agent: says so"
rpc "$KEY" "$S1" "$(request 7 tools/call '{"name":"ask_agent","arguments":"x"}')"
rpc_err 200 -32602 "tools/call with arguments not an object"
is "$(provider_calls)" "$before" "no invalid call reached the provider"
# a question of exactly 5000 characters (in UTF-8: 2 bytes each) is fine
q5000=$(head -c 5000 /dev/zero | tr '\0' a | sed 's/a/é/g')
call "$KEY" "$S1" ask_agent "$(jq -nc --arg q "$q5000" '{agent_id:"general-assistant",question:$q}')"
is "$(json .result.isError)" false "ask_agent with 5000 characters (10000 bytes): accepted"

# the chat path's provider routing: no provider answers -> a tool error
curl -s -o /dev/null --max-time 5 --data-binary fail500 "http://127.0.0.1:$FAKE_PORT/__mode"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":"when failing"}'
tool_error "ask_agent when the provider fails"
unlike "$(json '.result.content[0].text')" "127\.0\.0\.1|$FAKE_PORT|fake" "provider failure: no provider detail in the message"
curl -s -o /dev/null --max-time 5 --data-binary ok "http://127.0.0.1:$FAKE_PORT/__mode"
call "$KEY" "$S1" ask_agent '{"agent_id":"general-assistant","question":"recovered"}'
is "$(json '.result.content[0].text')" "fake-one says: recovered" "ask_agent once the provider answers again"

# ------------------------------------------------ GET, DELETE, no session
http GET /api/mcp -H "X-API-Key: $KEY" -H "Mcp-Session-Id: $S1" -H "Accept: text/event-stream"
is "$STATUS" 405 "GET /api/mcp: 405"
like "$(header Allow)" 'POST' "GET: Allow names POST"
# Without a session, requests are served statelessly (the guide's own
# curl example has no Mcp-Session-Id), still as the caller.
STATUS=$(curl -s -o "$T_TMP/guide" -w '%{http_code}' -X POST "$BASE/api/mcp" \
    -H "X-API-Key: $KEY" -H "Content-Type: application/json" \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
is "$STATUS" 200 "the guide's curl example (tools/list, no session, no Accept): 200"
is "$(jq -r '[.result.tools[].name] | sort | join(",")' "$T_TMP/guide")" "ask_agent,list_personas" \
    "... listing the tools"
rpc "$KEY" "" "$(request 3 ping)"
is "$STATUS:$(json .result)" "200:{}" "ping without Mcp-Session-Id: served statelessly"
call "$KEY" "" list_personas '{}'
is "$STATUS:$(json '.result.isError')" "200:false" "tools/call without Mcp-Session-Id: served statelessly"
rpc "$KEY" "" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
is "$STATUS" 202 "a notification without Mcp-Session-Id: 202"
rpc "" "" "$(request 3 tools/list)"
is "$STATUS" 401 "stateless still needs credentials: 401"
# Where PAAMcpRequireSession is On, the spec's "Servers that require a
# session ID SHOULD respond to requests without an Mcp-Session-Id header
# (other than initialization) with HTTP 400" -- every POST, notifications
# included (the SDK's server does so).
MAIN_BASE=$BASE
BASE="http://127.0.0.1:$SPORT"
rpc "$KEY" "$S1" "$(request 3 ping)"
is "$STATUS" 200 "PAAMcpRequireSession On: ping with the session: 200"
rpc "$KEY" "" "$(request 3 ping)"
is "$STATUS" 400 "PAAMcpRequireSession On: ping without Mcp-Session-Id after initialize: 400"
rpc "$KEY" "" "$(request 3 tools/list)"
is "$STATUS" 400 "PAAMcpRequireSession On: tools/list without Mcp-Session-Id: 400"
rpc "$KEY" "" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
is "$STATUS" 400 "PAAMcpRequireSession On: a notification without Mcp-Session-Id: 400"
initialize "$KEY"
like "$SID" '^[0-9a-f]{64}$' "PAAMcpRequireSession On: initialize without a session still works"
BASE=$MAIN_BASE
rpc "$KEY" "$(printf '0%.0s' $(seq 64))" "$(request 3 ping)"
is "$STATUS" 404 "an unknown session id: 404"
rpc "$KEY" "$(printf '0%.0s' $(seq 64))" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
is "$STATUS" 404 "a notification with an unknown session id: 404"

initialize "$KEY"
S_DEL=$SID
http DELETE /api/mcp -H "X-API-Key: $KEY2" -H "Mcp-Session-Id: $S_DEL"
is "$STATUS" 404 "DELETE of another principal's session: 404"
rpc "$KEY" "$S_DEL" "$(request 3 ping)"
is "$STATUS" 200 "the session survives another principal's DELETE"
http DELETE /api/mcp -H "X-API-Key: $KEY" -H "Mcp-Session-Id: $S_DEL"
is "$STATUS" 204 "DELETE with the session: 204"
is "$BODY" "" "DELETE: empty body"
rpc "$KEY" "$S_DEL" "$(request 3 ping)"
is "$STATUS" 404 "after DELETE the session is gone: 404"
http DELETE /api/mcp -H "X-API-Key: $KEY" -H "Mcp-Session-Id: $S_DEL"
is "$STATUS" 404 "DELETE of an ended session: 404"
http DELETE /api/mcp -H "X-API-Key: $KEY"
is "$STATUS" 400 "DELETE without Mcp-Session-Id: 400"

# ------------------------------------------------- session of another principal
rpc "$KEY2" "$S1" "$(request 3 ping)"
is "$STATUS" 404 "another key with this session: 404"
rpc "$KEY2" "$S1" "$(request 3 tools/list)"
is "$STATUS" 404 "another key, tools/list: 404"
initialize "$KEY2"
S2=$SID
is "$STATUS" 200 "the second key has its own session"
call "$KEY2" "$S2" ask_agent "$(jq -nc --arg s "$CHAT" '{agent_id:"general-assistant",question:"steal",session_id:$s}')"
tool_error "ask_agent with another principal's chat session"
like "$(json '.result.content[0].text')" 'session' "another principal's chat session: no such session"
rpc "$KEY" "$S1" "$(request 3 ping)"
is "$STATUS" 200 "the owner still uses its session"

# ------------------------------------------- many children, one session
: >"$T_TMP/par"
for _ in 1 2 3 4 5; do
    : >"$HOME_DIR/logs/pid.log"
    pids=()
    for i in $(seq 1 32); do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -X POST \
            -H "X-API-Key: $KEY" -H "Mcp-Session-Id: $S1" -H "Content-Type: application/json" \
            --data-binary "$(request "$i" ping)" "$BASE/api/mcp" >>"$T_TMP/par" &
        pids+=($!)
    done
    # (not a bare wait: the fake provider is a background job too)
    wait "${pids[@]}"
    children=$(awk '$3 == "POST" && $4 == "/api/mcp" && $2 == 200 {print $1}' "$HOME_DIR/logs/pid.log" | sort -u | wc -l)
    [ "$children" -ge 2 ] && break
done
is "$(sort -u "$T_TMP/par")" 200 "parallel requests with one session: all 200"
if [ "$children" -ge 2 ]; then
    ok "the session was recognised by $children child processes"
else
    not_ok "the session was recognised by 2+ child processes" "children: $children" \
        "$(head -n 5 "$HOME_DIR/logs/pid.log")"
fi

# ------------------------------------------------- MCP-Protocol-Version
rpc "$KEY" "$S1" "$(request 3 ping)" -H "MCP-Protocol-Version: 1999-01-01"
is "$STATUS" 400 "MCP-Protocol-Version unsupported: 400"
for v in 2025-11-25 2025-06-18 2025-03-26 2024-11-05; do
    rpc "$KEY" "$S1" "$(request 3 ping)" -H "MCP-Protocol-Version: $v"
    is "$STATUS" 200 "MCP-Protocol-Version $v: 200"
done

# ------------------------------------------------------------------ Origin
rpc "$KEY" "$S1" "$(request 3 ping)" -H "Origin: https://evil.example.net"
is "$STATUS" 403 "Origin not in the allowlist: 403"
rpc "$KEY" "" "$(init_body 2025-11-25)" -H "Origin: https://evil.example.net"
is "$STATUS" 403 "initialize from a foreign Origin: 403"
is "$(header Mcp-Session-Id)" "" "foreign Origin: no session issued"
rpc "$KEY" "$S1" "$(request 3 ping)" -H "Origin: https://app.example.com.evil.net"
is "$STATUS" 403 "Origin that only starts like an allowed one: 403"
rpc "$KEY" "$S1" "$(request 3 ping)" -H "Origin: $ALLOWED_ORIGIN"
is "$STATUS" 200 "allowed Origin: 200"
rpc "$KEY" "$S1" "$(request 3 ping)"
is "$STATUS" 200 "no Origin: 200"

# ------------------------------------------------ 401 and RFC 9728 metadata
rpc "" "" "$(init_body 2025-11-25)"
is "$STATUS" 401 "no credentials: 401"
like "$(printf '%s\n' "$HEADERS" | grep -i '^WWW-Authenticate:')" \
    "resource_metadata=\"http://127\.0\.0\.1:$PORT/\.well-known/oauth-protected-resource\"" \
    "401: WWW-Authenticate carries resource_metadata"
is "$(header Mcp-Session-Id)" "" "401: no session issued"
rpc "pak_$(printf '0%.0s' $(seq 64))" "" "$(init_body 2025-11-25)"
is "$STATUS" 401 "unknown API key: 401"

http GET /.well-known/oauth-protected-resource
is "$STATUS" 200 "protected-resource metadata without credentials: 200"
like "$(header Content-Type)" '^application/json' "metadata: application/json"
is "$(json .resource)" "$BASE/api/mcp" "metadata: resource is the MCP endpoint"
like "$(json .resource)" '/api/mcp$' "metadata: resource ends in /api/mcp"
is "$(jsonc .bearer_methods_supported)" '["header"]' "metadata: bearer_methods_supported header"
http POST /.well-known/oauth-protected-resource --data-binary x
is "$STATUS" 405 "POST to the metadata: 405"

# -------------------------------------------------------------------- JWT
printf 'a-long-password-1\n' | "$PAACTL" --config "$CONFIG" user add mcpuser --role admin >/dev/null 2>&1
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub mcpuser 2>/dev/null)
[ -n "$TOKEN" ] || bail "token issue failed"
initialize "Bearer $TOKEN"
is "$STATUS" 200 "JWT: initialize 200"
like "$SID" '^[0-9a-f]{64}$' "JWT: a session id"
SJ=$SID
rpc "Bearer $TOKEN" "$SJ" "$(request 3 tools/list)"
is "$STATUS" 200 "JWT: tools/list 200"
call "Bearer $TOKEN" "$SJ" ask_agent '{"agent_id":"tech-support","question":"by jwt"}'
is "$(json '.result.content[0].text')" "fake-one says: by jwt" "JWT: ask_agent answers"
rpc "$KEY" "$SJ" "$(request 3 ping)"
is "$STATUS" 404 "JWT user's session with an API key: 404"
rpc "Bearer $TOKEN" "$S1" "$(request 3 ping)"
is "$STATUS" 404 "API key's session with the JWT: 404"

# ---------------------------------------------------- tools/call limit
stop_instance
cat >"$HOME_DIR/conf.d/zz-toollimit.conf" <<'CONF'
<Location "/api/mcp">
    PAAMcpToolRateLimit 3 60s
</Location>
CONF
start_instance
LKEY=$(keygen mcp-limit --role reader)
initialize "$LKEY"
SL=$SID
codes=""
for i in 1 2 3; do
    call "$LKEY" "$SL" list_personas '{}'
    codes="$codes$STATUS "
done
is "$codes" "200 200 200 " "tools/call within the limit (3): 200"
call "$LKEY" "$SL" list_personas '{}'
is "$STATUS" 429 "the 4th tools/call: 429"
like "$(header Retry-After)" '^[1-9][0-9]*$' "429: Retry-After in seconds"
call "$LKEY" "$SL" ask_agent '{"agent_id":"general-assistant","question":"over"}'
is "$STATUS" 429 "ask_agent over the limit: 429"
rpc "$LKEY" "$SL" "$(request 3 ping)"
is "$STATUS" 200 "ping still works over the tools/call limit"
rpc "$LKEY" "$SL" "$(request 3 tools/list)"
is "$STATUS" 200 "tools/list still works over the tools/call limit"
initialize "$KEY"
call "$KEY" "$SID" list_personas '{}'
is "$STATUS" 200 "another principal's tools/call is not limited by this one's"

# --------------------------- ask_agent spends the same budget as /api/chat
stop_instance
cat >"$HOME_DIR/conf.d/zz-toollimit.conf" <<'CONF'
<Location "/api/chat">
    PAARateLimit 3 60s
</Location>
CONF
start_instance
CKEY=$(keygen mcp-chat-budget --role reader)
codes=""
for i in 1 2; do
    call "$CKEY" "" ask_agent "{\"agent_id\":\"general-assistant\",\"question\":\"budget $i\"}"
    codes="$codes$STATUS "
done
http POST /api/chat -H "X-API-Key: $CKEY" -H 'Content-Type: application/json' \
    --data '{"agent_id":"general-assistant","question":"budget 3"}'
codes="$codes$STATUS "
is "$codes" "200 200 200 " "chat budget 3: two ask_agent calls and one POST /api/chat are served"
call "$CKEY" "" ask_agent '{"agent_id":"general-assistant","question":"budget 4"}'
is "$STATUS" 429 "the 4th chat in the minute, through ask_agent: 429"
like "$(header Retry-After)" '^[1-9][0-9]*$' "... with Retry-After"
http POST /api/chat -H "X-API-Key: $CKEY" -H 'Content-Type: application/json' \
    --data '{"agent_id":"general-assistant","question":"budget 5"}'
is "$STATUS" 429 "and POST /api/chat is over the same budget: 429"
is "$(grep -c 'budget [45]' "$RECORD")" 0 "no chat over the budget reached the provider"
call "$CKEY" "" ask_agent '{"agent_id":"no-such-agent-x","question":"q"}'
is "$STATUS" 429 "over the budget, even an ask_agent that would fail is refused first"

done_testing
