#!/bin/bash
# paactl user and token on both databases: the user lifecycle, the
# password rules (stdin only, never stored or echoed), the audit trail,
# and tokens that mod_paa would accept or refuse.
. "$PAA_SRCDIR/tests/integration/lib.sh"



PW1='correct horse battery staple'
PW2='tr0ub4dor & 3 more words'
ME="os:$(id -un)"

run "$PAACTL" user --help
is "$RC" 0 "user --help exits 0"
like "$OUT" "usage: paactl user" "user --help shows usage"
run "$PAACTL" user add --help
is "$RC" 0 "user add --help exits 0"
like "$OUT" "usage: paactl user add NAME" "user add --help shows its usage"
run "$PAACTL" user
is "$RC" 2 "user without a subcommand is a usage error"
run "$PAACTL" user frob
is "$RC" 2 "unknown user subcommand is a usage error"
run "$PAACTL" token --help
is "$RC" 0 "token --help exits 0"
run "$PAACTL" token issue --help
is "$RC" 0 "token issue --help exits 0"
like "$OUT" "--ttl" "token issue --help documents --ttl"
run "$PAACTL" token inspect --help
is "$RC" 0 "token inspect --help exits 0"

# check_db NAME DRIVER PARAMS SQL-FUNCTION
check_db() {
    local db=$1 driver=$2 params=$3 sql=$4 cfg="$T_TMP/$1.env"
    local alice carol hash1 hash2 tok sig pos ch bad events
    printf 'PAA_DB_DRIVER=%s\nPAA_DB_PARAMS="%s"\nJWT_SECRET=%s\n' \
        "$driver" "$params" "$("$PAACTL" secret gen)" >"$cfg"
    run "$PAACTL" --config "$cfg" init
    is "$RC" 0 "$db: init exits 0"
    P=("$PAACTL" --config "$cfg")

    # add
    run_in "$PW1" "${P[@]}" user add alice --role admin --role editor
    is "$RC" 0 "$db: user add exits 0"
    like "$OUT" '^usr_[0-9a-f]{16}$' "$db: user add prints the id alone on stdout"
    like "$ERR" "created user alice \\(usr_[0-9a-f]{16}\\) roles=admin,editor" \
        "$db: user add reports the user on stderr"
    unlike "$OUT$ERR" "$PW1" "$db: user add does not echo the password"
    alice=$OUT
    run_in "$PW1" "${P[@]}" user add alice
    is "$RC" 1 "$db: adding an existing user exits 1"
    like "$ERR" "user alice already exists" "$db: duplicate user is named"
    run_in "short pw" "${P[@]}" user add shorty
    is "$RC" 1 "$db: a password under 12 characters is refused"
    like "$ERR" "too short.*12 characters" "$db: the short-password message says the minimum"
    run "${P[@]}" user add nopw </dev/null
    is "$RC" 1 "$db: user add with empty stdin exits 1"
    run_in "$PW1" "${P[@]}" user add 'bad name!'
    is "$RC" 2 "$db: an invalid user name is a usage error"
    run_in "$PW1" "${P[@]}" user add dave --role 'a,b'
    is "$RC" 2 "$db: an invalid role is a usage error"
    run_in "$PW2" "${P[@]}" user add bob
    is "$RC" 0 "$db: user add without roles exits 0"
    run_in "$PW2" "${P[@]}" user add carol --role reader
    carol=$OUT

    # list
    run "${P[@]}" user list
    is "$RC" 0 "$db: user list exits 0"
    like "$OUT" '^ID +USERNAME +ROLES +STATUS +CREATED' "$db: user list has a header"
    like "$OUT" "$alice +alice +admin,editor +active +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z" \
        "$db: user list shows alice's id, roles, status and ISO creation time"
    unlike "$OUT" "shorty|nopw|dave" "$db: refused users were not created"
    run "${P[@]}" user list --json
    is "$RC" 0 "$db: user list --json exits 0"
    is "$(jq -r 'length' <<<"$OUT")" 3 "$db: user list --json is an array of 3 users"
    is "$(jq -r '.[] | select(.username == "alice") | [.id, (.roles | join(",")), .status] | join(" ")' <<<"$OUT")" \
        "$alice admin,editor active" "$db: --json has alice's id, roles and status"
    like "$(jq -r '.[0].created' <<<"$OUT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
        "$db: --json created is ISO 8601 UTC"

    # roles
    run "${P[@]}" user roles bob --role reader --role writer
    is "$RC" 0 "$db: user roles exits 0"
    run "${P[@]}" user list --json
    is "$(jq -r '.[] | select(.username == "bob") | .roles | join(",")' <<<"$OUT")" "reader,writer" \
        "$db: user roles replaces the roles"
    run "${P[@]}" user roles bob
    run "${P[@]}" user list --json
    is "$(jq -r '.[] | select(.username == "bob") | .roles | length' <<<"$OUT")" 0 \
        "$db: user roles without --role clears them"

    # disable / enable
    run "${P[@]}" user disable bob
    is "$RC" 0 "$db: user disable exits 0"
    run "${P[@]}" user list --json
    is "$(jq -r '.[] | select(.username == "bob") | .status' <<<"$OUT")" disabled \
        "$db: a disabled user is listed as disabled"
    run "${P[@]}" user enable bob
    is "$RC" 0 "$db: user enable exits 0"
    run "${P[@]}" user list --json
    is "$(jq -r '.[] | select(.username == "bob") | .status' <<<"$OUT")" active \
        "$db: an enabled user is listed as active"

    # passwd
    hash1=$($sql "SELECT password_hash FROM paa_users WHERE username = 'alice'")
    # shellcheck disable=SC2016 # a literal regex, not an expansion
    like "$hash1" '^\$2y\$12\$' "$db: the password is stored as a bcrypt hash (cost 12)"
    before=$(date +%s)
    run_in "$PW2" "${P[@]}" user passwd alice
    t_pw=$(now_ms)
    is "$RC" 0 "$db: user passwd exits 0"
    nbf=$($sql "SELECT tokens_not_before FROM paa_users WHERE username = 'alice'")
    if [ -n "$nbf" ] && [ "$nbf" -gt "$before" ] && [ "$nbf" -le $((t_pw / 1000 + 1)) ]; then
        ok "$db: user passwd logs the user out (tokens before the second after it are refused)"
    else
        not_ok "$db: user passwd logs the user out" "tokens_not_before: $nbf" "passwd ran from $before to $((t_pw / 1000))"
    fi
    hash2=$($sql "SELECT password_hash FROM paa_users WHERE username = 'alice'")
    if [ -n "$hash2" ] && [ "$hash2" != "$hash1" ]; then
        ok "$db: user passwd changes the hash"
    else
        not_ok "$db: user passwd changes the hash" "before: $hash1" "after:  $hash2"
    fi
    run_in "tiny" "${P[@]}" user passwd alice
    is "$RC" 1 "$db: user passwd refuses a short password"

    # del
    run "${P[@]}" user del carol
    is "$RC" 0 "$db: user del exits 0"
    run "${P[@]}" user list
    unlike "$OUT" carol "$db: a deleted user is no longer listed"

    # unknown users
    run_in "$PW1" "${P[@]}" user passwd nobody
    is "$RC" 1 "$db: user passwd of an unknown user exits 1"
    like "$ERR" "no user named nobody" "$db: the unknown user is named"
    for sub in disable enable del roles; do
        run "${P[@]}" user "$sub" nobody
        is "$RC" 1 "$db: user $sub of an unknown user exits 1"
    done

    # tokens: from the first second a token of alice's can carry after
    # her new password
    sleep_until $((t_pw / 1000 * 1000 + 1000))
    run "${P[@]}" token issue --sub alice --ttl 1h
    is "$RC" 0 "$db: token issue exits 0"
    like "$OUT" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' \
        "$db: token issue prints a JWT (three dot-separated parts) alone"
    like "$ERR" "token for alice \\($alice\\).*expires at [0-9]{4}-" \
        "$db: token issue reports user, id and expiry on stderr"
    tok=$OUT
    run "${P[@]}" token inspect "$tok"
    is "$RC" 0 "$db: token inspect of a fresh token exits 0"
    like "$OUT" "sub: +$alice" "$db: token inspect shows the sub (the user id)"
    like "$OUT" "roles: +admin,editor" "$db: the token carries the user's roles"
    OUT=$(printf '%s\n' "$tok" | "${P[@]}" token inspect - 2>/dev/null)
    RC=$?
    is "$RC" 0 "$db: token inspect - reads the token from stdin"
    run "${P[@]}" token issue --sub "$alice" --role editor
    is "$RC" 0 "$db: token issue accepts a user id and a subset of roles"
    run "${P[@]}" token inspect "$OUT"
    like "$OUT" "roles: +editor$" "$db: --role restricts the token's roles"
    run "${P[@]}" token issue --sub alice --role superuser
    is "$RC" 1 "$db: token issue with a role the user lacks exits 1"
    like "$ERR" "user alice does not have role superuser" "$db: the missing role is named"
    run "${P[@]}" user disable bob
    run "${P[@]}" token issue --sub bob
    is "$RC" 1 "$db: token issue for a disabled user exits 1"
    like "$ERR" "disabled" "$db: the refusal says the user is disabled"
    is "$OUT" "" "$db: no token is printed for a disabled user"
    run "${P[@]}" token issue --sub nobody
    is "$RC" 1 "$db: token issue for an unknown user exits 1"
    run "${P[@]}" token issue --sub alice --ttl soon
    is "$RC" 2 "$db: a bad --ttl is a usage error"
    run "${P[@]}" token issue --ttl 1h
    is "$RC" 2 "$db: token issue without --sub is a usage error"

    # One character in the middle of the signature, not the last one,
    # whose low bits base64url does not use.
    sig=${tok##*.}
    pos=$((${#sig} / 2))
    ch=${sig:$pos:1}
    if [ "$ch" = A ]; then ch=B; else ch=A; fi
    bad="${tok%.*}.${sig:0:$pos}$ch${sig:$((pos + 1))}"
    run "${P[@]}" token inspect "$bad"
    is "$RC" 1 "$db: token inspect of a tampered token exits 1"
    like "$ERR" "^token refused: bad signature" "$db: the tampered token is refused for its signature"
    run "${P[@]}" token inspect "not.a.jwt"
    is "$RC" 1 "$db: token inspect of garbage exits 1"

    # A valid signature is not enough once the user is gone.
    run_in "$PW1" "${P[@]}" user add erin
    run "${P[@]}" token issue --sub erin
    tok=$OUT
    run "${P[@]}" user del erin
    run "${P[@]}" token inspect "$tok"
    is "$RC" 1 "$db: token inspect refuses the token of a deleted user"
    like "$ERR" "no longer exists" "$db: ... and says why"

    # audit
    events=$($sql "SELECT event FROM paa_audit WHERE actor = '$ME' ORDER BY id" | sort -u | tr '\n' ' ')
    is "$events" "token.issue user.add user.delete user.disable user.enable user.passwd user.roles " \
        "$db: every user change and token issue is audited with the OS user as actor"
    is "$($sql "SELECT count(*) FROM paa_audit WHERE event = 'user.add' AND subject = '$alice'")" 1 \
        "$db: the user.add record's subject is the user id"
    is "$($sql "SELECT count(*) FROM paa_audit WHERE event = 'user.delete' AND subject = '$carol'")" 1 \
        "$db: the audit record of a deleted user is kept"
    is "$($sql "SELECT count(*) FROM paa_audit WHERE event = 'user.passwd' AND subject = '$alice'")" 1 \
        "$db: user passwd is audited once"
    is "$($sql "SELECT count(*) FROM paa_audit WHERE detail LIKE '%horse%' OR detail LIKE '%tr0ub4dor%' OR detail LIKE '%eyJ%'")" 0 \
        "$db: no audit record holds a password or a token"
}

# The SQL helpers are called through check_db's fourth argument.
# shellcheck disable=SC2317
sqlite_sql() {
    sqlite3 "$T_TMP/paa.db" "$1"
}

check_db sqlite sqlite3 "$T_TMP/paa.db" sqlite_sql
is "$(strings -n 6 "$T_TMP/paa.db" | grep -cE 'horse|tr0ub4dor')" 0 \
    "sqlite: no password appears anywhere in the database file"
is "$(grep -caE 'horse battery|tr0ub4dor' "$T_TMP/paa.db")" 0 \
    "sqlite: no password bytes in the database file (grep)"

if have_pg; then
    new_pg
    pghost=$(sed 's/host=\([^ ]*\).*/\1/' <<<"$PG_PARAMS")
    pgport=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    # shellcheck disable=SC2317
    pg_sql() {
        psql -h "$pghost" -p "$pgport" -U paa -d paa -Atc "$1"
    }
    check_db pgsql pgsql "$PG_PARAMS" pg_sql
else
    skip "pgsql paactl user and token checks" "PostgreSQL 15 server binaries not installed"
fi

done_testing
