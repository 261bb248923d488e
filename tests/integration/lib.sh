# shellcheck shell=bash
# Integration test harness: TAP output, a private httpd with the built
# module on a free loopback port, and throwaway databases. Everything a
# test starts is stopped by the EXIT trap, also when the test fails.
#
# Environment (set by `make check`): PAA_SRCDIR, PAA_BUILDDIR, PAA_MODULE,
# PAACTL, PAA_HTTPD.

set -u
: "${PAA_SRCDIR:?run through make check}"
# shellcheck source=../../tools/instance.sh
. "$PAA_SRCDIR/tools/instance.sh"

T_N=0
T_FAILED=0
T_TMP=$(mktemp -d /tmp/paa-test.XXXXXX)
chmod 755 "$T_TMP"
T_HOMES=()
T_PGDIRS=()
FAKE_PIDS=()
REDIS_PID=""
declare -A FPORT

t_cleanup() {
    local h d pid
    # Best effort, whatever failed before: a caller under set -e (the
    # benchmarks) would otherwise leave its servers running.
    set +e
    stop_redis
    for pid in "${FAKE_PIDS[@]+"${FAKE_PIDS[@]}"}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${FAKE_PIDS[@]+"${FAKE_PIDS[@]}"}"; do
        wait "$pid" 2>/dev/null
    done
    for h in "${T_HOMES[@]+"${T_HOMES[@]}"}"; do
        paa_httpd_stop "$h" "$PAA_HTTPD"
    done
    for d in "${T_PGDIRS[@]+"${T_PGDIRS[@]}"}"; do
        paa_pg_stop "$d"
    done
    if [ -n "${PAA_KEEP_TMP:-}" ]; then echo "# kept $T_TMP" >&2; else rm -rf "$T_TMP"; fi
}
trap t_cleanup EXIT

ok() {
    T_N=$((T_N + 1))
    echo "ok $T_N - $1"
}

not_ok() {
    T_N=$((T_N + 1))
    T_FAILED=$((T_FAILED + 1))
    echo "not ok $T_N - $1"
    shift
    local line
    for line in "$@"; do
        echo "# $line"
    done
}

skip() {
    T_N=$((T_N + 1))
    echo "ok $T_N - $1 # SKIP $2"
}

# is ACTUAL EXPECTED DESCRIPTION
is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3" "expected: $2" "got:      $1"
    fi
}

# like ACTUAL REGEX DESCRIPTION (extended regex)
like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then
        ok "$3"
    else
        not_ok "$3" "expected to match: $2" "got: $1"
    fi
}

# unlike ACTUAL REGEX DESCRIPTION
unlike() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then
        not_ok "$3" "must not match: $2" "got: $1"
    else
        ok "$3"
    fi
}

done_testing() {
    echo "1..$T_N"
    [ "$T_FAILED" -eq 0 ]
    exit $?
}

bail() {
    echo "Bail out! $*"
    exit 1
}

# run COMMAND...: sets OUT (stdout), ERR (stderr) and RC (exit status),
# which the tests read.
# shellcheck disable=SC2034
run() {
    OUT=$("$@" 2>"$T_TMP/err")
    RC=$?
    ERR=$(cat "$T_TMP/err")
}

# run_in INPUT COMMAND...: as run, with INPUT (and a newline) on stdin.
# shellcheck disable=SC2034
run_in() {
    local input=$1
    shift
    OUT=$(printf '%s\n' "$input" | "$@" 2>"$T_TMP/err")
    RC=$?
    ERR=$(cat "$T_TMP/err")
}

# new_instance [DRIVER PARAMS]: create an instance; sets HOME_DIR, PORT,
# BASE (http://127.0.0.1:PORT), CONFIG (its paa.env).
new_instance() {
    local driver=${1:-sqlite3} params=${2:-}
    HOME_DIR=$(mktemp -d "$T_TMP/inst.XXXXXX")
    T_HOMES+=("$HOME_DIR")
    paa_instance_create "$HOME_DIR" "$PAACTL" "$driver" "$params" ||
        bail "cannot create an instance in $HOME_DIR"
    CONFIG="$HOME_DIR/paa.env"
}

