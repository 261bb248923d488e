#!/bin/bash
# Gateway mode: mod_paa in front of a backend (ProxyPass). The backend
# gets the verified identity in X-PAA-* and never the caller's credential:
# no X-API-Key, and no Authorization unless PAAForwardAuthorization On.
# The URLs the server hands out about itself (the HTTPS redirect, RFC 9728
# metadata, the 401 challenge) come from ServerName or PAAPublicURL, never
# from the request's Host header.
. "$PAA_SRCDIR/tests/integration/lib.sh"

MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}

new_instance sqlite3
# The backend answers with what it received, in response headers.
gateway_conf() {
    BPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/gateway.conf" <<CONF
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
LoadModule headers_module $MODDIR/mod_headers.so
LoadModule setenvif_module $MODDIR/mod_setenvif.so
Listen 127.0.0.1:$BPORT
<VirtualHost 127.0.0.1:$BPORT>
    DocumentRoot "$HOME_DIR/htdocs"
    <Location "/">
        PAAEnable Off
        PAARateLimit Off
        AuthType None
        Require all granted
        SetHandler none
        Header always set X-Seen-Api-Key "expr=%{req:X-API-Key}"
        Header always set X-Seen-Authorization "expr=%{req:Authorization}"
        Header always set X-Seen-Principal "expr=%{req:X-Copied-Principal}"
        Header always set X-Seen-Method "expr=%{req:X-Copied-Method}"
        Header always set X-Seen-Roles "expr=%{req:X-Copied-Roles}"
    </Location>
</VirtualHost>
# Runs after mod_paa's strip of inbound X-PAA-* headers: the verified
# roles must still be the only ones a backend sees.
RequestHeader set X-PAA-Roles admin early
# The backend is this same httpd, whose mod_paa strips every inbound
# X-PAA-* header: copies under other names show what was forwarded.
<Location "/gw/">
    ProxyPass "http://127.0.0.1:$BPORT/"
    RequestHeader set X-Copied-Principal "expr=%{req:X-PAA-Principal}"
    RequestHeader set X-Copied-Method "expr=%{req:X-PAA-Auth-Method}"
    RequestHeader set X-Copied-Roles "expr=%{req:X-PAA-Roles}"
    # Before authentication (header_parser): the environment a log or a
    # CGI reads must hold the verified identity, not these.
    SetEnvIf Request_URI "." PAA_PRINCIPAL=forged PAA_ROLES=admin
    Header always set X-Env-Principal "%{PAA_PRINCIPAL}e"
    Header always set X-Env-Roles "%{PAA_ROLES}e"
</Location>
<Location "/gwkeep/">
    PAAForwardAuthorization On
    ProxyPass "http://127.0.0.1:$BPORT/"
</Location>
# The backend's 404 becomes an internal redirect to another page behind
# the same section: httpd skips authentication for it (same per-directory
# configuration), and the redirect is proxied in its turn.
<Location "/gwerr/">
    ProxyPass "http://127.0.0.1:$BPORT/"
    ProxyErrorOverride On
    ErrorDocument 404 /gwerr/page.html
    RequestHeader set X-Copied-Principal "expr=%{req:X-PAA-Principal}"
    RequestHeader set X-Copied-Roles "expr=%{req:X-PAA-Roles}"
    Header always set X-Env-Principal "%{PAA_PRINCIPAL}e"
</Location>
<Location "/redirect">
    PAAHTTPSOnly On
</Location>
CONF
}
echo '<!doctype html><title>backend</title>' >"$HOME_DIR/htdocs/page.html"
start_instance gateway_conf

KEY=$("$PAACTL" --config "$CONFIG" keygen --name gateway --role reader 2>/dev/null)
KEY_ID=$("$PAACTL" --config "$CONFIG" list --json 2>/dev/null | jq -r '.[] | select(.name=="gateway") | .id')
U=$(printf 'gateway-password-1\n' | "$PAACTL" --config "$CONFIG" user add gwuser 2>/dev/null)
TOKEN=$("$PAACTL" --config "$CONFIG" token issue --sub gwuser --ttl 10m 2>/dev/null)
[ -n "$KEY" ] && [ -n "$TOKEN" ] || bail "cannot make credentials"

