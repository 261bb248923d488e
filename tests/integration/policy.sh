#!/bin/bash
# Edge policy against a real httpd: the CORS allowlist (structural origin
# matching, preflight before authentication, refusals without any CORS
# header), security headers on every kind of response (proxied backends
# included), and request body limits. Each refusal here fails if the
# matching check in mod_paa is removed.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
keygen() { "$PAACTL" --config "$CONFIG" keygen --name "$1" "${@:2}" 2>/dev/null; }
# count NAME: how many NAME header lines the last response had
count() { printf '%s\n' "$HEADERS" | grep -ci "^$1:"; }
# The Access-Control-* headers of the last response, one a line.
acheaders() { printf '%s\n' "$HEADERS" | grep -i '^access-control-'; }
# vary_has_origin: the last response's Vary lists Origin
vary_origin() { printf '%s\n' "$HEADERS" | grep -i '^vary:' | grep -qiw origin && echo yes || echo no; }

# ------------------------------------------------------------- instance
new_instance sqlite3
echo 'CORS_ORIGIN=https://app.example.com,https://*.example.com,http://localhost:3000' >>"$CONFIG"
echo '<!doctype html><title>backend</title>' >"$HOME_DIR/htdocs/page.html"
policy_conf() { # a fresh backend port at each try
BPORT=$(paa_free_port) || bail "no free port"
cat >"$HOME_DIR/conf.d/policy.conf" <<CONF
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
LoadModule headers_module $MODDIR/mod_headers.so

<Location "/extra">
    PAACorsAllowHeaders X-Request-Id Idempotency-Key
    PAACorsMaxAge 120
</Location>
<Location "/creds">
    PAACorsCredentials On
</Location>
<Location "/admin-only">
    Require paa-role admin
</Location>
<Location "/limited">
    PAARateLimit 1 60s
</Location>
<Location "/noheaders">
    PAASecurityHeaders Off
</Location>
<Location "/customcsp">
    PAAContentSecurityPolicy "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    PAAReferrerPolicy strict-origin
</Location>
<Location "/api/auth/login">
    PAAMaxBodySize 1024
</Location>

# A backend that sets its own, weaker, security headers.
Listen 127.0.0.1:$BPORT
<VirtualHost 127.0.0.1:$BPORT>
    DocumentRoot "$HOME_DIR/htdocs"
    <Location "/">
        PAAEnable Off
        PAARateLimit Off
        AuthType None
        Require all granted
        SetHandler none
        Header always set X-Frame-Options SAMEORIGIN
        Header always set Content-Security-Policy "default-src *"
        Header always set Referrer-Policy unsafe-url
        Header always set X-Content-Type-Options backend-value
        Header always set X-Backend yes
    </Location>
</VirtualHost>
<Location "/proxied/">
    Require all granted
    ProxyPass "http://127.0.0.1:$BPORT/"
</Location>
CONF
}
start_instance policy_conf

KEY=$(keygen policy-key --role reader)
ADMIN_KEY=$(keygen policy-admin --role admin)
[ -n "$KEY" ] && [ -n "$ADMIN_KEY" ] || bail "paactl keygen failed"

# ------------------------------------------------------------ preflight
preflight() { # ORIGIN [PATH] [extra curl args]
    local origin=$1 path=${2:-/api/me}
    shift 2 2>/dev/null || shift $#
    if [ -n "$origin" ]; then
        http OPTIONS "$path" -H "Origin: $origin" -H 'Access-Control-Request-Method: POST' \
            -H 'Access-Control-Request-Headers: content-type, x-api-key' "$@"
    else
        http OPTIONS "$path" -H 'Access-Control-Request-Method: POST' "$@"
    fi
}

for o in https://app.example.com https://api.example.com http://localhost:3000 https://x.app.example.com; do
    preflight "$o"
    is "$STATUS" 204 "preflight from allowed $o, no credentials, on an authenticated location: 204"
    is "$(header Access-Control-Allow-Origin)" "$o" "preflight from $o: Allow-Origin is that origin"
done
# x.app.example.com is allowed by https://*.example.com: the wildcard
# matches any strict subdomain, deeper ones included (core/cors.c).
preflight https://app.example.com
like "$(header Access-Control-Allow-Methods)" '(^|, )POST(,|$)' "preflight: Allow-Methods lists POST"
like "$(header Access-Control-Allow-Methods)" '(^|, )GET(,|$)' "preflight: Allow-Methods lists GET"
AH=$(header Access-Control-Allow-Headers)
for h in Content-Type Authorization X-API-Key; do
    like "$AH" "(^|, *)$h(,|$)" "preflight: Allow-Headers contains $h"
