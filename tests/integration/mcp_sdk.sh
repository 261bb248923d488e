#!/bin/bash
# Interoperability: the official MCP TypeScript SDK client
# (@modelcontextprotocol/sdk, Client + StreamableHTTPClientTransport with an
# X-API-Key header, as an MCP host configured with {"url": ".../api/mcp"}
# uses it) against a real httpd and a fake provider: connect (initialize),
# list tools, call list_personas and ask_agent, end the session; and
# without the key the SDK sees the 401.
#
# Needs node (18+) and npm; the exact SDK version is pinned by
# tests/mcp/package-lock.json and installed with `npm ci` into the test's
# temporary directory (never into the source tree). Without node the test
# is skipped; when npm cannot reach the registry it is skipped with the
# reason.

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "1..0 # SKIP node is not installed"
    exit 0
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "1..0 # SKIP node $(node --version) is too old (the MCP SDK needs 18+)"
    exit 0
fi

. "$PAA_SRCDIR/tests/integration/lib.sh"

: "${FAKE_LLM:?run through make check}"
RECORD="$T_TMP/fake-sdk.rec"
NODE_DIR="$T_TMP/node"
QUESTION="What is MCP?"


# ------------------------------------------------ the locked dependencies
npm_ci mcp @modelcontextprotocol/sdk
SDK_VERSION=$(jq -r .version "$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json")
echo "# @modelcontextprotocol/sdk $SDK_VERSION, node $(node --version)"

# ------------------------------------------------- provider and instance
start_fake fake-sdk
FAKE_PORT=${FPORT[fake-sdk]}

new_instance sqlite3
cat >"$HOME_DIR/conf.d/mcp_sdk.conf" <<CONF
PAAProvider fake http://127.0.0.1:$FAKE_PORT/v1 fake-model timeout=10s
LogFormat "%>s %m %U sid=%{Mcp-Session-Id}i pv=%{MCP-Protocol-Version}i" paamcp
CustomLog "logs/mcp.log" paamcp
CONF
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
start_instance
KEY=$("$PAACTL" --config "$CONFIG" keygen --name sdk --role reader 2>/dev/null)
[ -n "$KEY" ] || bail "keygen failed"

# --------------------------------------------------------- the SDK client
OUT="$T_TMP/client.out"
(cd "$NODE_DIR" && timeout 30 node client.mjs full "$BASE/api/mcp" "$KEY" general-assistant "$QUESTION") \
    >"$OUT" 2>"$T_TMP/client.err"
is "$?" 0 "the SDK client ran every step"
sed 's/^/# /' "$T_TMP/client.err"
# step NAME FILTER: a jq filter applied to the line of step NAME
step() { jq -r --arg s "$1" "select(.step == \$s) | $2" "$OUT" 2>/dev/null; }
stepc() { jq -c --arg s "$1" "select(.step == \$s) | $2" "$OUT" 2>/dev/null; }
if grep -q '"ok":false' "$OUT"; then
    echo "# failed step: $(grep '"ok":false' "$OUT")"
fi

is "$(step connect .ok)" true "SDK: connect (initialize) succeeds"
is "$(step connect .sdkVersion)" "$SDK_VERSION" "SDK: the pinned version ran"
is "$(step connect .protocolVersion)" "$(step connect .sdkLatestProtocol)" \
    "SDK: the SDK's latest protocol version is negotiated"
like "$(step connect .sessionId)" '^[0-9a-f]{64}$' "SDK: the transport holds the Mcp-Session-Id"
is "$(step connect .serverInfo.name)" purpose-agnostic-agent "SDK: serverInfo.name"
is "$(stepc connect .capabilities)" '{"tools":{"listChanged":false}}' "SDK: server capabilities"
SID=$(step connect .sessionId)
PV=$(step connect .protocolVersion)

is "$(step ping .ok)" true "SDK: ping"
is "$(step tools .ok)" true "SDK: listTools"
is "$(stepc tools .names)" '["ask_agent","list_personas"]' "SDK: listTools sees ask_agent and list_personas"
is "$(stepc tools '.schemas.ask_agent.required | sort')" '["agent_id","question"]' "SDK: ask_agent's inputSchema"