http GET /gw/page.html -H "X-API-Key: $KEY"
is "$STATUS" 200 "API key through the gateway: 200"
like "$BODY" backend "the answer is the backend's"
is "$(header X-Seen-Api-Key)" "" "the backend does not receive the caller's X-API-Key"
is "$(header X-Seen-Principal)" "$KEY_ID" "the backend receives the verified principal"
is "$(header X-Seen-Method)" api-key "... and how it was verified"
is "$(header X-Seen-Roles)" reader "... and its roles alone, not an X-PAA-Roles an early RequestHeader put back"
is "$(header X-Env-Principal)" "$KEY_ID" "PAA_PRINCIPAL in the environment is the verified one, not SetEnvIf's"
is "$(header X-Env-Roles)" reader "... and so is PAA_ROLES"

http GET /gw/page.html -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "bearer token through the gateway: 200"
is "$(header X-Seen-Authorization)" "" "the backend does not receive the Authorization header"
is "$(header X-Seen-Principal)" "$U" "the backend receives the user's id"

http GET /gwkeep/page.html -H "Authorization: Bearer $TOKEN"
is "$(header X-Seen-Authorization)" "Bearer $TOKEN" \
    "PAAForwardAuthorization On: the backend receives the Authorization header"
http GET /gwkeep/page.html -H "X-API-Key: $KEY"
is "$(header X-Seen-Api-Key)" "" "PAAForwardAuthorization On: still never the X-API-Key"

# An internal redirect keeps the verified identity for the backend.
http GET /gwerr/missing.html -H "X-API-Key: $KEY"
is "$STATUS:$(header X-Seen-Principal)" "404:$KEY_ID" "the page of an internal redirect reaches the backend with the verified principal"
is "$(header X-Seen-Roles)" reader "... and its roles"
is "$(header X-Seen-Api-Key)" "" "... and still without the caller's X-API-Key"
is "$(header X-Env-Principal)" "$KEY_ID" "... and PAA_PRINCIPAL is set for the redirect's log"

# -------------------------------------------- URLs from the server's name
http GET /api/mcp -H 'Host: evil.example'
is "$STATUS" 401 "MCP without credentials: 401"
like "$(printf '%s\n' "$HEADERS" | grep -i '^www-authenticate: bearer')" "resource_metadata=\"http://127\.0\.0\.1:$PORT/\.well-known/oauth-protected-resource\"" \
    "the 401 challenge names this server, not the Host header"
http GET /.well-known/oauth-protected-resource -H 'Host: evil.example'
is "$(json .resource)" "http://127.0.0.1:$PORT/api/mcp" "RFC 9728 metadata: the resource is this server's"
http GET /redirect -H 'Host: evil.example'
is "$STATUS" 301 "PAAHTTPSOnly: plain GET is redirected"
is "$(header Location)" "https://127.0.0.1/redirect" "the redirect goes to ServerName, not the Host header"
unlike "$HEADERS$BODY" evil "nothing of the Host header is echoed"

# PAAPublicURL names the public address explicitly.
stop_instance
echo 'PAAPublicURL https://api.example.com' >"$HOME_DIR/conf.d/zz-public.conf"
start_instance gateway_conf
http GET /.well-known/oauth-protected-resource -H 'Host: evil.example'
is "$(json .resource)" "https://api.example.com/api/mcp" "PAAPublicURL: the metadata uses it"
http GET /redirect -H 'Host: evil.example'
is "$(header Location)" "https://api.example.com/redirect" "PAAPublicURL: the redirect uses it"
echo 'PAAPublicURL https://api.example.com/path' >"$HOME_DIR/conf.d/zz-public.conf"
paa_render_conf "$HOME_DIR" "127.0.0.1:$PORT" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
run "$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf"
is "$RC" 1 "PAAPublicURL with a path: httpd -t refuses it"
like "$ERR" 'PAAPublicURL .*scheme://host' "... saying what it expects"

done_testing
