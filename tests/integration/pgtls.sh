#!/bin/bash
# PostgreSQL over TLS. With sslmode=require in the DB parameters, an
# instance started as root answered 503 to every request that needed the
# database: the children (www-data) inherit root's HOME, libpq looks for a
# client certificate in $HOME/.postgresql/, and a stat() refused with EACCES
# (not ENOENT) fails the connection. paactl, run by root, worked, which hid
# it. mod_paa now points an unusable HOME at the child user's own home in
# child_init, before mod_dbd connects.
#
# A throwaway cluster with ssl=on and a certificate from a test-made CA
# (SAN DNS:localhost and IP:127.0.0.1), reached over TCP: one instance with
# libpq's default sslmode (prefer), one with sslmode=require, one with
# sslmode=verify-full and sslrootcert=<the CA>,
# each checked for readiness, an API key, a persona written and read, and,
# on the server side, that its connections really are TLS; then verify-full
# against a wrong CA must fail (503) with the reason in the error log.
# As root, httpd and paactl run with a HOME of mode 0700 that only root can
# enter, as root's own is in CI.
. "$PAA_SRCDIR/tests/integration/lib.sh"

if ! have_pg; then
    skip "PostgreSQL over TLS" "PostgreSQL 15 server binaries not installed"
    done_testing
fi
command -v openssl >/dev/null || bail "openssl is needed to make the test certificates"

USER_HTTPD=$(paa_httpd_user)
if [ -n "$USER_HTTPD" ]; then
    # What the children inherit from a root shell, made explicit so that
    # the test does not depend on how it was started.
    export HOME="$T_TMP/root-home"
    install -d -m 700 "$HOME"
    run runuser -u "$USER_HTTPD" -- test -x "$HOME"
    is "$RC" 1 "control: the httpd user ($USER_HTTPD) cannot enter HOME ($HOME)"
    USER_HOME=$(getent passwd "$USER_HTTPD" | cut -d: -f6)
fi

# ------------------------------------------------------------ certificates
TLS="$T_TMP/tls"
install -d -m 755 "$TLS"
# mkca NAME: a self-signed CA, TLS/NAME.crt and TLS/NAME.key
mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$TLS/$1.key" -out "$TLS/$1.crt" -days 2 -subj "/CN=paa test $1" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$TLS/openssl.err" ||
        bail "openssl: $(cat "$TLS/openssl.err")"
}
mkca ca
mkca wrong-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=localhost" \
    2>"$TLS/openssl.err" || bail "openssl: $(cat "$TLS/openssl.err")"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" \
    -CAcreateserial -days 2 -extfile "$TLS/server.ext" -out "$TLS/server.crt" \
    2>"$TLS/openssl.err" || bail "openssl: $(cat "$TLS/openssl.err")"
