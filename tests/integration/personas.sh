#!/bin/bash
# Persona CRUD against a real httpd, for SQLite and PostgreSQL: every
# status code of GET/POST/PUT/DELETE /api/personas and GET /api/agents
# (paging with totals, 400/401/403/404/409/415), each field's validation
# boundary on both sides (the 400 names the real field), and paactl
# persona import (skip, --replace, an invalid file changes nothing).
. "$PAA_SRCDIR/tests/integration/lib.sh"

PERSONAS_JSON="$PAA_SRCDIR/conf/personas.json"
keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
# rep N STRING: STRING repeated N times (N may be 0)
rep() { local i out=""; for ((i = 0; i < $1; i++)); do out+=$2; done; printf '%s' "$out"; }
# api METHOD PATH KEY [BODY [CONTENT-TYPE]]: KEY "" sends no credentials
api() {
    local method=$1 path=$2 key=$3 body=${4-} ctype=${5-application/json}
    local args=()
    [ -n "$key" ] && args+=(-H "X-API-Key: $key")
    if [ $# -ge 4 ]; then
        [ -n "$ctype" ] && args+=(-H "Content-Type: $ctype")
        args+=(--data-binary "$body")
    fi
    http "$method" "$path" "${args[@]+"${args[@]}"}"
}
# A valid persona; variants are made with a jq expression applied to it.
VALID='{"id":"val-test","name":"Validation Test","description":"A persona for validation tests.","extraInstructions":"Be terse.","knowledgeCategory":"general","temperature":0.5,"maxTokens":100}'
variant() { jq -c "$1" <<<"$VALID"; }
# jc FILTER: a jq filter on BODY, compact output
jc() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null || echo invalid-json; }
# fields: the fields named by the last problem's errors[], sorted, comma-separated
fields() { json '[.errors[]?.field] | sort | join(",")'; }
# canon: the last body, keys sorted, compact (for before/after comparisons)
canon() { printf '%s' "$BODY" | jq -S -c . 2>/dev/null; }

# expect_invalid DB DESC FIELD JQ [METHOD PATH]: the variant is refused
# with a 400 problem naming exactly FIELD, and nothing is stored.
expect_invalid() {
    local db=$1 desc=$2 field=$3 expr=$4 method=${5:-POST} path=${6:-/api/personas} body id
    # a POST probes an id that does not exist, so "nothing stored" means something
    [ "$method" = POST ] && expr=".id = \"inval-probe\" | $expr"
    body=$(variant "$expr")
    id=$(jq -r '.id // empty | strings' <<<"$body" 2>/dev/null)
    api "$method" "$path" "$ADMIN" "$body"
    is "$STATUS" 400 "$db: $desc -> 400"
    if [ "$STATUS" = 400 ]; then
        like "$(header Content-Type)" '^application/problem\+json' "$db: $desc: problem+json"
        is "$(fields)" "$field" "$db: $desc: errors[] names $field"
    fi
    if [ "$method" = POST ] && [ -n "$id" ] && printf '%s' "$id" | grep -Eq '^[a-z0-9-]{1,50}$'; then
        api GET "/api/personas/$id" "$ADMIN"
        is "$STATUS" 404 "$db: $desc: nothing was stored"
    fi
}
# expect_valid DB DESC JQ: the variant is created (201) and reads back
# exactly as sent; then it is deleted again.
expect_valid() {
    local db=$1 desc=$2 expr=$3 body id
    body=$(variant "$expr")
    id=$(jq -r .id <<<"$body")
    api POST /api/personas "$ADMIN" "$body"
    is "$STATUS" 201 "$db: $desc -> 201"
    [ "$STATUS" = 201 ] || { echo "# body: $BODY"; return; }
    is "$(json '{id,name,description,extraInstructions,knowledgeCategory,temperature,maxTokens} | tojson')" \
        "$(jq -c '{id,name,description,extraInstructions,knowledgeCategory,temperature,maxTokens}' <<<"$body")" \
        "$db: $desc: stored as sent"
    api DELETE "/api/personas/$id" "$ADMIN"
}

