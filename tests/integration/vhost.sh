#!/bin/bash
# Virtual hosts keep their own authentication settings: a token accepted
# by one host (no audience required) must not be accepted by another that
# requires a different audience, even right after, in the same process,
# where the first host's verdict is cached. And one with a database of its
# own (its own DBDParams) keeps its own credentials and personas, and sees
# a revocation in its database within 1 s however busy the main server
# keeps the shared cache.
. "$PAA_SRCDIR/tests/integration/lib.sh"

new_instance sqlite3
# The other database: its own paa.env for paactl, migrated, owned by the
# user httpd runs as (as the instance's own).
BENV="$HOME_DIR/b.env"
BDB="$HOME_DIR/db/b.db"
sed "s#^PAA_DB_PARAMS=.*#PAA_DB_PARAMS=$BDB#" "$CONFIG" >"$BENV"
"$PAACTL" --config "$BENV" migrate >/dev/null 2>&1 || bail "cannot create $BDB"
[ -z "$(paa_httpd_user)" ] || chown "$(paa_httpd_user)" "$BDB"
vhost_conf() {
    VPORT=$(paa_free_port) || bail "no free port"
    DPORT=$(paa_free_port) || bail "no free port"
    cat >"$HOME_DIR/conf.d/vhost.conf" <<CONF
Listen 127.0.0.1:$VPORT
<VirtualHost 127.0.0.1:$VPORT>
    ServerName vhost.test
    PAAJWTAudience other-audience
</VirtualHost>
Listen 127.0.0.1:$DPORT
<VirtualHost 127.0.0.1:$DPORT>
    ServerName other-db.test
    DBDriver sqlite3
    DBDParams "$BDB"
    <Location "/">
        PAARateLimit Off
    </Location>
</VirtualHost>
<Location "/">
    PAARateLimit Off
</Location>
CONF
}
start_instance vhost_conf
VBASE="http://127.0.0.1:$VPORT"
DBASE="http://127.0.0.1:$DPORT"
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

# ------------------------------------------ a virtual host's own database
KA=$("$PAACTL" --config "$CONFIG" keygen --name main-key 2>/dev/null)
KB=$("$PAACTL" --config "$BENV" keygen --name other-key 2>/dev/null)
KB_ID=$("$PAACTL" --config "$BENV" list --json 2>/dev/null | jq -r '.[] | select(.name == "other-key") | .id')
[ -n "$KA" ] && [ -n "$KB" ] && [ -n "$KB_ID" ] || bail "cannot make the keys"
"$PAACTL" --config "$CONFIG" persona import "$PAA_SRCDIR/conf/personas.json" >/dev/null 2>&1 ||
    bail "persona import failed"
code() { curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $2" "$1/api/me"; }
own="" other=""
for _ in $(seq 1 10); do
    own="$own$(code "$BASE" "$KA")\n$(code "$DBASE" "$KB")\n"
    other="$other$(code "$BASE" "$KB")\n$(code "$DBASE" "$KA")\n"
done
is "$(printf "$own" | sort -u)" 200 "each server takes the keys of its own database"
is "$(printf "$other" | sort -u)" 401 "... and refuses the other's, however often the other was accepted"
total() { curl -s -H "X-API-Key: $2" "$1/api/personas" | jq -r '.total'; }
lists=""
for _ in $(seq 1 10); do
    lists="$lists $(total "$BASE" "$KA")/$(total "$DBASE" "$KB")"
done
is "$(tr ' ' '\n' <<<"$lists" | grep . | sort -u)" "4/0" \
    "GET /api/personas lists each server's own personas, never the other's cached page"

# A revocation in the other database, while the main server's requests
# keep the shared cache busy. The two databases' change counters are made
# equal first, and the other server gets no request until a second after
# the revocation: before each server had its own set of markers, a reading
# of either database stood for both, so the main server's readings kept
# confirming the other's entries, revoked key included.
if command -v wrk >/dev/null; then
    sql "UPDATE paa_changes SET serial = 5000" >/dev/null
    sqlite3 -cmd ".timeout 10000" "$BDB" "UPDATE paa_changes SET serial = 5000" >/dev/null
    wrk -t1 -c4 -d8s -H "X-API-Key: $KA" "$BASE/api/me" >/dev/null 2>&1 &
    LOAD=$!
    # Both servers' readings see the new counters, and the key is cached.
    for _ in $(seq 1 10); do
        code "$DBASE" "$KB" >/dev/null
        sleep 0.1
    done
    run "$PAACTL" --config "$BENV" revoke "$KB_ID"
    t0=$(now_ms)
    is "$RC" 0 "the other database's key is revoked"
    BASE_MAIN=$BASE
    BASE=$DBASE
    # shellcheck disable=SC2034 # read by lib.sh's statuses
    CRED_HEADER="X-API-Key:"
    sleep_until $((t0 + 1200))
    if all_are 401 "$KB"; then
        ok "a key revoked in a virtual host's own database, the main server busy: 401 after 1 s"
    else
        not_ok "a key revoked in a virtual host's own database, the main server busy: 401 after 1 s" \
            "got: $(statuses "$KB" | sort | uniq -c | tr '\n' ' ')"
    fi
    BASE=$BASE_MAIN
    kill "$LOAD" 2>/dev/null
    wait "$LOAD" 2>/dev/null
else
    skip "a revocation in a virtual host's own database under load" "wrk is not installed"
fi

done_testing
