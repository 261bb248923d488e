#!/bin/bash
# paactl purge: the retention policy from the env file (PAA_RETENTION_*),
# on SQLite and PostgreSQL. Old rows of each kind go and recent ones stay,
# expired chat sessions go with their messages, --dry-run counts the same
# rows and changes nothing, the purge is audited with its counts, 'never'
# keeps a kind, and a setting that cannot be read purges nothing.
. "$PAA_SRCDIR/tests/integration/lib.sh"

paactl() { "$PAACTL" --config "$CONFIG" "$@"; }
NOW=$(date +%s)
OLD=$((NOW - 400 * 86400)) # past every default
MID=$((NOW - 120 * 86400)) # past 90d, within 365d

seed_sql() {
    echo "BEGIN;"
    echo "INSERT INTO paa_chat_sessions VALUES ('ses_old', 'usr_a', 'a', $OLD, $((NOW + 3600)));"
    echo "INSERT INTO paa_chat_sessions VALUES ('ses_expired', 'usr_a', 'a', $((NOW - 7200)), $((NOW - 3600)));"
    echo "INSERT INTO paa_chat_sessions VALUES ('ses_live', 'usr_a', 'a', $((NOW - 60)), $((NOW + 3600)));"
    echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_old', 'user', 'q', $OLD);"
    echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_expired', 'user', 'q', $((NOW - 7200)));"
    echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_live', 'user', 'old q', $MID);"
    echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_live', 'user', 'q', $((NOW - 60)));"
    echo "INSERT INTO paa_mcp_sessions VALUES ('mcp_old', 'usr_a', '2025-06-18', $((NOW - 2 * 86400)));"
    echo "INSERT INTO paa_mcp_sessions VALUES ('mcp_live', 'usr_a', '2025-06-18', $((NOW - 60)));"
    echo "INSERT INTO paa_audit (at, event, outcome) VALUES ($OLD, 'old.event', 'success');"
    echo "INSERT INTO paa_audit (at, event, outcome) VALUES ($MID, 'mid.event', 'success');"
    echo "INSERT INTO paa_failovers (at, failed_provider, reason) VALUES ($MID, 'p', 'timeout');"
    echo "INSERT INTO paa_failovers (at, failed_provider, reason) VALUES ($((NOW - 60)), 'p', 'timeout');"
    echo "INSERT INTO paa_login_failures VALUES ('l_old', 'name:x', '192.0.2.1', $((NOW - 2 * 86400)));"
    echo "INSERT INTO paa_login_failures VALUES ('l_new', 'name:x', '192.0.2.1', $((NOW - 60)));"
    echo "COMMIT;"
}
counts() {
    echo "$(sql "SELECT count(*) FROM paa_chat_messages") $(sql "SELECT count(*) FROM paa_chat_sessions")" \
        "$(sql "SELECT count(*) FROM paa_mcp_sessions") $(sql "SELECT count(*) FROM paa_audit WHERE event <> 'purge'")" \
        "$(sql "SELECT count(*) FROM paa_failovers") $(sql "SELECT count(*) FROM paa_login_failures")"
}

suite() {
    DB=$1
    new_db_instance "$DB"
    sql "$(seed_sql)" >/dev/null || bail "$DB: cannot seed"
    is "$(counts)" "4 3 2 2 2 2" "$DB: seeded"

    run paactl purge --bogus
    is "$RC" 2 "$DB: an unknown option is a usage error"
    run paactl purge --help
    is "$RC" 0 "$DB: purge --help exits 0"
    like "$OUT" "PAA_RETENTION_AUDIT" "$DB: ... and names the settings"

    echo "PAA_RETENTION_AUDIT=forever" >>"$CONFIG"
    run paactl purge
    is "$RC" 1 "$DB: an unreadable setting: exit 1"
    like "$ERR" "PAA_RETENTION_AUDIT=forever is not a duration" "$DB: ... naming it"
    is "$(counts)" "4 3 2 2 2 2" "$DB: ... and nothing is purged"
    sed -i '/^PAA_RETENTION_AUDIT=/d' "$CONFIG"

    run paactl purge --dry-run
    is "$RC" 0 "$DB: purge --dry-run exits 0"
    like "$OUT" "chat messages +3 \(dry run" "$DB: ... would delete the old message and the two in dead sessions"
    like "$OUT" "chat sessions +2" "$DB: ... the old and the expired session"
    like "$OUT" "mcp sessions +1" "$DB: ... the MCP session older than a day"
    like "$OUT" "audit records +1" "$DB: ... the audit record older than 365 days"
    like "$OUT" "failovers +1" "$DB: ... the failover older than 90 days"
    like "$OUT" "login attempts +1" "$DB: ... the failed login older than a day"
    is "$(counts)" "4 3 2 2 2 2" "$DB: ... and changes nothing"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE event = 'purge'")" 0 "$DB: ... nor audits"

    run paactl purge
    is "$RC" 0 "$DB: purge exits 0"
    like "$OUT" "chat messages +3$" "$DB: ... reports what went"
    is "$(counts)" "1 1 1 1 1 1" "$DB: ... and only the recent rows of each kind stay"
    is "$(sql "SELECT id FROM paa_chat_sessions")" ses_live "$DB: ... the live session"
    like "$(sql "SELECT actor || ' ' || detail FROM paa_audit WHERE event = 'purge'")" \
        '^os:[^ ]+ chat_messages=3 chat_sessions=2 mcp_sessions=1 audit=1 failovers=1 login_attempts=1$' \
        "$DB: ... audited as purge, with who and the counts"

    printf 'PAA_RETENTION_AUDIT=30d\nPAA_RETENTION_FAILOVERS=never\n' >>"$CONFIG"
    sql "INSERT INTO paa_failovers (at, failed_provider, reason) VALUES ($OLD, 'p', 'x')" >/dev/null
    run paactl purge
    like "$OUT" "audit records +1" "$DB: PAA_RETENTION_AUDIT=30d takes the 120-day record"
    like "$OUT" "failovers +0" "$DB: PAA_RETENTION_FAILOVERS=never keeps a 400-day one"
}

suite sqlite3
if have_pg; then
    suite pgsql
else
    skip "retention on PostgreSQL" "PostgreSQL 15 is not installed"
fi

done_testing
