#!/bin/bash
# A restart, graceful included, starts with an empty credential cache. The
# first child of the new generation fills it in the background with the
# usable API keys, used or not yet (the most recently used, when there are
# more than it takes), so that every client's first request after a
# restart does not go to the database at once. It puts there what a lookup
# on the request path would: a key revoked before the restart is not put,
# and a warmed key revoked after it is refused within 1 s like any other.
# Judged with mod_status's cache counters: a warmed key's first request
# after the restart is a hit, and (the control, showing the counters see
# it) a key made after the restart is a miss. On SQLite and PostgreSQL.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
[ -f "$MODDIR/mod_status.so" ] || { skip "warm cache" "mod_status.so not in $MODDIR"; done_testing; exit 0; }

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" 2>/dev/null; }
key_id() { sql "SELECT id FROM paa_api_keys WHERE name = '$1'"; }
me() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "X-API-Key: $1" "$BASE/api/me"; }
warmed_lines() { grep -c 'PAA01512' "$HOME_DIR/logs/error.log"; }

check() {
    local db=$1 used unused gone n0 m0 m1 m2 t0
    new_db_instance "$db"
    status_conf >"$HOME_DIR/conf.d/status.conf"
    start_instance
    used=$(keygen used) && unused=$(keygen unused) && gone=$(keygen gone) || bail "$db: keygen failed"
    is "$(me "$used")$(me "$gone")" 200200 "$db: two keys used before the restart"
    was_used() { [ "$(sql "SELECT count(*) FROM paa_api_keys WHERE last_used_at IS NOT NULL")" = 2 ]; }
    wait_for 30 was_used || bail "$db: last-used times not written"
    "$PAACTL" --config "$CONFIG" revoke "$(key_id gone)" --reason test >/dev/null 2>&1 ||
        bail "$db: revoke failed"

    n0=$(warmed_lines)
    graceful
    warmed() { [ "$(warmed_lines)" -gt "$n0" ]; }
    wait_for 30 warmed || bail "$db: the cache was not warmed after the restart"
    like "$(grep 'PAA01512' "$HOME_DIR/logs/error.log" | tail -n 1)" 'warmed with 2 usable API keys' \
        "$db: the new generation warmed its cache with the two usable keys, used or not (not the revoked one)"
    is "$(grep -c 'PAA01512' "$HOME_DIR/logs/error.log")" "$((n0 + 1))" \
        "$db: one child of the generation warmed it, not each"

    m0=$(authcache_misses)
    is "$(me "$used")" 200 "$db: the key used before the restart is served"
    m1=$(authcache_misses)
    is "$m1" "$m0" "$db: ... from the cache: its first request after the restart is a hit"
    is "$(me "$unused")" 200 "$db: a key not used before the restart is served"
    is "$(authcache_misses)" "$m1" "$db: ... from the cache too"
    fresh=$(keygen fresh) || bail "$db: keygen failed"
    is "$(me "$fresh")" 200 "$db: a key made after the restart is served"
    m2=$(authcache_misses)
    is "$m2" "$((m1 + 1))" "$db: ... after a lookup: a miss (control: the counter sees misses)"
    is "$(me "$gone")" 401 "$db: the key revoked before the restart is refused"

    t0=$(now_ms)
    "$PAACTL" --config "$CONFIG" revoke "$(key_id used)" --reason test >/dev/null 2>&1 ||
        bail "$db: revoke failed"
    refused_after "$t0" "$db: the warmed key revoked after the restart" "$used"

    # A new key (schema version 10's keys_added marker) can only make an
    # unknown key known: it drops what is remembered as unknown and keeps
    # the keys in use; a change to a key drops both (the control).
    x="pak_$(openssl rand -hex 32)"
    is "$(me "$unused")" 200 "$db: a key in use (remembered again since the revocation)"
    is "$(me "$x")" 401 "$db: a key not in the database is refused (and remembered as unknown)"
    t0=$(now_ms)
    sql "INSERT INTO paa_api_keys (id, key_hash, prefix, name, created_at)
         VALUES ('key_$(openssl rand -hex 8)', '$(printf %s "$x" | sha256sum | cut -d' ' -f1)',
                 '${x:0:12}', 'inserted', $(date +%s))"
    status_after 200 "$t0" "$db: that key inserted in the database by hand" "$x"
    m0=$(authcache_misses)
    is "$(me "$unused")" 200 "$db: the key in use is served after the insert"
    is "$(authcache_misses)" "$m0" "$db: ... from the cache: a new key did not drop the keys in use"
    t0=$(now_ms)
    "$PAACTL" --config "$CONFIG" revoke "$(key_id inserted)" --reason test >/dev/null 2>&1 ||
        bail "$db: revoke failed"
    refused_after "$t0" "$db: the inserted key revoked" "$x"
    m0=$(authcache_misses)
    is "$(me "$unused")" 200 "$db: the key in use is served after the revocation"
    is "$(authcache_misses)" "$((m0 + 1))" "$db: ... after a lookup (control: a change to a key drops the keys in use)"

    # Read in chunks of 1,000 along the primary key: 2,500 more keys in
    # use (their last uses an hour ago, seven different times), besides
    # 'unused' and 'fresh'. Each is put once: none skipped or read twice
    # where a chunk ends.
    "$PAA_BUILDDIR/tests/tools/bench_fill" keys "$CONFIG" 2500 >"$T_TMP/warm-keys" ||
        bail "$db: bench_fill failed"
    sql "UPDATE paa_api_keys SET last_used_at = $(($(date +%s) - 3600)) + CAST(substr(name, 7) AS INTEGER) % 7
         WHERE name LIKE 'bench-%'"
    n0=$(warmed_lines)
    graceful
    wait_for 30 warmed || bail "$db: the cache was not warmed after the second restart"
    like "$(grep 'PAA01512' "$HOME_DIR/logs/error.log" | tail -n 1)" 'warmed with 2502 usable API keys' \
        "$db: 2,502 usable keys, read in three chunks, warmed each once"
    m0=$(authcache_misses)
    for k in $(sed -n '1p;999,1002p;2000p;2500p' "$T_TMP/warm-keys"); do
        is "$(me "$k")" 200 "$db: a key in use before the restart is served"
    done
    is "$(authcache_misses)" "$m0" "$db: ... all from the cache"

    # Tokens are not stored, but their users are: the warm also puts each
    # enabled user none of whose tokens is revoked, so that a token seen
    # first after a restart needs no lookup. Never a disabled user or one
    # with a revoked token; a logout still refuses the older tokens. A
    # token revoked by its jti alone could be anyone's: the warm records
    # those jtis, and such a token is looked up, never served from the
    # entry of its user (who is warmed).
    adduser() { printf '%s-password-123\n' "$1" | "$PAACTL" --config "$CONFIG" user add "$1" >/dev/null 2>&1; }
    token() { "$PAACTL" --config "$CONFIG" token issue --sub "$1" --ttl 10m 2>/dev/null; }
    bearer() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $1" "$BASE/api/me"; }
    for u in tina ulla vera walt; do adduser "$u" || bail "$db: user add $u failed"; done
    tina1=$(token tina) && tina2=$(token tina) && tina3=$(token tina) && ulla_gone=$(token ulla) &&
        ulla_ok=$(token ulla) && vera1=$(token vera) && walt_old=$(token walt) &&
        tina_gone=$(token tina) || bail "$db: token issue failed"
    "$PAACTL" --config "$CONFIG" token revoke "$ulla_gone" >/dev/null 2>&1 || bail "$db: token revoke failed"
    jti=$("$PAACTL" --config "$CONFIG" token inspect - <<<"$tina_gone" 2>/dev/null | awk '$1 == "jti:" {print $2}')
    "$PAACTL" --config "$CONFIG" token revoke "$jti" >/dev/null 2>&1 || bail "$db: token revoke of a jti failed"
    [ "$(sql "SELECT user_id FROM paa_revoked_tokens WHERE jti = '$jti'")" = "" ] ||
        bail "$db: a jti revoked alone was attributed to a user"
    "$PAACTL" --config "$CONFIG" user disable vera >/dev/null 2>&1 || bail "$db: user disable failed"
    "$PAACTL" --config "$CONFIG" user logout walt >/dev/null 2>&1 || bail "$db: user logout failed"
    t0=$(now_ms)
    sleep_until $((t0 / 1000 * 1000 + 1000)) # a token after the logout's second
    walt_new=$(token walt) || bail "$db: token issue failed"
    n0=$(warmed_lines)
    graceful
    wait_for 30 warmed || bail "$db: the cache was not warmed after the third restart"
    like "$(grep 'PAA01512' "$HOME_DIR/logs/error.log" | tail -n 1)" 'and 2 users' \
        "$db: the warm put the two users whose tokens a lookup accepts (not the disabled one, not the one with a revoked token), a jti revoked alone notwithstanding"
    like "$(grep 'PAA01512' "$HOME_DIR/logs/error.log" | tail -n 1)" 'revoked by jti alone: 1\)' \
        "$db: ... and recorded the one jti revoked alone"
    is "$(bearer "$tina_gone")" 401 "$db: a warmed user's token revoked by its jti alone before the restart is refused"
    is "$(bearer "$tina1")" 200 "$db: a warmed user's token, first seen after the restart, is served"
    is "$(bearer "$walt_new")" 200 "$db: a token issued after its user's logout is served"
    is "$(bearer "$walt_old")" 401 "$db: ... one issued before it is refused (the warm keeps the logout time)"
    is "$(bearer "$ulla_gone")" 401 "$db: the token revoked before the restart is refused"
    is "$(bearer "$ulla_ok")" 200 "$db: ... its user's other token is served (after a lookup)"
    is "$(bearer "$vera1")" 401 "$db: the disabled user's token is refused"
    if [ "$db" = sqlite3 ]; then
        # Without the table a lookup fails (503): a 200 came from the warm.
        ulla_new=$(token ulla) || bail "$db: token issue failed"
        tina_nojti=$("$JWT_MINT" sign --alg HS256 --key "$(paa_env_value "$CONFIG" JWT_SECRET)" --payload \
            "{\"sub\":\"$(sql "SELECT id FROM paa_users WHERE username = 'tina'")\",\"iat\":\"now\",\"exp\":\"now+300\"}") ||
            bail "$db: jwt_mint failed"
        is "$(bearer "$tina_nojti")" 200 "$db: a warmed user's token without a jti is served"
        sql "ALTER TABLE paa_users RENAME TO paa_users_away"
        is "$(bearer "$tina2")" 200 "$db: a warmed user's new token needs no lookup (the users table is gone)"
        is "$(bearer "$ulla_new")" 503 "$db: ... while a new token of a user not warmed needs the table (control)"
        is "$(bearer "$tina_gone")" 503 "$db: ... and so does the warmed user's token revoked by jti alone: looked up, not served from the warm"
        tina_nojti2=$("$JWT_MINT" sign --alg HS256 --key "$(paa_env_value "$CONFIG" JWT_SECRET)" --payload \
            "{\"sub\":\"$(sql "SELECT id FROM paa_users_away WHERE username = 'tina'")\",\"iat\":\"now\",\"exp\":\"now+301\"}") ||
            bail "$db: jwt_mint failed"
        is "$(bearer "$tina_nojti2")" 503 "$db: ... and a token without a jti (looked up as \"\", which a revocation may name)"
        is "$(bearer "$walt_old")" 401 "$db: ... and without it a token from before its user's logout is refused (the entry keeps the logout time)"
        sql "ALTER TABLE paa_users_away RENAME TO paa_users"
        # SQLite statements prepared before the renames do not all
        # survive them: new children, new connections.
        n0=$(warmed_lines)
        graceful
        wait_for 30 warmed || bail "$db: the cache was not warmed after the fourth restart"
    fi
    t0=$(now_ms)
    "$PAACTL" --config "$CONFIG" token revoke "$tina3" >/dev/null 2>&1 || bail "$db: token revoke failed"
    CRED_HEADER="Authorization: Bearer" refused_after "$t0" "$db: a warmed user's token revoked after the restart" "$tina3"
    CRED_HEADER="Authorization: Bearer" status_after 200 "$t0" "$db: ... the user's other tokens still" "$tina1"

    # Changes no UPDATE or DELETE trigger sees (schema version 11).
    if [ "$db" = sqlite3 ]; then
        # INSERT OR REPLACE deletes the row it replaces without its
        # DELETE trigger: tina disabled that way, her cached token too.
        t0=$(now_ms)
        sql "INSERT OR REPLACE INTO paa_users (id, username, password_hash, roles, disabled, created_at,
                 updated_at, tokens_not_before)
             SELECT id, username, password_hash, roles, 1, created_at, updated_at, tokens_not_before
             FROM paa_users WHERE username = 'tina'"
        CRED_HEADER="Authorization: Bearer" refused_after "$t0" \
            "$db: a user disabled by INSERT OR REPLACE (a token served from the cache before)" "$tina1"
    else
        s0=$(sql "SELECT serial FROM paa_changes WHERE name = 'credentials'")
        sql "TRUNCATE paa_revoked_tokens"
        [ "$(sql "SELECT serial FROM paa_changes WHERE name = 'credentials'")" != "$s0" ] &&
            ok "$db: TRUNCATE of the revocations moves the credentials' marker" ||
            not_ok "$db: TRUNCATE of the revocations moves the credentials' marker"
    fi
    stop_instance
}

check sqlite3
if have_pg; then
    check pgsql
else
    skip "pgsql warm cache" "PostgreSQL 15 is not installed"
fi
done_testing
