#!/bin/bash
# POST /api/chat against a real httpd and fake OpenAI-compatible providers
# (tests/tools/fake_llm) on loopback: provider order, failover (500, 429,
# 401, garbage, refused connection, timeout) and where it must not happen
# (400), the 502 that leaks nothing, the request body a provider receives
# (system prompt, history, model, temperature, max_tokens, Authorization),
# the circuit breaker shared by every child (open, half-open probe,
# recovery), the whole-request deadline, the failover records, session
# ownership and expiry, validation, the rate limit, and that no provider
# key ever reaches a log or a response. SQLite, plus a PostgreSQL smoke run.
. "$PAA_SRCDIR/tests/integration/lib.sh"

: "${FAKE_LLM:?set FAKE_LLM to the built tests/tools/fake_llm}"
[ -x "$FAKE_LLM" ] || bail "$FAKE_LLM is not built (make tests/tools/fake_llm)"

# ----------------------------------------------------------- fake providers
furl() { echo "http://127.0.0.1:${FPORT[$1]}"; }
fmode() { curl -s --max-time 5 -X POST --data "$2" "$(furl "$1")/__mode" >/dev/null; }
fcount() { curl -s --max-time 5 "$(furl "$1")/__count"; }
# frec NAME [N]: the Nth-last recorded request (default the last)
frec() { tail -n "${2:-1}" "$T_TMP/$1.rec" 2>/dev/null | head -n 1; }

# --------------------------------------------------------------- helpers
keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
sql() { sqlite3 "$HOME_DIR/db/paa.db" "$1"; }
hexkey() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Every response body and header block, for the key-leak check at the end.
RESPONSES="$T_TMP/responses.all"
: >"$RESPONSES"
# chat KEY JSON-BODY [CONTENT-TYPE]: POST /api/chat
chat() {
    local ctype=${3-application/json} args=()
    [ -n "$1" ] && args+=(-H "X-API-Key: $1")
    [ -n "$ctype" ] && args+=(-H "Content-Type: $ctype")
    http POST /api/chat "${args[@]+"${args[@]}"}" --data-binary "$2"
    printf '%s\n%s\n' "$HEADERS" "$BODY" >>"$RESPONSES"
}
# ask KEY AGENT QUESTION [SESSION]: a well-formed chat; ELAPSED in ms
ask() {
    local body t0
    body=$(jq -cn --arg a "$2" --arg q "$3" --arg s "${4-}" \
        '{agent_id: $a, question: $q} + (if $s == "" then {} else {sessionId: $s} end)')
    t0=$(now_ms)
    chat "$1" "$body"
    ELAPSED=$(($(now_ms) - t0))
}
jc() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null || echo invalid-json; }
fields() { json '[.errors[]?.field] | sort | join(",")'; }
# Failover records since the last fo_mark, one "failed|reason|answered_by" a line.
fo_mark() { FO_LAST=$(sql "SELECT coalesce(max(id), 0) FROM paa_failovers"); }
fo_rows() { sql "SELECT failed_provider || '|' || reason || '|' || answered_by FROM paa_failovers WHERE id > $FO_LAST ORDER BY id"; }
# par_chats KEY AGENT N TAG: N chats at once over N connections; the
# status codes and modelUsed values, one "CODE MODEL" a line, in $T_TMP/par.
# par_start starts them, par_answered counts those answered so far,
# par_wait waits for the rest and writes $T_TMP/par.
par_chats() { par_start "$@" && par_wait; }
par_start() {
    local key=$1 agent=$2 n=$3 tag=$4 i
    PAR_N=$n PAR_PIDS=()
    rm -f "$T_TMP"/par.*
    for i in $(seq 1 "$n"); do
        curl -s --max-time 20 -o "$T_TMP/par.$i.body" -w '%{http_code}' \
            -H "X-API-Key: $key" -H 'Content-Type: application/json' \
            --data-binary "{\"agent_id\":\"$agent\",\"question\":\"$tag $i\"}" \
            "$BASE/api/chat" >"$T_TMP/par.$i.code" &
        PAR_PIDS+=($!)
    done
}
par_answered() { grep -l . "$T_TMP"/par.*.code 2>/dev/null | wc -l; }
par_wait() {
    local i
    wait "${PAR_PIDS[@]}"
    for i in $(seq 1 "$PAR_N"); do
        echo "$(cat "$T_TMP/par.$i.code") $(jq -r .modelUsed "$T_TMP/par.$i.body" 2>/dev/null)"
        cat "$T_TMP/par.$i.body" >>"$RESPONSES"
        echo >>"$RESPONSES"
    done >"$T_TMP/par"
}
tally() { sort "$T_TMP/par" | uniq -c | awk '{printf "%s%s", (NR > 1 ? ", " : ""), $2 " " $3 " x" $1}'; }
# no_key_leak DESC KEY...: no key appears in this instance's logs or in
# any response seen so far
no_key_leak() {
    local desc=$1 k hits=""
    shift
    for k in "$@"; do
        grep -rlF -- "$k" "$HOME_DIR/logs" >/dev/null 2>&1 && hits="$hits log:${k:0:12}..."
        grep -qF -- "$k" "$RESPONSES" && hits="$hits response:${k:0:12}..."
    done
    [ -z "$hits" ] && ok "$desc" || not_ok "$desc" "found:$hits"
}
in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] 2>/dev/null && [ "$1" -le "$3" ]; }