done
is "$(header Access-Control-Max-Age)" 600 "preflight: Max-Age defaults to 600"
is "$(header Access-Control-Allow-Credentials)" "" "preflight: no Allow-Credentials by default"
is "$(vary_origin)" yes "preflight: Vary: Origin"
is "$BODY" "" "preflight: empty body"
unlike "$HEADERS" '^WWW-Authenticate' "preflight: no authentication challenge (answered before authentication)"

preflight https://app.example.com /extra/thing
is "$STATUS" 204 "preflight on a location with PAACorsAllowHeaders: 204"
like "$(header Access-Control-Allow-Headers)" '(^|, )X-Request-Id(,|$)' "PAACorsAllowHeaders: the extra header is allowed"
like "$(header Access-Control-Allow-Headers)" '(^|, )Idempotency-Key(,|$)' "PAACorsAllowHeaders: a second extra header is allowed"
like "$(header Access-Control-Allow-Headers)" '(^|, )X-API-Key(,|$)' "PAACorsAllowHeaders: base headers kept"
is "$(header Access-Control-Max-Age)" 120 "PAACorsMaxAge: 120"
preflight https://app.example.com /api/me
unlike "$(header Access-Control-Allow-Headers)" 'X-Request-Id' "extra headers only where configured"

refused_preflight() { # ORIGIN DESCRIPTION
    preflight "$1"
    is "$STATUS" 403 "preflight refused: $2"
    is "$(acheaders)" "" "refused preflight ($2): no Access-Control-* headers"
}
refused_preflight https://evil-example.com "https://evil-example.com (not a label boundary)"
refused_preflight https://example.com.evil.net "https://example.com.evil.net (suffix attack)"
refused_preflight http://app.example.com "http://app.example.com (scheme)"
refused_preflight https://app.example.com:8443 "https://app.example.com:8443 (port)"
refused_preflight http://localhost:3001 "http://localhost:3001 (port)"
refused_preflight https://localhost:3000 "https://localhost:3000 (scheme)"
refused_preflight null "Origin: null"
refused_preflight https://example.com "https://example.com (apex is not a subdomain of *.example.com)"
refused_preflight https://app.example.com.evil.net "https://app.example.com.evil.net"
refused_preflight https://evil.net#.example.com "https://evil.net#.example.com"
refused_preflight "https://app.example.com@evil.net" "userinfo trick"
refused_preflight https://app.example.com/ "origin with a path"
preflight ""
is "$STATUS" 403 "preflight without Origin: 403"
is "$(acheaders)" "" "preflight without Origin: no Access-Control-* headers"
like "$(header Content-Type)" '^application/problem\+json' "refused preflight is problem+json"

# A plain OPTIONS (no Access-Control-Request-Method) is not a preflight:
# it goes through authentication like any request.
http OPTIONS /api/me -H 'Origin: https://app.example.com'
is "$STATUS" 401 "OPTIONS without Access-Control-Request-Method is not a preflight: 401"

# -------------------------------------------------------- actual requests
http GET /health -H 'Origin: https://app.example.com'
is "$STATUS" 200 "actual request from an allowed origin: 200"
is "$(header Access-Control-Allow-Origin)" https://app.example.com "actual request: Allow-Origin is the origin"
is "$(vary_origin)" yes "actual request from an allowed origin: Vary: Origin"
like "$(header Access-Control-Expose-Headers)" 'RateLimit-Remaining' "actual request: RateLimit headers exposed"
is "$(header Access-Control-Allow-Credentials)" "" "no Allow-Credentials without PAACorsCredentials On"

http GET /api/me -H 'Origin: https://deep.app.example.com' -H "X-API-Key: $KEY"
is "$STATUS" 200 "authenticated request from an allowed subdomain: 200"
is "$(header Access-Control-Allow-Origin)" https://deep.app.example.com "authenticated request: Allow-Origin reflected"
http GET /api/me -H 'Origin: https://app.example.com'
is "$STATUS" 401 "401 from an allowed origin"
is "$(header Access-Control-Allow-Origin)" https://app.example.com "401 from an allowed origin carries Allow-Origin (readable by the page)"