is "$(step list_personas .ok)" true "SDK: callTool list_personas"
is "$(step list_personas .isError)" false "SDK: list_personas is not an error"
is "$(stepc list_personas .ids)" \
    '["creative-writer","general-assistant","tech-support","technical-expert"]' \
    "SDK: list_personas returns the four personas"

is "$(step ask_agent .ok)" true "SDK: callTool ask_agent"
is "$(step ask_agent .isError)" false "SDK: ask_agent is not an error"
is "$(step ask_agent .text)" "fake-sdk says: $QUESTION" "SDK: ask_agent returns the provider's answer"
CHAT=$(step ask_agent .structuredContent.session_id)
like "$CHAT" '^ses_' "SDK: ask_agent returns a chat session_id"
is "$(jq -r 'select(.body.messages[-1].content == "'"$QUESTION"'") | .path' "$RECORD" 2>/dev/null | head -n 1)" \
    /v1/chat/completions "SDK: the question reached the provider"

is "$(step ask_agent_again .text)" "fake-sdk says: $QUESTION (again)" "SDK: ask_agent in the same chat session"
is "$(step ask_agent_again .structuredContent.session_id)" "$CHAT" "SDK: the same chat session_id"
is "$(tail -n 1 "$RECORD" | jq -c '[.body.messages[1:][] | .role]' 2>/dev/null)" \
    '["user","assistant","user"]' "SDK: the second question carries the history"

is "$(step ask_unknown_agent .isError)" true "SDK: an unknown agent is a tool error (isError)"
is "$(step unknown_tool .threw)" true "SDK: an unknown tool makes callTool throw"
is "$(step unknown_tool .error.class)" McpError "SDK: ... an McpError"
is "$(step unknown_tool .error.code)" -32602 "SDK: ... with code -32602"

is "$(step terminate .ok)" true "SDK: terminateSession"
is "$(step terminate .endedSession)" "$SID" "SDK: terminateSession ended the session"

# What the SDK sent, as the server saw it.
LOG="$HOME_DIR/logs/mcp.log"
like "$(grep -c "^200 POST /api/mcp sid=$SID pv=$PV\$" "$LOG")" '^([7-9]|[1-9][0-9]+)$' \
    "SDK: later requests carry Mcp-Session-Id and MCP-Protocol-Version $PV (all 200)"
like "$(cat "$LOG")" "^202 POST /api/mcp sid=$SID " "SDK: notifications/initialized got 202"
like "$(cat "$LOG")" "^405 GET /api/mcp sid=$SID " "SDK: its GET for a server stream got 405, which it accepts"
like "$(cat "$LOG")" "^204 DELETE /api/mcp sid=$SID " "SDK: terminateSession's DELETE got 204"
unlike "$(grep -v '^[23]0[0-9] ' "$LOG" | grep -v '^405 GET')" . "SDK: no other error status in the full run"
http POST /api/mcp -H "X-API-Key: $KEY" -H "Mcp-Session-Id: $SID" -H "Content-Type: application/json" \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"ping"}'
is "$STATUS" 404 "the session the SDK ended is gone"

# ------------------------------------------------------- without the key
(cd "$NODE_DIR" && timeout 30 node client.mjs nokey "$BASE/api/mcp") >"$OUT" 2>"$T_TMP/client.err"
is "$?" 0 "SDK without a key: the client ran"
sed 's/^/# /' "$T_TMP/client.err"
is "$(step nokey .connected)" false "SDK without a key: connect fails"
is "$(step nokey .error.class)" StreamableHTTPError "SDK without a key: a StreamableHTTPError"
is "$(step nokey .error.code)" 401 "SDK without a key: with status 401"
echo "# the SDK says: $(step nokey .error.message)"
like "$(tail -n 1 "$LOG")" '^401 POST /api/mcp sid=- ' "SDK without a key: the server answered 401"

done_testing
