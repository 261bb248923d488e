#!/bin/bash
# The credential cache every httpd child shares remembers keys that do not
# exist as well as those that do, and the database's change marker (moved
# by triggers, whoever writes the tables) keeps it right: a key created
# while its hash was cached as unknown is served by every child within
# 1 s, judged by a round of requests that starts after the deadline. The
# control: a key inserted without moving the marker (triggers dropped)
# stays refused, so it is the marker, not a short life, that makes the
# difference; moving the marker by hand then lets it in within 1 s too.
# The same for an MCP session ended in the database (not through httpd).
. "$PAA_SRCDIR/tests/integration/lib.sh"

# MCP: a session's owner is cached too, under a marker of its own.
mcp_post() { # KEY SID BODY: the status
    curl -s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: $1" -H "Mcp-Session-Id: $2" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        --data-binary "$3" "$BASE/api/mcp"
}
mcp_session() { # KEY: a new session id
    curl -s -D - -o /dev/null -H "X-API-Key: $1" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' --data-binary \
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' \
        "$BASE/api/mcp" | tr -d '\r' | awk -F': ' 'tolower($1) == "mcp-session-id" {print $2}'
}
mcp_round() { # KEY SID: 4 parallel tools/list, their statuses
    local i
    for i in 1 2 3 4; do mcp_post "$1" "$2" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' & done
    wait
}
mcp_all() { [ "$(mcp_round "$2" "$3" | sort -u)" = "$1" ]; } # WANT KEY SID
# ended_after T0 WHAT KEY SID: the session is refused (404) by a round that
# starts 1 s or more after T0, as refused_after.
ended_after() {
    round_after "$1" "$2: refused by every child" "mcp_round $3 $4 | sort | uniq -c | tr '\n' ' '" \
        mcp_all 404 "$3" "$4"
}

# Keys made in a scratch database, so that their values are known before
# the server's database has them: NAME -> key, and the row to copy.
new_instance sqlite3
SCRATCH="$HOME_DIR/db/paa.db"
SCRATCH_CONFIG=$CONFIG
late_key() { "$PAACTL" --config "$SCRATCH_CONFIG" keygen --name "$1" 2>/dev/null; }
row_of() { sqlite3 -separator "','" "$SCRATCH" "SELECT id, key_hash, prefix, name, created_at FROM paa_api_keys WHERE name = '$1'"; }
insert_sql() { echo "INSERT INTO paa_api_keys (id, key_hash, prefix, name, created_at) VALUES ('$(row_of "$1")')"; }

# check DB: the whole story on one database; db_sql runs SQL on it, and
# without_triggers SQL runs SQL with the key triggers out of the way.
check() {
    local db=$1 k1 k2 t0
    k1=$(late_key "late-$db")
    k2=$(late_key "silent-$db")
    [ -n "$k1" ] && [ -n "$k2" ] || bail "keygen in the scratch database failed"

    all_are 401 "$k1" "$k2" && ok "$db: two keys the database does not have yet: 401" ||
        not_ok "$db: unknown keys refused"
    # Refused again from the cache (and several times, on every child).
    all_are 401 "$k1" "$k2" || not_ok "$db: unknown keys refused again"

    db_sql "$(insert_sql "late-$db")"
    t0=$(now_ms)
    status_after 200 "$t0" "$db: a key created while cached as unknown" "$k1"

    # That change dropped every entry: the second key is cached as unknown
    # again, in the new epoch.
    all_are 401 "$k2" && all_are 401 "$k2" || not_ok "$db: the second key is still unknown"
    without_triggers "$(insert_sql "silent-$db")"
    t0=$(now_ms)
    sleep_until $((t0 + 2500))
    all_are 401 "$k2" && ok "$db: (control) a key inserted without moving the marker is still refused 2.5 s later: the cache, not the database, answered" ||
        not_ok "$db: (control) the unknown key is still cached" "$(statuses "$k2" | sort | uniq -c | tr '\n' ' ')"
    db_sql "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'credentials'"
    t0=$(now_ms)
    status_after 200 "$t0" "$db: ... and once the marker moves" "$k2"

    local sid
    sid=$(mcp_session "$k1")
    [ -n "$sid" ] || bail "$db: no MCP session"
    mcp_all 200 "$k1" "$sid" && mcp_all 200 "$k1" "$sid" &&
        ok "$db: an MCP session serves tools/list on every child" || not_ok "$db: MCP session used"
    db_sql "DELETE FROM paa_mcp_sessions WHERE id = '$sid'"
    ended_after "$(now_ms)" "$db: an MCP session deleted in the database" "$k1" "$sid"
}

# -------------------------------------------------------------- SQLite
new_instance sqlite3
start_instance
DB="$HOME_DIR/db/paa.db"
db_sql() { sqlite3 "$DB" "$1"; }
without_triggers() {
    local t
    t=$(sqlite3 "$DB" "SELECT sql FROM sqlite_master WHERE name = 'paa_keys_added'")
    [ -n "$t" ] || bail "no trigger paa_keys_added"
    sqlite3 "$DB" "BEGIN; DROP TRIGGER paa_keys_added; $1; $t; COMMIT;"
}
check sqlite
stop_instance

# ---------------------------------------------------------- PostgreSQL
if have_pg; then
    new_pg
    db_sql() { pg_sql "$1"; }
    without_triggers() {
        db_sql "BEGIN; ALTER TABLE paa_api_keys DISABLE TRIGGER paa_keys_added; $1;
                ALTER TABLE paa_api_keys ENABLE TRIGGER paa_keys_added; COMMIT;"
    }
    new_instance pgsql "$PG_PARAMS"
    start_instance
    check pgsql
    stop_instance
else
    skip "pgsql credential cache" "PostgreSQL 15 is not installed"
fi

done_testing
