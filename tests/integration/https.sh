#!/bin/bash
# PAAHTTPSOnly with a real TLS listener (mod_ssl, a self-signed certificate
# made here): plain-HTTP GET/HEAD are redirected, other methods refused,
# credentials sent in clear are never used, HTTPS gets HSTS, and
# X-Forwarded-Proto counts only from a configured proxy.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
sql() { sqlite3 "$HOME_DIR/db/paa.db" "$1"; }
keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
HSTS="max-age=31536000; includeSubDomains"

skip_all() {
    local t
    for t in "plain-HTTP redirect" "plain-HTTP POST refused" "credentials over plain HTTP refused" \
        "HTTPS with HSTS" "X-Forwarded-Proto from an untrusted peer" "X-Forwarded-Proto from a trusted proxy"; do
        skip "$t" "$1"
    done
    done_testing
}

[ -f "$MODDIR/mod_ssl.so" ] || skip_all "mod_ssl is not installed ($MODDIR/mod_ssl.so)"
command -v openssl >/dev/null || skip_all "the openssl command is not installed"

# ---------------------------------------------------------- certificate
TLS="$T_TMP/tls"
mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" >"$TLS/openssl.log" 2>&1 ||
    skip_all "openssl could not make a certificate: $(tail -n 1 "$TLS/openssl.log")"

# --------------------------------------------------------------- instance
new_instance sqlite3
EXTRA=""
write_conf() { # extra server-level lines; a fresh TLS port each time
    EXTRA=$1
    TLSPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/https.conf" <<CONF
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule ssl_module $MODDIR/mod_ssl.so
Listen 127.0.0.1:$TLSPORT
<VirtualHost 127.0.0.1:$TLSPORT>
    # No Location of its own: it inherits the main server's default deny.
    SSLEngine on
    SSLCertificateFile "$TLS/cert.pem"
    SSLCertificateKeyFile "$TLS/key.pem"
</VirtualHost>
<Location "/">
    PAAHTTPSOnly On
</Location>
$1
CONF
}
rewrite_conf() { write_conf "$EXTRA"; }
write_conf ""
paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
if ! out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1); then
    echo "# $out" | head -n 5
    skip_all "httpd cannot load mod_ssl with this configuration: $(echo "$out" | head -n 1)"
fi
start_instance rewrite_conf
TBASE="https://127.0.0.1:$TLSPORT"
KEY=$(keygen tls-key --role admin)
KID=$(sql "SELECT id FROM paa_api_keys WHERE name='tls-key'")
# tls METHOD PATH [curl args]: like http, over TLS
tls() { local b=$BASE; BASE=$TBASE; http "$1" "$2" -k "${@:3}"; BASE=$b; }

tls GET /health
[ "$STATUS" = 000 ] && bail "the TLS listener does not answer (see $HOME_DIR/logs/error.log)"

# ------------------------------------------------------------ plain HTTP
http GET "/api/me?x=1"
is "$STATUS" 301 "plain-HTTP GET: 301"
like "$(header Location)" '^https://127\.0\.0\.1(:[0-9]+)?/api/me\?x=1$' "the redirect goes to the same URL over https"
is "$(header Strict-Transport-Security)" "" "no HSTS on the plain-HTTP redirect"
http HEAD /health -I
is "$STATUS" 301 "plain-HTTP HEAD (public /health): 301"
http GET /health
is "$STATUS" 301 "plain-HTTP GET on a public location: 301"
http POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"a","password":"b"}'
is "$STATUS" 403 "plain-HTTP POST: 403"
like "$(header Content-Type)" '^application/problem\+json' "plain-HTTP 403 is problem+json"
is "$(json .status)" 403 "plain-HTTP 403 problem document has status"
for m in PUT DELETE PATCH; do
    http "$m" /api/me -H "X-API-Key: $KEY"
    is "$STATUS" 403 "plain-HTTP $m with a valid key: 403"
done

