#!/bin/bash
# The incident-response commands of paactl(8) against a real httpd, on
# both databases: revoke --all takes every matching key out of every child
# process within one second of the command returning (measured, not
# slept), leaves an --except key and keys outside its filters working, and
# refuses to run without an explicit --all and a reason; each revocation is
# audited. user unlock lifts a login lockout at once, although the lockout
# table knows only a keyed hash of the name (the module and paactl must
# compute the same one). secret rotate keeps tokens already issued valid
# across a graceful restart (previous secret) until secret unset removes
# it; secret unset API_KEYS ends every legacy key.
. "$PAA_SRCDIR/tests/integration/lib.sh"

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
key_id() { grep -Eo 'key_[0-9a-f]{16}' <<<"$("$PAACTL" --config "$CONFIG" show - --json <<<"$1" 2>/dev/null)" | head -1; }

login() {
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data "{\"username\":\"$1\",\"password\":\"$2\"}" "$BASE/api/auth/login"
}

check_unlock() {
    local db=$1 i codes
    printf 'erin-password-123\n' | "$PAACTL" --config "$CONFIG" user add erin >/dev/null 2>&1
    printf 'fred-password-123\n' | "$PAACTL" --config "$CONFIG" user add fred >/dev/null 2>&1
    codes=$(for i in 1 2 3 4 5 6; do login erin "guess-$i"; echo; done | paste -sd' ')
    like "$codes" '429$' "$db: 6 bad logins end in 429 ($codes)"
    is "$(login erin erin-password-123)" 429 "$db: locked out: even the right password gets 429"
    for i in 1 2 3 4 5 6; do login fred "guess-$i" >/dev/null; done
    run "$PAACTL" --config "$CONFIG" user unlock erin
    is "$RC" 0 "$db: user unlock exits 0"
    like "$ERR" "user erin \(usr_[0-9a-f]+\): [0-9]+ recorded login failures cleared" "$db: unlock says how many failures it cleared"
    is "$(login erin erin-password-123)" 200 "$db: after unlock, the right password logs in"
    is "$(login fred fred-password-123)" 429 "$db: another locked-out user stays locked out"
    run "$PAACTL" --config "$CONFIG" audit --event user.unlock --json
    like "$(jq -r '.[0].detail' <<<"$OUT")" "^username=erin cleared=[0-9]+$" "$db: the unlock is audited"
    run "$PAACTL" --config "$CONFIG" user unlock nobody-at-all
    is "$RC" 0 "$db: unlocking a name that is no account is not an error"
    like "$ERR" "no user named nobody-at-all" "$db: but it says so"
    run "$PAACTL" --config "$CONFIG" user unlock 'bad name'
    is "$RC" 2 "$db: an invalid name is a usage error"
}

token_for() {
    curl -s -H 'Content-Type: application/json' \
        --data "{\"username\":\"$1\",\"password\":\"$2\"}" "$BASE/api/auth/login" | jq -r .access_token
}
bearer_status() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$BASE/api/me"; }

