#!/bin/bash
# paactl key lifecycle on both databases: list and show (by id and by the
# key itself), rotation with a grace that really ends, refusals (revoked,
# expired, already rotated, unknown), idempotent revocation, the audit
# trail newest first, and secret set rewriting the env file atomically
# without touching its other lines. A key must never reach the database,
# the audit records or any message: every dump is searched for one.
. "$PAA_SRCDIR/tests/integration/lib.sh"

KEY_RE='pak_[0-9a-f]{64}'
# The rotation grace: long enough that the "still in grace" checks (a few
# paactl runs) stay inside it on a busy machine. Its end is computed from
# a timestamp taken after the rotation, so the "expired" checks are exact.
GRACE=8

check_keys() {
    local db=$1 driver=$2 params=$3 cfg="$T_TMP/$1.env"
    local K1 K2 ID1 ID2 ID3 events t_rotated
    printf 'PAA_DB_DRIVER=%s\nPAA_DB_PARAMS="%s"\n' "$driver" "$params" >"$cfg"
    chmod 600 "$cfg"
    run "$PAACTL" --config "$cfg" init
    is "$RC" 0 "$db: init"

    run "$PAACTL" --config "$cfg" keygen --name ci --client gh --role admin --role ops
    K1=$OUT
    ID1=$(grep -Eo 'key_[0-9a-f]{16}' <<<"$ERR" | head -1)
    like "$K1" "^$KEY_RE\$" "$db: keygen prints a key"

    # list and show
    run "$PAACTL" --config "$cfg" list
    is "$RC" 0 "$db: list exits 0"
    like "$OUT" '^ID +PREFIX +NAME +CLIENT +ROLES +CREATED +EXPIRES +LAST USED +STATUS' \
        "$db: list has an aligned header row"
    like "$OUT" "$ID1 +pak_[0-9a-f]{8} +ci +gh +admin,ops +[0-9T:-]+Z +- +- +active" \
        "$db: list shows the new key active, never expiring, never used"
    run "$PAACTL" --config "$cfg" show "$ID1"
    is "$RC" 0 "$db: show by id exits 0"
    like "$OUT" "status +active" "$db: show by id gives the status"
    like "$OUT" "created by +os:$(id -un)" "$db: show names who created the key"
    run "$PAACTL" --config "$cfg" show "$K1"
    is "$RC" 0 "$db: show by the full key exits 0"
    like "$OUT" "^id +$ID1" "$db: show by the full key finds it"
    unlike "$OUT$ERR" "$KEY_RE" "$db: show never prints a key"
    run_in "$K1" "$PAACTL" --config "$cfg" show - --json
    is "$(jq -r .id <<<"$OUT")" "$ID1" "$db: show - reads the key from stdin"
    run "$PAACTL" --config "$cfg" show "$ID1" --json
    is "$(jq -r '[.status, .client, (.roles|join(",")), .expires, .replaced_by] | map(tostring) | join(" ")' <<<"$OUT")" \
        "active gh admin,ops null null" "$db: show --json gives status, client, roles and nulls"
    run "$PAACTL" --config "$cfg" show key_0123456789abcdef
    is "$RC" 1 "$db: show of an unknown id exits 1"
    like "$ERR" "no API key with id key_0123456789abcdef" "$db: show of an unknown id says so"
    run "$PAACTL" --config "$cfg" show "pak_${K1:4:20}"
    is "$RC" 2 "$db: show of a truncated key is a usage error"
    unlike "$ERR" "${K1:4:20}" "$db: a mistyped key is not echoed"

    # rotate
    run "$PAACTL" --config "$cfg" rotate "$ID1" --grace soon
    is "$RC" 2 "$db: rotate with a bad --grace is a usage error"
    run "$PAACTL" --config "$cfg" rotate "$ID1" --grace 0
    is "$RC" 2 "$db: rotate --grace 0 is a usage error (the minimum is 1s)"
    run "$PAACTL" --config "$cfg" rotate "$K1" --grace "${GRACE}s"
    t_rotated=$(now_ms)
    K2=$OUT
    ID2=$(grep -Eo 'created API key key_[0-9a-f]{16}' <<<"$ERR" | grep -Eo 'key_[0-9a-f]{16}')
    is "$RC" 0 "$db: rotate exits 0"
    like "$K2" "^$KEY_RE\$" "$db: rotate prints the new key alone on stdout"
    unlike "$K2" "$K1" "$db: the new key differs from the old"
    like "$ERR" "the old key $ID1 stays valid until [0-9T:-]+Z" "$db: rotate says until when the old key works"
    unlike "$ERR" "$KEY_RE" "$db: rotate prints no key on stderr"
    run "$PAACTL" --config "$cfg" show "$ID1" --json
    is "$(jq -r '.status + " " + .replaced_by' <<<"$OUT")" "grace $ID2" "$db: the old key is in grace, replaced by the new"
    run "$PAACTL" --config "$cfg" show "$ID2" --json
    is "$(jq -r '[.status, .rotated_from, .name, .client, (.roles|join(","))] | join(" ")' <<<"$OUT")" \
        "active $ID1 ci gh admin,ops" "$db: the new key keeps name, client and roles"
    run "$PAACTL" --config "$cfg" list
    like "$OUT" "$ID1 .* grace" "$db: list shows the old key in grace"
    run "$PAACTL" --config "$cfg" rotate "$ID1"
    is "$RC" 1 "$db: rotating an already rotated key is refused"
    like "$ERR" "already rotated.*$ID2" "$db: the refusal names the replacement"
    sleep_until "$(secs_after "$t_rotated" "$GRACE")"
    run "$PAACTL" --config "$cfg" show "$ID1" --json
    is "$(jq -r .status <<<"$OUT")" "expired" "$db: after the grace the old key is expired"
    run "$PAACTL" --config "$cfg" list
    unlike "$OUT" "$ID1" "$db: list hides the expired key"
    like "$OUT" "$ID2 .* active" "$db: list shows the new key active"
    run "$PAACTL" --config "$cfg" rotate "$ID1"
    is "$RC" 1 "$db: rotating an expired key is refused"
    like "$ERR" "expired at" "$db: the refusal says the key expired"

    # revoke
    run "$PAACTL" --config "$cfg" revoke "$ID1" --reason "retired after rotation"
    is "$RC" 0 "$db: an expired key can still be revoked"
    run "$PAACTL" --config "$cfg" revoke "$K2" --reason "leaked in CI log"
    is "$RC" 0 "$db: revoke by the full key exits 0"
    like "$ERR" "revoked API key $ID2" "$db: revoke names the key by id"
    unlike "$ERR" "$KEY_RE" "$db: revoke prints no key"
    run "$PAACTL" --config "$cfg" revoke "$ID2"
    is "$RC" 0 "$db: revoking twice exits 0"
    like "$ERR" "key $ID2 \(ci\) was already revoked at .*leaked in CI log" "$db: the second revoke says when and why"
    run "$PAACTL" --config "$cfg" rotate "$ID2"
    is "$RC" 1 "$db: rotating a revoked key is refused"
    like "$ERR" "was revoked at .* cannot be rotated" "$db: the refusal says the key is revoked"
    run "$PAACTL" --config "$cfg" revoke key_ffffffffffffffff
    is "$RC" 1 "$db: revoking an unknown id exits 1"
    run "$PAACTL" --config "$cfg" revoke nonsense
    is "$RC" 2 "$db: revoke of something that is no key or id is a usage error"
    run "$PAACTL" --config "$cfg" revoke "$ID2" --reason "copy of $K2"
    is "$RC" 2 "$db: a reason holding a key is refused"
    run "$PAACTL" --config "$cfg" list
    unlike "$OUT" "$ID2" "$db: list hides the revoked key"
    run "$PAACTL" --config "$cfg" list --all
    like "$OUT" "$ID2 .* revoked" "$db: list --all shows the revoked key"
    like "$OUT" "$ID1 .* revoked" "$db: list --all shows the revoked old key"
    run "$PAACTL" --config "$cfg" list --all --json
    is "$(jq -r 'map(.id + "=" + .status) | sort | join(" ")' <<<"$OUT")" \
        "$(printf '%s=revoked\n' "$ID1" "$ID2" | sort | paste -sd' ')" \
        "$db: list --all --json parses and gives every key and status"
    run "$PAACTL" --config "$cfg" list --json
    is "$(jq -r 'length' <<<"$OUT")" 0 "$db: list --json without --all is an empty array"
    run "$PAACTL" --config "$cfg" show "$ID2" --json
    is "$(jq -r .revoked_reason <<<"$OUT")" "leaked in CI log" "$db: show gives the revoked reason"

    # audit
    run "$PAACTL" --config "$cfg" audit --key "$ID1"
    is "$RC" 0 "$db: audit --key exits 0"
    events=$(awk 'NR > 1 { print $2 }' <<<"$OUT" | paste -sd' ')
    is "$events" "key.revoke key.rotate key.create" "$db: audit --key shows the key's history newest first"
    like "$OUT" '^TIME +EVENT +OUTCOME +ACTOR +SUBJECT +KEY' "$db: audit has a header row"
    run "$PAACTL" --config "$cfg" audit --key "$K2" --json
    is "$(jq -r 'map(.event) | join(" ")' <<<"$OUT")" "key.revoke key.rotate" \
        "$db: audit --key by the full key, as JSON, newest first"
    is "$(jq -r '.[1].detail' <<<"$OUT" | grep -c "rotated_from=$ID1")" 1 \
        "$db: the rotate record names the old key id"
    run "$PAACTL" --config "$cfg" audit --json --event 'key.*' --since 1h
    is "$(jq -r 'length' <<<"$OUT")" 4 "$db: audit --event key.* --since 1h finds every key record"
    is "$(jq -r '[.[].at] | . == (sort | reverse)' <<<"$OUT")" true "$db: audit records come newest first"
    run "$PAACTL" --config "$cfg" audit --json --limit 1
    is "$(jq -r 'length' <<<"$OUT")" 1 "$db: audit --limit 1 gives one record"
    run "$PAACTL" --config "$cfg" audit --subject nobody-at-all
    is "$RC$OUT" 0 "$db: audit with no match prints nothing on stdout"
    run "$PAACTL" --config "$cfg" audit --since yesterday
    is "$RC" 2 "$db: audit with a bad --since is a usage error"
    run "$PAACTL" --config "$cfg" audit --limit 0
    is "$RC" 2 "$db: audit --limit 0 is a usage error"
    run "$PAACTL" --config "$cfg" audit --key key_0123
    is "$RC" 2 "$db: audit with a malformed --key is a usage error"

    # A rotation that fails half-way (here the INSERT of the new key) must
    # leave the old key as it was: both changes are one transaction.
    run "$PAACTL" --config "$cfg" keygen --name tx
    ID3=$(grep -Eo 'key_[0-9a-f]{16}' <<<"$ERR" | head -1)
    if [ "$driver" = sqlite3 ]; then
        db_sql "CREATE TRIGGER boom BEFORE INSERT ON paa_api_keys
                BEGIN SELECT RAISE(ABORT, 'boom'); END"
    else
        db_sql "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS
                \$\$ BEGIN RAISE EXCEPTION 'boom'; END \$\$;
                CREATE TRIGGER boom BEFORE INSERT ON paa_api_keys
                FOR EACH ROW EXECUTE FUNCTION boom()"
    fi
    run "$PAACTL" --config "$cfg" rotate "$ID3" --grace 1h
    is "$RC:$OUT" "1:" "$db: a rotation whose insert fails exits 1 and prints no key"
    like "$ERR" "nothing was changed.*boom" "$db: the failure says nothing was changed, and why"
    is "$(db_sql "SELECT count(*) FROM paa_api_keys WHERE id = '$ID3' AND expires_at IS NULL")" 1 \
        "$db: the failed rotation left the old key's expiry alone"
    is "$(db_sql "SELECT count(*) FROM paa_audit WHERE event = 'key.rotate' AND detail LIKE '%$ID3%'")" 0 \
        "$db: the failed rotation wrote no audit record"
    if [ "$driver" = sqlite3 ]; then
        db_sql "DROP TRIGGER boom"
    else
        db_sql "DROP TRIGGER boom ON paa_api_keys"
    fi
    run "$PAACTL" --config "$cfg" rotate "$ID3" --grace 1h
    is "$RC" 0 "$db: the same rotation works once the fault is gone"

    for cmd in rotate revoke list show audit; do
        run "$PAACTL" --config "$cfg" $cmd --help
        is "$RC" 0 "$db: $cmd --help exits 0"
        like "$OUT" "usage: paactl $cmd" "$db: $cmd --help shows usage"
    done
    KEYS_SEEN="${KEYS_SEEN:-} $K1 $K2"
}

