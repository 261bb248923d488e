#!/bin/bash
# GET /api/admin/audit/logs on SQLite and PostgreSQL: each filter (event and
# event family, subject, key with its rotation, client address in any
# spelling, since and until as Unix seconds, ISO 8601 with a zone or a
# date), paging with totals that agree with the pages, newest first, a 400
# naming each bad parameter (never a filter silently ignored), 401 without
# credentials, 403 without role admin, 405 for other methods.
# And the scanner case: anonymous requests were each written to the audit
# table and logged as errors, so a scan could fill the database; now they
# are logged at info and not audited, while a bad key still is both.
. "$PAA_SRCDIR/tests/integration/lib.sh"

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
key_id() { "$PAACTL" --config "$CONFIG" list --json | jq -r ".[] | select(.name == \"$1\") | .id"; }
jc() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null || echo invalid-json; }
fields() { json '[.errors[]?.field] | sort | join(",")'; }
# logs QUERY [KEY]: GET /api/admin/audit/logs?QUERY as the admin (or KEY;
# "" sends no credentials)
logs() {
    local key=${2-$ADMIN} args=()
    [ -n "$key" ] && args+=(-H "X-API-Key: $key")
    http GET "/api/admin/audit/logs${1:+?$1}" "${args[@]+"${args[@]}"}"
}
# total QUERY: N is the total the API reports for QUERY (BODY is its
# answer); not in a subshell, so that the next check reads the same BODY.
total() {
    logs "$1"
    if [ "$STATUS" = 200 ]; then N=$(json .total); else N="status $STATUS: $BODY"; fi
}
# rejects DESC QUERY FIELDS: 400 problem+json whose errors name FIELDS
rejects() {
    logs "$2"
    is "$STATUS:$(fields)" "400:$3" "$DB: $1 -> 400 naming $3"
    like "$(header Content-Type)" '^application/problem\+json' "$DB: $1: problem+json"
}

# The seed: 25 records one second apart from T0 (2020-09-13T12:26:40Z),
# long before anything the server itself records.
T0=1600000000
KA=key_aaaaaaaaaaaaaaaa
KB=key_bbbbbbbbbbbbbbbb
KC=key_cccccccccccccccc
seed_sql() {
    local i ev subj key client
    echo "BEGIN;"
    for i in $(seq 0 24); do
        ev=seed.alpha
        [ $((i % 2)) = 1 ] && ev=seed.beta
        subj="usr_s$((i % 3))"
        key=$KB
        [ $((i % 5)) = 0 ] && key=$KA
        client="192.0.2.$((i % 4))"
        [ "$i" -ge 20 ] && client="2001:db8::1"
        echo "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id, client_ip, detail)" \
            "VALUES ($((T0 + i)), '$ev', 'success', 'os:seed', '$subj', '$key', '$client', 'n=$i');"
    done
    # KA's rotation is recorded under its successor KC, 100 s later.
    echo "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id, client_ip, detail)" \
        "VALUES ($((T0 + 100)), 'key.rotate', 'success', 'os:seed', 'svc', '$KC', '', 'rotated_from=$KA grace=24h');"
    echo "COMMIT;"
}
W="since=$T0&until=$((T0 + 25))" # the 25 seed records