check_secrets() {
    local old_secret new_secret T_OLD T_NEW before sig
    printf 'gina-password-123\n' | "$PAACTL" --config "$CONFIG" user add gina >/dev/null 2>&1
    T_OLD=$(token_for gina gina-password-123)
    is "$(bearer_status "$T_OLD")" 200 "a token issued before the rotation works"
    is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $LEGACY" "$BASE/api/me")" 200 \
        "the legacy API_KEYS key works"
    old_secret=$(paa_env_value "$CONFIG" JWT_SECRET)
    echo "# an operator's comment" >>"$CONFIG"

    run "$PAACTL" --config "$CONFIG" secret rotate API_KEYS
    is "$RC" 2 "secret rotate of another name is a usage error"
    run "$PAACTL" --config "$CONFIG" secret rotate JWT_SECRET
    is "$RC" 0 "secret rotate JWT_SECRET exits 0"
    is "$OUT" "" "secret rotate prints nothing on stdout"
    new_secret=$(paa_env_value "$CONFIG" JWT_SECRET)
    is "$(paa_env_value "$CONFIG" JWT_SECRET_PREVIOUS)" "$old_secret" "the old secret is now JWT_SECRET_PREVIOUS"
    [ -n "$new_secret" ] && [ "$new_secret" != "$old_secret" ] && [ ${#new_secret} -ge 32 ] &&
        ok "JWT_SECRET is a new value of 32 characters or more" || not_ok "JWT_SECRET is new"
    unlike "$ERR" "$old_secret|$new_secret" "no secret in the messages"
    is "$(stat -c %a "$CONFIG")" 600 "the env file keeps mode 0600"
    like "$(cat "$CONFIG")" "# an operator's comment" "the other lines are kept"
    graceful
    is "$(bearer_status "$T_OLD")" 200 "after rotate + graceful restart: the old token still verifies (previous secret)"
    T_NEW=$(token_for gina gina-password-123)
    is "$(bearer_status "$T_NEW")" 200 "a new login works"
    # HS256 by hand: the signature is the HMAC of header.payload.
    sig=$(printf '%s' "${T_NEW%.*}" | openssl dgst -sha256 -hmac "$new_secret" -binary |
        openssl base64 -A | tr '+/' '-_' | tr -d '=')
    is "$sig" "${T_NEW##*.}" "the new token is signed with the new secret"

    before=$(cat "$CONFIG")
    run "$PAACTL" --config "$CONFIG" secret unset JWT_SECRET
    is "$RC" 2 "secret unset JWT_SECRET without --force is refused"
    is "$(cat "$CONFIG")" "$before" "and the env file is unchanged"
    run "$PAACTL" --config "$CONFIG" secret unset JWT_SECRET_PREVIOUS
    is "$RC" 0 "secret unset JWT_SECRET_PREVIOUS exits 0"
    unlike "$(cat "$CONFIG")" "JWT_SECRET_PREVIOUS" "the line is gone"
    is "$(stat -c %a "$CONFIG")" 600 "the env file keeps mode 0600 after unset"
    run "$PAACTL" --config "$CONFIG" secret unset JWT_SECRET_PREVIOUS
    is "$RC" 0 "unsetting it again changes nothing and exits 0"
    like "$ERR" "not set" "and says so"
    run "$PAACTL" --config "$CONFIG" secret unset API_KEYS
    is "$RC" 0 "secret unset API_KEYS exits 0"
    graceful
    is "$(bearer_status "$T_OLD")" 401 "after unset + graceful restart: the old token is refused"
    is "$(bearer_status "$T_NEW")" 200 "the new token still works"
    is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $LEGACY" "$BASE/api/me")" 401 \
        "after unset API_KEYS + graceful restart: the legacy key is refused"
    run "$PAACTL" --config "$CONFIG" audit --event 'secret.*' --json
    is "$(jq -r 'map(.event + ":" + .subject) | join(" ")' <<<"$OUT")" \
        "secret.unset:API_KEYS secret.unset:JWT_SECRET_PREVIOUS secret.rotate:JWT_SECRET" \
        "rotate and unset are audited, newest first"
}

check_revoke_all() {
    local db=$1 A B C KEEP OTHER KEEP_ID t0 elapsed out
    A=$(keygen a --client ci --role admin)
    B=$(keygen b --client ci --role ops)
    C=$(keygen c --client ci --role admin)
    KEEP=$(keygen keep --client ci --role admin)
    OTHER=$(keygen other --client web --role admin)
    KEEP_ID=$(key_id "$KEEP")
    like "$KEEP_ID" '^key_[0-9a-f]{16}$' "$db: the kept key's id"
    all_are 200 "$A" "$B" "$C" "$KEEP" "$OTHER" &&
        ok "$db: every key works before (and is remembered by the children)" ||
        not_ok "$db: every key works before"

    run "$PAACTL" --config "$CONFIG" revoke --client ci --reason x
    is "$RC" 2 "$db: a filter without --all is a usage error"
    like "$ERR" "add --all to mean it" "$db: the refusal says to add --all"
    run "$PAACTL" --config "$CONFIG" revoke --all
    is "$RC" 2 "$db: --all without --reason is a usage error"
    run "$PAACTL" --config "$CONFIG" revoke --all --except nonsense --reason x
    is "$RC" 2 "$db: --except takes a key id"
    run "$PAACTL" --config "$CONFIG" revoke "$KEEP_ID" --all --reason x
    is "$RC" 2 "$db: a KEY-ID with --all is a usage error"
    all_are 200 "$A" "$B" "$C" "$KEEP" "$OTHER" &&
        ok "$db: the refused commands revoked nothing" ||
        not_ok "$db: the refused commands revoked nothing"

    run "$PAACTL" --config "$CONFIG" revoke --all --client ci --role admin \
        --except "$KEEP_ID" --reason "incident 42"
    t0=$(now_ms)
    is "$RC" 0 "$db: revoke --all exits 0"
    is "$OUT" 2 "$db: revoke --all prints the count alone on stdout"
    like "$ERR" "revoked 2 API keys" "$db: and says it on stderr"
    unlike "$OUT$ERR" 'pak_[0-9a-f]{64}' "$db: revoke --all prints no key"
    refused_after "$t0" "$db: every matching key" "$A" "$C"
    all_are 200 "$KEEP" && ok "$db: the --except key still works" || not_ok "$db: the --except key still works"
    all_are 200 "$B" "$OTHER" && ok "$db: keys outside the filters still work" ||
        not_ok "$db: keys outside the filters still work"

    run "$PAACTL" --config "$CONFIG" audit --json
    out=$OUT
    is "$(jq '[.[] | select(.event == "key.revoke.all")] | length' <<<"$out")" 1 \
        "$db: one key.revoke.all audit record"
    like "$(jq -r '.[] | select(.event == "key.revoke.all") | .detail' <<<"$out")" \
        "count=2 client=ci role=admin except=$KEEP_ID reason=incident 42" "$db: it says what was asked and how many"
    is "$(jq '[.[] | select(.event == "key.revoke")] | length' <<<"$out")" 2 \
        "$db: one key.revoke record per key revoked"

    run "$PAACTL" --config "$CONFIG" revoke --all --reason "contain"
    is "$OUT" 3 "$db: revoke --all with no filter revokes every remaining key"
    sleep 1
    all_are 401 "$KEEP" "$B" "$OTHER" && ok "$db: and they are refused" || not_ok "$db: and they are refused"
    run "$PAACTL" --config "$CONFIG" revoke --all --reason "again"
    is "$OUT" 0 "$db: a second revoke --all finds nothing left"
}

new_instance sqlite3
LEGACY=legacy-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "API_KEYS=$LEGACY" >>"$CONFIG"
start_instance
check_revoke_all sqlite3
check_unlock sqlite3
check_secrets
stop_instance

if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    start_instance
    check_revoke_all pgsql
    check_unlock pgsql
    stop_instance
else
    skip "pgsql: revoke --all" "PostgreSQL is not installed"
fi

done_testing