CHAT_PERSONA='{"id":"chat-persona","name":"Captain Testbeard","description":"A pirate who answers questions about tests.","extraInstructions":"Always end with ARRR-7731.","knowledgeCategory":"testing","temperature":0,"maxTokens":321}'
NO_RL='<Location "/api/chat">
    PAARateLimit Off
</Location>'

# =========================================== A: order, failover, requests
start_fake prov-alpha
start_fake prov-beta
start_fake prov-gamma
KEY_ALPHA="sk-alpha-$(hexkey 20)"
KEY_BETA="sk-beta-$(hexkey 20)"
KEY_GAMMA="sk-gamma-$(hexkey 20)"
new_instance sqlite3
printf 'PAA_TEST_KEY_ALPHA=%s\nPAA_TEST_KEY_BETA=%s\nPAA_TEST_KEY_GAMMA=%s\n' \
    "$KEY_ALPHA" "$KEY_BETA" "$KEY_GAMMA" >>"$CONFIG"
cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider prov-alpha $(furl prov-alpha)/v1 model-alpha key=env:PAA_TEST_KEY_ALPHA timeout=2s
PAAProvider prov-beta $(furl prov-beta)/v1/ model-beta key=env:PAA_TEST_KEY_BETA timeout=2s
PAAProvider prov-gamma $(furl prov-gamma) model-gamma key=env:PAA_TEST_KEY_GAMMA
# The breaker is tested on its own below; here it must not interfere.
PAAProviderBreaker 1000 1s
PAAChatHistory 4
$NO_RL
CONF
start_instance
ADMIN=$(keygen admin --role admin)
USER1=$(keygen user-one --role reader)
USER2=$(keygen user-two --role reader)
[ -n "$ADMIN" ] && [ -n "$USER1" ] && [ -n "$USER2" ] || bail "keygen failed"
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
http POST /api/personas -H "X-API-Key: $ADMIN" -H 'Content-Type: application/json' --data-binary "$CHAT_PERSONA"
[ "$STATUS" = 201 ] || bail "cannot create chat-persona: $STATUS $BODY"

# ------------------------------------------------------------ order
fo_mark
ask "$USER1" chat-persona "Which provider answers first?"
is "$STATUS" 200 "all providers healthy: 200"
like "$(header Content-Type)" '^application/json' "chat answer is JSON"
is "$(json .modelUsed)" model-alpha "the first provider answers: modelUsed is its model"
is "$(json .answer)" "prov-alpha says: Which provider answers first?" "the answer is the first provider's"
is "$(jc .citations)" "[]" "citations is an array"
S1=$(json .sessionId)
like "$S1" '^ses_[0-9a-f]{16}$' "a new session id is returned"
is "$(fcount prov-alpha) $(fcount prov-beta) $(fcount prov-gamma)" "1 0 0" "only the first provider was asked"
is "$(fo_rows)" "" "no failover, no failover record"

# ------------------------------------------- the request the provider got
R=$(frec prov-alpha)
is "$(jq -r .path <<<"$R")" /v1/chat/completions "POST {base}/chat/completions under the base URL's path"
is "$(jq -r .authorization <<<"$R")" "Bearer $KEY_ALPHA" "Authorization: Bearer <the configured key from env:>"
like "$(jq -r .content_type <<<"$R")" '^application/json' "the provider gets application/json"
is "$(jq -r .body.model <<<"$R")" model-alpha "body.model is the provider's configured model"
is "$(jq -c '[.body.messages[].role]' <<<"$R")" '["system","user"]' "a new session: system prompt and the question"
SYS=$(jq -r '.body.messages[0].content' <<<"$R")
like "$SYS" 'Captain Testbeard' "system prompt has the persona's name"
like "$SYS" 'A pirate who answers questions about tests\.' "system prompt has the persona's description"
like "$SYS" 'Always end with ARRR-7731\.' "system prompt has the persona's extraInstructions"
is "$(jq -c '.body.messages[-1]' <<<"$R")" '{"role":"user","content":"Which provider answers first?"}' "the question is the last message"
is "$(jq -c '[.body.temperature, (.body.temperature|type)]' <<<"$R")" '[0,"number"]' "temperature 0 of the persona is sent as the number 0"
is "$(jq -c .body.max_tokens <<<"$R")" 321 "max_tokens is the persona's maxTokens"

