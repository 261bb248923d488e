#!/bin/bash
# PAAConsentRequired on a real httpd, SQLite and PostgreSQL: a user who has
# not accepted the terms version in force gets a 403 problem of type
# urn:mod-paa:problem:consent-required on chat and MCP tool calls (nothing
# else), until POST /api/me/consent with that version; acceptance is
# audited once, is in the export, is per user and per version, and API
# keys (clients, not people) are never asked. Bad input is a 400.
. "$PAA_SRCDIR/tests/integration/lib.sh"

paactl() { "$PAACTL" --config "$CONFIG" "$@"; }
TYPE=urn:mod-paa:problem:consent-required
MCP_CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_personas","arguments":{}}}'
mcp() {
    http POST /api/mcp -H "$1" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -d "$MCP_CALL"
}
chat() {
    http POST /api/chat -H "$1" -H 'Content-Type: application/json' \
        -d '{"agent_id":"nobody-here","question":"hi"}'
}
consent() {
    http POST /api/me/consent -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' -d "$2"
}

suite() {
    DB=$1
    new_db_instance "$DB"
    echo "PAAConsentRequired 2026-01" >"$HOME_DIR/conf.d/consent.conf"
    start_instance
    A=$(printf '%s\n' 'alice-password-123' | paactl user add alice 2>/dev/null)
    B=$(printf '%s\n' 'bob-password-12345' | paactl user add bob 2>/dev/null)
    KEY=$(paactl keygen --name client 2>/dev/null)
    [ -n "$A" ] && [ -n "$B" ] && [ -n "$KEY" ] || bail "$DB: setup failed"
    TA=$(paactl token issue --sub alice --ttl 10m 2>/dev/null)
    TB=$(paactl token issue --sub bob --ttl 10m 2>/dev/null)

    chat "Authorization: Bearer $TA"
    is "$STATUS:$(json .type)" "403:$TYPE" "$DB: chat without consent: 403, type $TYPE"
    like "$(header Content-Type)" '^application/problem\+json' "$DB: ... a problem document"
    like "$(json .detail)" 'version 2026-01.*POST /api/me/consent' "$DB: ... saying what to do"
    mcp "Authorization: Bearer $TA"
    is "$STATUS:$(json .type)" "403:$TYPE" "$DB: an MCP tool call without consent: 403"
    http GET /api/personas -H "Authorization: Bearer $TA"
    is "$STATUS" 200 "$DB: ... other endpoints are not gated"
    mcp "X-API-Key: $KEY"
    is "$STATUS" 200 "$DB: an API key is never asked for consent"
    http GET /api/me/consent -H "Authorization: Bearer $TA"
    is "$STATUS:$(json .required):$(json .accepted)" "200:2026-01:false" "$DB: GET /api/me/consent: not yet"

    consent "$TA" '{"version":"2025-01"}'
    is "$STATUS:$(json '.errors[0].field')" "400:version" "$DB: another version: 400 naming version"
    consent "$TA" '{"version":"2026-01","extra":1}'
    is "$STATUS:$(json '.errors[0].field')" "400:extra" "$DB: an unknown field: 400"
    consent "$TA" '{"version":1}'
    is "$STATUS" 400 "$DB: a version that is not a string: 400"
    consent "$TA" 'not json'
    is "$STATUS" 400 "$DB: not JSON: 400"
    http POST /api/me/consent -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -d '{"version":"2026-01"}'
    is "$STATUS" 403 "$DB: an API key cannot consent: 403"
    http POST /api/me/consent -H 'Content-Type: application/json' -d '{"version":"2026-01"}'
    is "$STATUS" 401 "$DB: no credentials: 401"
    is "$(sql "SELECT count(*) FROM paa_consents")" 0 "$DB: ... none of these recorded anything"

    consent "$TA" '{"version":"2026-01"}'
    is "$STATUS:$(json .accepted)" "201:true" "$DB: alice accepts 2026-01: 201"
    consent "$TA" '{"version":"2026-01"}'
    is "$STATUS" 200 "$DB: accepting again: 200, nothing new"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE event = 'consent.accept' AND subject = '$A'")" 1 \
        "$DB: ... audited once as consent.accept"
    mcp "Authorization: Bearer $TA"
    is "$STATUS:$(json '.result.isError // false')" "200:false" "$DB: her MCP tool call now works"
    chat "Authorization: Bearer $TA"
    isnt_type=$(json .type)
    is "$STATUS $isnt_type" "404 about:blank" "$DB: her chat passes the consent check (404: no such agent)"
    chat "Authorization: Bearer $TB"
    is "$STATUS:$(json .type)" "403:$TYPE" "$DB: bob has not consented: still 403"
    http GET /api/me/export -H "Authorization: Bearer $TA"
    is "$(json '.consents[0].version')" 2026-01 "$DB: her consent is in her export"
    http GET /api/me/export -H "Authorization: Bearer $TB"
    is "$(json '.consents | length')" 0 "$DB: ... not in bob's"

    # A new version of the terms asks again.
    stop_instance
    echo "PAAConsentRequired 2026-02" >"$HOME_DIR/conf.d/consent.conf"
    start_instance
    mcp "Authorization: Bearer $TA"
    is "$STATUS:$(json .type)" "403:$TYPE" "$DB: a new terms version: asked again"

    http DELETE /api/me -H "Authorization: Bearer $TA"
    is "$STATUS" 204 "$DB: alice erases herself"
    is "$(sql "SELECT count(*) FROM paa_consents WHERE principal = '$A'")" 0 "$DB: ... her consent record goes too"
    stop_instance
}

suite sqlite3
if have_pg; then
    suite pgsql
else
    skip "consent on PostgreSQL" "PostgreSQL 15 is not installed"
fi

done_testing