# The CA certificates are public: the httpd user reads them. PostgreSQL
# wants its key private to the cluster's owner.
chmod 644 "$TLS"/*.crt
chmod 600 "$TLS/server.key"
[ "$(id -u)" = 0 ] && chown nobody "$TLS/server.key"

# ----------------------------------------------------------------- cluster
new_pg "-c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$TLS/server.crt -c ssl_key_file=$TLS/server.key"
# psql SQL: as the cluster's superuser, over the Unix socket
psql_su() {
    paa_pg_run "$PAA_PG_BINDIR/psql" -X -q -At -h "$PG_DIR" -p "$PG_PORT" -U paa -d paa -c "$1" 2>&1
}
is "$(psql_su 'SHOW ssl')" on "control: the cluster has ssl=on"
is "$(psql_su 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')" f \
    "control: pg_stat_ssl tells a plain connection (psql over the socket) from TLS"
for db in paa_prefer paa_require paa_verify; do
    paa_pg_run "$PAA_PG_BINDIR/createdb" -h "$PG_DIR" -p "$PG_PORT" -U paa "$db" ||
        bail "createdb $db failed"
done
# Over TCP: host names the server for verify-full, hostaddr skips DNS.
TCP="host=localhost hostaddr=127.0.0.1 port=$PG_PORT user=paa"

# tls_connections APPNAME: "count ssl-count" of the server's connections
# from that application (pg_stat_ssl says which ones are TLS).
tls_connections() {
    psql_su "SELECT count(*) || ' ' || count(*) FILTER (WHERE s.ssl)
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
             WHERE a.application_name = '$1'"
}

# suite NAME PARAMS: an instance on PARAMS; ready, a key, a persona, TLS.
suite() {
    local name=$1 params=$2 key
    new_instance pgsql "$params"
    echo "LogLevel warn paa:debug" >"$HOME_DIR/conf.d/debug.conf"
    start_instance
    http GET /health/ready
    is "$STATUS" 200 "$name: /health/ready is 200"
    [ "$STATUS" = 200 ] || echo "# error.log: $(tail -n 5 "$HOME_DIR/logs/error.log")"
    key=$("$PAACTL" --config "$CONFIG" keygen --name "tls-$name" --role admin 2>"$T_TMP/err")
    like "$key" '^pak_' "$name: paactl (as $(id -un), same HOME) creates a key over TLS"
    http GET /api/personas -H "X-API-Key: $key"
    is "$STATUS" 200 "$name: the API key authenticates"
    http POST /api/personas -H "X-API-Key: $key" -H "Content-Type: application/json" \
        --data-binary '{"id":"tls-'"$name"'","name":"TLS '"$name"'","description":"Created over TLS.","knowledgeCategory":"general","temperature":0.5,"maxTokens":100}'
    is "$STATUS" 201 "$name: a persona is created"
    http GET "/api/personas/tls-$name" -H "X-API-Key: $key"
    is "$STATUS:$(json .name)" "200:TLS $name" "$name: the persona reads back"
    # "N N": N connections from this instance, all of them TLS, and N > 0.
    like "$(tls_connections "paa_$name")" '^([1-9][0-9]*) \1$' \
        "$name: httpd's connections to the server are all TLS (pg_stat_ssl)"
    unlike "$(grep -m1 -E 'could not open certificate|Permission denied' "$HOME_DIR/logs/error.log")" . \
        "$name: libpq did not trip over HOME"
    if [ -n "$USER_HTTPD" ]; then
        like "$(grep -m1 PAA01102 "$HOME_DIR/logs/error.log")" \
            "HOME $HOME cannot be searched by uid $(id -u "$USER_HTTPD"); HOME is now $USER_HOME " \
            "$name: the children's HOME is $USER_HTTPD's own ($USER_HOME)"
    fi
}

# libpq's default, sslmode=prefer, falls back to plain text when its TLS
# setup fails, so the HOME trap turned into unencrypted connections there.
suite prefer "$TCP dbname=paa_prefer application_name=paa_prefer"
stop_instance

suite require "$TCP dbname=paa_require sslmode=require application_name=paa_require"
stop_instance

suite verify "$TCP dbname=paa_verify sslmode=verify-full sslrootcert=$TLS/ca.crt application_name=paa_verify"
stop_instance

# ------------------------------------------ negative control: a wrong CA
WRONG="$TCP dbname=paa_verify sslmode=verify-full sslrootcert=$TLS/wrong-ca.crt application_name=paa_verify"
sed -i '/^PAA_DB_PARAMS=/d' "$CONFIG"
printf 'PAA_DB_PARAMS=%s\n' "$(paa_env_quote "$WRONG")" >>"$CONFIG"
run "$PAACTL" --config "$CONFIG" list
is "$RC" 1 "wrong CA: paactl fails"
like "$ERR" 'certificate verify failed' "wrong CA: paactl says why"
start_instance
http GET /health/ready
is "$STATUS" 503 "wrong CA: /health/ready is 503"
like "$(grep -m1 'AH00629' "$HOME_DIR/logs/error.log")" 'certificate verify failed' \
    "wrong CA: the error log says the server certificate did not verify"
stop_instance

done_testing
