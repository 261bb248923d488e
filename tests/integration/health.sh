#!/bin/bash
# Liveness and readiness against a real httpd, for SQLite and PostgreSQL:
# /health answers without touching the database; /health/ready proves the
# database answers and turns 503 (problem+json) when it cannot, then
# recovers; unknown paths are never 200. The shipped instance config does
# not advertise the httpd version and OS (ServerTokens Prod) and refuses
# TRACE, which httpd answered before authentication by echoing the request,
# Authorization header included.
. "$PAA_SRCDIR/tests/integration/lib.sh"

check_common() {
    local db=$1
    http GET /health
    is "$STATUS" 200 "$db: GET /health is 200"
    is "$(json .status)" ok "$db: /health says ok"
    is "$(json .version)" "$(grep -o 'AC_INIT(\[mod_paa\], \[[^]]*' "$PAA_SRCDIR/configure.ac" | sed 's/.*\[//')" \
        "$db: /health reports the build's version"
    like "$(header Content-Type)" '^application/json' "$db: /health is JSON"

    http HEAD /health
    is "$STATUS" 200 "$db: HEAD /health is 200"

    http POST /health
    is "$STATUS" 405 "$db: POST /health is 405"
    is "$(header Allow)" "GET, HEAD" "$db: 405 names the allowed methods"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 405 is problem+json"

    http GET /health/ready
    is "$STATUS" 200 "$db: /health/ready is 200 with the database up"
    is "$(json -c .)" '{"status":"ok","checks":{"database":"up"}}' "$db: ready body"

    http GET /api/anything
    is "$STATUS" 401 "$db: /api path without credentials is 401 (default deny)"
    is "$(json .status)" 401 "$db: 401 body is a problem document"
    like "$(header Content-Type)" '^application/problem\+json' "$db: 401 is problem+json"
    http GET /
    is "$STATUS" 401 "$db: / is not served without credentials"
    # The public paths are exact: what lies below them or extends them
    # stays under default deny.
    for path in /health/readyx /health/ready/x /health/other /healthz /api/auth/login/x \
        /api/auth/loginx /api/admin/auth/login/x; do
        http GET "$path"
        is "$STATUS" 401 "$db: $path is not public (only the exact paths are)"
    done
    http POST /api/auth/login -H 'Content-Type: application/json' --data '{}'
    is "$STATUS" 400 "$db: POST /api/auth/login is public (400 for a body without credentials, not 401)"
    http POST /api/admin/auth/login -H 'Content-Type: application/json' --data '{}'
    is "$STATUS" 400 "$db: POST /api/admin/auth/login is public too"
}

# ---------------------------------------------------------------- SQLite
new_instance sqlite3
start_instance
check_common sqlite
for path in /health /api/personas; do
    http TRACE "$path" -H "Authorization: Bearer trace-probe-s3cr3t"
    is "$STATUS" 405 "TRACE $path is 405 (TraceEnable Off)"
    unlike "$BODY" "trace-probe-s3cr3t" "TRACE $path does not echo the request's credentials"
done
for path in /health /api/personas /nothing; do
    http GET "$path"
    is "$(header Server)" Apache "GET $path ($STATUS): Server header is just \"Apache\" (ServerTokens Prod)"
done
http TRACE /health
is "$(header Server)" Apache "the 405 to TRACE says just \"Apache\" too"
chmod 000 "$HOME_DIR/db/paa.db"
http GET /health/ready
is "$STATUS" 503 "sqlite: unreadable database file -> 503"
like "$(header Content-Type)" '^application/problem\+json' "sqlite: 503 is problem+json"
is "$(json .status)" 503 "sqlite: 503 problem status member"
is "$(json .detail)" "the database is unreachable" "sqlite: 503 detail leaks no internals"
http GET /health
is "$STATUS" 200 "sqlite: /health stays 200 while the database is down (no I/O)"
chmod 600 "$HOME_DIR/db/paa.db"
http GET /health/ready
is "$STATUS" 200 "sqlite: readiness recovers when the file is readable again"
# An operator who closes the health checks (they might keep them to a
# network or a role instead), in a section of their own after the
# instance's (conf.d): theirs wins, as a later <Location> does. Nothing of
# the instance's may be merged after it (an <If> would be, and would open
# the paths again).
cat >"$HOME_DIR/conf.d/health-net.conf" <<'CONF'
<Location "/health">
    Require all denied
</Location>
CONF
graceful
for path in /health /health/ready; do
    http GET "$path"
    is "$STATUS" 403 "an operator's later <Location> that closes $path wins"
done
http GET /api/personas
is "$STATUS" 401 "the restriction leaves the rest under default deny"
rm -f "$HOME_DIR/conf.d/health-net.conf"
graceful
http GET /health
is "$STATUS" 200 "without it, /health is public again"
stop_instance

# ------------------------------------------------------------ PostgreSQL
if have_pg; then
    new_pg
    new_instance pgsql "$PG_PARAMS"
    start_instance
    check_common pgsql
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    http GET /health/ready
    is "$STATUS" 503 "pgsql: stopped server -> 503"
    is "$(json .status)" 503 "pgsql: 503 is a problem document"
    unlike "$BODY" "$PG_DIR|postgres|connection" "pgsql: 503 leaks no connection details"
    http GET /health
    is "$STATUS" 200 "pgsql: /health stays 200 while the database is down"
    port=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" \
        -o "-k $PG_DIR -p $port -c listen_addresses=''" -w start >/dev/null
    # Pooled connections to the old server die one per request; give the
    # pools a few probes, as an orchestrator would.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        http GET /health/ready
        [ "$STATUS" = 200 ] && break
        sleep 0.2
    done
    is "$STATUS" 200 "pgsql: readiness recovers when the server is back"
    stop_instance
else
    skip "pgsql health checks" "PostgreSQL 15 server binaries not installed"
fi

done_testing