for o in https://evil-example.com https://example.com.evil.net http://app.example.com https://app.example.com:8443 null https://example.com; do
    http GET /health -H "Origin: $o"
    is "$(header Access-Control-Allow-Origin)|$(vary_origin)" "|yes" "actual request from disallowed $o: no Allow-Origin, Vary: Origin"
done
http GET /health -H 'Origin: https://evil-example.com'
is "$(acheaders)" "" "disallowed origin: no Access-Control-* header at all"
http GET /health
is "$(header Access-Control-Allow-Origin)|$(vary_origin)" "|yes" "no Origin: no Allow-Origin, Vary: Origin"

http GET /creds/x -H 'Origin: https://app.example.com' -H "X-API-Key: $KEY"
is "$STATUS" 404 "PAACorsCredentials location: served (404 from the API)"
is "$(header Access-Control-Allow-Origin)" https://app.example.com "with credentials: Allow-Origin is the explicit origin"
is "$(header Access-Control-Allow-Credentials)" true "PAACorsCredentials On: Allow-Credentials: true"
preflight https://app.example.com /creds/x
is "$(header Access-Control-Allow-Credentials)|$(header Access-Control-Allow-Origin)" "true|https://app.example.com" \
    "PAACorsCredentials On: preflight has Allow-Credentials and the explicit origin"
http GET /creds/x -H 'Origin: https://evil-example.com' -H "X-API-Key: $KEY"
is "$(acheaders)" "" "PAACorsCredentials On, disallowed origin: no CORS headers (no credentials)"

# ---------------------------------------------------- security headers
# sec: one line summarising the security headers of the last response.
sec() {
    local csp
    csp=$(header Content-Security-Policy)
    case "$csp" in
    # The default: an API's, framed nowhere, as X-Frame-Options says.
    "default-src 'none'; frame-ancestors 'none'") csp=default ;;
    esac
    echo "xfo=$(header X-Frame-Options)x$(count X-Frame-Options) nosniff=$(header X-Content-Type-Options)x$(count X-Content-Type-Options) csp=${csp}x$(count Content-Security-Policy) referrer=$(header Referrer-Policy)x$(count Referrer-Policy) hsts=$(count Strict-Transport-Security)"
}
WANT="xfo=DENYx1 nosniff=nosniffx1 csp=defaultx1 referrer=no-referrerx1 hsts=0"
check_sec() { # EXPECTED_STATUS DESCRIPTION
    is "$STATUS" "$1" "$2: status $1"
    is "$(sec)" "$WANT" "$2: all security headers, once, no HSTS over plain HTTP"
}

http GET /health
check_sec 200 "public /health"
http GET /api/me -H "X-API-Key: $KEY"
check_sec 200 "authenticated /api/me"
is "$(header Cache-Control)" no-store "authenticated API response: Cache-Control: no-store"
http GET /api/me
check_sec 401 "no credentials"
http GET /admin-only/x -H "X-API-Key: $KEY"
check_sec 403 "role refused"
http GET /admin-only/x -H "X-API-Key: $ADMIN_KEY"
is "$STATUS" 404 "the admin key passes the role check (control for the 403)"
http GET /no-such-endpoint -H "X-API-Key: $KEY"
check_sec 404 "unknown endpoint"
http POST /health
check_sec 405 "POST /health"
http POST /health -H 'Content-Type: application/json' -H 'Expect:' --data-binary "@/dev/null" -H 'Content-Length: 2000000'
check_sec 413 "declared oversize body"
http GET /limited/x -H "X-API-Key: $KEY"
is "$STATUS" 404 "first request on a 1-per-minute location: served"
http GET /limited/x -H "X-API-Key: $KEY"
check_sec 429 "rate limited"
# The backend alone sends its own values: the proxy test below means something.
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$BPORT/page.html" | tr -d '\r')
like "$hdr" '^X-Frame-Options: SAMEORIGIN' "control: the backend itself sends X-Frame-Options: SAMEORIGIN"
http GET /proxied/page.html
check_sec 200 "proxied backend response"
is "$(header X-Backend)" yes "the proxied response really came from the backend"
like "$BODY" 'backend' "proxied body is the backend's"
http GET /proxied/missing.html
check_sec 404 "proxied backend 404"
is "$(header X-Backend)" yes "the proxied 404 really came from the backend"
chmod 000 "$HOME_DIR/db/paa.db"
http GET /health/ready
check_sec 503 "server error (database unreadable)"
chmod 600 "$HOME_DIR/db/paa.db"