# start_instance [PREPARE]: render the config on a free port and start
# httpd. PREPARE, a function, runs before each try: a test whose conf.d
# listens on extra ports picks them afresh there, since another test may
# take a free port first.
start_instance() {
    local tries=3
    while [ $tries -gt 0 ]; do
        [ -n "${1:-}" ] && "$1"
        PORT=$(paa_free_port) || bail "no free port"
        BASE="http://127.0.0.1:$PORT"
        paa_render_conf "$HOME_DIR" "127.0.0.1:$PORT" "$PAA_MODULE" \
            "$PAA_SRCDIR/conf/instance.conf.in" || bail "cannot render $HOME_DIR/httpd.conf"
        if paa_httpd_start "$HOME_DIR" "$PAA_HTTPD" "$BASE/health" 2>"$T_TMP/start.err"; then
            return 0
        fi
        paa_httpd_stop "$HOME_DIR" "$PAA_HTTPD"
        tries=$((tries - 1))
    done
    cat "$T_TMP/start.err" >&2
    bail "httpd did not start"
}

stop_instance() {
    paa_httpd_stop "$HOME_DIR" "$PAA_HTTPD"
}

# new_instance_like HOME: another instance with HOME's env file (the same
# database and secrets) but its own directory, port, logs and shared
# memory: one more node of a cluster. Sets what new_instance sets.
new_instance_like() {
    local user
    HOME_DIR=$(mktemp -d "$T_TMP/inst.XXXXXX")
    T_HOMES+=("$HOME_DIR")
    mkdir -p "$HOME_DIR"/conf.d "$HOME_DIR"/db "$HOME_DIR"/logs "$HOME_DIR"/run "$HOME_DIR"/htdocs
    chmod 755 "$HOME_DIR"
    cp -p "$1/paa.env" "$HOME_DIR/paa.env"
    user=$(paa_httpd_user)
    [ -z "$user" ] || chown -R "$user" "$HOME_DIR"/db "$HOME_DIR"/logs "$HOME_DIR"/run
    CONFIG="$HOME_DIR/paa.env"
}

# graceful: restart httpd gracefully and wait until every old child is
# gone (until then an old child, with the old configuration, may still
# answer).
graceful() {
    local resumed old_children
    resumed=$(grep -c 'resuming normal operations' "$HOME_DIR/logs/error.log")
    old_children=$(ps -o pid= --ppid "$(paa_httpd_pid "$HOME_DIR")")
    "$PAA_HTTPD" -f "$HOME_DIR/httpd.conf" -k graceful
    restarted() {
        local pid
        [ "$(grep -c 'resuming normal operations' "$HOME_DIR/logs/error.log")" -gt "$resumed" ] || return 1
        for pid in $old_children; do
            kill -0 "$pid" 2>/dev/null && return 1
        done
        return 0
    }
    wait_for 30 restarted || bail "httpd did not restart"
}

# have_redis returns 1 (a SKIP line is then the caller's job) when
# redis-server or redis-cli is absent.
have_redis() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null
}

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
redis_settled() { redis_up || ! kill -0 "$REDIS_PID" 2>/dev/null; }

# start_redis [PORT]: a throwaway redis-server on 127.0.0.1 (a free port,
# or PORT to bring one back where its clients expect it), nothing saved,
# its files in its own directory, with REDIS_PASSWORD if the test set one;
# sets REDIS_PORT, REDIS_DIR, REDIS_PID. Stopped by t_cleanup (or
# stop_redis).
start_redis() {
    local tries=3 auth=()
    REDIS_DIR=${REDIS_DIR:-$(mktemp -d "$T_TMP/redis.XXXXXX")}
    if [ -n "${REDIS_PASSWORD:-}" ]; then
        # redis-cli reads it from there, not from its command line
        export REDISCLI_AUTH=$REDIS_PASSWORD
        printf 'requirepass "%s"\n' "$REDIS_PASSWORD" >"$REDIS_DIR/redis.conf"
        auth=("$REDIS_DIR/redis.conf")
    fi
    while [ $tries -gt 0 ]; do
        REDIS_PORT=${1:-$(paa_free_port)} || bail "no free port"
        redis-server "${auth[@]+"${auth[@]}"}" --port "$REDIS_PORT" --bind 127.0.0.1 \
            --dir "$REDIS_DIR" --save '' --appendonly no --logfile "$REDIS_DIR/log" >/dev/null 2>&1 &
        REDIS_PID=$!
        # up, or gone (its port was taken meanwhile)
        wait_for 10 redis_settled
        redis_up && return 0
        stop_redis
        tries=$((tries - 1))
    done
    bail "redis-server did not start: $(tail -5 "$REDIS_DIR/log")"
}

# stop_redis: SIGKILL, as a crash would (and nothing is saved anyway).
stop_redis() {
    [ -n "$REDIS_PID" ] || return 0
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
}

# new_pg [OPTIONS]: a throwaway PostgreSQL cluster, started with more
# postgres options if given; sets PG_DIR, PG_PORT and PG_PARAMS.
# have_pg returns 1 (a SKIP line is then the caller's job) when PostgreSQL
# is absent.
have_pg() {
    [ -x "$PAA_PG_BINDIR/initdb" ]
}

