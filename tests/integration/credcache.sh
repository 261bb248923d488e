#!/bin/bash
# The credential cache every httpd child shares remembers keys that do not
# exist as well as those that do, and the database's change marker (moved
# by triggers, whoever writes the tables) keeps it right: a key created
# while its hash was cached as unknown is served by every child within
# 1 s, judged by a round of requests that starts after the deadline. The
# control: a key inserted without moving the marker (triggers dropped)
# stays refused, so it is the marker, not a short life, that makes the
# difference; moving the marker by hand then lets it in within 1 s too.
. "$PAA_SRCDIR/tests/integration/lib.sh"

# served_after T0 WHAT CRED...: as refused_after (lib.sh), for 200.
served_after() {
    local t0=$1 what=$2 verdict="" started
    shift 2
    while [ -z "$verdict" ]; do
        started=$(($(now_ms) - t0))
        if all_are 200 "$@"; then
            verdict=served
        elif [ "$started" -ge 1000 ]; then
            verdict=refused
        else
            sleep 0.05
        fi
    done
    [ "$verdict" = served ] &&
        ok "$what: served by every child (a round started ${started} ms after the change)" ||
        not_ok "$what: served by every child within 1 s" \
            "a round started ${started} ms after: $(statuses "$@" | sort | uniq -c | tr '\n' ' ')"
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
    served_after "$t0" "$db: a key created while cached as unknown" "$k1"

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
    served_after "$t0" "$db: ... and once the marker moves" "$k2"
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
    PGH=$(printf '%s' "$PG_PARAMS" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
    PGP=$(printf '%s' "$PG_PARAMS" | sed -n 's/.*port=\([^ ]*\).*/\1/p')
    db_sql() { paa_pg_run "$PAA_PG_BINDIR/psql" -h "$PGH" -p "$PGP" -U paa -d paa -qAt -c "$1"; }
    without_triggers() {
        db_sql "BEGIN; ALTER TABLE paa_api_keys DISABLE TRIGGER paa_keys_changed; $1;
                ALTER TABLE paa_api_keys ENABLE TRIGGER paa_keys_changed; COMMIT;"
    }
    new_instance pgsql "$PG_PARAMS"
    start_instance
    check pgsql
    stop_instance
else
    skip "pgsql credential cache" "PostgreSQL 15 is not installed"
fi

done_testing