db_sql() {
    sqlite3 "$T_TMP/paa.db" "$1"
}
check_keys sqlite sqlite3 "$T_TMP/paa.db"
dump=$(sqlite3 "$T_TMP/paa.db" .dump)
is "$(grep -Ec "$KEY_RE" <<<"$dump")" 0 "sqlite: no key anywhere in the database"
for k in $KEYS_SEEN; do
    is "$(grep -c "${k#pak_}" <<<"$dump")" 0 "sqlite: key ${k:0:12}... is stored nowhere"
done

if have_pg; then
    new_pg
    # shellcheck disable=SC2001 # as in paactl_init.sh
    pghost=$(sed 's/host=\([^ ]*\).*/\1/' <<<"$PG_PARAMS")
    # shellcheck disable=SC2001
    pgport=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    db_sql() {
        psql -h "$pghost" -p "$pgport" -U paa -d paa -qAtc "$1"
    }
    check_keys pgsql pgsql "$PG_PARAMS"
    dump=$("$PAA_PG_BINDIR/pg_dump" -h "$pghost" -p "$pgport" -U paa paa)
    like "$dump" "paa_api_keys" "pgsql: the dump holds the key table"
    is "$(grep -Ec "$KEY_RE" <<<"$dump")" 0 "pgsql: no key anywhere in the database"
else
    skip "pgsql paactl key checks" "PostgreSQL 15 server binaries not installed"
fi

# ------------------------------------------------------------ secret set
env="$T_TMP/secret.env"
printf '# the deployment secrets\nexport PAA_ENV=prod\nJWT_SECRET=old-secret-value  # rotate yearly\n\n# CORS\nCORS_ORIGIN="https://a.example.com"\nLAST=1' >"$env"
chmod 600 "$env"
cp "$env" "$T_TMP/secret.before"
# A JWT secret httpd accepts (32+ bytes), with a space and a # to quote.
run_in 'n3w secret #1 Zx8d!kq2-JHs7QnVw0p1LmRt' "$PAACTL" --config "$env" secret set JWT_SECRET
is "$RC" 0 "secret set exits 0"
is "$OUT" "" "secret set prints nothing on stdout"
unlike "$ERR" "n3w secret" "secret set never prints the value"
like "$ERR" "replaced JWT_SECRET in $env" "secret set says what it changed"
is "$(grep '^JWT_SECRET=' "$env")" 'JWT_SECRET="n3w secret #1 Zx8d!kq2-JHs7QnVw0p1LmRt"' "a value with a space and # is written double-quoted"
is "$(diff <(grep -v '^JWT_SECRET=' "$T_TMP/secret.before") <(grep -v '^JWT_SECRET=' "$env") && echo same)" same \
    "every other line, comments included, is kept byte for byte"
is "$(grep -n '' "$env" | grep JWT_SECRET= | cut -d: -f1)" 3 "the variable stays on its line"
is "$(stat -c %a "$env")" 600 "the env file keeps mode 0600"
is "$(find "$T_TMP" -maxdepth 1 -name '.secret.env.*' | wc -l)" 0 "no temporary file is left behind"

run "$PAACTL" --config "$env" secret set JWT_SECRET --env prod --generate </dev/null
is "$RC" 0 "secret set --env prod --generate exits 0"
like "$(tail -1 "$env")" '^JWT_SECRET_PROD=[A-Za-z0-9+/]{43}=$' "--env prod appends NAME_PROD, a 32-byte base64 value"
is "$(sed -n 7p "$env")" "LAST=1" "a last line without newline is kept when appending"
unlike "$OUT$ERR" "$(tail -1 "$env" | cut -d= -f2-)" "the generated value is not printed"
run "$PAACTL" --config "$env" secret set JWT_SECRET --env prod --generate --bytes 48 --hex </dev/null
like "$(grep '^JWT_SECRET_PROD=' "$env")" '^JWT_SECRET_PROD=[0-9a-f]{96}$' "--bytes 48 --hex replaces it in place"
is "$(grep -c '^JWT_SECRET_PROD=' "$env")" 1 "the variable is not duplicated"

run_in 'x"y' "$PAACTL" --config "$env" secret set OTHER
is "$RC" 1 "a value with a double quote is refused"
run "$PAACTL" --config "$env" secret set OTHER </dev/null
is "$RC" 1 "an empty standard input is refused"
run "$PAACTL" --config "$env" secret set lower_case </dev/null
is "$RC" 2 "a lower-case NAME is a usage error"
run "$PAACTL" --config "$env" secret set OTHER value-in-argv
is "$RC" 2 "a value in argv is a usage error"
run "$PAACTL" secret set --help
is "$RC" 0 "secret set --help exits 0"

fresh="$T_TMP/fresh/paa.env"
mkdir -p "$T_TMP/fresh"
run_in 'abc' "$PAACTL" --config "$fresh" secret set API_TOKEN
is "$RC:$(cat "$fresh" 2>/dev/null)" "0:API_TOKEN=abc" "secret set creates a missing env file"
is "$(stat -c %a "$fresh")" 600 "a created env file has mode 0600"

# An unwritable directory: the atomic update cannot start, and the file
# must stay exactly as it was.
ro="$T_TMP/ro"
mkdir -p "$ro"
printf 'A=1\n# keep\nB=2\n' >"$ro/paa.env"
chmod 600 "$ro/paa.env"
cp "$ro/paa.env" "$T_TMP/ro.before"
as=()
if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null && runuser -u nobody -- "$PAACTL" --version >/dev/null 2>&1; then
        chown -R nobody "$ro"
        as=(runuser -u nobody --)
    else
        as=(none)
    fi
fi
if [ "${as[*]-}" = none ]; then
    skip "secret set in an unwritable directory" "root, and cannot run paactl as nobody"
    skip "the env file is untouched" "as above"
else
    chmod 500 "$ro"
    OUT=$(echo new | "${as[@]}" "$PAACTL" --config "$ro/paa.env" secret set B 2>"$T_TMP/err")
    RC=$?
    ERR=$(cat "$T_TMP/err")
    chmod 700 "$ro"
    is "$RC" 1 "secret set in an unwritable directory exits 1"
    like "$ERR" "cannot write $ro/paa.env: Permission denied" "the message names the file and the reason"
    is "$(cmp "$ro/paa.env" "$T_TMP/ro.before" && echo same)" same "the env file is untouched"
fi

done_testing
