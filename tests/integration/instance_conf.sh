#!/bin/bash
# tools/instance.sh renders the instance's httpd.conf from paa.env. It
# substituted values with awk's gsub, where & in the replacement stands for
# the matched text (and awk -v expands backslash escapes): a PostgreSQL
# password with & became "@DB_PARAMS@" inside DBDParams, so httpd could not
# reach the database and every request failed, while paactl, which reads
# paa.env itself, worked. Values are now substituted literally and escaped
# for httpd's quoted arguments; paa.env is read with the module's grammar.
# Checked three ways: the rendered DBDParams for awkward values, an
# instance whose directory name holds & \ and ', and a PostgreSQL cluster
# that really checks a password holding & \ " and '.
. "$PAA_SRCDIR/tests/integration/lib.sh"

# The form httpd reads back as VALUE inside "...": \ and " escaped.
httpd_quoted() {
    local v=${1//\\/\\\\}
    printf '%s' "${v//\"/\\\"}"
}

# ----------------------------------------------- rendering, value by value
new_instance sqlite3
good_params=$(paa_env_value "$CONFIG" PAA_DB_PARAMS)
# set_params VALUE: PAA_DB_PARAMS=VALUE in paa.env, in double quotes, or
# single quotes when it holds a double quote (the grammar has no escapes).
set_params() {
    local q='"'
    case $1 in *'"'*) q="'" ;; esac
    sed -i '/^PAA_DB_PARAMS=/d' "$CONFIG"
    printf 'PAA_DB_PARAMS=%s%s%s\n' "$q" "$1" "$q" >>"$CONFIG"
}
n=0
while IFS= read -r value; do
    n=$((n + 1))
    set_params "$value"
    is "$(paa_env_value "$CONFIG" PAA_DB_PARAMS)" "$value" "value $n survives paa.env: $value"
    paa_render_conf "$HOME_DIR" "127.0.0.1:1" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
    is "$(grep '^DBDParams ' "$HOME_DIR/httpd.conf")" "DBDParams \"$(httpd_quoted "$value")\"" \
        "value $n is rendered literally, escaped for httpd"
    out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
    like "$out" "Syntax OK" "value $n: httpd accepts the rendered configuration"
done <<'VALUES'
host=/run/postgresql dbname=paa user=paa password=a&b
host=db dbname=paa user=paa password=&&start&end&
host=db dbname=paa user=paa password=back\\slash\n\t\&
host=db dbname=paa user=paa password='it\'s & more'
host=db dbname=paa user=paa password=only"double"quotes
host=db dbname=paa user=paa password=\\ends with a backslash\
VALUES

set_params 'host=db password=${HOME}'
run paa_render_conf "$HOME_DIR" "127.0.0.1:1" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
is "$RC" 1 "a value with \${ is refused: httpd would expand it"
like "$ERR" 'PAA_DB_PARAMS' "... naming the setting, not the value"
unlike "$ERR" 'HOME' "... and not showing the value"
run paa_env_quote "both ' and \" quotes"
is "$RC:$OUT" "1:" "a value with both quote characters cannot be written to paa.env"
is "$(paa_env_quote 'a"b') $(paa_env_quote "a'b")" "'a\"b' \"a'b\"" "paa_env_quote picks the other quote"

# httpd and paactl read PAA_DB_PARAMS_PROD when PAA_ENV=prod; so must the
# rendered configuration.
set_params "$good_params"
printf 'PAA_ENV=prod\nPAA_DB_PARAMS_PROD="%s"\n' "/srv/prod & co/paa.db" >>"$CONFIG"
paa_render_conf "$HOME_DIR" "127.0.0.1:1" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
is "$(grep '^DBDParams ' "$HOME_DIR/httpd.conf")" 'DBDParams "/srv/prod & co/paa.db"' \
    "PAA_ENV=prod: DBDParams comes from PAA_DB_PARAMS_PROD, as paactl reads it"
printf 'JWT_SECRET=x # not this one\nexport JWT_EXPIRES_IN = 12h # inline comment\n' >>"$CONFIG"
is "$(paa_env_value "$CONFIG" JWT_EXPIRES_IN)" "12h" "paa_env_value follows the env grammar (export, spaces, comment)"