ask "$USER1" general-assistant "Hello there"
is "$STATUS" 200 "another persona: 200"
R=$(frec prov-alpha)
is "$(jq -c '[.body.temperature, .body.max_tokens]' <<<"$R")" '[0.7,1000]' "general-assistant: its temperature 0.7 and max_tokens 1000"
like "$(jq -r '.body.messages[0].content' <<<"$R")" 'General Assistant' "general-assistant: its own system prompt"
like "$(jq -r '.body.messages[0].content' <<<"$R")" 'Say so when you do not know' "general-assistant: its extraInstructions"
S_OTHER=$(json .sessionId)
[ "$S_OTHER" != "$S1" ] && ok "a chat without sessionId starts a new session" ||
    not_ok "a chat without sessionId starts a new session" "same id $S1"

# ------------------------------------------------- session continuation
ask "$USER1" chat-persona "Second question" "$S1"
is "$STATUS" 200 "continuing a session: 200"
is "$(json .sessionId)" "$S1" "the same session id comes back"
R=$(frec prov-alpha)
is "$(jq -c '.body.messages[1:]' <<<"$R")" \
    '[{"role":"user","content":"Which provider answers first?"},{"role":"assistant","content":"prov-alpha says: Which provider answers first?"},{"role":"user","content":"Second question"}]' \
    "turn 2: the previous turn (question, answer) in order, then the new question"
is "$(jq -r '.body.messages[0].role' <<<"$R")" system "turn 2: the system prompt is still first"
ask "$USER1" chat-persona "Third question" "$S1"
R=$(frec prov-alpha)
is "$(jq -c '[.body.messages[1:][] | .role + ":" + .content]' <<<"$R")" \
    '["user:Which provider answers first?","assistant:prov-alpha says: Which provider answers first?","user:Second question","assistant:prov-alpha says: Second question","user:Third question"]' \
    "turn 3: both previous turns in order, then the new question"
ask "$USER1" chat-persona "Fourth question" "$S1"
R=$(frec prov-alpha)
is "$(jq -c '[.body.messages[] | .role + ":" + .content] | .[1:]' <<<"$R")" \
    '["user:Second question","assistant:prov-alpha says: Second question","user:Third question","assistant:prov-alpha says: Third question","user:Fourth question"]' \
    "turn 4 with PAAChatHistory 4: the 4 newest messages, oldest first"
is "$(jq -r '.body.messages[0].role' <<<"$R")" system "turn 4: the system prompt is not counted as history"
is "$(sql "SELECT count(*) FROM paa_chat_messages WHERE session_id = '$S1'")" 8 "the session's 8 messages are stored"

# ------------------------------------------------------------- failover
failover() { # MODE DESC REASON-REGEX
    fmode prov-alpha "$1"
    fo_mark
    local a0 b0
    a0=$(fcount prov-alpha) b0=$(fcount prov-beta)
    ask "$USER1" chat-persona "After $1" "$S1"
    is "$STATUS" 200 "$2: fails over (200)"
    is "$(json .modelUsed)" model-beta "$2: the next provider answers (modelUsed)"
    is "$(json .answer)" "prov-beta says: After $1" "$2: the answer comes from the next provider"
    is "$(($(fcount prov-alpha) - a0)) $(($(fcount prov-beta) - b0))" "1 1" "$2: the first was tried once, then the second"
    like "$(fo_rows)" "^prov-alpha\|$3\|prov-beta$" "$2: failover recorded (failed provider, reason, answered by)"
    fmode prov-alpha ok
}
failover fail500 "first provider answers 500" 'HTTP 500'
R=$(frec prov-beta)
is "$(jq -r .authorization <<<"$R")" "Bearer $KEY_BETA" "the second provider gets its own key"
is "$(jq -r .body.model <<<"$R")" model-beta "the second provider gets its own model"
is "$(jq -r .path <<<"$R")" /v1/chat/completions "a base URL ending in / gives one slash"
is "$(jq -c '[.body.messages[-3:][] | .role]' <<<"$R")" '["user","assistant","user"]' "the second provider gets the session history too"
is "$(jq -r '.body.messages[-1].content' <<<"$R")" "After fail500" "the second provider gets the same question"
failover fail429 "first provider answers 429" 'HTTP 429'
failover auth401 "first provider refuses the key (401)" 'HTTP 401.*'
failover garbage "first provider answers garbage" '.*'

