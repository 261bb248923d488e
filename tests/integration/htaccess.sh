#!/bin/bash
# The policy directives that can weaken security are the administrator's:
# with AllowOverride AuthConfig (or All), a .htaccess author could write
# "PAASecurityHeaders Off", "PAAHTTPSOnly Off", a lax CSP, or widen CORS
# (PAACorsOrigin, PAACorsCredentials On ...) for their directory, and
# mod_paa applied it. They are now refused there, like PAARateLimit: the
# request gets 500 and the error log names the directive, while the same
# directives keep working in the server configuration and .htaccess keeps
# what AuthConfig is for (PAAAuthMethods, PAAEnable On).
. "$PAA_SRCDIR/tests/integration/lib.sh"

new_instance sqlite3
HT="$HOME_DIR/htdocs"
cat >"$HOME_DIR/conf.d/htaccess.conf" <<CONF
<Directory "$HT">
    AllowOverride AuthConfig
</Directory>
<Directory "$HT/all">
    AllowOverride All
</Directory>
# The administrator may still turn the headers off.
<Directory "$HT/admin">
    PAASecurityHeaders Off
</Directory>
CONF

DIRECTIVES=(
    "PAASecurityHeaders Off"
    "PAAHTTPSOnly Off"
    "PAAContentSecurityPolicy \"default-src *\""
    "PAAReferrerPolicy unsafe-url"
    "PAACorsOrigin https://evil.example.net"
    "PAACorsCredentials On"
    "PAACorsAllowHeaders X-Evil"
    "PAACorsMaxAge 86400"
    "PAAEnable Off"
)
i=0
for d in "${DIRECTIVES[@]}"; do
    i=$((i + 1))
    mkdir -p "$HT/d$i"
    printf '%s\n' "$d" >"$HT/d$i/.htaccess"
done
mkdir -p "$HT/all" "$HT/ok" "$HT/admin"
printf 'PAASecurityHeaders Off\n' >"$HT/all/.htaccess"
printf 'PAAAuthMethods jwt\nPAAEnable On\n' >"$HT/ok/.htaccess"
start_instance
KEY=$("$PAACTL" --config "$CONFIG" keygen --name htaccess 2>/dev/null)

# Controls first: .htaccess is read there and AuthConfig directives work,
# so a 500 below comes from mod_paa's refusal, not from AllowOverride.
http GET /ok/x -H "X-API-Key: $KEY"
is "$STATUS" 401 "(control) .htaccess with PAAAuthMethods jwt and PAAEnable On is read and applied: the API key is not accepted there"
http GET /elsewhere -H "X-API-Key: $KEY"
is "$STATUS" 404 "(control) ... while it is elsewhere"
http GET /admin/x -H "X-API-Key: $KEY"
is "$STATUS:$(header Content-Security-Policy)" "404:" \
    "(control) PAASecurityHeaders Off in the server configuration still works"

i=0
for d in "${DIRECTIVES[@]}"; do
    i=$((i + 1))
    name=${d%% *}
    http GET "/d$i/x" -H "X-API-Key: $KEY" -H "Origin: https://evil.example.net"
    is "$STATUS" 500 "'$d' in .htaccess (AllowOverride AuthConfig) is a configuration error"
    like "$(grep -F "$HT/d$i/.htaccess" "$HOME_DIR/logs/error.log")" "$name( Off)? cannot occur within htaccess files" \
        "... the error log names $name and the file"
    is "$(header Access-Control-Allow-Origin)" "" "... and no CORS header is granted"
done
http GET /all/x -H "X-API-Key: $KEY"
is "$STATUS" 500 "PAASecurityHeaders Off in .htaccess with AllowOverride All is refused too"

# Outside the directories the administrator opened, no .htaccess is read:
# httpd's own default still opens (and parses) one in every directory
# from / down, so that whoever may write in any of them could answer
# every request with a 500.
printf 'NotADirective\n' >"$HOME_DIR/.htaccess"
http GET /health
is "$STATUS" 200 "a .htaccess above the document root is not read (instance.conf: AllowOverride None for /)"
http GET /elsewhere -H "X-API-Key: $KEY"
is "$STATUS" 404 "... nor on an authenticated request"
unlike "$(grep -F "$HOME_DIR/.htaccess" "$HOME_DIR/logs/error.log")" . "... and the error log never mentions it"
rm -f "$HOME_DIR/.htaccess"

unlike "$(cat "$HOME_DIR/logs/error.log")" 'exit signal|Segmentation' "no child crashed"

done_testing
