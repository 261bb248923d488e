#!/bin/bash
# Audit records keep what PostgreSQL would refuse: a request path with
# invalid UTF-8 (%FF%FE) that exceeds a rate limit is recorded, its bytes
# escaped as \xNN, instead of the insert failing and the record being lost.
. "$PAA_SRCDIR/tests/integration/lib.sh"

if ! have_pg; then
    skip "audit on PostgreSQL" "PostgreSQL 15 is not installed"
    done_testing
fi
new_pg

new_instance pgsql "$PG_PARAMS"
cat >"$HOME_DIR/conf.d/limited.conf" <<'CONF'
<Location "/limited">
    PAARateLimit 1 60s
</Location>
CONF
start_instance

KEY=$("$PAACTL" --config "$CONFIG" keygen --name audit-utf8 --role reader 2>/dev/null)
[ -n "$KEY" ] || bail "keygen failed"
http GET "/limited/caf%C3%A9%FF%FE" -H "X-API-Key: $KEY"
like "$STATUS" '^(200|404)$' "the first request is within the limit"
http GET "/limited/caf%C3%A9%FF%FE" -H "X-API-Key: $KEY"
is "$STATUS" 429 "the second is over it: 429"
# The record is written after the answer: poll for it, with a bound.
detail=""
for _ in $(seq 1 50); do
    detail=$(pg_sql "SELECT detail FROM paa_audit WHERE event = 'ratelimit.exceeded'")
    [ -n "$detail" ] && break
    sleep 0.1
done
like "$detail" 'caf.*\\xff\\xfe' "the ratelimit.exceeded record is stored, the invalid bytes escaped"
unlike "$(cat "$HOME_DIR/logs/error.log")" 'invalid byte sequence|PAA00106' \
    "no failed audit insert in the error log"

done_testing