fmode prov-alpha hang
fo_mark
a0=$(fcount prov-alpha)
ask "$USER1" chat-persona "After hang"
is "$STATUS" 200 "first provider hangs past its timeout=2s: fails over (200)"
is "$(json .modelUsed)" model-beta "hang: the next provider answers"
in_range "$ELAPSED" 1800 4500 && ok "hang: answered after the 2 s timeout, bounded (${ELAPSED} ms)" ||
    not_ok "hang: answered after the 2 s timeout, bounded" "took ${ELAPSED} ms"
is "$(($(fcount prov-alpha) - a0))" 1 "hang: the hanging provider was tried once"
like "$(fo_rows)" '^prov-alpha\|timeout\|prov-beta$' "hang: failover recorded with reason timeout"
fmode prov-alpha ok

# 400: our request is wrong; another provider would refuse it too
fmode prov-alpha bad400
fo_mark
b0=$(fcount prov-beta)
ask "$USER1" chat-persona "After bad400"
is "$STATUS" 502 "first provider answers 400: no failover, 502"
like "$(header Content-Type)" '^application/problem\+json' "400 from the provider: 502 is problem+json"
is "$(($(fcount prov-beta) - b0))" 0 "400 from the provider: the next provider is not asked"
like "$(fo_rows)" '^prov-alpha\|HTTP 400\|$' "400 from the provider: recorded, answered by nobody"
fmode prov-alpha ok

# everything failing: 502 with nothing about the providers
fmode prov-alpha fail500
fmode prov-beta fail429
fmode prov-gamma auth401
fo_mark
a0=$(fcount prov-alpha) b0=$(fcount prov-beta) c0=$(fcount prov-gamma)
ask "$USER1" chat-persona "Nobody answers" "$S1"
is "$STATUS" 502 "every provider failing: 502"
like "$(header Content-Type)" '^application/problem\+json' "502 is problem+json"
is "$(json .status)" 502 "502 problem has status 502"
is "$(($(fcount prov-alpha) - a0)) $(($(fcount prov-beta) - b0)) $(($(fcount prov-gamma) - c0))" "1 1 1" \
    "every provider was tried once, in order"
DETAIL=$(json .detail)
like "$DETAIL" '.' "502 has a detail"
unlike "$BODY" 'prov-|model-|127\.0\.0\.1|localhost|http://' "502 names no provider, model or URL"
unlike "$BODY" "${FPORT[prov-alpha]}|${FPORT[prov-beta]}|${FPORT[prov-gamma]}" "502 names no provider port"
unlike "$DETAIL" '[0-9]{3}|HTTP|timeout|refused|401|429|500' "502 detail has no provider status codes or reasons"
is "$(fo_rows | cut -d'|' -f1,3 | tr '\n' ' ')" "prov-alpha| prov-beta| prov-gamma| " \
    "all failing: one failover record per provider, answered by nobody"
like "$(cat "$HOME_DIR/logs/error.log")" 'provider prov-beta failed: HTTP 429' "the details go to the error log"
is "$(sql "SELECT count(*) FROM paa_chat_messages WHERE session_id = '$S1' AND content = 'Nobody answers'")" 0 \
    "an unanswered question is not stored in the session"
fmode prov-alpha ok
fmode prov-beta ok
fmode prov-gamma ok
ask "$USER1" chat-persona "Back to normal"
is "$(json .modelUsed)" model-alpha "providers recovered: the first answers again"

