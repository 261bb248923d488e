#!/bin/bash
# API key uses are written off the request path: a successful
# authentication only counts the use in memory the node's children share,
# and a background thread writes last-used times and key.use records (one
# per key, client address and window, with its count) in batches, and at
# a child's exit. So requests are answered while another process holds the
# SQLite write lock, nothing fails on the request path, the batch waits
# for the lock, and every use is in the audit trail
# once the server has stopped: the counts add up to the requests made.
. "$PAA_SRCDIR/tests/integration/lib.sh"

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" 2>/dev/null; }
# uses N KEY: N authenticated requests on 4 connections at a time, so that
# several children count them; prints how many were answered 200.
uses() {
    local n=$1 key=$2
    seq 1 "$n" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
        --max-time 60 -H "X-API-Key: $key" "$BASE/api/me" | grep -c '^200$'
}

# check_counts DB KID N: after a stop, the key.use records of KID add up
# to N uses, each in the documented shape.
check_counts() {
    local db=$1 kid=$2 n=$3 rows
    rows=$(db_sql "SELECT subject || '|' || key_id || '|' || client_ip || '|' || outcome || '|' || detail
                   FROM paa_audit WHERE event = 'key.use' AND key_id = '$kid'")
    is "$(awk -F'uses=' '{split($2, a, " "); n += a[1]} END {print n + 0}' <<<"$rows")" "$n" \
        "$db: after the stop, the key.use records count every one of the $n uses"
    unlike "$(grep -Ev "^$kid\|$kid\|127\.0\.0\.1\|success\|uses=[1-9][0-9]* last=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" <<<"$rows")" . \
        "$db: each record names the key and the address, with uses=N last=TIME"
    # The last-used time is kept to within 5 minutes (PAA_LAST_USED_STEP).
    is "$(db_sql "SELECT count(*) FROM paa_audit WHERE event = 'key.use' AND key_id = '$kid' AND at > (SELECT last_used_at + 300 FROM paa_api_keys WHERE id = '$kid')")" 0 \
        "$db: no record starts more than 5 minutes after the key's last-used time"
}

# apart DB KID: the children of a node count in one table, so the windows
# of a key and address never overlap (each child counting its own made
# one record per child for the same minute). Judged only when the access
# log shows that more than one child answered.
apart() {
    local db=$1 kid=$2 children at detail end prev=0 bad="" rows
    children=$(sort -u "$HOME_DIR/logs/pids.log" | wc -l)
    if [ "$children" -lt 2 ]; then
        skip "$db: one record per window for the node" "one child answered every request"
        return
    fi
    # Read first, so that a failed query fails the test (SQL that works on
    # both databases: the "last=" part is cut here).
    rows=$(db_sql "SELECT at || '|' || detail FROM paa_audit
                   WHERE event = 'key.use' AND key_id = '$kid' ORDER BY at") || bad="the query failed;"
    [ -n "$rows" ] || bad="$bad no key.use record;"
    while IFS='|' read -r at detail; do
        end=$(date -u -d "${detail#*last=}" +%s) || bad="$bad no time in \"$detail\";"
        [ "$at" -ge "$prev" ] || bad="$bad window at $at starts before $prev;"
        prev=$end
    done <<<"$rows"
    is "$bad" "" "$db: $children children answered, and the key's windows do not overlap (one record per window for the node)"
}
# The child that answered each request.
log_pids() { echo "CustomLog \"$HOME_DIR/logs/pids.log\" \"%P\"" >"$HOME_DIR/conf.d/pids.conf"; }

last_used() { [ -n "$(db_sql "SELECT last_used_at FROM paa_api_keys WHERE id = '$1'")" ]; }

# -------------------------------------------------------------- SQLite
new_instance sqlite3
log_pids
start_instance
DB="$HOME_DIR/db/paa.db"
db_sql() { sqlite3 "$DB" "$1"; }
KEY=$(keygen batched)
KID=$(db_sql "SELECT id FROM paa_api_keys WHERE name = 'batched'")

# Another process takes the write lock and keeps it until told to commit.
locked() { ! sqlite3 "$DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; }
mkfifo "$T_TMP/lock.in"
sqlite3 "$DB" <"$T_TMP/lock.in" >/dev/null 2>&1 &
FAKE_PIDS+=($!) # stopped by the cleanup if the test ends early
LOCK_PID=$!
exec 7>"$T_TMP/lock.in"
echo "BEGIN IMMEDIATE; UPDATE paa_schema SET applied_at = applied_at;" >&7
wait_for 10 locked || bail "could not take the SQLite write lock"

is "$(uses 20 "$KEY")" 20 "sqlite: 20 requests with the key answered 200 while the database is write-locked"
locked && ok "sqlite: ... and the lock was still held when they were answered" ||
    not_ok "sqlite: the lock was held during the requests"
unlike "$(grep -F '[client ' "$HOME_DIR/logs/error.log")" 'database statement|PAA0010[36]' \
    "sqlite: no statement was run, let alone failed, on the request path"
is "$(db_sql "SELECT coalesce(last_used_at, 'never') FROM paa_api_keys WHERE id = '$KID'")" never \
    "sqlite: nothing written while the lock is held"

echo "COMMIT;" >&7
exec 7>&-
wait "$LOCK_PID" 2>/dev/null
wait_for 30 last_used "$KID" && ok "sqlite: once the lock is released, the batch sets last_used_at" ||
    not_ok "sqlite: last_used_at set after the lock is released" "still empty after 30 s"
is "$(uses 15 "$KEY")" 15 "sqlite: 15 more requests"
stop_instance
check_counts sqlite "$KID" 35
apart sqlite "$KID"

# ---------------------------------------------------------- PostgreSQL
if have_pg; then
    new_pg
    db_sql() { pg_sql "$1"; }
    new_instance pgsql "$PG_PARAMS"
    log_pids
    start_instance
    KEY=$(keygen batched-pg)
    KID=$(db_sql "SELECT id FROM paa_api_keys WHERE name = 'batched-pg'")
    is "$(uses 25 "$KEY")" 25 "pgsql: 25 requests with the key answered 200"
    wait_for 30 last_used "$KID" && ok "pgsql: the background write sets last_used_at" ||
        not_ok "pgsql: last_used_at set" "still empty after 30 s"
    stop_instance
    check_counts pgsql "$KID" 25
    apart pgsql "$KID"
else
    skip "pgsql key uses" "PostgreSQL 15 is not installed"
fi

done_testing