http GET /api/me -H "X-API-Key: $KEY"
is "$STATUS" 301 "a valid API key over plain HTTP (GET): redirected, not served"
http POST /api/me -H "X-API-Key: $KEY"
is "$STATUS" 403 "a valid API key over plain HTTP (POST): refused"
http GET /api/me -H "X-API-Key: $KEY" -H 'X-Forwarded-Proto: https'
is "$STATUS" 301 "X-Forwarded-Proto: https from an untrusted peer: still redirected"
http POST /api/me -H "X-API-Key: $KEY" -H 'X-Forwarded-Proto: https'
is "$STATUS" 403 "X-Forwarded-Proto: https from an untrusted peer (POST): still refused"
# Key uses are written in batches, and every child writes what it counted
# when it exits: after a stop, a use would be in the database.
stop_instance
is "$(sql "SELECT coalesce(last_used_at, 'never') FROM paa_api_keys WHERE id='$KID'")" never \
    "the key sent over plain HTTP was never used (last_used_at empty)"
start_instance rewrite_conf
TBASE="https://127.0.0.1:$TLSPORT"

# ------------------------------------------------------------------ TLS
tls GET /api/me -H "X-API-Key: $KEY"
is "$STATUS" 200 "over TLS with the key: 200"
is "$(json .id)" "$KID" "over TLS: the principal is the key"
is "$(header Strict-Transport-Security)" "$HSTS" "over TLS: Strict-Transport-Security: $HSTS"
is "$(header X-Frame-Options)" DENY "over TLS: the other security headers too"
tls GET /health
is "$STATUS|$(header Strict-Transport-Security)" "200|$HSTS" "over TLS, public /health: 200 with HSTS"
tls GET /api/me
is "$STATUS|$(header Strict-Transport-Security)" "401|$HSTS" "over TLS, no credentials: 401 with HSTS"
tls POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"nobody","password":"nope-nope"}'
is "$STATUS" 401 "over TLS, POST is served (login answers 401 for an unknown user)"
key_used() { [ "$(sql "SELECT coalesce(last_used_at, 'never') FROM paa_api_keys WHERE id='$KID'")" != never ]; }
wait_for 10 key_used && ok "control: the key's use over TLS is recorded (last_used_at set)" ||
    not_ok "control: last_used_at set after use over TLS" "still empty after 10 s"
stop_instance

# --------------------------------------- X-Forwarded-Proto and proxies
# A proxy list that does not contain the peer: still not trusted.
write_conf "PAATrustedProxy 192.0.2.0/24 10.1.2.3"
start_instance rewrite_conf
TBASE="https://127.0.0.1:$TLSPORT"
http GET /api/me -H "X-API-Key: $KEY" -H 'X-Forwarded-Proto: https'
is "$STATUS" 301 "X-Forwarded-Proto: https from a peer not in PAATrustedProxy: redirected"
is "$(header Strict-Transport-Security)" "" "untrusted X-Forwarded-Proto: no HSTS"
stop_instance

write_conf "PAATrustedProxy 127.0.0.1"
start_instance rewrite_conf
TBASE="https://127.0.0.1:$TLSPORT"
http GET /api/me -H "X-API-Key: $KEY" -H 'X-Forwarded-Proto: https'
is "$STATUS" 200 "PAATrustedProxy 127.0.0.1: X-Forwarded-Proto: https accepted as HTTPS (200)"
is "$(header Strict-Transport-Security)" "$HSTS" "trusted X-Forwarded-Proto: HSTS sent"
http POST /api/auth/login -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json' \
    --data '{"username":"nobody","password":"nope-nope"}'
is "$STATUS" 401 "trusted X-Forwarded-Proto: POST served"
http GET /api/me -H "X-API-Key: $KEY"
is "$STATUS" 301 "trusted proxy without X-Forwarded-Proto: still plain HTTP (301)"
http GET /api/me -H "X-API-Key: $KEY" -H 'X-Forwarded-Proto: http'
is "$STATUS" 301 "trusted proxy saying X-Forwarded-Proto: http: 301"
tls GET /api/me -H "X-API-Key: $KEY"
is "$STATUS|$(header Strict-Transport-Security)" "200|$HSTS" "TLS still works beside the trusted proxy"
stop_instance

done_testing