suite() {
    DB=$1
    new_db_instance "$DB"
    # This test makes far more than 100 requests a minute from one address.
    printf '<Location "/">\n    PAARateLimit Off\n</Location>\n' >"$HOME_DIR/conf.d/norl.conf"
    start_instance
    ADMIN=$(keygen admin --role admin)
    READER=$(keygen reader --role reader)
    [ -n "$ADMIN" ] && [ -n "$READER" ] || bail "$DB: keygen failed"
    sql "$(seed_sql)" >/dev/null || bail "$DB: cannot seed the audit table"

    # ------------------------------------------------------ who may read
    logs "" ""
    is "$STATUS" 401 "$DB: no credentials: 401"
    like "$(header WWW-Authenticate)" 'realm="paa"' "$DB: ... with a challenge"
    logs "" "$READER"
    is "$STATUS" 403 "$DB: role reader: 403"
    like "$(header Content-Type)" '^application/problem\+json' "$DB: ... a problem document"
    printf '%s\n' 'an-admin-password-1' |
        "$PAACTL" --config "$CONFIG" user add boss --role admin >/dev/null 2>&1
    TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub boss --ttl 10m 2>/dev/null)
    http GET "/api/admin/audit/logs?$W" -H "Authorization: Bearer $TOKEN"
    is "$STATUS:$(json .total)" "200:25" "$DB: an admin user's JWT: 200"
    http POST "/api/admin/audit/logs" -H "X-API-Key: $ADMIN"
    is "$STATUS:$(header Allow)" "405:GET, HEAD" "$DB: POST: 405, Allow: GET, HEAD"

    # --------------------------------------------------- shape and order
    logs ""
    is "$STATUS" 200 "$DB: admin, no filter: 200"
    is "$(jc '.items[0] | keys')" \
        '["actor","at","clientIp","detail","event","id","keyId","outcome","subject"]' \
        "$DB: a record has id, at, event, outcome, actor, subject, keyId, clientIp, detail"
    is "$(jc '[.items[].at] == ([.items[].at] | sort | reverse)')" true "$DB: newest first"
    like "$(json '.items[0].at')" '^20([3-9][0-9]|2[5-9])-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
        "$DB: the newest record is the server's own (not the seed), at in ISO 8601 UTC"
    like "$(json .total)" '^(2[6-9]|[3-9][0-9])$' "$DB: the total counts the seed and the server's records"
    logs "$W&pageSize=1"
    is "$(jc '.items[0] | [.at, .event, .subject, .keyId, .clientIp, .detail, .actor, .outcome]')" \
        "[\"2020-09-13T12:27:04Z\",\"seed.alpha\",\"usr_s0\",\"$KB\",\"2001:db8::1\",\"n=24\",\"os:seed\",\"success\"]" \
        "$DB: the newest seed record, every field"
    logs "event=key.rotate&since=$T0&until=$((T0 + 101))"
    is "$(jc '.items[0] | [.clientIp, .subject]')" '[null,"svc"]' "$DB: an empty column is null"

    # ------------------------------------------------------------ paging
    logs "$W"
    is "$(jc '[.page, .pageSize, .total, .totalPages, (.items | length)]')" '[1,20,25,2,20]' \
        "$DB: page 1 by default, 20 a page, total 25 in 2 pages"
    is "$(json '.items[0].detail + " " + .items[19].detail')" "n=24 n=5" "$DB: page 1 is the newest 20"
    logs "$W&page=2"
    is "$(jc '[.page, .total, (.items | length), .items[0].detail, .items[4].detail]')" \
        '[2,25,5,"n=4","n=0"]' "$DB: page 2 holds the oldest 5"
    logs "$W&page=3"
    is "$(jc '[.total, .totalPages, (.items | length)]')" '[25,2,0]' "$DB: past the last page: no items, same total"
    all=""
    for pg in 1 2 3; do
        logs "$W&pageSize=10&page=$pg"
        all="$all$(jc '[.items[].detail]')"
    done
    logs "$W&pageSize=25"
    is "$(jq -cs 'add' <<<"$all")" "$(jc '[.items[].detail]')" "$DB: pages of 10 add up to the whole, in order"
    is "$(jc '[.pageSize, .totalPages]')" '[25,1]' "$DB: pageSize 25: one page"

    # ----------------------------------------------------------- filters
    total "$W&event=seed.alpha"
    is "$N" 13 "$DB: event=seed.alpha"
    is "$(jc '[.items[].event] | unique')" '["seed.alpha"]' "$DB: ... only that event"
    total "$W&event=seed.*"
    is "$N" 25 "$DB: event=seed.* (a family)"
    total "$W&event=seed."
    is "$N" 0 "$DB: event=seed. is not a family"
    total "$W&subject=usr_s1"
    is "$N" 8 "$DB: subject=usr_s1"
    is "$(jc '[.items[].subject] | unique')" '["usr_s1"]' "$DB: ... only that subject"
    total "$W&key=$KA"
    is "$N" 5 "$DB: key=$KA"
    total "key=$KA&since=$T0&until=$((T0 + 101))"
    is "$N" 6 "$DB: key=$KA with its rotation (recorded under $KC)"
    total "$W&client=192.0.2.1"
    is "$N" 5 "$DB: client=192.0.2.1"
    is "$(jc '[.items[].clientIp] | unique')" '["192.0.2.1"]' "$DB: ... only that address"
    total "$W&client=2001:DB8:0:0::1"
    is "$N" 5 "$DB: client=2001:DB8:0:0::1 finds 2001:db8::1"
    total "$W&client=::ffff:192.0.2.1"
    is "$N" 5 "$DB: client=::ffff:192.0.2.1 finds 192.0.2.1"
    total "$W&client=192.0.2.9"
    is "$N" 0 "$DB: client=192.0.2.9: none"
    total "since=$((T0 + 10))&until=$((T0 + 25))"
    is "$N" 15 "$DB: since (Unix seconds) is inclusive"
    total "since=2020-09-13T12:26:50Z&until=$((T0 + 25))"
    is "$N" 15 "$DB: since in ISO 8601 UTC"
    total "since=2020-09-13T13:26:50%2B01:00&until=$((T0 + 25))"
    is "$N" 15 "$DB: since with +01:00 (encoded)"
    total "since=2020-09-13T13:26:50+01:00&until=$((T0 + 25))"
    is "$N" 15 "$DB: since with +01:00 (a bare +, read as a space)"
    total "since=2020-09-13T07:26:50-05:00&until=$((T0 + 25))"
    is "$N" 15 "$DB: since with -05:00"
    total "since=$T0&until=2020-09-13T12:26:45Z"
    is "$N" 5 "$DB: until is exclusive"
    total "since=2020-09-13&until=2020-09-14"
    is "$N" 26 "$DB: since and until as dates (midnight UTC)"
    total "until=$((T0 + 3))"
    is "$N" 3 "$DB: until alone"
    total "event=seed.beta&client=2001:db8::1&$W"
    is "$N" 2 "$DB: filters combine"
    total "event=seed.beta&subject=usr_s0&key=$KB&client=192.0.2.3&$W"
    is "$N:$(jc '[.items[].detail]')" '1:["n=3"]' "$DB: every filter at once"
    total "subject=nobody&$W"
    is "$N" 0 "$DB: no match: total 0"
    is "$(jc '[.items, .totalPages]')" '[[],0]' "$DB: ... no items, no pages"

    # -------------------------------------------------------------- 400s
    rejects "since=yesterday" "since=yesterday" since
    rejects "until=2026-13-01" "until=2026-13-01" until
    rejects "a time without a zone" "since=2026-11-28T09:30:00" since
    rejects "until before since" "since=$((T0 + 10))&until=$T0" until
    rejects "until equal to since" "since=$T0&until=$T0" until
    rejects "event in capitals" "event=KEY.REVOKE" event
    rejects "an event of 65 characters" "event=$(printf 'e%.0s' $(seq 1 65))" event
    rejects "a wildcard inside an event" "event=key.*.x" event
    rejects "an API key as key" "key=pak_$(printf '0%.0s' $(seq 1 64))" key
    like "$(json .errors[0].message)" "never the key itself" "$DB: ... saying that keys are named by id"
    rejects "a malformed key id" "key=key_123" key
    rejects "an address that is not one" "client=999.1.1.1" client
    rejects "a host name as client" "client=localhost" client
    rejects "a subject that is not UTF-8" "subject=%FF%FE" subject
    rejects "a subject of 201 characters" "subject=$(printf 's%.0s' $(seq 1 201))" subject
    rejects "page=0" "page=0" page
    rejects "pageSize=101" "pageSize=101" pageSize
    rejects "an unknown parameter" "subjct=usr_s1" subjct
    rejects "a long unknown name, cut between characters" \
        "$(printf '%%C3%%A9%.0s' $(seq 1 40))=x" "$(printf 'é%.0s' $(seq 1 32))"
    rejects "a filter given twice" "event=seed.alpha&event=seed.beta" event
    rejects "an empty filter" "event=" event
    rejects "a bad escape" "event=%zz" event
    rejects "several bad parameters" "since=x&client=y&page=-1" "client,page,since"
    is "$(json .status)" 400 "$DB: the problem's status is 400"

    # ------------------------------------------- anonymous and bad keys
    before=$(sql "SELECT count(*) FROM paa_audit")
    info0=$(grep -c 'PAA00503' "$HOME_DIR/logs/error.log")
    err0=$(grep -c 'PAA00501' "$HOME_DIR/logs/error.log")
    : >"$T_TMP/anon.codes"
    for i in $(seq 1 25); do
        curl -s -o /dev/null -w '%{http_code}\n' "$BASE/api/admin/audit/logs" >>"$T_TMP/anon.codes"
        curl -s -o /dev/null -w '%{http_code}\n' "$BASE/api/personas?n=$i" >>"$T_TMP/anon.codes"
    done
    is "$(sort -u "$T_TMP/anon.codes" | tr -d '\n'):$(wc -l <"$T_TMP/anon.codes")" "401:50" \
        "$DB: 50 anonymous requests: 401 each"
    is "$(sql "SELECT count(*) FROM paa_audit")" "$before" "$DB: ... and not one audit record"
    is "$(($(grep -c 'PAA00503: no credentials for "/api/' "$HOME_DIR/logs/error.log") - info0))" 50 \
        "$DB: ... each logged once"
    is "$(grep 'PAA00503' "$HOME_DIR/logs/error.log" | grep -vc '\[paa:info\]')" 0 "$DB: ... at info"
    is "$(grep -c 'PAA00501' "$HOME_DIR/logs/error.log")" "$err0" "$DB: ... and not as authentication errors"
    http GET /api/personas -H "X-API-Key: pak_$(printf 'f%.0s' $(seq 1 64))"
    is "$STATUS" 401 "$DB: an unknown key: 401"
    wait_for 5 test "$(sql "SELECT count(*) FROM paa_audit")" -gt "$before"
    is "$(sql "SELECT count(*) FROM paa_audit WHERE event = 'auth.failure'")" 1 \
        "$DB: ... one auth.failure record"
    total "event=auth.failure&client=127.0.0.1"
    is "$N" 1 "$DB: ... which the API shows"
    is "$(jc '.items[0] | [.outcome, .clientIp]')" '["failure","127.0.0.1"]' "$DB: ... as a failure from 127.0.0.1"
    like "$(grep 'PAA00501' "$HOME_DIR/logs/error.log")" '\[paa:error\].*authentication failure for "/api/personas"' \
        "$DB: ... logged as an error"
    http GET /api/personas -H "Authorization: Basic YTpi"
    is "$STATUS" 401 "$DB: another scheme (Basic): 401"
    total "event=auth.failure"
    is "$N" 2 "$DB: ... audited: credentials were sent"

    stop_instance
}

suite sqlite3
if have_pg; then
    suite pgsql
else
    skip "the audit API on PostgreSQL" "PostgreSQL 15 is not installed"
fi
done_testing