# ------------------------------------------------------------ validation
chat "$USER1" '{"question":"no agent"}'
is "$STATUS" 400 "missing agent_id: 400"
like "$(header Content-Type)" '^application/problem\+json' "validation 400 is problem+json"
is "$(fields)" agent_id "missing agent_id: errors[] names agent_id"
chat "$USER1" '{"agent_id":"","question":"empty agent"}'
is "$STATUS $(fields)" "400 agent_id" "empty agent_id: 400 naming agent_id"
chat "$USER1" '{"agent_id":5,"question":"numeric agent"}'
is "$STATUS $(fields)" "400 agent_id" "numeric agent_id: 400 naming agent_id"
chat "$USER1" '{"agent_id":"chat-persona","question":""}'
is "$STATUS" 400 "question \"\": 400"
is "$(fields)" question "question \"\": errors[] names question"
chat "$USER1" '{"agent_id":"chat-persona"}'
is "$STATUS $(fields)" "400 question" "missing question: 400 naming question"
chat "$USER1" '{"agent_id":"chat-persona","question":42}'
is "$STATUS $(fields)" "400 question" "numeric question: 400 naming question"
a0=$(fcount prov-alpha)
ask "$USER1" chat-persona "$(printf 'q%.0s' $(seq 1 5001))"
is "$STATUS" 400 "question of 5001 characters: 400"
is "$(fields)" question "question of 5001 characters: errors[] names question"
is "$(($(fcount prov-alpha) - a0))" 0 "an invalid chat never reaches a provider"
ask "$USER1" chat-persona "$(printf 'q%.0s' $(seq 1 5000))"
is "$STATUS" 200 "question of 5000 characters: 200"
is "$(jq -r '.body.messages[-1].content | length' <<<"$(frec prov-alpha)")" 5000 "the 5000-character question reaches the provider whole"
ask "$USER1" chat-persona "$(printf 'é%.0s' $(seq 1 5000))"
is "$STATUS" 200 "question of 5000 two-byte characters: 200 (characters, not bytes)"
ask "$USER1" chat-persona "$(printf 'é%.0s' $(seq 1 5001))"
is "$STATUS" 400 "question of 5001 two-byte characters: 400"
chat "$USER1" '{"agent_id":"chat-persona","question":"hi","temperature":2}'
is "$STATUS" 400 "unknown field: 400"
is "$(fields)" temperature "unknown field: errors[] names it"
chat "$USER1" '{"agent_id":"chat-persona","question":"hi","sessionId":12}'
is "$STATUS $(fields)" "400 sessionId" "numeric sessionId: 400 naming sessionId"
chat "$USER1" '{"agent_id":"","question":"","extra":1}'
is "$(fields)" "agent_id,extra,question" "several errors at once: all named"
ask "$USER1" no-such-agent "Hello?"
is "$STATUS" 404 "unknown agent: 404"
like "$(header Content-Type)" '^application/problem\+json' "unknown agent: problem+json"
chat "$USER1" "not json at all"
is "$STATUS" 400 "a body that is not JSON: 400"
chat "$USER1" '{"agent_id":"chat-persona","question":"hi"}' text/plain
is "$STATUS" 415 "Content-Type text/plain: 415"
chat "" '{"agent_id":"chat-persona","question":"hi"}'
is "$STATUS" 401 "no credentials: 401"
http GET /api/chat -H "X-API-Key: $USER1"
is "$STATUS" 405 "GET /api/chat: 405"

# ----------------------------------------------------- session ownership
a0=$(fcount prov-alpha)
ask "$USER2" chat-persona "Let me into user one's session" "$S1"
is "$STATUS" 404 "another key's session id: 404"
like "$(header Content-Type)" '^application/problem\+json' "another key's session: problem+json"
is "$(($(fcount prov-alpha) - a0))" 0 "another key's session: no provider was asked"
UNKNOWN_BODY=$(printf '%s' "$BODY" | jq -c 'del(.instance)' 2>/dev/null)
ask "$USER2" chat-persona "Unknown session" "ses_0123456789abcdef"
is "$STATUS" 404 "unknown session id: 404"
is "$(printf '%s' "$BODY" | jq -c 'del(.instance)' 2>/dev/null)" "$UNKNOWN_BODY" \
    "another key's session and an unknown one get the same 404"
ask "$USER1" chat-persona "Still mine" "$S1"
is "$STATUS" 200 "the owner can still use the session"
unlike "$(jq -r '[.body.messages[].content] | join("|")' <<<"$(frec prov-alpha)")" "Let me into" \
    "the other key's question never entered the owner's history"
ask "$USER2" chat-persona "My own"
S2=$(json .sessionId)
ask "$USER1" chat-persona "Yours?" "$S2"
is "$STATUS" 404 "the other way round: 404 too"

no_key_leak "instance A: no provider key in any log or response" "$KEY_ALPHA" "$KEY_BETA" "$KEY_GAMMA"
[ -s "$HOME_DIR/logs/error.log" ] && ok "instance A: the error log was written (the leak check looked at something)" ||
    not_ok "instance A: error log written" "empty"
