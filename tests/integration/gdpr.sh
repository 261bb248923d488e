#!/bin/bash
# GET /api/me/export and DELETE /api/me against a real httpd, on SQLite
# and PostgreSQL, with two users (and an API key) whose chat sessions,
# messages, MCP sessions and audit records are interleaved: the export
# holds all of the caller's data and none of anyone else's; erasure
# removes only the caller's, keeps the audit trail under a pseudonym,
# records itself, is idempotent, and refuses API keys.
. "$PAA_SRCDIR/tests/integration/lib.sh"

paactl() { "$PAACTL" --config "$CONFIG" "$@"; }
bearer() { paactl token issue --sub "$1" --ttl 10m 2>/dev/null; }

# seed_sql A B KEY: chat sessions (2 messages each), MCP sessions and
# audit records, alternating between A and B, and one record about B
# with A as the actor.
seed_sql() {
    local i who
    echo "BEGIN;"
    for i in 1 2 3 4 5 6; do
        who=$([ $((i % 2)) = 1 ] && echo "$1" || echo "$2")
        echo "INSERT INTO paa_chat_sessions VALUES ('ses_$i', '$who', 'a', 100$i, 9999999999);"
        echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_$i', 'user', 'question $i of $who', 100$i);"
        echo "INSERT INTO paa_chat_messages (session_id, role, content, at) VALUES ('ses_$i', 'assistant', 'answer $i to $who', 100$i);"
        echo "INSERT INTO paa_mcp_sessions VALUES ('mcp_$i', '$who', '2025-06-18', 100$i);"
        echo "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id, client_ip, detail)" \
            "VALUES (100$i, 'seed.event', 'success', '$who', '', '', '192.0.2.$i', 'n=$i');"
    done
    echo "INSERT INTO paa_chat_sessions VALUES ('ses_k', '$3', 'a', 1007, 9999999999);"
    echo "INSERT INTO paa_revoked_tokens (jti, user_id, expires_at, revoked_at, reason)" \
        "VALUES ('jti_a', '$1', 9999999999, 1009, 'phone lost'), ('jti_b', '$2', 0, 1009, 'of bob');"
    echo "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id, client_ip, detail)" \
        "VALUES (1008, 'user.roles', 'success', '$1', '$2', '', '192.0.2.8', 'by A about B');"
    echo "COMMIT;"
}

