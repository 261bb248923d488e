#!/bin/bash
# GET /api/personas is answered from a cache in each httpd child, kept
# right by the personas' change marker (schema version 9: triggers move it
# whoever writes paa_personas). A persona changed in the database behind
# httpd's back (SQL, neither the API nor paactl) is served by every child
# within 1 s, judged by the first round of requests that starts after the
# deadline (as status_after in lib.sh). The control: a change made with
# the trigger out of the way is still not served 2.5 s later, so it is the
# marker, not a short life, that makes the difference; moving the marker
# by hand then serves it within 1 s. A change through the API is read back
# by its writer's next request; paactl persona import and a DELETE in SQL
# are seen within 1 s; and a database one migration behind (no personas'
# marker) caches nothing, and caches again once migrated.
# On SQLite and PostgreSQL.
. "$PAA_SRCDIR/tests/integration/lib.sh"

command -v jq >/dev/null || bail "jq is needed"
LIST="/api/personas?pageSize=100"

# name_of ID: the name GET /api/personas gives ID, "absent" when it is not
# listed, "failed" when the request failed.
name_of() {
    local body
    body=$(curl -sf -H "X-API-Key: $KEY" "$BASE$LIST") || { echo failed; return; }
    jq -r --arg id "$1" '[.items[] | select(.id == $id) | .name][0] // "absent"' \
        <<<"$body" 2>/dev/null || echo failed
}
# names ID: name_of ID for 8 parallel requests (so that both children
# answer), one per line.
names() {
    local i
    for i in 1 2 3 4 5 6 7 8; do name_of "$1" & done
    wait
}
# all_named WANT ID: every one of those requests got WANT.
all_named() { [ "$(names "$2" | sort -u)" = "$1" ]; }
# named_after WANT T0 WHAT ID: one test line, ok when every request of a
# round that starts 1 s or more after T0 (ms) lists ID as WANT.
named_after() {
    round_after "$2" "$3: '$1' from every child" "names $4 | sort | uniq -c | tr '\n' ' '" \
        all_named "$1" "$4"
}
# The test polls in rounds of 8 requests, more than the instance's 100 a
# minute per key allow.
unlimited() {
    printf '<Location "/api/personas">\n    PAARateLimit Off\n</Location>\n' \
        >"$HOME_DIR/conf.d/unlimited.conf"
}
persona() { # ID NAME: a valid persona
    printf '{"id":"%s","name":"%s","description":"Cache test.","knowledgeCategory":"general","temperature":0.5,"maxTokens":100}' "$1" "$2"
}

# still_cached T0 OLD NEW WHAT: every child lists OLD from 1 s after T0
# (ms) on (a round that passed early may not have reached every child);
# then a rename to NEW that moves no marker is still not listed 2.5 s
# later, as the cache answered. Sets t0 to the rename's time.
still_cached() {
    local old=$2 new=$3 what=$4
    sleep_until $(($1 + 1000))
    all_named "$old" cache-test && all_named "$old" cache-test ||
        not_ok "$db: $old cached" "$(names cache-test | sort | uniq -c | tr '\n' ' ')"
    silently "UPDATE paa_personas SET name = '$new' WHERE id = 'cache-test'"
    [ "$(sql "SELECT name FROM paa_personas WHERE id = 'cache-test'")" = "$new" ] ||
        bail "$db: the silent UPDATE did not happen"
    t0=$(now_ms)
    sleep_until $((t0 + 2500))
    all_named "$old" cache-test && ok "$db: (control) $what" ||
        not_ok "$db: (control) $what" "$(names cache-test | sort | uniq -c | tr '\n' ' ')"
}