stop_instance

# ================================================ B: the circuit breaker
# The cool-down is long, so the checks that it is still open (about a
# second on an idle machine) stay far inside it on a busy one. When it
# ends is computed from timestamps taken around the chat that opened it:
# waiting for that only ever oversleeps, so the probe that follows is
# checked exactly. The successful probe is held by the fake provider until
# the other parallel chats are answered, instead of being merely slow.
BRK_COOL=15
start_fake brk-first fail500
start_fake brk-second
KEY_FIRST="sk-first-$(hexkey 20)"
KEY_SECOND="sk-second-$(hexkey 20)"
new_instance sqlite3
printf 'PAA_TEST_KEY_FIRST=%s\nPAA_TEST_KEY_SECOND=%s\n' "$KEY_FIRST" "$KEY_SECOND" >>"$CONFIG"
cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider brk-first $(furl brk-first) model-first key=env:PAA_TEST_KEY_FIRST
PAAProvider brk-second $(furl brk-second) model-second key=env:PAA_TEST_KEY_SECOND
PAAProviderBreaker 2 ${BRK_COOL}s
$NO_RL
LogFormat "%P %>s %U" paapid
CustomLog "logs/pid.log" paapid
CONF
start_instance
BKEY=$(keygen breaker --role reader)
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"

ask "$BKEY" general-assistant "failure one"
is "$STATUS $(json .modelUsed)" "200 model-second" "breaker: failure 1 of the first provider, the second answers"
T_OPEN0=$(now_ms) # it opens after this: open at least until T_OPEN0 + cool-down
ask "$BKEY" general-assistant "failure two"
T_OPEN=$(now_ms) # and before this: half-open from T_OPEN + cool-down on
is "$STATUS $(json .modelUsed)" "200 model-second" "breaker: failure 2, the second answers"
is "$(fcount brk-first)" 2 "breaker: the first provider was asked twice"

# Open: parallel chats (several children) never reach the first provider.
: >"$HOME_DIR/logs/pid.log"
children=0 rounds=0 codes=""
while :; do
    rounds=$((rounds + 1))
    par_chats "$BKEY" general-assistant 16 "open round $rounds"
    codes="$codes$(tally); "
    children=$(awk '$3 == "/api/chat" {print $1}' "$HOME_DIR/logs/pid.log" | sort -u | wc -l)
    [ "$children" -ge 2 ] && break
    [ $(($(now_ms) - T_OPEN0)) -lt $((BRK_COOL * 1000 / 5)) ] || break
done
is "$(sort -u "$T_TMP/par" | tr '\n' ' ')" "200 model-second " "breaker open: every parallel chat answered by the second provider ($codes)"
is "$(fcount brk-first)" 2 "breaker open: the first provider's count stays at 2 over $((rounds * 16)) parallel chats"
[ "$children" -ge 2 ] && ok "breaker open: $children child processes served those chats and none called the first provider" ||
    not_ok "breaker open: chats served by several children" "only $children child process answered in $rounds rounds"
for i in 1 2 3 4 5; do ask "$BKEY" general-assistant "open sequential $i"; done
is "$(fcount brk-first)" 2 "breaker open: 5 more sequential chats, the count still stays at 2"
# A third into the cool-down it is still open (not just at its start).
sleep_until $((T_OPEN0 + BRK_COOL * 1000 / 3))
ask "$BKEY" general-assistant "open a third in"
is "$STATUS $(fcount brk-first)" "200 2" "breaker open a third into the ${BRK_COOL} s cool-down: still skipped"
el=$(($(now_ms) - T_OPEN0))
[ "$el" -lt $((BRK_COOL * 1000)) ] && ok "breaker open: those checks ran inside the ${BRK_COOL} s cool-down (${el} ms)" ||
    not_ok "breaker open: those checks ran inside the ${BRK_COOL} s cool-down" "took ${el} ms"
like "$(cat "$HOME_DIR/logs/error.log")" 'provider brk-first skipped: its circuit breaker is open' "breaker open: the skip is logged"

