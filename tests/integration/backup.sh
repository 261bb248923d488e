#!/bin/bash
# paactl backup and restore on both databases: a backup taken while httpd
# runs is mode 0600, never overwrites a file and is audited (backup.create,
# which paactl check's db.backup item looks for); restored into a new
# instance, the old keys work there; a restore over a database holding
# data is refused without --force, and a backup of the other driver is
# refused, and paactl check's db.backup item passes after a backup. For
# PostgreSQL the password reaches pg_dump in PGPASSWORD, never in its argv
# (a fake pg_dump records both).
. "$PAA_SRCDIR/tests/integration/lib.sh"

keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" 2>/dev/null; }
status_of() { curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $1" "$BASE/api/me"; }

# check_backup DB DRIVER PARAMS1 PARAMS2: back up an instance on PARAMS1,
# restore into a new one on PARAMS2.
check_backup() {
    local db=$1 driver=$2 p1=$3 p2=$4 K F="$T_TMP/$1.backup"
    new_instance "$driver" "$p1"
    start_instance
    K=$(keygen before-backup)
    is "$(status_of "$K")" 200 "$db: a key works"
    run "$PAACTL" --config "$CONFIG" backup "$F"
    is "$RC" 0 "$db: backup exits 0 while httpd runs"
    like "$ERR" "backed up $driver database" "$db: backup says what it did"
    is "$(stat -c %a "$F")" 600 "$db: the backup has mode 0600"
    [ -s "$F" ] && ok "$db: the backup is not empty" || not_ok "$db: the backup is not empty"
    run "$PAACTL" --config "$CONFIG" backup "$F"
    is "$RC" 1 "$db: backup never overwrites a file"
    like "$ERR" "never overwrites" "$db: and says so"
    run "$PAACTL" --config "$CONFIG" audit --event backup.create --json
    is "$(jq length <<<"$OUT")" 1 "$db: the backup is audited once (backup.create)"
    run "$PAACTL" --config "$CONFIG" check --json
    is "$(jq -r '.checks[] | select(.id == "db.backup") | .status' <<<"$OUT")" PASS \
        "$db: paactl check's db.backup sees the backup"
    run "$PAACTL" --config "$CONFIG" restore "$F"
    is "$RC" 1 "$db: restore over a database holding data is refused without --force"
    like "$ERR" "with --force" "$db: the refusal says how"
    stop_instance

    new_instance "$driver" "$p2"
    run "$PAACTL" --config "$CONFIG" restore "$T_TMP/wrong-kind"
    is "$RC" 1 "$db: a file that is no backup for this driver is refused"
    run "$PAACTL" --config "$CONFIG" restore "$F"
    is "$RC" 0 "$db: restore into a new instance exits 0"
    start_instance
    is "$(status_of "$K")" 200 "$db: the old key works in the restored instance"
    run "$PAACTL" --config "$CONFIG" audit --json
    # The backup was taken before its own record was written; a restore
    # is not a backup (paactl check's db.backup looks for backup.*).
    is "$(jq -r '[.[] | select(.event | test("backup|restore")) | .event] | join(" ")' <<<"$OUT")" "db.restore" \
        "$db: the restored database records the restore (db.restore)"
    run "$PAACTL" --config "$CONFIG" restore "$F"
    is "$RC" 1 "$db: restoring again (now over data) needs --force"
    if [ "$driver" = sqlite3 ]; then
        run "$PAACTL" --config "$CONFIG" restore "$F" --force
        is "$RC" 1 "$db: restore while httpd has the database open is refused"
        like "$ERR" "stop httpd" "$db: and says to stop httpd"
    fi
    stop_instance
    run "$PAACTL" --config "$CONFIG" restore "$F" --force
    is "$RC" 0 "$db: restore --force exits 0"
    start_instance
    is "$(status_of "$K")" 200 "$db: after restore --force, the old key works"
    stop_instance
}

echo "not a backup" >"$T_TMP/wrong-kind"
check_backup sqlite3 sqlite3 "" ""

if have_pg; then
    new_pg
    paa_pg_run "$PAA_PG_BINDIR/createdb" -h "$PG_DIR" -p "$PG_PORT" -U paa paa2 ||
        bail "cannot create a second database"
    PATH="$PAA_PG_BINDIR:$PATH" check_backup pgsql pgsql "$PG_PARAMS" "${PG_PARAMS/dbname=paa/dbname=paa2}"

    # The password: in the child's environment, never in its argv.
    mkdir -p "$T_TMP/fakebin"
    cat >"$T_TMP/fakebin/pg_dump" <<FAKE
#!/bin/sh
printf '%s\n' "\$@" >"$T_TMP/pg_dump.argv"
printf '%s' "\${PGPASSWORD:-}" >"$T_TMP/pg_dump.pw"
for a in "\$@"; do case \$a in --file=*) printf 'PGDMP fake' >"\${a#--file=}" ;; esac; done
FAKE
    chmod 755 "$T_TMP/fakebin/pg_dump"
    new_instance pgsql "$PG_PARAMS password=not-in-argv-42"
    PATH="$T_TMP/fakebin:$PATH" run "$PAACTL" --config "$CONFIG" backup "$T_TMP/fake.backup"
    is "$RC" 0 "pgsql: backup through a fake pg_dump exits 0"
    is "$(cat "$T_TMP/pg_dump.pw")" not-in-argv-42 "pgsql: pg_dump gets the password in PGPASSWORD"
    unlike "$(cat "$T_TMP/pg_dump.argv")" "not-in-argv" "pgsql: and not in its argv"
    like "$(cat "$T_TMP/pg_dump.argv")" "dbname=paa" "pgsql: the rest of the parameters are passed"
    new_instance pgsql "$PG_PARAMS password='quoted-pw-7'"
    PATH="$T_TMP/fakebin:$PATH" run "$PAACTL" --config "$CONFIG" backup "$T_TMP/fake2.backup"
    is "$(cat "$T_TMP/pg_dump.pw")" quoted-pw-7 "pgsql: a quoted password reaches PGPASSWORD unquoted"
    # A password inside a URI cannot be taken out of it safely: refused.
    printf 'PAA_DB_DRIVER=pgsql\nPAA_DB_PARAMS="postgresql://paa:in-uri-9@/paa?host=%s&port=%s"\n' \
        "$PG_DIR" "$PG_PORT" >"$T_TMP/uri.env"
    chmod 600 "$T_TMP/uri.env"
    : >"$T_TMP/pg_dump.argv"
    PATH="$T_TMP/fakebin:$PATH" run "$PAACTL" --config "$T_TMP/uri.env" backup "$T_TMP/fake3.backup"
    is "$RC" 1 "pgsql: a password in a URI is refused"
    like "$ERR" "password=VALUE" "pgsql: saying how to give it"
    unlike "$(cat "$T_TMP/pg_dump.argv")" "in-uri" "pgsql: and pg_dump never saw it"
else
    skip "pgsql: backup and restore" "PostgreSQL is not installed"
fi

done_testing
