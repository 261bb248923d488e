#!/bin/bash
# Virtual hosts keep their own authentication settings: a token accepted
# by one host (no audience required) must not be accepted by another that
# requires a different audience, even right after, in the same process,
# where the first host's verdict is cached.
. "$PAA_SRCDIR/tests/integration/lib.sh"

new_instance sqlite3
vhost_conf() {
    VPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/vhost.conf" <<CONF
Listen 127.0.0.1:$VPORT
<VirtualHost 127.0.0.1:$VPORT>
    ServerName vhost.test
    PAAJWTAudience other-audience
</VirtualHost>
CONF
}
start_instance vhost_conf
VBASE="http://127.0.0.1:$VPORT"
U=$(printf 'vhost-password-1\n' | "$PAACTL" --config "$CONFIG" user add vera 2>/dev/null)
SECRET=$(paa_env_value "$CONFIG" JWT_SECRET)
T=$("$JWT_MINT" sign --alg HS256 --key "$SECRET" \
    --payload "{\"sub\":\"$U\",\"aud\":\"main-audience\",\"exp\":\"now+300\"}")

http GET /api/me -H "Authorization: Bearer $T"
is "$STATUS" 200 "main server (no audience required): the token is accepted"
codes=""
for _ in $(seq 1 20); do
    curl -s -o /dev/null -H "Authorization: Bearer $T" "$BASE/api/me"
    codes="$codes$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T" "$VBASE/api/me") "
done
is "$(tr ' ' '\n' <<<"$codes" | sort -u | tr -d '\n')" 401 \
    "virtual host requiring another audience: refused every time, right after the main server accepted it"
T2=$("$JWT_MINT" sign --alg HS256 --key "$SECRET" \
    --payload "{\"sub\":\"$U\",\"aud\":\"other-audience\",\"exp\":\"now+300\"}")
http GET /api/me -H "Authorization: Bearer $T2"
is "$STATUS" 200 "main server: a token for the other audience is also fine (no requirement)"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T2" "$VBASE/api/me")
is "$STATUS" 200 "virtual host: its own audience is accepted"

done_testing