new_pg() {
    PG_DIR=$(mktemp -d "$T_TMP/pg.XXXXXX")
    T_PGDIRS+=("$PG_DIR")
    PG_PORT=$(paa_free_port) || bail "no free port"
    PG_PARAMS=$(paa_pg_start "$PG_DIR" "$PG_PORT" "${1:-}") ||
        bail "PostgreSQL did not start"
}

# now_ms: the wall clock in milliseconds since the epoch: the clock httpd
# and paactl read for windows, grace periods and cool-downs.
# pg_sql SQL: run SQL on the new_pg cluster as the instance's role, rows
# unaligned without headers or command tags.
pg_sql() {
    local h p
    h=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$PG_PARAMS")
    p=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$PG_PARAMS")
    paa_pg_run "$PAA_PG_BINDIR/psql" -h "$h" -p "$p" -U paa -d paa -qAt -c "$1"
}

# new_db_instance sqlite3|pgsql: new_instance on that database (pgsql on a
# new cluster); then sql SQL runs a statement on it (on SQLite waiting up
# to 10 s for a running instance's writes, as the instance itself waits).
new_db_instance() {
    if [ "$1" = pgsql ]; then
        new_pg
        new_instance pgsql "$PG_PARAMS"
        sql() { pg_sql "$1"; }
    else
        new_instance sqlite3
        sql() { sqlite3 -cmd ".timeout 10000" "$HOME_DIR/db/paa.db" "$1"; }
    fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds;
# returns 1 when it has not within SECONDS. For a state change a test
# expects: SECONDS is a bound for a busy machine, not the expected wait.
wait_for() {
    local until=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$until" ] || return 1
        sleep 0.1
    done
}

# sleep_until MS: sleep until the wall clock reaches MS (see now_ms). For
# a deadline the server derives from the same clock, with MS computed from
# a timestamp taken after the request that set it: a busy machine can only
# oversleep, so a check made after it is exact, never flaky.
sleep_until() {
    local left=$(($1 - $(now_ms)))
    [ "$left" -gt 0 ] || return 0
    sleep "$(awk -v ms="$left" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

# secs_after MS S: the time (ms) by which "S seconds after MS" has passed
# for a server that keeps whole seconds (an expiry of now + S, where its
# now is the second of MS or earlier).
secs_after() { echo $((($1 / 1000 + $2) * 1000)); }

# CRED_HEADER: how statuses and all_are send a credential ("X-API-Key"
# by default; "Authorization: Bearer" for tokens).
CRED_HEADER="X-API-Key:"
# statuses CRED...: the status of 4 parallel GET /api/me per credential
# (so that several children serve them), one per line.
statuses() {
    local c i
    for c in "$@"; do
        for i in 1 2 3 4; do
            curl -s -o /dev/null -w '%{http_code}\n' -H "$CRED_HEADER $c" "$BASE/api/me" &
        done
    done
    wait
}
# all_are STATUS CRED...: every one of those requests got STATUS.
all_are() {
    local want=$1
    shift
    [ "$(statuses "$@" | sort -u)" = "$want" ]
}
# status_after STATUS T0 WHAT CRED...: one test line, ok when every
# request of a round that starts 1 s or more after T0 (ms, taken when the
# command that changed a credential returned) gets STATUS (401 after a
# revocation, 200 after a creation). Rounds that start earlier may still
# be answered from a cache; a busy machine only delays the rounds, so the
# first round that starts after the deadline decides (and the loop cannot
# outlast it).
status_after() {
    local want=$1 t0=$2 what=$3
    shift 3
    round_after "$t0" "$what: $want from every child" \
        "statuses $* | sort | uniq -c | tr '\n' ' '" all_are "$want" "$@"
}
# round_after T0 WHAT DESCRIBE CHECK...: the same judgement for any round
# of requests: CHECK (a command and its arguments) runs one round and
# succeeds when every request of it got what was wanted; DESCRIBE (shell
# text, evaluated on failure) says what a round got.
round_after() {
    local t0=$1 what=$2 describe=$3 verdict="" started
    shift 3
    while [ -z "$verdict" ]; do
        started=$(($(now_ms) - t0))
        if "$@"; then
            verdict=yes
        elif [ "$started" -ge 1000 ]; then
            verdict=no
        else
            sleep 0.05
        fi
    done
    [ "$verdict" = yes ] &&
        ok "$what (a round started ${started} ms after the change)" ||
        not_ok "$what within 1 s" "a round started ${started} ms after: $(eval "$describe")"
}
refused_after() { status_after 401 "$@"; }

# status_conf: mod_status at /server-status, open (its counters show
# whether a credential came from the cache); prints nothing when
# mod_status.so is not in the modules directory.
status_conf() {
    local moddir=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
    [ -f "$moddir/mod_status.so" ] || return 0
    cat <<CONF
LoadModule status_module $moddir/mod_status.so
<Location "/server-status">
    SetHandler server-status
    AuthType None
    Require all granted
    PAARateLimit Off
</Location>
CONF
}
# authcache_misses: the credential cache's misses so far, all children.
authcache_misses() {
    curl -s --max-time 20 "$BASE/server-status?auto" | awk -F': ' '$1 == "PAAAuthCacheMisses" { print $2 }'
}

# npm_ci TESTDIR WHAT: copy tests/TESTDIR (package.json, its lock file
# and scripts) to $NODE_DIR and install the locked dependencies there.
# When the npm registry cannot be reached the whole test is a SKIP (exit
# 0): WHAT names the package for that message.
npm_ci() {
    local rc
    mkdir -p "$NODE_DIR"
    cp "$PAA_SRCDIR/tests/$1"/package.json "$PAA_SRCDIR/tests/$1"/package-lock.json \
        "$PAA_SRCDIR/tests/$1"/*.mjs "$NODE_DIR/" || bail "cannot copy tests/$1"
    (cd "$NODE_DIR" && timeout 90 npm ci --no-audit --no-fund --ignore-scripts --fetch-retries=1 \
        --prefer-offline --loglevel=error) >"$T_TMP/npm.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && return 0
    if [ $rc -eq 124 ]; then
        echo "1..0 # SKIP npm ci timed out (is the npm registry reachable?)"
        exit 0
    fi
    if grep -Eqi 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|network|offline|proxy' "$T_TMP/npm.log"; then
        echo "1..0 # SKIP npm ci could not fetch $2 (offline?): $(grep -m1 -Ei 'npm (error|ERR!) (code|network)' "$T_TMP/npm.log" | tr -s ' ')"
        exit 0
    fi
    sed 's/^/# /' "$T_TMP/npm.log"
    bail "npm ci failed in $NODE_DIR (see above)"
}

# fake_started PIDFILE PID: it wrote its pid file, or it is gone.
fake_started() {
    [ -s "$1" ] || ! kill -0 "$2" 2>/dev/null
}

# start_fake NAME [MODE]: a fake OpenAI-compatible provider
# (tests/tools/fake_llm) on a free port, recording every chat request to
# $T_TMP/NAME.rec; its port is ${FPORT[NAME]}. Stopped by t_cleanup. It is
# up only once it wrote its pid file (it listens first); another test may
# take the free port first, so a few ports are tried.
start_fake() {
    local name=$1 mode=${2:-ok} port pid tries=5
    local pidf="$T_TMP/fake-$name.pid"
    : "${FAKE_LLM:?run through make check}"
    while [ $tries -gt 0 ]; do
        port=$(paa_free_port) || bail "no free port"
        rm -f "$pidf"
        "$FAKE_LLM" --port "$port" --mode "$mode" --name "$name" \
            --record "$T_TMP/$name.rec" --pidfile "$pidf" >>"$T_TMP/fake-$name.log" 2>&1 &
        pid=$!
        wait_for 10 fake_started "$pidf" "$pid"
        if [ -s "$pidf" ] && kill -0 "$pid" 2>/dev/null; then
            FAKE_PIDS+=("$pid")
            FPORT[$name]=$port
            return 0
        fi
        kill "$pid" 2>/dev/null
        tries=$((tries - 1))
    done
    bail "fake provider $name did not start: $(cat "$T_TMP/fake-$name.log")"
}

# http METHOD PATH [curl args...]: sets STATUS, BODY, HEADERS.
http() {
    local method=$1 path=$2
    shift 2
    local out="$T_TMP/body.$$" hdr="$T_TMP/headers.$$"
    STATUS=$(curl -s -o "$out" -D "$hdr" -w '%{http_code}' --max-time 20 \
        -X "$method" "$@" "$BASE$path")
    BODY=$(cat "$out" 2>/dev/null)
    HEADERS=$(tr -d '\r' <"$hdr" 2>/dev/null)
    rm -f "$out" "$hdr"
}

# header NAME: the value of response header NAME from the last http call.
header() {
    printf '%s\n' "$HEADERS" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
        { split($0, a, ":"); if (tolower(a[1]) == n) { sub(/^[^:]*:[ ]*/, ""); v = $0 } }
        END { print v }'
}

# json FILTER: a jq filter applied to BODY (raw output; "invalid-json"
# when BODY is not JSON).
json() {
    printf '%s' "$BODY" | jq -r "$1" 2>/dev/null || echo invalid-json
}