suite() {
    DB=$1
    new_db_instance "$DB"
    start_instance
    A=$(printf '%s\n' 'alice-password-123' | paactl user add alice 2>/dev/null)
    B=$(printf '%s\n' 'bob-password-12345' | paactl user add bob 2>/dev/null)
    KEY=$(paactl keygen --name exporter --client ci 2>/dev/null)
    KID=$(paactl list --json 2>/dev/null | jq -r '.[] | select(.name == "exporter") | .id')
    [ -n "$A" ] && [ -n "$B" ] && [ -n "$KEY" ] && [ -n "$KID" ] || bail "$DB: setup failed"
    sql "$(seed_sql "$A" "$B" "$KID")" >/dev/null || bail "$DB: cannot seed"
    TA=$(bearer alice)
    TB=$(bearer bob)

    # ------------------------------------------------------------ export
    http GET /api/me/export
    is "$STATUS" 401 "$DB: export without credentials: 401"
    http GET /api/me/export -H "Authorization: Bearer $TA"
    is "$STATUS" 200 "$DB: alice's export: 200"
    like "$(header Content-Type)" '^application/json' "$DB: ... JSON"
    is "$(json '.principal.id + " " + .user.username')" "$A alice" "$DB: ... her user record"
    is "$(json '.user | has("password_hash") or has("passwordHash")')" false "$DB: ... without the password hash"
    is "$(json '[.chatSessions[].id] | join(",")')" "ses_1,ses_3,ses_5" "$DB: ... her chat sessions only"
    is "$(json '[.chatSessions[].messages[].content] | length')" 6 "$DB: ... with their messages"
    is "$(json '[.mcpSessions[].id] | join(",")')" "mcp_1,mcp_3,mcp_5" "$DB: ... her MCP sessions"
    is "$(json '[.revokedTokens[] | .jti + " " + .reason + " " + (.revokedAt | tostring)] | join(",")')" \
        "jti_a phone lost 1970-01-01T00:16:49Z" "$DB: ... the revocation of a token of hers"
    is "$(json '[.audit[] | select(.event == "seed.event")] | length')" 3 "$DB: ... her audit records"
    is "$(json '[.audit[] | select(.event == "user.roles")][0].subject')" "another principal" \
        "$DB: ... a record she made about bob does not name him"
    unlike "$BODY" "$B|of bob|to bob|192\.0\.2\.[246]|ses_2|mcp_2|jti_b" "$DB: ... nothing of bob's anywhere"
    is "$(json '.apiKey')" null "$DB: ... no API key (keys are not linked to users)"

    # A long history: 3000 messages of 1 kB, streamed page by page.
    if [ "$DB" = pgsql ]; then
        sql "INSERT INTO paa_chat_messages (session_id, role, content, at)
             SELECT 'ses_1', 'user', 'bulk ' || g || ' ' || repeat('x', 1000), 2000 + g
             FROM generate_series(1, 3000) AS g" >/dev/null
    else
        sql "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 3000)
             INSERT INTO paa_chat_messages (session_id, role, content, at)
             SELECT 'ses_1', 'user', 'bulk ' || n || ' ' || printf('%.1000c', 'x'), 2000 + n FROM g" >/dev/null
    fi
    http GET /api/me/export -H "Authorization: Bearer $TA"
    is "$STATUS:$(json '[.chatSessions[0].messages[].content | select(startswith("bulk"))] | length')" "200:3000" \
        "$DB: a 3 MB history is exported whole, as valid JSON"
    is "$(json '[.chatSessions[0].messages[].content | select(startswith("bulk")) | split(" ")[1] | tonumber] == [range(1; 3001)]')" \
        true "$DB: ... in order, none lost or repeated across pages"
    sql "DELETE FROM paa_chat_messages WHERE content LIKE 'bulk %'" >/dev/null

    http HEAD /api/me/export -H "Authorization: Bearer $TA"
    is "$STATUS:$BODY" "200:" "$DB: HEAD: 200, no body"
    http POST /api/me/export -H "Authorization: Bearer $TA"
    is "$STATUS:$(header Allow)" "405:GET, HEAD" "$DB: POST: 405"

    http GET /api/me/export -H "X-API-Key: $KEY"
    is "$STATUS:$(json .apiKey.id):$(json .principal.method)" "200:$KID:api-key" \
        "$DB: an API key's export: its metadata"
    is "$(json '[.chatSessions[].id] | join(",")')" "ses_k" "$DB: ... and its own chat session"
    is "$(json '.user')" null "$DB: ... no user record"
    unlike "$BODY" "key_hash|$KEY" "$DB: ... never the key or its hash"

    # ------------------------------------------------------------- erase
    http DELETE /api/me -H "X-API-Key: $KEY"
    is "$STATUS" 403 "$DB: an API key cannot erase itself: 403"
    like "$(json .detail)" "only a user account" "$DB: ... saying why"
    is "$(sql "SELECT count(*) FROM paa_chat_sessions WHERE principal = '$KID'")" 1 \
        "$DB: ... and nothing is erased"
    http DELETE /api/me
    is "$STATUS" 401 "$DB: erase without credentials: 401"

    http DELETE /api/me -H "Authorization: Bearer $TA"
    is "$STATUS:$BODY" "204:" "$DB: alice erases herself: 204"
    is "$(sql "SELECT count(*) FROM paa_chat_sessions WHERE principal = '$A'")" 0 "$DB: ... her chat sessions are gone"
    is "$(sql "SELECT count(*) FROM paa_chat_messages WHERE content LIKE '%alice%' OR content LIKE '%$A%'")" 0 \
        "$DB: ... and her messages"
    is "$(sql "SELECT count(*) FROM paa_mcp_sessions WHERE principal = '$A'")" 0 "$DB: ... and her MCP sessions"
    is "$(sql "SELECT count(*) FROM paa_users WHERE id = '$A'")" 0 "$DB: ... and her account"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE actor = '$A' OR subject = '$A'")" 0 \
        "$DB: ... no audit record names her"
    PS=$(sql "SELECT subject FROM paa_audit WHERE event = 'user.erase'")
    like "$PS" '^erased:[0-9a-f]{24}$' "$DB: ... the erasure is audited under a pseudonym"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE actor = '$PS' AND event = 'seed.event'")" 3 \
        "$DB: ... her audit records are kept under the same pseudonym"
    is "$(sql "SELECT count(*) FROM paa_chat_sessions WHERE principal = '$B'")" 3 "$DB: ... bob's sessions are kept"
    is "$(sql "SELECT count(*) FROM paa_chat_messages WHERE content LIKE '%of $B'")" 3 "$DB: ... and his messages"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE subject = '$B' AND actor = '$PS'")" 1 \
        "$DB: ... the record about bob is kept, alice pseudonymised"

    http DELETE /api/me -H "Authorization: Bearer $TA"
    like "$STATUS" '^(204|401)$' "$DB: erasing again: 204 (nothing left) or 401 (token refused)"
    # A verified token is remembered for PAA_AUTHCACHE_TTL (500 ms).
    sleep 1
    http DELETE /api/me -H "Authorization: Bearer $TA"
    is "$STATUS" 401 "$DB: her token no longer authenticates (the user is gone)"
    is "$(sql "SELECT count(*) FROM paa_users")" 1 "$DB: ... and bob is still there"
    http GET /api/me/export -H "Authorization: Bearer $TB"
    is "$STATUS:$(json '[.chatSessions[].id] | join(",")')" "200:ses_2,ses_4,ses_6" \
        "$DB: bob's export is whole"

    # ------------------------------------------------------------ paactl
    run paactl user export bob
    is "$RC" 0 "$DB: paactl user export bob exits 0"
    BODY=$OUT
    is "$(json '.user.username + " " + ([.chatSessions[].id] | join(","))')" "bob ses_2,ses_4,ses_6" \
        "$DB: ... bob's account and sessions, as the API shows them"
    is "$(json '.principal.method')" admin "$DB: ... exported by an administrator"
    unlike "$OUT" "$A|of alice" "$DB: ... nothing of alice's"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE event = 'user.export' AND subject = '$B' AND actor LIKE 'os:%'")" 1 \
        "$DB: ... audited as user.export"
    run paactl user export nobody
    is "$RC:$OUT" "1:" "$DB: export of an unknown user: exit 1, nothing on stdout"
    like "$ERR" "no user named nobody" "$DB: ... saying so"
    run paactl user export 'bad name'
    is "$RC" 2 "$DB: an invalid user name is a usage error"
    run paactl user erase nobody
    is "$RC" 1 "$DB: erase of an unknown user: exit 1"

    run paactl user erase bob
    is "$RC" 0 "$DB: paactl user erase bob exits 0"
    like "$ERR" "3 chat sessions, 6 messages, 3 MCP sessions" "$DB: ... reporting what it erased"
    PB=$(sql "SELECT subject FROM paa_audit WHERE event = 'user.erase' AND subject <> '$PS'")
    like "$PB" '^erased:[0-9a-f]{24}$' "$DB: ... audited under bob's pseudonym"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE actor = '$B' OR subject = '$B'")" 0 \
        "$DB: ... no audit record names bob"
    is "$(sql "SELECT count(*) FROM paa_chat_sessions") $(sql "SELECT count(*) FROM paa_users")" "1 0" \
        "$DB: ... only the API key's session is left, and no user"
    run paactl user erase bob
    is "$RC" 1 "$DB: erasing bob again: exit 1 (no such user), nothing changes"

    C=$(printf '%s\n' 'carol-password-1234' | paactl user add carol 2>/dev/null)
    sql "INSERT INTO paa_chat_sessions VALUES ('ses_c', '$C', 'a', 1, 9999999999)" >/dev/null
    sql "INSERT INTO paa_audit (at, event, outcome, actor, subject) VALUES (1, 'x', 'success', '$C', '')" >/dev/null
    run paactl user del carol
    is "$RC" 0 "$DB: paactl user del carol exits 0"
    is "$(sql "SELECT count(*) FROM paa_chat_sessions WHERE principal = '$C'")" 0 \
        "$DB: ... and leaves no chat session behind"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE actor = '$C'")" 1 \
        "$DB: ... but keeps the audit records under the id (user erase pseudonymises)"
    stop_instance
}

suite sqlite3
if have_pg; then
    suite pgsql
else
    skip "GDPR export and erase on PostgreSQL" "PostgreSQL 15 is not installed"
fi

done_testing
