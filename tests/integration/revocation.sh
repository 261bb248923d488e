#!/bin/bash
# JWT revocation (paactl(8) token revoke, user logout) against a real
# httpd, on both databases: a revoked token, or every token a user had
# before a logout, is refused by every child process for requests that
# start a second after the command returned, while other tokens keep
# working; the refusal survives a restart; the commands refuse bad input
# without echoing it, never need a token in argv, and are audited.
. "$PAA_SRCDIR/tests/integration/lib.sh"

ctl() { "$PAACTL" --config "$CONFIG" "$@"; }
adduser() { printf '%s-password-123\n' "$1" | ctl user add "$1" >/dev/null 2>&1 || bail "user add $1"; }
token_of() {
    curl -s -H 'Content-Type: application/json' \
        --data "{\"username\":\"$1\",\"password\":\"${2:-$1-password-123}\"}" \
        "$BASE/api/auth/login" | jq -r '.access_token // empty'
}
CRED_HEADER="Authorization: Bearer"
jti_of() { ctl token inspect - <<<"$1" 2>/dev/null | awk '$1 == "jti:" {print $2}'; }

check_revocation() {
    local db=$1 T1 T2 T3 T4 T5 B1 J1 J2 t0 EXPIRED BOB
    adduser alice
    adduser bob
    T1=$(token_of alice)
    T2=$(token_of alice)
    B1=$(token_of bob)
    [ -n "$T1" ] && [ -n "$T2" ] && [ -n "$B1" ] || bail "$db: login failed"
    all_are 200 "$T1" "$T2" "$B1" && ok "$db: (control) every token works before" ||
        not_ok "$db: (control) every token works before"
    J1=$(jti_of "$T1")
    like "$J1" '^jti_' "$db: token inspect shows the jti"

    # ------------------------------------------------ token revoke JTI
    run ctl token revoke "$J1" --reason "laptop stolen"
    t0=$(now_ms)
    is "$RC" 0 "$db: token revoke JTI exits 0"
    is "$OUT" "$J1" "$db: it prints the jti alone on stdout"
    like "$ERR" "token $J1 revoked for good" "$db: and says it on stderr (a jti alone: kept for good)"
    refused_after "$t0" "$db: the revoked token" "$T1"
    all_are 200 "$T2" "$B1" && ok "$db: the user's other token and another user's still work" ||
        not_ok "$db: the user's other token and another user's still work"
    http GET /api/me -H "Authorization: Bearer $T1"
    like "$HEADERS" 'Bearer.*error="invalid_token"' "$db: the refusal is invalid_token"
    is "$(json .detail)" "the access token has been revoked" "$db: and says the token was revoked"
    run ctl token inspect - <<<"$T1"
    is "$RC" 1 "$db: token inspect exits 1 for the revoked token"
    like "$ERR" "token refused: it was revoked" "$db: and says why"
    run ctl token revoke "$J1"
    is "$RC $OUT" "0 $J1" "$db: revoking it again exits 0"
    like "$ERR" "was revoked already" "$db: and says it was revoked already"

    # ------------------------------------------------ token revoke -
    J2=$(jti_of "$T2")
    run_in "$T2" ctl token revoke -
    t0=$(now_ms)
    is "$RC" 0 "$db: token revoke - (the token on stdin) exits 0"
    is "$OUT" "$J2" "$db: prints its jti"
    like "$ERR" "it would have expired at" "$db: a token's revocation is kept until it expires"
    unlike "$OUT$ERR" "${T2:0:40}" "$db: the token is never printed"
    refused_after "$t0" "$db: the token revoked from stdin" "$T2"
    all_are 200 "$B1" && ok "$db: (control) bob's token still works" || not_ok "$db: (control) bob's token still works"

    # ------------------------------------------------ refusals
    run ctl token revoke
    is "$RC" 2 "$db: token revoke without an argument is a usage error"
    run ctl token revoke 'not a jti!'
    is "$RC" 2 "$db: something that is neither a token nor a jti is a usage error"
    unlike "$ERR" "not a jti" "$db: ... and is not echoed (it may be a mistyped token)"
    run ctl token revoke "$J1" extra
    is "$RC" 2 "$db: an extra argument is a usage error"
    run ctl token revoke x --reason "$(printf 'r%.0s' $(seq 1 501))"
    is "$RC" 2 "$db: a reason over 500 characters is a usage error"
    BOB=$(ctl user list --json | jq -r '.[] | select(.username == "bob") | .id')
    EXPIRED=$("$JWT_MINT" sign --alg HS256 --key "$(paa_env_value "$CONFIG" JWT_SECRET)" \
        --payload "{\"sub\":\"$BOB\",\"iat\":\"now-7200\",\"exp\":\"now-3600\",\"jti\":\"jti_expired\"}" 2>/dev/null)
    if [ -n "$EXPIRED" ]; then
        run_in "$EXPIRED" ctl token revoke -
        is "$RC" 0 "$db: an expired token: exit 0"
        like "$ERR" "has expired.*nothing revoked" "$db: ... nothing to revoke"
    else
        skip "$db: an expired token" "jwt_mint could not mint one"
    fi
    run_in "${B1%?}x" ctl token revoke -
    is "$RC" 1 "$db: a token with a bad signature: exit 1"
    like "$ERR" "nothing revoked: mod_paa refuses this token anyway" "$db: ... nothing revoked, and why"
    all_are 200 "$B1" && ok "$db: the refused commands revoked nothing" || not_ok "$db: the refused commands revoked nothing"

    # ------------------------------------------------ user logout
    T3=$(token_of alice)
    all_are 200 "$T3" && ok "$db: (control) alice logs in again: the new token works" ||
        not_ok "$db: (control) alice's new token works"
    run ctl user logout alice
    t0=$(now_ms)
    is "$RC" 0 "$db: user logout NAME exits 0"
    like "$ERR" "every token issued before .* is refused" "$db: and says from when"
    refused_after "$t0" "$db: alice's tokens after her logout" "$T3"
    all_are 200 "$B1" && ok "$db: bob's token still works after alice's logout" ||
        not_ok "$db: bob's token still works after alice's logout"
    # The first second after the logout is the first a new token may carry.
    sleep_until $((t0 / 1000 * 1000 + 1000))
    T4=$(token_of alice)
    all_are 200 "$T4" && ok "$db: a login after the logout gives a working token" ||
        not_ok "$db: a login after the logout gives a working token"
    run ctl token inspect - <<<"$T3"
    is "$RC" 1 "$db: token inspect exits 1 for a token from before the logout"
    like "$ERR" "logged out after it was issued" "$db: and says why"

    # ------------------------------------------------ user passwd
    # A new password ends the tokens issued for the old one.
    run_in "alice-new-password-456" ctl user passwd alice
    t0=$(now_ms)
    is "$RC" 0 "$db: user passwd exits 0"
    like "$ERR" "every token issued before .* is refused" "$db: and says from when tokens count"
    refused_after "$t0" "$db: alice's token from before her new password" "$T4"
    all_are 200 "$B1" && ok "$db: bob's token still works after alice's new password" ||
        not_ok "$db: bob's token still works after alice's new password"
    sleep_until $((t0 / 1000 * 1000 + 1000))
    is "$(token_of alice)" "" "$db: the old password no longer logs in"
    T4=$(token_of alice alice-new-password-456)
    all_are 200 "$T4" && ok "$db: a login with the new password gives a working token" ||
        not_ok "$db: a login with the new password gives a working token"

    run ctl user logout nobody
    is "$RC" 1 "$db: logging out a user who does not exist: exit 1"
    like "$ERR" "no user named nobody" "$db: ... saying so"
    run ctl user logout alice --all
    is "$RC" 2 "$db: NAME and --all together are a usage error"
    run ctl user logout
    is "$RC" 2 "$db: neither NAME nor --all is a usage error"
    run ctl user logout --all
    t0=$(now_ms)
    is "$RC" 0 "$db: user logout --all exits 0"
    like "$ERR" "^2 users: every token issued before" "$db: and says how many users"
    refused_after "$t0" "$db: every user's tokens after logout --all" "$B1" "$T4"

    # ------------------------------------------------ audit
    run ctl audit --json
    is "$(jq -r '[.[] | select(.event == "token.revoke")] | length' <<<"$OUT")" 2 \
        "$db: two token.revoke audit records (not the repeated one)"
    like "$(jq -r '.[] | select(.event == "token.revoke") | .detail' <<<"$OUT")" \
        "jti=$J1 expires=unknown reason=laptop stolen" "$db: the record names the jti and the reason"
    is "$(jq -r '[.[] | select(.event == "user.logout")] | length' <<<"$OUT")" 1 "$db: one user.logout record"
    is "$(jq -r '[.[] | select(.event == "user.logout.all")] | .[0].detail' <<<"$OUT" | grep -o 'users=[0-9]*')" \
        "users=2" "$db: one user.logout.all record with the count"
    unlike "$OUT" "${T2:0:40}|${T3:0:40}" "$db: no token in the audit trail"

    # ------------------------------------------------ restarts
    stop_instance
    start_instance
    all_are 401 "$T1" "$T2" "$T3" "$B1" && ok "$db: after a restart, revoked and logged-out tokens stay refused" ||
        not_ok "$db: after a restart, revoked and logged-out tokens stay refused" "$(statuses "$T1" "$T2" "$T3" "$B1" | sort | uniq -c | tr '\n' ' ')"
    sleep_until $((t0 / 1000 * 1000 + 1000))
    T5=$(token_of bob)
    all_are 200 "$T5" && ok "$db: (control) after the restart a new login works" ||
        not_ok "$db: (control) after the restart a new login works"
}

new_instance sqlite3
start_instance
check_revocation sqlite3
stop_instance

if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    start_instance
    check_revocation pgsql
    stop_instance
else
    skip "pgsql: JWT revocation" "PostgreSQL is not installed"
fi

done_testing