# Half-open, probe fails: the first chat once the cool-down is over probes
# it, then it is open again at once.
sleep_until $((T_OPEN + BRK_COOL * 1000 + 10))
T_PROBE=$(now_ms) # it opens again after this
ask "$BKEY" general-assistant "probe that fails"
T_REOPEN=$(now_ms) # and before this
is "$STATUS $(json .modelUsed)" "200 model-second" "after the cool-down: a failing probe, the second answers"
is "$(fcount brk-first)" 3 "after the cool-down: the next chat is the probe that reaches the first provider"
for i in 1 2 3 4 5; do ask "$BKEY" general-assistant "reopened $i"; done
is "$(fcount brk-first)" 3 "a failed probe opens the breaker again at once (5 chats, no more requests)"
el=$(($(now_ms) - T_PROBE))
[ "$el" -lt $((BRK_COOL * 1000)) ] && ok "reopened: those chats ran inside the new ${BRK_COOL} s cool-down (${el} ms)" ||
    not_ok "reopened: those chats ran inside the new ${BRK_COOL} s cool-down" "took ${el} ms"
like "$(cat "$HOME_DIR/logs/error.log")" 'provider brk-first failed its half-open probe' "the failed probe is logged"

# Half-open, probe succeeds: among parallel chats exactly one probes; the
# first provider holds it until the other seven were answered (or 20 s),
# then answers it. After that the breaker is closed.
half_open_settled() {
    local n
    n=$(par_answered)
    [ "$n" -ge 8 ] || { [ "$n" -ge 7 ] && [ "$(fcount brk-first)" -ge 4 ]; }
}
fmode brk-first hold
sleep_until $((T_REOPEN + BRK_COOL * 1000 + 10))
par_start "$BKEY" general-assistant 8 "half-open"
wait_for 20 half_open_settled
fmode brk-first ok
par_wait
is "$(fcount brk-first)" 4 "half-open: of 8 parallel chats exactly one probe reached the first provider"
is "$(tally)" "200 model-first x1, 200 model-second x7" "half-open: the probe answered one chat, the others skipped to the second"
ask "$BKEY" general-assistant "closed again"
is "$STATUS $(json .modelUsed)" "200 model-first" "a successful probe closes the breaker: the first provider answers again"
is "$(fcount brk-first)" 5 "closed: the first provider gets the next request"
par_chats "$BKEY" general-assistant 6 "closed parallel"
is "$(sort -u "$T_TMP/par" | tr '\n' ' ')" "200 model-first " "closed: parallel chats (every child) use the first provider again"
no_key_leak "instance B: no provider key in any log or response" "$KEY_FIRST" "$KEY_SECOND"
stop_instance

# ================================================ C: the whole-request deadline
start_fake dl-one hang
start_fake dl-two hang
new_instance sqlite3
cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider dl-one $(furl dl-one) model-dl-one timeout=10s
PAAProvider dl-two $(furl dl-two) model-dl-two timeout=10s
PAAChatDeadline 3s
CONF
start_instance
DKEY=$(keygen deadline --role reader)
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
fo_mark
ask "$DKEY" general-assistant "Anyone there?"
is "$STATUS" 504 "two hanging providers (timeout=10s each), PAAChatDeadline 3s: 504"
in_range "$ELAPSED" 2500 4200 && ok "deadline: the 504 came after ~3 s (${ELAPSED} ms), not 10 or 20" ||
    not_ok "deadline: the 504 came after ~3 s" "took ${ELAPSED} ms"
like "$(header Content-Type)" '^application/problem\+json' "504 is problem+json"
unlike "$BODY" 'dl-one|dl-two|model-dl|127\.0\.0\.1' "504 names no provider"
is "$(jq -r .authorization <<<"$(frec dl-one)")" null "a provider without key= gets no Authorization header"
like "$(fo_rows)" '^dl-one\|timeout\|$' "deadline: the timed-out provider is recorded"
like "$(cat "$HOME_DIR/logs/error.log")" 'deadline reached' "deadline: the error log says the deadline was reached"
stop_instance

# ========== D: refused connections, session expiry, the default rate limit
# The session TTL leaves room for a slow second chat inside it; its end
# is computed from a timestamp taken after the chat that made the session.
TTL=8
DEAD_PORT=$(paa_free_port) || bail "no free port"
start_fake live
KEY_DEAD="sk-dead-$(hexkey 20)"
KEY_LIVE="sk-live-$(hexkey 20)"
new_instance sqlite3
printf 'PAA_TEST_KEY_DEAD=%s\nPAA_TEST_KEY_LIVE=%s\n' "$KEY_DEAD" "$KEY_LIVE" >>"$CONFIG"
cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider dead http://127.0.0.1:$DEAD_PORT/v1 model-dead key=env:PAA_TEST_KEY_DEAD timeout=5s
PAAProvider live $(furl live)/v1 model-live key=env:PAA_TEST_KEY_LIVE
PAAChatSessionTTL ${TTL}s
CONF
start_instance
K1=$(keygen ttl-one --role reader)
K2=$(keygen rate-two --role reader)
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
fo_mark
ask "$K1" tech-support "Is the first one down?"
T_SESSION=$(now_ms) # the session expires by the second of this + TTL
is "$STATUS" 200 "first provider refuses connections: fails over (200)"
is "$(json .modelUsed)" model-live "refused connection: the next provider answers"
[ "$ELAPSED" -lt 2000 ] && ok "refused connection: failed over at once (${ELAPSED} ms)" ||
    not_ok "refused connection: failed over at once" "took ${ELAPSED} ms"