http GET /noheaders/x -H "X-API-Key: $KEY"
is "$STATUS" 404 "PAASecurityHeaders Off location: served"
is "$(sec)" "xfo=x0 nosniff=x0 csp=x0 referrer=x0 hsts=0" "PAASecurityHeaders Off: no security headers"
http GET /noheaders/x
is "$STATUS|$(sec)" "401|xfo=x0 nosniff=x0 csp=x0 referrer=x0 hsts=0" "PAASecurityHeaders Off: none on its 401 either"
http GET /customcsp/x -H "X-API-Key: $KEY"
is "$(header Content-Security-Policy)" "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'" "PAAContentSecurityPolicy overrides the CSP"
is "$(count Content-Security-Policy)" 1 "PAAContentSecurityPolicy: one CSP header"
is "$(header Referrer-Policy)" strict-origin "PAAReferrerPolicy overrides the Referrer-Policy"
is "$(header X-Frame-Options)" DENY "custom CSP location keeps the other headers"

# ---------------------------------------------------------- body limits
login() { http POST /api/auth/login -H 'Content-Type: application/json' "$@"; }
PW=$(head -c 2000 /dev/zero | tr '\0' 'a')
printf '{"username":"nobody","password":"%s"}' "$PW" >"$T_TMP/2k.json"
# Just under the limit, padded with JSON whitespace: passwords over 72
# bytes are refused by content (400) since bcrypt would ignore their tail.
printf '{"username":"nobody",%s"password":"%s"}' "$(printf ' %.0s' $(seq 1 860))" "${PW:0:40}" >"$T_TMP/small.json"

login --data-binary "@$T_TMP/small.json"
is "$STATUS" 401 "login with a body under PAAMaxBodySize: read and answered (401)"
login --data-binary "@$T_TMP/2k.json"
is "$STATUS" 413 "2 KB JSON body over PAAMaxBodySize 1024: 413"
like "$(header Content-Type)" '^application/problem\+json' "413 is problem+json"
is "$(json .status)" 413 "413 problem document has status"
t0=$(date +%s.%N)
STATUS=$(curl -s -o "$T_TMP/cl" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    -H 'Expect:' -H 'Content-Length: 10000000' --data x "$BASE/api/auth/login")
t1=$(date +%s.%N)
is "$STATUS" 413 "Content-Length 10000000 with one byte sent: 413 (not waiting for the body)"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 3) }' && ok "the 413 came at once ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s)" ||
    not_ok "the 413 came at once" "took $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s"
# /api/admin/auth/login has no PAAMaxBodySize: login's own 16 KB cap,
# under the default 1 MB, is checked against Content-Length by the handler
# before it reads anything.
t0=$(date +%s.%N)
STATUS=$(curl -s -o "$T_TMP/cl" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    -H 'Expect:' -H 'Content-Length: 500000' --data x "$BASE/api/admin/auth/login")
t1=$(date +%s.%N)
is "$STATUS" 413 "Content-Length 500000 (over login's 16 KB, under 1 MB) with one byte sent: 413"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 3) }' && ok "that 413 came at once too" ||
    not_ok "that 413 came at once too" "took $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s"
login -H 'Transfer-Encoding: chunked' --data-binary "@$T_TMP/2k.json"
is "$STATUS" 413 "chunked 2 KB body (no Content-Length) over PAAMaxBodySize: 413"
like "$(header Content-Type)" '^application/problem\+json' "chunked 413 is problem+json"
login -H 'Transfer-Encoding: chunked' --data-binary "@$T_TMP/small.json"
is "$STATUS" 401 "chunked body under the limit: read and answered (401)"
login --data '{"username":"alice",'
is "$STATUS" 400 "malformed JSON: 400"
like "$(header Content-Type)" '^application/problem\+json' "400 is problem+json"
http POST /api/auth/login -H 'Content-Type: text/plain' --data '{"username":"a","password":"b"}'
is "$STATUS" 415 "wrong Content-Type: 415"
http POST /api/auth/login -H 'Content-Type: application/x-www-form-urlencoded' --data 'username=a&password=b'
is "$STATUS" 415 "form-encoded body: 415"