suite() {
    local db=$1 t0 before after i ids

    cat >"$HOME_DIR/conf.d/personas.conf" <<'CONF'
# This test makes far more than 100 requests a minute with one key.
<LocationMatch "^/api/(personas|agents)">
    PAARateLimit Off
</LocationMatch>
CONF
    start_instance
    ADMIN=$(keygen admin --role admin)
    READER=$(keygen reader --role reader)
    [ -n "$ADMIN" ] && [ -n "$READER" ] || bail "$db: keygen failed"

    # ------------------------------------------------------ empty store
    api GET /api/personas "$ADMIN"
    is "$STATUS" 200 "$db: GET /api/personas on an empty store: 200"
    is "$(jc '[.items, .total, .page, .pageSize, .totalPages]')" '[[],0,1,20,0]' \
        "$db: empty store: no items, total 0, defaults page 1 / pageSize 20"

    # --------------------------------------------------- paactl import
    out=$("$PAACTL" --config "$CONFIG" persona import "$PERSONAS_JSON" 2>&1)
    is "$?" 0 "$db: paactl persona import conf/personas.json: exit 0"
    like "$out" '4 created, 0 updated, 0 skipped' "$db: import creates the four reference personas"
    out=$("$PAACTL" --config "$CONFIG" persona list --json 2>&1)
    is "$(jq -c '[.[].id]' <<<"$out" 2>/dev/null)" \
        '["creative-writer","general-assistant","tech-support","technical-expert"]' \
        "$db: paactl persona list --json lists them"
    out=$("$PAACTL" --config "$CONFIG" persona import "$PERSONAS_JSON" 2>&1)
    is "$?" 0 "$db: second import: exit 0"
    like "$out" '0 created, 0 updated, 4 skipped' "$db: second import skips the existing ids"
    like "$out" 'persona general-assistant exists: skipped' "$db: second import says which it skipped"

    api GET /api/personas/general-assistant "$ADMIN"
    is "$STATUS" 200 "$db: GET an imported persona: 200"
    is "$(jc '[.name, .temperature, .maxTokens, .knowledgeCategory]')" \
        '["General Assistant",0.7,1000,"general"]' "$db: imported fields as in the file"
    like "$(json .createdAt)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$db: createdAt is ISO 8601 UTC"
    like "$(json .updatedAt)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$db: updatedAt is ISO 8601 UTC"

    # --replace: a persona changed through the API is restored from the file
    api PUT /api/personas/general-assistant "$ADMIN" \
        "$(jq -c '.[0] | .name = "Changed" | .maxTokens = 5' "$PERSONAS_JSON")"
    is "$STATUS" 200 "$db: PUT changes an imported persona"
    out=$("$PAACTL" --config "$CONFIG" persona import "$PERSONAS_JSON" 2>&1)
    api GET /api/personas/general-assistant "$ADMIN"
    is "$(jc '[.name, .maxTokens]')" '["Changed",5]' "$db: import without --replace leaves the changed persona alone"
    out=$("$PAACTL" --config "$CONFIG" persona import "$PERSONAS_JSON" --replace 2>&1)
    is "$?" 0 "$db: import --replace: exit 0"
    like "$out" '0 created, 4 updated, 0 skipped' "$db: import --replace updates the existing ids"
    api GET /api/personas/general-assistant "$ADMIN"
    is "$(jc '[.name, .maxTokens]')" '["General Assistant",1000]' "$db: import --replace restored the file's values"

    # an invalid file changes nothing: one new valid persona, one invalid,
    # and an existing one with another name
    jq -c '[{"id":"import-new","name":"New","description":"d","knowledgeCategory":"x","temperature":1,"maxTokens":10},
            (.[1] | .name = "Should Not Change"),
            (.[2] | .temperature = 3)]' "$PERSONAS_JSON" >"$T_TMP/bad-personas.json"
    out=$("$PAACTL" --config "$CONFIG" persona import "$T_TMP/bad-personas.json" --replace 2>&1)
    is "$?" 1 "$db: import of a file with an invalid persona: exit 1"
    like "$out" 'persona 3: temperature' "$db: the import error names the persona and the field"
    api GET /api/personas/import-new "$ADMIN"
    is "$STATUS" 404 "$db: invalid file: its valid new persona was not created"
    api GET /api/personas/technical-expert "$ADMIN"
    is "$(json .name)" "Technical Expert" "$db: invalid file: an existing persona was not updated"
    printf '[{"id":"import-new",' >"$T_TMP/broken.json"
    out=$("$PAACTL" --config "$CONFIG" persona import "$T_TMP/broken.json" 2>&1)
    is "$?" 1 "$db: import of a file that is not JSON: exit 1"
    printf '{"id":"import-new"}' >"$T_TMP/object.json"
    out=$("$PAACTL" --config "$CONFIG" persona import "$T_TMP/object.json" 2>&1)
    is "$?" 1 "$db: import of a JSON object instead of an array: exit 1"
    api GET /api/personas "$ADMIN"
    is "$(json .total)" 4 "$db: after the refused imports there are still 4 personas"

    # ----------------------------------------------------- POST: 201
    for i in 1 2 3; do
        api POST /api/personas "$ADMIN" "$(variant ".id = \"page-$i\" | .name = \"Page $i\"")"
        [ "$STATUS" = 201 ] || not_ok "$db: POST page-$i" "status $STATUS: $BODY"
    done
    api POST /api/personas "$ADMIN" "$VALID"
    is "$STATUS" 201 "$db: POST /api/personas by an admin: 201"
    is "$(header Location)" /api/personas/val-test "$db: 201 has Location /api/personas/{id}"
    like "$(header Content-Type)" '^application/json' "$db: 201 body is JSON"
    is "$(jc '{id,name,description,extraInstructions,knowledgeCategory,temperature,maxTokens}')" \
        "$(jq -c '{id,name,description,extraInstructions,knowledgeCategory,temperature,maxTokens}' <<<"$VALID")" \
        "$db: 201 body is the stored persona"
    like "$(json .createdAt)" '^[0-9]{4}-.*Z$' "$db: 201 body has createdAt"
    is "$(json .createdAt)" "$(json .updatedAt)" "$db: a new persona: updatedAt = createdAt"
    api GET /api/personas/val-test "$READER"
    is "$STATUS" 200 "$db: a reader may GET one persona: 200"
    before=$(canon)

    # -------------------------------------------------- paging, totals
    # 8 personas now: creative-writer general-assistant page-1 page-2
    # page-3 tech-support technical-expert val-test
    api GET /api/personas "$READER"
    is "$STATUS" 200 "$db: a reader may list personas: 200"
    is "$(json .total)" 8 "$db: total counts every persona"
    is "$(json '.items|length')" 8 "$db: default page holds all 8"
    ALL=$(jc '[.items[].id]')
    is "$ALL" '["creative-writer","general-assistant","page-1","page-2","page-3","tech-support","technical-expert","val-test"]' \
        "$db: items are ordered by id"
    api GET "/api/personas?page=1&pageSize=3" "$ADMIN"
    is "$STATUS" 200 "$db: page 1 of size 3: 200"
    is "$(jc '[.page, .pageSize, .total, .totalPages, (.items|length)]')" '[1,3,8,3,3]' \
        "$db: page 1 of 3: page, pageSize, total, totalPages, 3 items"
    ids=$(jc '[.items[].id]')
    api GET "/api/personas?page=2&pageSize=3" "$ADMIN"
    is "$(jc '[.page, .total, .totalPages, (.items|length)]')" '[2,8,3,3]' "$db: page 2 of 3"
    ids=$(jq -c -n --argjson a "$ids" --argjson b "$(jc '[.items[].id]')" '$a + $b')
    api GET "/api/personas?pageSize=3&page=3" "$ADMIN"
    is "$(jc '[.page, .total, .totalPages, (.items|length)]')" '[3,8,3,2]' "$db: last page holds the remaining 2"
    ids=$(jq -c -n --argjson a "$ids" --argjson b "$(jc '[.items[].id]')" '$a + $b')
    is "$ids" "$ALL" "$db: the pages together are every persona once, in order"
    api GET "/api/personas?page=4&pageSize=3" "$ADMIN"
    is "$STATUS" 200 "$db: a page past the end: 200"
    is "$(jc '[(.items|length), .total]')" '[0,8]' "$db: a page past the end is empty, total still 8"
    api GET "/api/personas?pageSize=100" "$ADMIN"
    is "$STATUS" 200 "$db: pageSize=100 (the maximum): 200"
    api GET "/api/agents" "$READER"
    is "$STATUS" 200 "$db: GET /api/agents: 200"
    is "$(jc '[.total, [.items[].id]]')" "[8,$ALL]" "$db: /api/agents lists the same personas"
    api GET "/api/agents?page=2&pageSize=5" "$READER"
    is "$(jc '[.page, .pageSize, .total, .totalPages, (.items|length)]')" '[2,5,8,2,3]' \
        "$db: /api/agents pages too"
    api HEAD /api/personas "$READER"
    is "$STATUS" 200 "$db: HEAD /api/personas: 200"

    for q in page=0 page=-1 page=abc page= page=1x page=1.5 pageSize=0 pageSize=101 pageSize=abc pageSize=-5; do
        api GET "/api/personas?$q" "$ADMIN"
        is "$STATUS" 400 "$db: ?$q -> 400"
        is "$(fields)" "${q%%=*}" "$db: ?$q: errors[] names ${q%%=*}"
    done
    api GET "/api/agents?page=1&pageSize=1000" "$ADMIN"
    is "$STATUS" 400 "$db: /api/agents?pageSize=1000 -> 400"
    like "$(header Content-Type)" '^application/problem\+json' "$db: bad paging is problem+json"

    # ------------------------------------------------------- GET one
    api GET /api/personas/no-such-persona "$ADMIN"
    is "$STATUS" 404 "$db: GET an unknown persona: 404"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 404 is problem+json"
    is "$(json .status)" 404 "$db: 404 problem has status 404"

    # ---------------------------------------------------- 401 and 403
    api GET /api/personas ""
    is "$STATUS" 401 "$db: GET /api/personas without credentials: 401"
    api GET /api/agents ""
    is "$STATUS" 401 "$db: GET /api/agents without credentials: 401"
    api GET /api/personas/val-test ""
    is "$STATUS" 401 "$db: GET one without credentials: 401"
    api POST /api/personas "" "$(variant '.id = "anon-made"')"
    is "$STATUS" 401 "$db: POST without credentials: 401"
    api PUT /api/personas/val-test "" "$(variant '.name = "Anon"')"
    is "$STATUS" 401 "$db: PUT without credentials: 401"
    api DELETE /api/personas/val-test ""
    is "$STATUS" 401 "$db: DELETE without credentials: 401"
    api GET /api/personas "pak_$(rep 64 0)"
    is "$STATUS" 401 "$db: an unknown API key: 401"

    api POST /api/personas "$READER" "$(variant '.id = "reader-made"')"
    is "$STATUS" 403 "$db: POST by a non-admin key: 403"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 403 is problem+json"
    api GET /api/personas/reader-made "$ADMIN"
    is "$STATUS" 404 "$db: the refused POST stored nothing"
    api PUT /api/personas/val-test "$READER" "$(variant '.name = "Reader Was Here"')"
    is "$STATUS" 403 "$db: PUT by a non-admin key: 403"
    api DELETE /api/personas/val-test "$READER"
    is "$STATUS" 403 "$db: DELETE by a non-admin key: 403"
    api GET /api/personas/val-test "$ADMIN"
    is "$(canon)" "$before" "$db: after the refused PUT and DELETE the persona is unchanged"

    # ----------------------------------------------------------- 409
    api POST /api/personas "$ADMIN" "$(variant '.name = "Overwritten" | .description = "Overwritten." | .temperature = 1.5 | .maxTokens = 7')"
    is "$STATUS" 409 "$db: POST of an existing id: 409"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 409 is problem+json"
    api GET /api/personas/val-test "$ADMIN"
    is "$(canon)" "$before" "$db: 409: the stored persona is unchanged (no silent overwrite)"
    api POST /api/personas "$ADMIN" "$(jq -c '.[0] | .name = "Hijack"' "$PERSONAS_JSON")"
    is "$STATUS" 409 "$db: POST of an imported persona's id: 409"
    # a race: 8 creates of one new id at once, over 8 connections
    local pids=() n
    for n in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -X POST -H "X-API-Key: $ADMIN" \
            -H 'Content-Type: application/json' \
            --data-binary "$(variant ".id = \"race-test\" | .name = \"Racer $n\"")" \
            "$BASE/api/personas" >"$T_TMP/race.$n" &
        pids+=($!)
    done
    wait "${pids[@]}"
    is "$(cat "$T_TMP"/race.* | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')" \
        "201 x1, 409 x7" "$db: 8 concurrent creates of one id: exactly one 201, the others 409"
    api DELETE /api/personas/race-test "$ADMIN"
    is "$STATUS" 204 "$db: the race's persona exists once (DELETE 204)"

    # ------------------------------------------------------------ PUT
    sleep 1 # so that updatedAt can move
    api PUT /api/personas/val-test "$ADMIN" "$(variant '.name = "Renamed" | .temperature = 0 | .maxTokens = 8000 | .extraInstructions = ""')"
    is "$STATUS" 200 "$db: PUT an existing persona: 200"
    is "$(jc '[.id, .name, .temperature, .maxTokens, .extraInstructions]')" '["val-test","Renamed",0,8000,""]' \
        "$db: PUT answers with the updated persona"
    is "$(json .createdAt)" "$(jq -r .createdAt <<<"$before")" "$db: PUT keeps createdAt"
    [[ "$(json .updatedAt)" > "$(jq -r .updatedAt <<<"$before")" ]] &&
        ok "$db: PUT moves updatedAt forward" ||
        not_ok "$db: PUT moves updatedAt forward" "before: $(jq -r .updatedAt <<<"$before")" "after: $(json .updatedAt)"
    api GET /api/personas/val-test "$ADMIN"
    is "$(jc '[.name, .temperature, .maxTokens]')" '["Renamed",0,8000]' "$db: the update is stored (temperature 0 kept)"
    api PUT /api/personas/val-test "$ADMIN" "$(variant 'del(.id) | .name = "No Id In Body"')"
    is "$STATUS" 200 "$db: PUT without id in the body takes the URL's id: 200"
    is "$(json .name)" "No Id In Body" "$db: ... and updates it"
    api PUT /api/personas/no-such-persona "$ADMIN" "$(variant '.id = "no-such-persona"')"
    is "$STATUS" 404 "$db: PUT an unknown persona: 404"
    api GET /api/personas/no-such-persona "$ADMIN"
    is "$STATUS" 404 "$db: PUT of an unknown persona does not create it"
    api GET /api/personas/val-test "$ADMIN"
    before=$(canon)
    expect_invalid "$db" "PUT with maxTokens 0" maxTokens '.maxTokens = 0' PUT /api/personas/val-test
    expect_invalid "$db" "PUT with an empty name" name '.name = ""' PUT /api/personas/val-test
    expect_invalid "$db" "PUT with an unknown field" color '.color = "red"' PUT /api/personas/val-test
    expect_invalid "$db" "PUT whose body id differs from the URL" id '.id = "page-1"' PUT /api/personas/val-test
    api GET /api/personas/val-test "$ADMIN"
    is "$(canon)" "$before" "$db: refused PUTs changed nothing"
    api GET /api/personas/page-1 "$ADMIN"
    is "$(json .name)" "Page 1" "$db: the PUT naming another id in its body did not touch that persona"
    api PUT /api/personas/val-test "$ADMIN" "$(variant '.name = "x"')" text/plain
    is "$STATUS" 415 "$db: PUT with Content-Type text/plain: 415"
    api PUT /api/personas/val-test "$ADMIN" "{not json"
    is "$STATUS" 400 "$db: PUT with a body that is not JSON: 400"

    # --------------------------------------------------------- DELETE
    api DELETE /api/personas/page-3 "$ADMIN"
    is "$STATUS" 204 "$db: DELETE an existing persona: 204"
    is "$BODY" "" "$db: 204 has no body"
    api GET /api/personas/page-3 "$ADMIN"
    is "$STATUS" 404 "$db: a deleted persona is gone: 404"
    api DELETE /api/personas/page-3 "$ADMIN"
    is "$STATUS" 404 "$db: DELETE it again: 404"
    like "$(header Content-Type)" '^application/problem\+json' "$db: DELETE 404 is problem+json"
    api DELETE /api/personas/never-existed "$ADMIN"
    is "$STATUS" 404 "$db: DELETE an unknown persona: 404"
    api GET /api/personas "$ADMIN"
    is "$(json .total)" 7 "$db: total follows the delete"

    # ----------------------------------------------- methods, media type
    api DELETE /api/personas "$ADMIN"
    is "$STATUS" 405 "$db: DELETE /api/personas (the collection): 405"
    like "$(header Allow)" 'POST' "$db: the collection's 405 allows POST"
    api POST /api/personas/val-test "$ADMIN" "$VALID"
    is "$STATUS" 405 "$db: POST /api/personas/{id}: 405"
    api POST /api/personas "$ADMIN" "$(variant '.id = "ctype-test"')" text/plain
    is "$STATUS" 415 "$db: POST with Content-Type text/plain: 415"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 415 is problem+json"
    api POST /api/personas "$ADMIN" "$(variant '.id = "ctype-test"')" application/x-www-form-urlencoded
    is "$STATUS" 415 "$db: POST with a form Content-Type: 415"
    # curl sends a form type when none is given; say none explicitly
    http POST /api/personas -H "X-API-Key: $ADMIN" -H "Content-Type:" --data-binary "$(variant '.id = "ctype-test"')"
    is "$STATUS" 415 "$db: POST without a Content-Type: 415"
    api POST /api/personas "$ADMIN" "$(variant '.id = "ctype-test"')" "application/json; charset=utf-8"
    is "$STATUS" 201 "$db: POST with application/json; charset=utf-8: 201"
    api POST /api/personas "$ADMIN" "this is not json"
    is "$STATUS" 400 "$db: POST with a body that is not JSON: 400"
    like "$(header Content-Type)" '^application/problem\+json' "$db: not-JSON 400 is problem+json"
    api POST /api/personas "$ADMIN" '[1,2]'
    is "$STATUS" 400 "$db: POST with a JSON array: 400"
    api POST /api/personas "$ADMIN" ""
    is "$STATUS" 400 "$db: POST with an empty body: 400"
    api POST /api/personas "$ADMIN" '{"id":"dup-keys","id":"dup-keys"}'
    is "$STATUS" 400 "$db: POST with duplicate keys: 400"

    # ------------------------------------------------------ validation
    # id: ^[a-z0-9-]{1,50}$
    expect_valid "$db" "id of 50 characters" ".id = \"$(rep 50 a)\""
    expect_invalid "$db" "id of 51 characters" id ".id = \"$(rep 51 a)\""
    expect_invalid "$db" "empty id" id '.id = ""'
    expect_invalid "$db" "id with uppercase" id '.id = "Val-Test"'
    expect_invalid "$db" "id with an underscore" id '.id = "val_test"'
    expect_invalid "$db" "id with a slash" id '.id = "val/test"'
    expect_invalid "$db" "id with a space" id '.id = "val test"'
    expect_invalid "$db" "id that is a number" id '.id = 5'
    expect_invalid "$db" "missing id" id 'del(.id)'
    # name: 1..100 characters
    expect_invalid "$db" "name of 0 characters" name '.name = ""'
    expect_valid "$db" "name of 1 character" '.id = "name-1" | .name = "N"'
    expect_valid "$db" "name of 100 characters" ".id = \"name-100\" | .name = \"$(rep 100 n)\""
    expect_invalid "$db" "name of 101 characters" name ".id = \"name-101\" | .name = \"$(rep 101 n)\""
    expect_valid "$db" "name of 100 two-byte characters (characters, not bytes)" \
        ".id = \"name-100u\" | .name = \"$(rep 100 é)\""
    expect_invalid "$db" "name of 101 two-byte characters" name ".id = \"name-101u\" | .name = \"$(rep 101 é)\""
    expect_invalid "$db" "missing name" name 'del(.name)'
    expect_invalid "$db" "name that is a number" name '.name = 42'
    expect_invalid "$db" "name null" name '.name = null'
    # description: 1..500
    expect_invalid "$db" "description of 0 characters" description '.description = ""'
    expect_valid "$db" "description of 500 characters" ".id = \"desc-500\" | .description = \"$(rep 500 d)\""
    expect_invalid "$db" "description of 501 characters" description ".id = \"desc-501\" | .description = \"$(rep 501 d)\""
    expect_invalid "$db" "missing description" description 'del(.description)'
    # extraInstructions: 0..2000, optional
    expect_valid "$db" "extraInstructions of 0 characters" '.id = "extra-0" | .extraInstructions = ""'
    expect_valid "$db" "extraInstructions of 2000 characters" ".id = \"extra-2000\" | .extraInstructions = \"$(rep 2000 e)\""
    expect_invalid "$db" "extraInstructions of 2001 characters" extraInstructions \
        ".id = \"extra-2001\" | .extraInstructions = \"$(rep 2001 e)\""
    expect_invalid "$db" "extraInstructions that is an array" extraInstructions '.extraInstructions = ["x"]'
    api POST /api/personas "$ADMIN" "$(variant '.id = "extra-none" | del(.extraInstructions)')"
    is "$STATUS" 201 "$db: extraInstructions may be omitted: 201"
    is "$(json .extraInstructions)" "" "$db: an omitted extraInstructions reads back as \"\""
    # knowledgeCategory: ^[a-zA-Z0-9-]{1,50}$
    expect_valid "$db" "knowledgeCategory with upper case, digits and -" '.id = "cat-ok" | .knowledgeCategory = "Tech-Docs-2"'
    expect_valid "$db" "knowledgeCategory of 50 characters" ".id = \"cat-50\" | .knowledgeCategory = \"$(rep 50 K)\""
    expect_invalid "$db" "knowledgeCategory of 51 characters" knowledgeCategory ".knowledgeCategory = \"$(rep 51 K)\""
    expect_invalid "$db" "empty knowledgeCategory" knowledgeCategory '.knowledgeCategory = ""'
    expect_invalid "$db" "knowledgeCategory with a space" knowledgeCategory '.knowledgeCategory = "tech docs"'
    expect_invalid "$db" "knowledgeCategory with an underscore" knowledgeCategory '.knowledgeCategory = "tech_docs"'
    expect_invalid "$db" "knowledgeCategory with a dot" knowledgeCategory '.knowledgeCategory = "tech.docs"'
    expect_invalid "$db" "missing knowledgeCategory" knowledgeCategory 'del(.knowledgeCategory)'
    # temperature: number 0..2, 0 is valid
    expect_valid "$db" "temperature 0" '.id = "temp-0" | .temperature = 0'
    expect_valid "$db" "temperature 0.0" '.id = "temp-00" | .temperature = 0.0'
    expect_valid "$db" "temperature 2" '.id = "temp-2" | .temperature = 2'
    expect_invalid "$db" "temperature -0.1" temperature '.temperature = -0.1'
    expect_invalid "$db" "temperature 2.1" temperature '.temperature = 2.1'
    expect_invalid "$db" "temperature \"0.5\" (a string)" temperature '.temperature = "0.5"'
    expect_invalid "$db" "temperature null" temperature '.temperature = null'
    expect_invalid "$db" "temperature true" temperature '.temperature = true'
    expect_invalid "$db" "missing temperature" temperature 'del(.temperature)'
    # maxTokens: integer 1..8000
    expect_invalid "$db" "maxTokens 0" maxTokens '.maxTokens = 0'
    expect_valid "$db" "maxTokens 1" '.id = "tok-1" | .maxTokens = 1'
    expect_valid "$db" "maxTokens 8000" '.id = "tok-8000" | .maxTokens = 8000'
    expect_invalid "$db" "maxTokens 8001" maxTokens '.maxTokens = 8001'
    expect_invalid "$db" "maxTokens 1.5" maxTokens '.maxTokens = 1.5'
    expect_invalid "$db" "maxTokens -1" maxTokens '.maxTokens = -1'
    expect_invalid "$db" "maxTokens \"100\" (a string)" maxTokens '.maxTokens = "100"'
    expect_invalid "$db" "missing maxTokens" maxTokens 'del(.maxTokens)'
    # unknown fields, and several errors at once
    expect_invalid "$db" "an unknown field" color '.color = "red"'
    expect_invalid "$db" "an unknown field differing only in case" MaxTokens '.MaxTokens = 5'
    expect_invalid "$db" "several invalid fields" "maxTokens,name,temperature" \
        '.name = "" | .temperature = 9 | .maxTokens = 0'
    api POST /api/personas "$ADMIN" "$(variant '.id = "with-times" | .createdAt = "2000-01-01T00:00:00Z" | .updatedAt = "2000-01-01T00:00:00Z"')"
    is "$STATUS" 201 "$db: createdAt/updatedAt in a POST body are accepted"
    unlike "$(json .createdAt)" '^2000-' "$db: ... but the server sets createdAt itself"
    api POST /api/personas "$ADMIN" '{}'
    is "$STATUS" 400 "$db: an empty object -> 400"
    is "$(fields)" "description,id,knowledgeCategory,maxTokens,name,temperature" \
        "$db: an empty object: every required field is named"

    api GET /api/personas "$ADMIN"
    is "$(json .total)" 10 "$db: the valid-boundary personas were deleted again (7 + ctype-test, extra-none, with-times)"
    stop_instance
}

# ---------------------------------------------------------------- SQLite
new_instance sqlite3
suite sqlite

# ------------------------------------------------------------ PostgreSQL
if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    suite pgsql
else
    skip "pgsql persona CRUD" "PostgreSQL 15 server binaries not installed"
fi

done_testing