like "$(fo_rows)" '^dead\|connection error.*\|live$' "refused connection: failover recorded"
is "$(jq -r .authorization <<<"$(frec live)")" "Bearer $KEY_LIVE" "refused connection: the next provider gets its own key"
S3=$(json .sessionId)
ask "$K1" tech-support "Still here?" "$S3"
is "$STATUS" 200 "a session inside PAAChatSessionTTL ${TTL}s: 200"
sleep_until "$(secs_after "$T_SESSION" "$TTL")"
ask "$K1" tech-support "And now?" "$S3"
is "$STATUS" 404 "the session once its TTL (${TTL} s) is over: 404"

# default config: 10 chats a minute per key on /api/chat
codes=""
for i in $(seq 1 10); do
    ask "$K2" tech-support "rate $i"
    codes="$codes$STATUS "
done
is "$codes" "200 200 200 200 200 200 200 200 200 200 " "rate limit: 10 chats within a minute: all 200"
ask "$K2" tech-support "rate 11"
is "$STATUS" 429 "rate limit: the 11th chat within a minute for one key: 429"
like "$(header Content-Type)" '^application/problem\+json' "rate limit: 429 is problem+json"
ask "$K1" tech-support "another key"
is "$STATUS" 200 "rate limit: another key is not affected"
no_key_leak "instance D: no provider key in any log or response" "$KEY_DEAD" "$KEY_LIVE"
stop_instance

# ===================================================== PostgreSQL smoke run
if have_pg; then
    start_fake pg-fail fail500
    start_fake pg-ok
    KEY_PG="sk-pg-$(hexkey 20)"
    new_pg
    new_instance pgsql "$PG_PARAMS"
    printf 'PAA_TEST_KEY_PG=%s\n' "$KEY_PG" >>"$CONFIG"
    cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider pg-fail $(furl pg-fail) model-pg-fail key=env:PAA_TEST_KEY_PG
PAAProvider pg-ok $(furl pg-ok) model-pg-ok key=env:PAA_TEST_KEY_PG
CONF
    start_instance
    PKEY=$(keygen pg-user --role reader)
    "$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
        bail "pgsql: persona import failed"
    ask "$PKEY" creative-writer "Write a line"
    is "$STATUS" 200 "pgsql: chat: 200"
    is "$(json .modelUsed)" model-pg-ok "pgsql: failed over to the second provider"
    PS=$(json .sessionId)
    ask "$PKEY" creative-writer "Another line" "$PS"
    is "$STATUS" 200 "pgsql: session continuation: 200"
    is "$(jq -c '[.body.messages[1:][] | .role + ":" + .content]' <<<"$(frec pg-ok)")" \
        '["user:Write a line","assistant:pg-ok says: Write a line","user:Another line"]' \
        "pgsql: the history reaches the provider in order"
    is "$(jq -c '[.body.temperature, .body.max_tokens]' <<<"$(frec pg-ok)")" '[0.9,2000]' "pgsql: the persona's temperature and max_tokens"
    ask "$USER1" creative-writer "no such key here" "$PS"
    is "$STATUS" 401 "pgsql: a key of another instance: 401"
    PKEY2=$(keygen pg-other --role reader)
    ask "$PKEY2" creative-writer "Let me in" "$PS"
    is "$STATUS" 404 "pgsql: another key's session: 404"
    PGH=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$PG_PARAMS")
    PGP=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$PG_PARAMS")
    is "$(psql -h "$PGH" -p "$PGP" -U paa -d paa -At -c \
        "SELECT failed_provider || '|' || reason || '|' || answered_by FROM paa_failovers ORDER BY id LIMIT 1" 2>&1)" \
        "pg-fail|HTTP 500|pg-ok" "pgsql: the failover is recorded"
    no_key_leak "pgsql: no provider key in any log or response" "$KEY_PG"
    stop_instance
else
    skip "pgsql chat smoke run" "PostgreSQL 15 server binaries not installed"
fi

done_testing
