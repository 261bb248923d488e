#!/bin/bash
# paactl providers failovers: an operator sees LLM provider failovers
# without SQL. Failovers were only in the paa_failovers table; chats
# through fake providers (one answering 500, one 429, one that answers)
# make real ones, and paactl shows them newest first, by provider, since a
# duration, up to a limit, as a table and as JSON, on SQLite and
# PostgreSQL; usage errors exit 2 before the database is opened.
. "$PAA_SRCDIR/tests/integration/lib.sh"

: "${FAKE_LLM:?set FAKE_LLM to the built tests/tools/fake_llm}"
[ -x "$FAKE_LLM" ] || bail "$FAKE_LLM is not built (make tests/tools/fake_llm)"
furl() { echo "http://127.0.0.1:${FPORT[$1]}"; }
fmode() { curl -s --max-time 5 -X POST --data "$2" "$(furl "$1")/__mode" >/dev/null; }
pctl() { run "$PAACTL" --config "$CONFIG" providers "$@"; }
ask() {
    http POST /api/chat -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
        --data-binary "{\"agent_id\":\"general-assistant\",\"question\":\"$1\"}"
}

# ------------------------------------------------------------ usage errors
# No env file is read: these must fail before it is looked for.
CONFIG=/nonexistent/paa.env
pctl
is "$RC" 2 "providers without a subcommand: exit 2"
like "$ERR" "a subcommand is needed: failovers" "... naming the subcommand"
pctl nope
is "$RC:$OUT" "2:" "an unknown subcommand: exit 2, nothing on stdout"
pctl failovers --limit 0
is "$RC" 2 "--limit 0: exit 2"
pctl failovers --since soon
is "$RC" 2 "--since soon: exit 2"
like "$ERR" "not a duration" "... saying why"
pctl failovers --provider ""
is "$RC" 2 "an empty --provider: exit 2"
pctl failovers extra
is "$RC" 2 "an extra argument: exit 2"
pctl failovers --help
is "$RC" 0 "failovers --help: exit 0"
like "$OUT" "usage: paactl providers failovers" "... with the usage"

start_fake alpha fail500
start_fake beta fail429
start_fake gamma

suite() {
    local db=$1
    if [ "$db" = pgsql ]; then
        new_pg
        new_instance pgsql "$PG_PARAMS"
    else
        new_instance sqlite3
    fi
    cat >"$HOME_DIR/conf.d/providers.conf" <<CONF
PAAProvider alpha $(furl alpha) model-alpha
PAAProvider beta $(furl beta) model-beta
PAAProvider gamma $(furl gamma) model-gamma
# Every chat asks every provider in turn: no breaker opens here.
PAAProviderBreaker 1000 1s
<Location "/api/chat">
    PAARateLimit Off
</Location>
CONF
    start_instance
    KEY=$("$PAACTL" --config "$CONFIG" keygen --name chat --role reader 2>/dev/null)
    "$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
        bail "$db: persona import failed"

    pctl failovers
    is "$RC:$OUT" "0:" "$db: no failovers yet: exit 0, nothing on stdout"
    like "$ERR" "no provider failovers match" "$db: ... a note on stderr"
    pctl failovers --json
    is "$RC:$OUT" "0:[]" "$db: --json: an empty array"

    ask "first"
    is "$STATUS:$(json .modelUsed)" "200:model-gamma" "$db: alpha (500) and beta (429) fail over to gamma"
    fmode beta ok
    ask "second"
    is "$STATUS:$(json .modelUsed)" "200:model-beta" "$db: beta recovered: alpha fails over to beta"
    fmode beta fail429
    fmode gamma fail500
    ask "third"
    is "$STATUS" 502 "$db: nobody answers: 502"

    # Newest first: third (alpha, beta, gamma: none answered), second
    # (alpha -> beta), first (alpha, beta -> gamma). Within a chat the
    # records keep the order providers were asked in, reversed.
    pctl failovers --json
    is "$RC" 0 "$db: failovers --json: exit 0"
    is "$(jq -c '[.[] | [.provider, .answered_by]]' <<<"$OUT")" \
        '[["gamma",null],["beta",null],["alpha",null],["alpha","beta"],["beta","gamma"],["alpha","gamma"]]' \
        "$db: every failover, newest first, with who answered (null: nobody)"
    is "$(jq -c '[.[] | .reason] | unique' <<<"$OUT")" '["HTTP 429","HTTP 500"]' "$db: the reasons, in httpd's words"
    is "$(jq -c '.[0] | keys' <<<"$OUT")" '["answered_by","at","id","node","provider","reason"]' "$db: the JSON fields"
    is "$(jq -r '[.[].node] | unique | join(" ")' <<<"$OUT")" "$(hostname)" "$db: recorded by this node (its host name by default)"
    like "$(jq -r '.[0].at' <<<"$OUT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$db: at is ISO 8601 UTC"
    is "$(jq -c '[.[].id] == ([.[].id] | sort | reverse)' <<<"$OUT")" true "$db: ids descend"

    pctl failovers
    is "$RC" 0 "$db: the table: exit 0"
    is "$(printf '%s\n' "$OUT" | head -n 1 | tr -s ' ')" "TIME PROVIDER ANSWERED BY NODE REASON" "$db: the table's header"
    is "$(printf '%s\n' "$OUT" | sed 1d | awk '{print $2 "/" $3}' | tr '\n' ' ')" \
        "gamma/- beta/- alpha/- alpha/beta beta/gamma alpha/gamma " "$db: one row a failover, - when nobody answered"
    like "$(printf '%s\n' "$OUT" | sed -n 2p)" 'HTTP 500$' "$db: the reason is the last column"

    pctl failovers --provider alpha --json
    is "$(jq -c '[.[] | .answered_by]' <<<"$OUT")" '[null,"beta","gamma"]' "$db: --provider alpha: its three"
    pctl failovers --provider nobody --json
    is "$OUT" "[]" "$db: --provider of no failover: none"
    pctl failovers --limit 2
    is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 2 "$db: --limit 2: two rows"
    like "$ERR" "showing the newest 2 failovers; --limit N shows more" "$db: ... and a note that there may be more"
    pctl failovers --since 1h --json
    is "$(jq length <<<"$OUT")" 6 "$db: --since 1h: all six"
    # An older failover, as if recorded two hours ago, is outside --since 1h.
    if [ "$db" = pgsql ]; then
        pg_sql \
            "UPDATE paa_failovers SET at = at - 7200 WHERE answered_by = 'gamma'"
    else
        sqlite3 "$HOME_DIR/db/paa.db" "UPDATE paa_failovers SET at = at - 7200 WHERE answered_by = 'gamma'"
    fi
    pctl failovers --since 1h --json
    is "$(jq -c '[.[] | .answered_by]' <<<"$OUT")" '[null,null,null,"beta"]' "$db: --since 1h leaves out the older ones"
    pctl failovers --json
    is "$(jq -c '[.[] | .answered_by]' <<<"$OUT")" '[null,null,null,"beta","gamma","gamma"]' "$db: ... which are still there, oldest last"
    stop_instance
    fmode beta fail429
    fmode gamma ok
}

suite sqlite3
if have_pg; then
    suite pgsql
else
    skip "paactl providers failovers on PostgreSQL" "PostgreSQL 15 is not installed"
fi
done_testing