# check DB: the whole story; sql runs SQL on the instance's database and
# silently SQL runs it with the personas' trigger out of the way.
check() {
    local db=$1 t0 r

    KEY=$("$PAACTL" --config "$CONFIG" keygen --name "cache-$db" --role admin 2>/dev/null)
    [ -n "$KEY" ] || bail "$db: keygen failed"
    is "$(sql "SELECT count(*) FROM paa_changes WHERE name = 'personas'")" 1 \
        "$db: the schema has the personas' change marker"
    all_named absent cache-test && all_named absent cache-test ||
        not_ok "$db: no persona cache-test yet"

    # Through the API: the writer's next request sees it, with no wait.
    t0=$(now_ms)
    r=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
        --data-binary "$(persona cache-test Before)" "$BASE/api/personas")
    is "$r" 201 "$db: POST /api/personas"
    is "$(name_of cache-test)" Before "$db: the writer's next GET /api/personas lists the new persona"
    named_after Before "$t0" "$db: the new persona" cache-test

    sql "UPDATE paa_personas SET name = 'Direct' WHERE id = 'cache-test'"
    t0=$(now_ms)
    named_after Direct "$t0" "$db: a persona renamed with SQL UPDATE" cache-test
    still_cached "$t0" Direct Silent \
        "a rename that does not move the marker is still not served 2.5 s later: the cache answered"
    sql "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'personas'"
    t0=$(now_ms)
    named_after Silent "$t0" "$db: ... and once the marker moves" cache-test

    printf '[%s]\n' "$(persona cache-test Imported)" >"$T_TMP/import.json"
    "$PAACTL" --config "$CONFIG" persona import --replace "$T_TMP/import.json" >/dev/null 2>&1 ||
        not_ok "$db: paactl persona import --replace"
    t0=$(now_ms)
    named_after Imported "$t0" "$db: a persona replaced with paactl persona import" cache-test

    sql "DELETE FROM paa_personas WHERE id = 'cache-test'"
    t0=$(now_ms)
    named_after absent "$t0" "$db: a persona deleted with SQL" cache-test

    # One migration behind: no marker row and no triggers.
    r=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
        --data-binary "$(persona cache-test Behind)" "$BASE/api/personas")
    is "$r" 201 "$db: POST /api/personas again"
    t0=$(now_ms)
    unmigrate
    is "$(sql "SELECT max(version) FROM paa_schema")" 8 "$db: the database is back at version 8"
    # Children other than the writer's may list what they cached before
    # the POST until they read the marker: within 1 s.
    named_after Behind "$t0" "$db: version 8: the persona posted just before" cache-test
    # What was cached under the marker is trusted until 0.7 s after the
    # last reading that found it, which started before the row went.
    sleep_until $((t0 + 1000))
    sql "UPDATE paa_personas SET name = 'Unmarked' WHERE id = 'cache-test'"
    all_named Unmarked cache-test &&
        ok "$db: version 8 (no personas' marker): a rename with SQL is served by the next requests: nothing is cached" ||
        not_ok "$db: version 8: nothing cached" "$(names cache-test | sort | uniq -c | tr '\n' ' ')"
    r=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "$BASE/api/me")
    is "$r" 200 "$db: version 8: API keys still authenticate"

    "$PAACTL" --config "$CONFIG" migrate >/dev/null 2>&1 || not_ok "$db: paactl migrate"
    all_named Unmarked cache-test && all_named Unmarked cache-test ||
        not_ok "$db: migrated: listed" "$(names cache-test | sort | uniq -c | tr '\n' ' ')"
    sql "UPDATE paa_personas SET name = 'Migrated' WHERE id = 'cache-test'"
    t0=$(now_ms)
    named_after Migrated "$t0" "$db: migrated again: a rename with SQL" cache-test
    still_cached "$t0" Migrated Quiet "migrated again: the page is cached under the marker again"
}

# -------------------------------------------------------------- SQLite
new_db_instance sqlite3
start_instance unlimited
silently() {
    local t
    t=$(sql "SELECT sql FROM sqlite_master WHERE name = 'paa_personas_changed'")
    [ -n "$t" ] || bail "no trigger paa_personas_changed"
    sql "BEGIN; DROP TRIGGER paa_personas_changed; $1; $t; COMMIT;"
}
# Versions 11 (replacing inserts move credentials), 10 (new keys and
# users move keys_added) and 9 undone.
unmigrate() {
    local bump="UPDATE paa_changes SET serial = serial + 1 WHERE name = 'credentials'"
    sql "DROP TRIGGER paa_api_keys_replaced; DROP TRIGGER paa_users_replaced;
         DROP TRIGGER paa_keys_added; DROP TRIGGER paa_users_added;
         CREATE TRIGGER paa_keys_added AFTER INSERT ON paa_api_keys BEGIN $bump; END;
         CREATE TRIGGER paa_users_added AFTER INSERT ON paa_users BEGIN $bump; END;
         DELETE FROM paa_changes WHERE name = 'keys_added';
         DROP TRIGGER paa_personas_added; DROP TRIGGER paa_personas_changed;
         DROP TRIGGER paa_personas_deleted; DELETE FROM paa_changes WHERE name = 'personas';
         DELETE FROM paa_schema WHERE version >= 9;"
}
check sqlite
stop_instance

# ---------------------------------------------------------- PostgreSQL
if have_pg; then
    new_db_instance pgsql
    start_instance unlimited
    silently() {
        sql "BEGIN; ALTER TABLE paa_personas DISABLE TRIGGER paa_personas_changed; $1;
             ALTER TABLE paa_personas ENABLE TRIGGER paa_personas_changed; COMMIT;" >/dev/null
    }
    unmigrate() {
        local cols="id, key_hash, prefix, name, client, roles, created_at, created_by,
                    expires_at, revoked_at, revoked_reason, rotated_from"
        sql "BEGIN; DROP TRIGGER paa_keys_truncated ON paa_api_keys; DROP TRIGGER paa_users_truncated ON paa_users;
             DROP TRIGGER paa_tokens_truncated ON paa_revoked_tokens;
             DROP TRIGGER paa_keys_added ON paa_api_keys; DROP TRIGGER paa_users_added ON paa_users;
             DROP FUNCTION paa_keys_added(); DROP TRIGGER paa_keys_changed ON paa_api_keys;
             CREATE TRIGGER paa_keys_changed AFTER INSERT OR DELETE OR UPDATE OF $cols ON paa_api_keys
                 FOR EACH STATEMENT EXECUTE FUNCTION paa_credentials_changed();
             DROP TRIGGER paa_users_changed ON paa_users;
             CREATE TRIGGER paa_users_changed AFTER INSERT OR DELETE OR UPDATE ON paa_users
                 FOR EACH STATEMENT EXECUTE FUNCTION paa_credentials_changed();
             DELETE FROM paa_changes WHERE name = 'keys_added';
             DROP TRIGGER paa_personas_changed ON paa_personas;
             DROP FUNCTION paa_personas_changed(); DELETE FROM paa_changes WHERE name = 'personas';
             DELETE FROM paa_schema WHERE version >= 9; COMMIT;" >/dev/null
    }
    check pgsql
    stop_instance
else
    skip "pgsql persona cache" "PostgreSQL 15 is not installed"
fi

done_testing