# ------------------------------- an instance in a directory with & \ and '
HOME_DIR="$T_TMP/odd&dir\\x'y"
T_HOMES+=("$HOME_DIR")
paa_instance_create "$HOME_DIR" "$PAACTL" || bail "cannot create an instance in $HOME_DIR"
CONFIG="$HOME_DIR/paa.env"
start_instance
http GET /health/ready
is "$STATUS" 200 "an instance in \"odd&dir\\x'y\" reaches its SQLite database"
KEY=$("$PAACTL" --config "$CONFIG" keygen --name odd 2>/dev/null)
http GET /api/me -H "X-API-Key: $KEY"
is "$STATUS" 200 "... and authenticates a key paactl created there"
like "$(cat "$HOME_DIR/logs/error.log")" "resuming normal operations" "... and logs into its own directory"
stop_instance

# ------------------------------------ PostgreSQL that checks the password
# libpq key=value form: a value without spaces or ' is written bare with \
# doubled; otherwise in '...' with \ and ' escaped.
libpq_value() {
    local v=${1//\\/\\\\}
    case $1 in
    *[[:space:]]* | *"'"*) printf "'%s'" "${v//\'/\\\'}" ;;
    *) printf '%s' "$v" ;;
    esac
}
pg_password() {
    printf "ALTER ROLE paa PASSWORD :'pw';\n" |
        paa_pg_run "$PAA_PG_BINDIR/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U paa -d paa \
            -v ON_ERROR_STOP=1 -v pw="$1" >/dev/null
}
if have_pg; then
    new_pg
    PG_PORT=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    PW1='S3cr&t\pa"ss&'
    PW2="it's a&\\pw"
    pg_password "$PW1" || bail "cannot set the role's password"
    # The throwaway cluster trusts everyone; make it check passwords.
    echo "local all all scram-sha-256" >"$PG_DIR/data/pg_hba.conf"
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$PG_DIR/data" reload >/dev/null
    # The reload is asynchronous: wait until a connection without a
    # password is refused, so the checks below meet the new rules.
    no_password_refused() {
        ! paa_pg_run "$PAA_PG_BINDIR/psql" -w -q -h "$PG_DIR" -p "$PG_PORT" -U paa \
            -d paa -c 'SELECT 1' >/dev/null 2>&1
    }
    wait_for 30 no_password_refused || bail "the cluster did not start checking passwords"
    params="$PG_PARAMS password=$(libpq_value "$PW1")"
    new_instance pgsql "$params"
    is "$(paa_env_value "$CONFIG" PAA_DB_PARAMS)" "$params" "pgsql: paa.env holds the connection string as given"
    start_instance
    http GET /health/ready
    is "$STATUS" 200 "pgsql: httpd connects with a password holding & \\ and \""
    KEY=$("$PAACTL" --config "$CONFIG" keygen --name pg 2>/dev/null)
    http GET /api/me -H "X-API-Key: $KEY"
    is "$STATUS" 200 "pgsql: ... and authenticates a key paactl stored with the same password"
    stop_instance

    # Control: the cluster really refuses a wrong password.
    set_params "$PG_PARAMS password=$(libpq_value "${PW1%&}")"
    run "$PAACTL" --config "$CONFIG" list
    is "$RC" 1 "pgsql (control): a wrong password is refused"

    PGPASSWORD=$PW1 pg_password "$PW2" || bail "cannot change the role's password"
    set_params "$PG_PARAMS password=$(libpq_value "$PW2")"
    run "$PAACTL" --config "$CONFIG" list
    is "$RC" 0 "pgsql: paactl connects with a password holding ' & \\ and a space"
    start_instance
    http GET /health/ready
    is "$STATUS" 200 "pgsql: ... and so does httpd"
    http GET /api/me -H "X-API-Key: $KEY"
    is "$STATUS" 200 "pgsql: ... and authenticates the same key"
    stop_instance
else
    skip "pgsql password with & \\ and quotes" "PostgreSQL 15 server binaries not installed"
fi

done_testing
