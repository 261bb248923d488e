#!/bin/bash
# paactl init/migrate and the basics every command relies on: config
# discovery, clear errors and exit codes, idempotent schema creation on
# both databases, and keygen storing only a hash.
. "$PAA_SRCDIR/tests/integration/lib.sh"

run "$PAACTL" --help
is "$RC" 0 "paactl --help exits 0"
like "$OUT" "usage: paactl" "paactl --help shows usage"
run "$PAACTL"
is "$RC" 2 "paactl without a command is a usage error (2)"
run "$PAACTL" frobnicate
is "$RC" 2 "unknown command exits 2"
like "$ERR" "unknown command 'frobnicate'" "unknown command is named"
run "$PAACTL" --config /nonexistent/paa.env init
is "$RC" 1 "missing config file exits 1"
like "$ERR" "/nonexistent/paa.env" "missing config file is named"
run "$PAACTL" init --help
is "$RC" 0 "init --help exits 0"

bad="$T_TMP/bad.env"
printf 'PAA_DB_DRIVER=mysql\nPAA_DB_PARAMS=x\n' >"$bad"
run "$PAACTL" --config "$bad" init
is "$RC" 1 "unsupported driver exits 1"
like "$ERR" "sqlite3 or pgsql" "unsupported driver message says what is supported"

# The version this tree's schema code creates.
SCHEMA=$(sed -n 's/^#define PAA_SCHEMA_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$PAA_SRCDIR/mod_paa/core/db.h")
[ -n "$SCHEMA" ] || bail "PAA_SCHEMA_VERSION not found in mod_paa/core/db.h"

check_db() {
    local db=$1 driver=$2 params=$3 cfg="$T_TMP/$1.env"
    printf 'PAA_DB_DRIVER=%s\nPAA_DB_PARAMS="%s"\n' "$driver" "$params" >"$cfg"
    run "$PAACTL" --config "$cfg" init
    is "$RC" 0 "$db: init exits 0"
    like "$OUT" "created schema version $SCHEMA in " "$db: init says it created the schema"
    run "$PAACTL" --config "$cfg" init
    is "$RC" 0 "$db: second init exits 0"
    like "$OUT" "schema is up to date \(version $SCHEMA\)" "$db: second init changes nothing and says so"
    run "$PAACTL" --config "$cfg" migrate
    like "$OUT" "up to date" "$db: migrate on a current schema is a no-op"

    run "$PAACTL" --config "$cfg" keygen --name ci --role admin --expires 90d
    is "$RC" 0 "$db: keygen exits 0"
    like "$OUT" '^pak_[0-9a-f]{64}$' "$db: keygen prints the key alone on stdout"
    like "$ERR" "created API key key_[0-9a-f]{16}" "$db: keygen reports the key id on stderr"
    unlike "$ERR" "$OUT" "$db: the key is not repeated on stderr"
    KEY=$OUT
    run "$PAACTL" --config "$cfg" keygen --name x --expires soon
    is "$RC" 2 "$db: keygen with a bad duration is a usage error"
    run "$PAACTL" --config "$cfg" keygen
    is "$RC" 2 "$db: keygen without --name is a usage error"
}

check_db sqlite sqlite3 "$T_TMP/paa.db"
hash=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
is "$(sqlite3 "$T_TMP/paa.db" "SELECT count(*) FROM paa_api_keys WHERE key_hash='$hash'")" 1 \
    "sqlite: the stored hash is SHA-256 of the key"
is "$(sqlite3 "$T_TMP/paa.db" .dump | grep -c "${KEY#pak_}")" 0 "sqlite: the key itself is stored nowhere"
is "$(sqlite3 "$T_TMP/paa.db" "SELECT actor||' '||event FROM paa_audit")" "os:$(id -un) key.create" \
    "sqlite: keygen writes an audit record naming the OS user"

if have_pg; then
    new_pg
    check_db pgsql pgsql "$PG_PARAMS"
    pghost=$(sed 's/host=\([^ ]*\).*/\1/' <<<"$PG_PARAMS")
    pgport=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    hash=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
    is "$(psql -h "$pghost" -p "$pgport" -U paa -d paa -Atc "SELECT count(*) FROM paa_api_keys WHERE key_hash='$hash'")" 1 \
        "pgsql: the stored hash is SHA-256 of the key"
else
    skip "pgsql paactl checks" "PostgreSQL 15 server binaries not installed"
fi

done_testing
