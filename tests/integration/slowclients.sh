#!/bin/bash
# Slow clients against the shipped instance config. An httpd worker reads
# a request synchronously, so 80 connections that sent their headers (or a
# login body) one byte every 5 s held all 64 workers for as long as they
# liked: /health stopped answering and the error log said AH00484.
# mod_reqtimeout in conf/instance.conf.in now drops such requests (408 for
# headers; the body read gives up the same way), so the server answers
# again while the clients are still trying to hold their connections.
#
# Timing on a busy machine: nothing here waits for a fixed time. The slow
# clients report when they are connected; /health is polled (each probe
# capped at 2 s) up to a deadline far beyond the 10-20 s the timeouts need
# but well inside the 90 s the clients would hold on without them.
. "$PAA_SRCDIR/tests/integration/lib.sh"
: "${SLOW_CLIENT:?run through make check}"

HEADER_CLIENTS=70
BODY_CLIENTS=30
HOLD=90      # how long the clients try to hold on (seconds)
DEADLINE=60  # by when /health must answer again

new_instance sqlite3
start_instance
http GET /health
is "$STATUS" 200 "/health answers before the slow clients come"

# probe: the status of GET /health, or 000 when it takes more than 2 s.
probe() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/health"
}

"$SLOW_CLIENT" --port "$PORT" --count "$HEADER_CLIENTS" --mode header \
    --interval 5 --duration "$HOLD" >"$T_TMP/slow-header.out" 2>&1 &
HPID=$!
FAKE_PIDS+=("$HPID")
"$SLOW_CLIENT" --port "$PORT" --count "$BODY_CLIENTS" --mode body \
    --interval 5 --duration "$HOLD" >"$T_TMP/slow-body.out" 2>&1 &
BPID=$!
FAKE_PIDS+=("$BPID")
for _ in $(seq 1 300); do
    grep -q '^ready' "$T_TMP/slow-header.out" && grep -q '^ready' "$T_TMP/slow-body.out" && break
    sleep 0.1
done
is "$(head -n 1 "$T_TMP/slow-header.out")" "ready opened=$HEADER_CLIENTS" \
    "$HEADER_CLIENTS clients trickle their headers, a byte every 5 s"
is "$(head -n 1 "$T_TMP/slow-body.out")" "ready opened=$BODY_CLIENTS" \
    "$BODY_CLIENTS clients trickle a login body, a byte every 5 s"
start=$SECONDS

# Positive control: 100 slow requests and 64 workers, so right now every
# worker is reading one and /health has to wait. Without this the test
# could pass against a server the clients never saturated.
code=$(probe)
isnt_200=$([ "$code" != 200 ] && echo yes || echo "no ($code)")
is "$isnt_200" yes "(control) while the slow requests hold every worker, /health waits"

code=000
while [ $((SECONDS - start)) -lt $DEADLINE ]; do
    code=$(probe)
    [ "$code" = 200 ] && break
    sleep 0.5
done
took=$((SECONDS - start))
is "$code" 200 "/health answers within 2 s again while the slow clients still try (after ${took}s)"
if kill -0 "$HPID" 2>/dev/null || kill -0 "$BPID" 2>/dev/null; then
    ok "... which is not because the clients gave up: they are still running"
else
    not_ok "... which is not because the clients gave up: they are still running" \
        "both slow clients had already ended at ${took}s"
fi

# Each client ends once the server dropped all its connections, at the
# latest after HOLD seconds; when the server never recovered, there is no
# point waiting for that.
wait_tenths=$(((HOLD + 10) * 10))
[ "$code" = 200 ] || wait_tenths=0
for _ in $(seq 1 $wait_tenths); do
    kill -0 "$HPID" 2>/dev/null || kill -0 "$BPID" 2>/dev/null || break
    sleep 0.1
done
kill "$HPID" "$BPID" 2>/dev/null
wait "$HPID" "$BPID" 2>/dev/null
hsum=$(tail -n 1 "$T_TMP/slow-header.out")
bsum=$(tail -n 1 "$T_TMP/slow-body.out")
like "$hsum" "^opened=$HEADER_CLIENTS dropped=$HEADER_CLIENTS open=0 " \
    "the server dropped every slow-header connection"
like "$hsum" " statuses=408:$HEADER_CLIENTS\$" "... each with 408 Request Timeout"
like "$bsum" "^opened=$BODY_CLIENTS dropped=$BODY_CLIENTS open=0 " \
    "the server dropped every slow-body connection"
unlike "$hsum$bsum" "first_drop=[0-4]\\." "none was dropped before its first 5 s (the limits are not absurdly tight)"

code=$(probe)
is "$code" 200 "/health answers at once after the attack"
http POST /api/auth/login -H 'Content-Type: application/json' \
    -d '{"username":"nobody","password":"a-wrong-password"}'
is "$STATUS" 401 "a login body sent at normal speed is read and answered"
unlike "$(cat "$HOME_DIR/logs/error.log")" 'exit signal|Segmentation' "no child crashed"

done_testing