# Default limit, 1 MB, where PAAMaxBodySize is not set: POST /health is
# 405 unless the body is refused first.
head -c 1048576 /dev/zero | tr '\0' 'a' >"$T_TMP/1m"
head -c 1572864 /dev/zero | tr '\0' 'a' >"$T_TMP/1.5m"
http POST /health -H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$T_TMP/1m"
is "$STATUS" 405 "exactly 1 MB under the default limit: not refused for size (405)"
http POST /health -H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$T_TMP/1.5m"
is "$STATUS" 413 "1.5 MB body against the default 1 MB limit: 413"
like "$(header Content-Type)" '^application/problem\+json' "default-limit 413 is problem+json"
http POST /api/me -H 'Content-Type: application/json' -H 'Expect:' -H "X-API-Key: $KEY" --data-binary "@$T_TMP/1.5m"
is "$STATUS" 413 "1.5 MB body on an authenticated location: 413"
stop_instance

# ------------------------------------------------- PAACorsOrigin * (no credentials)
new_instance sqlite3
cat >"$HOME_DIR/conf.d/any.conf" <<'CONF'
<Location "/">
    PAACorsOrigin *
</Location>
CONF
start_instance
http GET /health -H 'Origin: https://anything.example.org'
is "$(header Access-Control-Allow-Origin)" '*' "PAACorsOrigin *: Allow-Origin: *"
is "$(header Access-Control-Allow-Credentials)" "" "PAACorsOrigin *: never Allow-Credentials"
preflight https://anything.example.org
is "$STATUS|$(header Access-Control-Allow-Origin)|$(header Access-Control-Allow-Credentials)" "204|*|" \
    "PAACorsOrigin *: preflight 204 with Allow-Origin: * and no credentials"
stop_instance

# ----------------------------------------- * with credentials is refused
refuse_conf() { # DESCRIPTION ENVLINE CONF
    local out rc
    new_instance sqlite3
    [ -n "$2" ] && echo "$2" >>"$CONFIG"
    printf '%s\n' "$3" >"$HOME_DIR/conf.d/cors.conf"
    paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
    out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1)
    rc=$?
    [ $rc -ne 0 ] && ok "httpd -t refuses: $1" || not_ok "httpd -t refuses: $1" "$out"
    [ $rc -ne 0 ] && like "$out" 'PAACors|CORS_ORIGIN|wildcard' "the refusal names the problem: $1"
}
refuse_conf "PAACorsOrigin * then PAACorsCredentials On" "" '<Location "/">
    PAACorsOrigin *
    PAACorsCredentials On
</Location>'
refuse_conf "PAACorsCredentials On then PAACorsOrigin *" "" '<Location "/">
    PAACorsCredentials On
    PAACorsOrigin https://app.example.com *
</Location>'
refuse_conf "PAACorsOrigin * with PAACorsCredentials On in a nested location" "" '<Location "/">
    PAACorsOrigin *
</Location>
<Location "/api">
    PAACorsCredentials On
</Location>'
refuse_conf "CORS_ORIGIN=* with PAACorsCredentials On" "CORS_ORIGIN=*" '<Location "/">
    PAACorsCredentials On
</Location>'
# Whatever startup says, such a server never grants credentials to an
# arbitrary origin.
if "$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" >/dev/null 2>&1; then
    start_instance
    http GET /health -H 'Origin: https://evil.example.org'
    is "$(header Access-Control-Allow-Credentials)" "" "CORS_ORIGIN=* with credentials (accepted at startup): no Allow-Credentials for an arbitrary origin"
    preflight https://evil.example.org
    is "$(header Access-Control-Allow-Credentials)" "" "CORS_ORIGIN=* with credentials: no Allow-Credentials on the preflight either"
    stop_instance
fi
# control: the same directives with an explicit origin are accepted
new_instance sqlite3
printf '<Location "/">\n    PAACorsOrigin https://app.example.com\n    PAACorsCredentials On\n</Location>\n' >"$HOME_DIR/conf.d/cors.conf"
paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1) && ok "an explicit origin with credentials is accepted" ||
    not_ok "an explicit origin with credentials is accepted" "$out"
printf '<Location "/">\n    PAACorsOrigin https://*.com\n</Location>\n' >"$HOME_DIR/conf.d/cors.conf"
if out=$("$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1); then
    not_ok "PAACorsOrigin https://*.com (a whole TLD) is refused" "$out"
else
    ok "PAACorsOrigin https://*.com (a whole TLD) is refused"
fi

done_testing
