#!/bin/bash
# Benchmark: what mod_paa costs as keys and users grow, against a bare
# httpd WITHOUT mod_paa (same MPM settings, same logging, the same static
# file), in one run on loopback with wrk. Each scenario is measured in
# turn with its own baseline: bare httpd driven by the same wrk client
# (the same headers, the same Lua script), SECONDS each in slices of
# BENCH_SLICE (2) seconds taken alternately, so that the client's cost
# and a change in the machine's speed weigh on both alike. Reported per
# scenario: the median over ROUNDS rounds of each pair's ratio of
# requests/s and of its CPU ratio (the baseline's CPU time per request
# over the scenario's: httpd's, PostgreSQL's for mod_paa on it, and
# wrk's, so a figure that other work on the machine moves less than
# requests/s), the medians of requests/s, p50 and p99 latency (the
# baseline's p99 beside it; a pair's latencies are its slices' weighted
# by their requests), and at the end the RSS and PSS of all httpd
# processes of each server. Not part of the test suite, and it asserts
# nothing: it prints figures.
#
#   tests/bench/scale.sh [SECONDS] [ROUNDS] [CONNECTIONS]   (8, 3, 32)
#
# ROUNDS is at most 25 (a round of every scenario takes minutes). More
# than nine are for a close call: a median of nine moved by about 0.03
# on the project's 2-core machine with nothing different between the
# sides (bare:bare), as much as some figures' distance from a target.
#
# BENCH_DBS="sqlite3 pgsql" (default: both when PostgreSQL is installed);
# PAA_MODULE=/path/mod_paa.so measures another build of the module (for
# a before/after comparison; the schema is this tree's). Needs a built tree
# (make && make check TESTS= builds tests/tools) and wrk.
#
# Scenarios: open (mod_paa loaded, no authentication); key-1 (one API
# key); key-1k, key-10k, key-100k (a random key of that many per request,
# 100,000 keys in the database, all but key-10k-cold's in use before the
# run: last used an hour earlier); key-10k-cold (SECONDS in the first
# seconds after a graceful restart, in slices against bare httpd's just
# after its own; on 10,000 keys marked as never used before each round: the
# restart's warm reads them with every usable key, in a thread, while
# they come in, and each one's last-used time is written on first sight;
# new windows); jwt-1; jwt-10k-cold
# (a random token of 10,000 users, their first use since the round's
# graceful restart: tokens are not stored, so a restart warms the cache
# with their users only, and each token's signature is checked on first
# sight; 20 other tokens revoked by their jti alone, as a deployment's
# revocation list has); jwt-10k (the same tokens again, next);
# policy (CORS with an allowed Origin, security headers, a rate limit, one
# key); reject-401 (an unknown key); personas (GET /api/personas with a
# JWT); mcp-list (MCP tools/list with a session and a key; its baseline is
# a plain GET, as bare httpd does not take a POST to a file).
# BENCH_SCENARIOS="key-10k policy" runs only those.
#
# floor-key and floor-policy measure, in the same run and against the
# same bare httpd, a third server: bare httpd with the least a module can
# do for key-1 and policy (tests/tools/mod_bench_floor.c: the key's
# SHA-256 compared with one configured digest, r->user set for
# mod_authz_user, and the same response headers as mod_paa's, with fixed
# values). What httpd charges for authenticating a request and for those
# headers, whoever does it: key-1 and policy cannot pass these.
# key-1:floor and policy:floor measure key-1 and policy against the floor
# instead of bare httpd, in the same slices: what mod_paa charges beyond
# that least, side by side (their "bare" column is the floor's).
# bare:bare pairs bare httpd with itself, the same way: what the method
# gives for two sides that do not differ, so the spread and the bias to
# read the other ratios against (the median should be 1).
#
# A key's key.use record is written when its minute of counting is over
# (mod_paa.8): those of key-100k's keys land on the scenario that runs
# about a minute later (reject-401, in this order), not on key-100k.
#
# BENCH_INSTRUCTIONS=1 measures instead what other work on the machine
# moves much less: the instructions a request costs in user space
# (valgrind's callgrind; the kernel's network stack, most of a request's
# cost on loopback, is not counted), each server running as one process
# (-X) with a copy of its configuration, by the difference between two
# runs of ab (keep-alive) of different lengths, so that start and stop
# cancel out. What mod_paa does by the clock (marker reads, key-use
# writes) does not cancel: it grows with the runs' wall time, so the
# counts still move by up to about 2,000 on a loaded machine.
# Only the scenarios with fixed headers: bare, open, floor-key, key-1, jwt-1,
# policy, floor-policy, reject-401, personas, mcp-list. Needs valgrind and
# ab (apache2-utils).
#
# BENCH_PROFILE=1 measures instead where a request's CPU time goes,
# natively: SECS seconds of wrk per scenario (bare, open, floor-key,
# key-1, jwt-1, policy, floor-policy; ROUNDS rounds) with perf sampling
# every CPU, the medians in microseconds a request of httpd's time, its
# kernel and user parts, the user part in mod_paa, OpenSSL and a
# database client, and wrk's. Needs perf (linux-perf) and root, and no
# other httpd on the machine.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-8}
ROUNDS=${2:-3}
CONNS=${3:-32}
SLICE=${BENCH_SLICE:-2}
PAA_SRCDIR=$SRC PAA_BUILDDIR=$SRC PAA_MODULE=${PAA_MODULE:-$SRC/.libs/mod_paa.so} \
    PAACTL=$SRC/paactl/paactl PAA_HTTPD=${PAA_HTTPD:-/usr/sbin/apache2} \
    JWT_MINT=$SRC/tests/tools/jwt_mint
export PAA_SRCDIR PAA_BUILDDIR PAA_MODULE PAACTL PAA_HTTPD JWT_MINT
FILL=$SRC/tests/tools/bench_fill
FLOOR_MODULE=$SRC/tests/tools/.libs/mod_bench_floor.so
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "the sqlite3 shell is not installed (apt-get install sqlite3)" >&2; exit 1; }
[ -x "$FILL" ] && [ -f "$FLOOR_MODULE" ] || {
    echo "build tests/tools first (make check TESTS=)" >&2
    exit 1
}
[ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || { echo "1 to 60 s per run" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 25 ] || { echo "1 to 25 rounds" >&2; exit 2; }
[ "$SLICE" -ge 1 ] && [ "$SLICE" -le "$SECS" ] || { echo "BENCH_SLICE: 1 to SECONDS" >&2; exit 2; }

. "$SRC/tests/integration/lib.sh"
DBS=${BENCH_DBS:-sqlite3 $(have_pg && echo pgsql)}
MODDIR=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
BODY=$(head -c 512 /dev/zero | tr '\0' 'x') # the static file: 512 bytes

# ------------------------------------------------------------ bare httpd
# The instance's MPM, timeout and access-log lines, without mod_paa.
bare_start() {
    local dir=$T_TMP/bare user
    mkdir -p "$dir/htdocs/open" "$dir/logs" "$dir/run"
    printf '%s' "$BODY" >"$dir/htdocs/open/bench.txt"
    user=$(paa_httpd_user)
    BARE_PORT=$(paa_free_port)
    {
        echo "ServerRoot \"$dir\""
        echo "ServerName 127.0.0.1"
        echo "Listen 127.0.0.1:$BARE_PORT"
        echo "PidFile \"$dir/run/httpd.pid\""
        echo "DefaultRuntimeDir \"$dir/run\""
        echo "Mutex \"file:$dir/run\" default"
        echo "ErrorLog \"$dir/logs/error.log\""
        echo "LogLevel warn"
        echo "DocumentRoot \"$dir/htdocs\""
        [ -n "$user" ] && printf 'User %s\nGroup %s\n' "$user" "$(id -gn "$user")"
        echo "ServerTokens Prod"
        for m in mpm_event authn_core authz_core authz_user reqtimeout; do
            echo "LoadModule ${m}_module \"$MODDIR/mod_$m.so\""
        done
        grep -E '^(StartServers|MinSpareThreads|MaxSpareThreads|ThreadsPerChild|MaxRequestWorkers|ServerLimit|RequestReadTimeout|LogFormat) ' \
            "$SRC/conf/instance.conf.in"
        echo "CustomLog \"$dir/logs/access.log\" paa"
        # As the instance (and Debian's apache2.conf): no .htaccess to look
        # for, which would otherwise cost both servers an open() per
        # directory on the path, on every request, and hide a share of
        # what mod_paa costs.
        printf '<Directory "/">\n    AllowOverride None\n</Directory>\n'
        echo "<Directory \"$dir/htdocs\">"
        echo "    Require all granted"
        echo "</Directory>"
    } >"$dir/httpd.conf"
    [ -n "$user" ] && chown -R "$user" "$dir/logs" "$dir/run"
    BARE_DIR=$dir
    T_HOMES+=("$dir") # stopped by the cleanup
    paa_httpd_start "$dir" "$PAA_HTTPD" "http://127.0.0.1:$BARE_PORT/open/bench.txt" ||
        bail "bare httpd did not start"
}

# floor_start: bare httpd's configuration (its own directory and port)
# with mod_bench_floor, for the floor-* scenarios.
floor_start() {
    local dir=$T_TMP/floor d user other
    mkdir -p "$dir/logs" "$dir/run"
    for d in key policy; do
        mkdir -p "$dir/htdocs/$d"
        printf '%s' "$BODY" >"$dir/htdocs/$d/bench.txt"
    done
    FLOOR_PORT=$(paa_free_port)
    FLOOR_KEY=pak_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    {
        sed -e "s#$BARE_DIR#$dir#g" -e "s/^Listen .*/Listen 127.0.0.1:$FLOOR_PORT/" "$BARE_DIR/httpd.conf"
        echo "LoadModule bench_floor_module \"$FLOOR_MODULE\""
        echo "BenchFloorKey $FLOOR_KEY"
        for d in key policy; do
            printf '<Location "/%s/">\n    AuthType BenchFloor\n    AuthName floor\n' "$d"
            printf '    Require valid-user\n    BenchFloorHeaders %s\n</Location>\n' "$d"
        done
    } >"$dir/httpd.conf"
    chmod 600 "$dir/httpd.conf" # the key
    user=$(paa_httpd_user)
    [ -n "$user" ] && chown -R "$user" "$dir/logs" "$dir/run"
    FLOOR_DIR=$dir
    FLOOR_URL="http://127.0.0.1:$FLOOR_PORT"
    T_HOMES+=("$dir") # stopped by the cleanup
    paa_httpd_start "$dir" "$PAA_HTTPD" "http://127.0.0.1:$FLOOR_PORT/key/bench.txt" ||
        bail "the floor's httpd did not start"
    floor_expect 401 "is not protected"
    # Another key: its last digit changed (to 1 when it is 0).
    other=${FLOOR_KEY%?}$([ "${FLOOR_KEY: -1}" = 0 ] && echo 1 || echo 0)
    floor_expect 401 "takes another key" -H "X-API-Key: $other"
    floor_expect 200 "refuses its key" -H "X-API-Key: $FLOOR_KEY"
}

floor_expect() { # CODE WHAT [curl args]
    local want=$1 what=$2 got
    shift 2
    got=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$FLOOR_URL/key/bench.txt")
    [ "$got" = "$want" ] ||
        bail "the floor's /key/ $what ($got): $(tail -n 3 "$FLOOR_DIR/logs/error.log" 2>/dev/null)"
}

# headers URL [curl args]: a response's header lines, sorted, lowercase
# names, without the values that differ from one response or server to
# the next (dates, validators, counts).
headers() {
    curl -s -D - -o /dev/null "$@" | tr -d '\r' | awk -F': ' 'NF > 1 {
        n = tolower($1)
        if (n ~ /^(date|last-modified|etag|ratelimit-remaining|ratelimit-reset)$/) print n
        else print n ": " $2 }' | sort
}

# ------------------------------------------------------------ mod_paa
paa_conf() {
    local d
    for d in open key jwt policy; do
        mkdir -p "$HOME_DIR/htdocs/$d"
        printf '%s' "$BODY" >"$HOME_DIR/htdocs/$d/bench.txt"
    done
    cat >"$HOME_DIR/conf.d/bench.conf" <<'CONF'
# The static file behind each protection; the instance's default deny
# and its paa-api handler are replaced here. Prefix sections, as an
# operator would write them: a regular expression would charge httpd's
# matching of it on every request to mod_paa.
<Location "/open/">
    SetHandler None
    PAARateLimit Off
    Require all granted
</Location>
<Location "/key/">
    SetHandler None
    PAARateLimit Off
    PAAAuthMethods apikey
</Location>
<Location "/jwt/">
    SetHandler None
    PAARateLimit Off
    PAAAuthMethods jwt
</Location>
<Location "/policy/">
    SetHandler None
    PAACorsOrigin https://app.example.com https://*.example.com
    PAASecurityHeaders On
    PAARateLimit 100000000 60s
</Location>
<Location "/api/personas">
    PAARateLimit Off
</Location>
<Location "/api/mcp">
    PAARateLimit Off
</Location>
CONF
}

# pids_of PIDFILE: a server's main process (the file's first line) and
# its children.
pids_of() {
    local p
    p=$(head -n 1 "$1" 2>/dev/null) || return 0
    [ -n "$p" ] || return 0
    echo "$p"
    pgrep -P "$p" || true
}
# mem PIDFILE: "RSS_MB PSS_MB" summed over the server's processes.
mem() {
    local rss=0 pss=0 pid v
    for pid in $(pids_of "$1"); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
        pss=$((pss + ${v:-0}))
    done
    echo "$((rss / 1024)) $((pss / 1024))"
}

# Lua for wrk: a random line of FILE as HEADER on every request, or a
# fixed body (MCP).
lua_random() { # FILE HEADER PREFIX
    cat <<LUA
local vals = {}
for line in io.lines("$1") do vals[#vals + 1] = line end
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
    return wrk.format("GET", nil, {["$2"] = "$3" .. vals[math.random(#vals)]})
end
LUA
}

# CPU time in clock ticks (user + system) of servers, each named by its
# pid file: the main process with what it reaped (children that exited),
# and its living children.
cpu_ticks() {
    local f p v t=0 fields
    for f in "$@"; do
        fields='$14 + $15 + $16 + $17' # pids_of names the main process first
        for p in $(pids_of "$f"); do
            v=$(awk "{print $fields}" "/proc/$p/stat" 2>/dev/null) || v=0
            t=$((t + ${v:-0}))
            fields='$14 + $15'
        done
    done
    echo "$t"
}
TICK=$(getconf CLK_TCK)

# run NAME URL [wrk args]: one measurement of RUN_SECS (SECS) seconds,
# a line "req/s p50_ms p99_ms non2xx cpu_us" appended to RUN_OUT
# ($T_TMP/res/NAME), cpu_us being the CPU time per request of the server
# (httpd, and PostgreSQL for mod_paa on it) and of wrk together: what the
# request costs this machine, however much of it other work took
# meanwhile. A NAME ending in .base measures bare httpd (so does
# bare:bare), in :floor.base the floor's server, and one starting with
# floor- the floor's too.
run() {
    local name=$1 url=$2 out=${RUN_OUT:-$T_TMP/res/$1} secs=${RUN_SECS:-$SECS}
    local servers before after TIMEFORMAT='%U %S'
    shift 2
    if [ "${name%:floor.base}" != "$name" ]; then
        servers=$FLOOR_DIR/run/httpd.pid
    elif [ "${name%.base}" != "$name" ] || [ "$name" = warmup ] || [ "$name" = bare:bare ]; then
        servers=$BARE_DIR/run/httpd.pid
    elif [ "${name#floor-}" != "$name" ]; then
        servers=$FLOOR_DIR/run/httpd.pid
    else
        servers="$HOME_DIR/run/httpd.pid${PG_DIR:+ $PG_DIR/data/postmaster.pid}"
    fi
    before=$(cpu_ticks $servers)
    { time wrk -t2 -c"$CONNS" -d"${secs}s" --latency "$@" "$url" >"$T_TMP/wrk.out" 2>&1 || true; } 2>"$T_TMP/wrk.time"
    after=$(cpu_ticks $servers)
    awk -v name="$name" -v ticks=$((after - before)) -v hz="$TICK" -v wrk="$(cat "$T_TMP/wrk.time")" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        / requests in / { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { split(wrk, w, " "); cpu = n ? (ticks / hz + w[1] + w[2]) / n * 1e6 : 0
              printf "%.0f %.2f %.2f %d %.2f\n", rps, p50, p99, bad, cpu }' "$T_TMP/wrk.out" >>"$out"
}

selected() { case " ${BENCH_SCENARIOS:-$SCENARIOS} " in *" $1 "*) return 0 ;; esac; return 1; }

# slices FILE: the lines of a pair's slices (run's format) as one line:
# the mean of their req/s (slices of equal length), latencies weighted by
# requests, the non-2xx summed, CPU time per request over all requests.
slices() {
    awk '{ n++; r += $1; p50 += $1 * $2; p99 += $1 * $3; bad += $4; cpu += $1 * $5 }
        END { if (r > 0) printf "%.0f %.2f %.2f %d %.2f\n", r / n, p50 / r, p99 / r, bad, cpu / r
              else printf "0 0 0 %d 0\n", bad }' "$1"
}

# pair NAME URL [wrk args]: the baseline (bare httpd, the same client;
# a plain GET for mcp-list) and the scenario, SECS seconds each, in
# slices of SLICE seconds taken in turn: base, scenario, scenario, base,
# base, scenario... This machine's speed moves by a quarter within
# seconds (bare httpd's own CPU time per request, from run to run); two
# runs of SECS one after the other put that change into the ratio, where
# alternating short slices charges it to both sides alike.
pair() {
    local name=$1 url=$2
    shift 2
    selected "$name" || return 0
    PAIR_ARGS=("$@")
    BASE_ARGS=("$@")
    [ "$name" = mcp-list ] && BASE_ARGS=()
    alternate "$name" "$url" "$BARE_URL"
}

# pair_floor NAME PATH KEY [wrk args]: a scenario of mod_paa's (NAME is
# SCENARIO:floor) against the floor instead of bare httpd, in the same
# slices: PATH on both servers, mod_paa's with KEY and the floor's with
# its own. What mod_paa charges beyond the least a module can do for
# that request, measured side by side, where the ratios of SCENARIO and
# floor-SCENARIO to bare httpd come from pairs some seconds apart.
pair_floor() {
    local name=$1 path=$2 paa_key=$3
    shift 3
    selected "$name" || return 0
    PAIR_ARGS=(-H "X-API-Key: $paa_key" "$@")
    BASE_ARGS=(-H "X-API-Key: $FLOOR_KEY" "$@")
    alternate "$name" "$BASE$path" "$FLOOR_URL$path"
}

# alternate NAME URL BASE_URL: pair's slices, the scenario with
# PAIR_ARGS and its baseline (NAME.base) with BASE_ARGS.
alternate() {
    local name=$1 url=$2 base_url=$3 i
    : >"$T_TMP/res/slices"
    : >"$T_TMP/res/slices.base"
    for i in $(seq 1 $(((SECS + SLICE - 1) / SLICE))); do
        if [ $((i % 2)) = 1 ]; then
            RUN_SECS=$SLICE RUN_OUT=$T_TMP/res/slices.base run "$name.base" "$base_url" "${BASE_ARGS[@]}"
            RUN_SECS=$SLICE RUN_OUT=$T_TMP/res/slices run "$name" "$url" "${PAIR_ARGS[@]}"
        else
            RUN_SECS=$SLICE RUN_OUT=$T_TMP/res/slices run "$name" "$url" "${PAIR_ARGS[@]}"
            RUN_SECS=$SLICE RUN_OUT=$T_TMP/res/slices.base run "$name.base" "$base_url" "${BASE_ARGS[@]}"
        fi
    done
    slices "$T_TMP/res/slices.base" >>"$T_TMP/res/$name.base"
    slices "$T_TMP/res/slices" >>"$T_TMP/res/$name"
}

# graceful DIR URL: a graceful restart of the server in DIR, back when
# URL answers.
graceful() {
    "$PAA_HTTPD" -f "$1/httpd.conf" -k graceful
    # The new generation answers once the old children are replaced.
    sleep 2
    paa_wait_http "$2" 60 || {
        tail -n 20 "$1/logs/error.log" >&2
        bail "httpd did not come back after a graceful restart"
    }
}
graceful_paa() { graceful "$HOME_DIR" "$BASE/health"; }
# settle_paa: a graceful restart of mod_paa's server, back once the old
# generation's children have exited (written what they counted).
settle_paa() {
    local old p i
    old=$(pgrep -P "$(head -n 1 "$HOME_DIR/run/httpd.pid")" || true)
    graceful_paa
    for i in $(seq 1 600); do
        for p in $old; do
            kill -0 "$p" 2>/dev/null && break
            p=
        done
        [ -z "${p:-}" ] && return 0
        sleep 0.1
    done
    bail "the old children did not exit within 60 s of a graceful restart"
}

median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }

# row NAME FILE: one line of the report from FILE and FILE.base (a line
# per round: req/s p50 p99 non-2xx cpu-per-request).
row() {
    local f=$2
    [ -s "$f" ] && [ -s "$f.base" ] || return 0
    printf '| %-14s | %9.0f | %9.0f | %6.3f | %9.3f | %8.2f | %8.2f | %8.2f | %s |\n' "$1" \
        "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f1 "$f.base" | median)" \
        "$(paste -d' ' "$f" "$f.base" | awk '$6 > 0 { printf "%.6f\n", $1 / $6 }' | median)" \
        "$(paste -d' ' "$f" "$f.base" | awk '$5 > 0 { printf "%.6f\n", $10 / $5 }' | median)" \
        "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)" \
        "$(cut -d' ' -f3 "$f.base" | median)" "$(cut -d' ' -f4 "$f" | median)"
}

report() { # DB
    local db=$1 name f
    printf '\n%s, wrk -t2 -c%d, %d s a side in %d s slices alternating with bare httpd (the same client), %d rounds, medians; 100,000 keys and 10,000 users in the database\n' \
        "$db" "$CONNS" "$SECS" "$SLICE" "$ROUNDS"
    printf '| %-14s | %9s | %9s | %6s | %9s | %8s | %8s | %8s | %s |\n' scenario "req/s" "bare" ratio "CPU ratio" "p50 ms" "p99 ms" "bare p99" "non-2xx"
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------- ----------- ----------- -------- ----------- ---------- ---------- ---------- ---------
    for name in $SCENARIOS; do
        row "$name" "$T_TMP/res/$name"
    done
    if [ -s "$T_TMP/res/key-1:floor" ] || [ -s "$T_TMP/res/policy:floor" ]; then
        echo 'key-1:floor, policy:floor: against the floor (its req/s and p99 in the "bare" columns), not bare httpd'
    fi
    printf 'memory (all httpd processes): bare RSS %s MB, PSS %s MB; mod_paa RSS %s MB, PSS %s MB\n' \
        $BARE_MEM $PAA_MEM
}

SCENARIOS="bare:bare open floor-key key-1 key-1:floor key-1k key-10k key-10k-cold key-100k jwt-1 jwt-10k-cold jwt-10k policy floor-policy policy:floor reject-401 personas mcp-list"

# ------------------------------------------------------------ instructions
# ir CONF URL N [ab args]: user-space instructions of a one-process httpd
# with a copy of CONF that served N requests with ab (and one curl).
ir() {
    local conf=$1 url=$2 n=$3 dir port user vg f i log warmed=0
    shift 3
    log=$(sed -n 's/^ErrorLog "\(.*\)"$/\1/p' "$conf")
    if grep -q '^LoadModule paa_module' "$conf"; then
        warmed=$(($(grep -c PAA01512 "$log" 2>/dev/null || true) + 1))
    fi
    dir=$(mktemp -d "$T_TMP/cg.XXXXXX")
    port=$(paa_free_port)
    sed -e "s/^Listen .*/Listen 127.0.0.1:$port/" -e "s#^PidFile .*#PidFile \"$dir/httpd.pid\"#" \
        "$conf" >"$dir/httpd.conf"
    url=$(sed -E "s#^http://127\.0\.0\.1:[0-9]+#http://127.0.0.1:$port#" <<<"$url")
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
        "$PAA_HTTPD" -X -f "$dir/httpd.conf" >"$dir/valgrind.log" 2>&1 &
    vg=$!
    for i in $(seq 1 300); do
        curl -s -o /dev/null "$url" && break
        sleep 0.2
    done
    # mod_paa warms its cache with the keys in use, in a thread. While it
    # reads them, a request that needs SQLite waits for apr_dbd_sqlite3's
    # mutex, one per process (apr-util 1.6 takes apr_dbd_mutex_lock()
    # around every statement), and valgrind runs one thread at a time:
    # together they outlast ab's timeout. Waited for, the warm costs the
    # same in both runs of per_request and cancels out.
    for i in $(seq 1 600); do
        [ "$(grep -c PAA01512 "$log" 2>/dev/null || true)" -ge "$warmed" ] && break
        sleep 0.5
    done
    # Written at the exit, by the user the server runs as.
    user=$(paa_httpd_user)
    [ -z "$user" ] || chown "$user" "$dir" "$dir"/cg.out*
    ab -q -k -c 4 -n "$n" "$@" "$url" >"$dir/ab.out" 2>&1 || {
        kill -KILL "$vg" 2>/dev/null # not one of lib.sh's servers: stopped here
        bail "ab failed: $(tail -n 3 "$dir/ab.out")"
    }
    kill -TERM "$vg"
    wait "$vg" 2>/dev/null || true
    f=$(ls -t "$dir"/cg.out* | head -n 1)
    callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

# per_request NAME CONF URL [ab args]: instructions per request, by the
# difference of 500 and 3,000 requests, into $T_TMP/res/NAME.
per_request() {
    local name=$1 conf=$2 url=$3 a b
    shift 3
    [ "$name" = bare ] || selected "$name" || return 0
    a=$(ir "$conf" "$url" 500 "$@")
    b=$(ir "$conf" "$url" 3000 "$@")
    echo $(((b - a) / 2500)) >"$T_TMP/res/$name"
}

instructions() { # DB
    local db=$1 name bare v
    command -v valgrind >/dev/null && command -v ab >/dev/null ||
        bail "BENCH_INSTRUCTIONS needs valgrind and ab (apache2-utils)"
    printf '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' >"$T_TMP/mcp.json"
    per_request bare "$BARE_DIR/httpd.conf" "$BARE_URL"
    per_request open "$HOME_DIR/httpd.conf" "$BASE/open/bench.txt"
    per_request floor-key "$FLOOR_DIR/httpd.conf" "$FLOOR_URL/key/bench.txt" -H "X-API-Key: $FLOOR_KEY"
    per_request key-1 "$HOME_DIR/httpd.conf" "$BASE/key/bench.txt" -H "X-API-Key: $key"
    per_request jwt-1 "$HOME_DIR/httpd.conf" "$BASE/jwt/bench.txt" -H "Authorization: Bearer $token"
    per_request policy "$HOME_DIR/httpd.conf" "$BASE/policy/bench.txt" -H "X-API-Key: $key" \
        -H 'Origin: https://app.example.com'
    per_request floor-policy "$FLOOR_DIR/httpd.conf" "$FLOOR_URL/policy/bench.txt" -H "X-API-Key: $FLOOR_KEY" \
        -H 'Origin: https://app.example.com'
    per_request reject-401 "$HOME_DIR/httpd.conf" "$BASE/key/bench.txt" -H "X-API-Key: pak_$(printf '%064d' 7)"
    per_request personas "$HOME_DIR/httpd.conf" "$BASE/api/personas" -H "Authorization: Bearer $token"
    per_request mcp-list "$HOME_DIR/httpd.conf" "$BASE/api/mcp" -p "$T_TMP/mcp.json" -T application/json \
        -H 'Accept: application/json, text/event-stream' -H "X-API-Key: $key" -H "Mcp-Session-Id: $sid"
    bare=$(cat "$T_TMP/res/bare")
    printf '\n%s: user-space instructions per request (callgrind, one process, ab -k -c 4)\n' "$db"
    printf '| %-14s | %12s | %13s |\n' scenario instructions "beyond bare"
    printf '|%s|%s|%s|\n' ---------------- -------------- ---------------
    for name in bare $SCENARIOS; do
        [ -s "$T_TMP/res/$name" ] || continue
        v=$(cat "$T_TMP/res/$name")
        printf '| %-14s | %12d | %13s |\n' "$name" "$v" "$([ "$name" = bare ] && echo - || echo $((v - bare)))"
    done
}


# ------------------------------------------------------------ profile
# profile_one NAME URL [wrk args]: SECS seconds of wrk under perf (every
# CPU sampled each 250 us of CPU time), a line per round in
# $T_TMP/res/NAME.prof: requests, then the samples of httpd's processes
# (by command name: the other server is idle meanwhile, and nothing else
# may run httpd) in the kernel, in mod_paa, in OpenSSL, in a database
# client library and in the rest (httpd, APR, libc, the other modules),
# and wrk's.
profile_one() {
    local name=$1 url=$2 comm mod
    shift 2
    comm=$(basename "$PAA_HTTPD" | cut -c1-15)
    mod=$(basename "$PAA_MODULE")
    perf record -q -a -e cpu-clock -c 250000 -o "$T_TMP/perf.data" -- \
        wrk -t2 -c"$CONNS" -d"${SECS}s" "$@" "$url" >"$T_TMP/wrk.out" 2>/dev/null || true
    perf report -i "$T_TMP/perf.data" --stdio --sort comm,dso -F sample,comm,dso -t '|' 2>/dev/null |
        awk -F'|' -v comm="$comm" -v mod="$mod" -v req="$(awk '/ requests in / {print $1}' "$T_TMP/wrk.out")" '
            /^#/ || NF < 3 { next }
            { n = $1 + 0; c = $2; d = $3; gsub(/^ +| +$/, "", c); gsub(/^ +| +$/, "", d) }
            c == "wrk" { wrk += n; next }
            c != comm { next }
            d == "[kernel.kallsyms]" { k += n; next }
            d == mod { m += n; next }
            d ~ /^lib(crypto|ssl)\./ { o += n; next }
            d ~ /^lib(sqlite3|pq)\./ { b += n; next }
            { rest += n }
            END { printf "%d %d %d %d %d %d %d\n", req, k, m, o, b, rest, wrk }' >>"$T_TMP/res/$name.prof"
}

# profile DB: where a request's CPU time goes, natively (callgrind counts
# instructions, but a request's user-space code runs with cold caches
# after the kernel's network stack, and an instruction count hides what
# a cache miss or a contended line costs): the fixed-header scenarios,
# ROUNDS rounds each, the medians in microseconds a request.
profile() {
    local db=$1 r name log i e
    command -v perf >/dev/null || bail "BENCH_PROFILE needs perf (Debian: linux-perf) and root"
    # The restart's warm runs in a thread of one child: not a request's.
    log=$(sed -n 's/^ErrorLog "\(.*\)"$/\1/p' "$HOME_DIR/httpd.conf")
    for i in $(seq 1 600); do
        grep -q PAA01512 "$log" 2>/dev/null && break
        sleep 0.5
    done
    run warmup "$BARE_URL"
    run warmup "$BASE/open/bench.txt"
    for r in $(seq 1 "$ROUNDS"); do
        echo "# $db: profile round $r of $ROUNDS" >&2
        profile_one bare "$BARE_URL"
        selected open && profile_one open "$BASE/open/bench.txt"
        selected floor-key && profile_one floor-key "$FLOOR_URL/key/bench.txt" -H "X-API-Key: $FLOOR_KEY"
        selected key-1 && profile_one key-1 "$BASE/key/bench.txt" -H "X-API-Key: $key"
        selected jwt-1 && profile_one jwt-1 "$BASE/jwt/bench.txt" -H "Authorization: Bearer $token"
        selected policy && profile_one policy "$BASE/policy/bench.txt" -H "X-API-Key: $key" \
            -H 'Origin: https://app.example.com'
        selected floor-policy && profile_one floor-policy "$FLOOR_URL/policy/bench.txt" \
            -H "X-API-Key: $FLOOR_KEY" -H 'Origin: https://app.example.com'
    done
    printf '\n%s: CPU time a request, us (perf, all CPUs sampled every 250 us; wrk -t2 -c%d, %d s, medians of %d rounds)\n' \
        "$db" "$CONNS" "$SECS" "$ROUNDS"
    printf '| %-12s | %8s | %8s | %8s | %8s | %8s | %8s | %16s | %8s |\n' scenario req/s httpd kernel user mod_paa OpenSSL "database client" wrk
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------- ---------- ---------- ---------- ---------- ---------- ---------- ------------------ ----------
    for name in bare open floor-key key-1 jwt-1 policy floor-policy; do
        [ -s "$T_TMP/res/$name.prof" ] || continue
        printf '| %-12s |' "$name"
        # Each column's median over the rounds: requests/s, then the
        # fields of profile_one's lines in us a request (a sample is
        # 250 us): the server's, its kernel and user parts, user space
        # by library, wrk's.
        for e in '$1 / S' '($2 + $3 + $4 + $5 + $6) * U' '$2 * U' '($3 + $4 + $5 + $6) * U' \
            '$3 * U' '$4 * U' '$5 * U' '$7 * U'; do
            awk "\$1 > 0 { S = $SECS; U = 250 / \$1; print $e }" "$T_TMP/res/$name.prof" | median |
                awk -v w="$([ "$e" = '$5 * U' ] && echo 16 || echo 8)" -v d="$([ "$e" = '$1 / S' ] && echo 0 || echo 1)" \
                    '{printf " %*.*f |", w, d, $1}'
        done
        echo
    done
}

bench_db() {
    local db=$1 key sid r cold
    PG_DIR=
    new_db_instance "$db"
    paa_conf
    echo "# $db: creating 100,000 keys and 10,000 users..." >&2
    "$FILL" keys "$CONFIG" 100000 >"$T_TMP/keys" || bail "bench_fill keys failed"
    "$FILL" users "$CONFIG" 10000 2h >"$T_TMP/tokens" || bail "bench_fill users failed"
    "$PAACTL" --config "$CONFIG" persona import "$SRC/conf/personas.json" >/dev/null 2>&1 ||
        bail "persona import failed"
    # A deployment's revocation list: tokens revoked by their jti alone,
    # which is kept for good, so a list that has ever had one always has.
    for r in $(seq 1 20); do
        "$PAACTL" --config "$CONFIG" token revoke "jti_bench_revoked_$r" >/dev/null 2>&1 ||
            bail "token revoke failed"
    done
    head -n 1000 "$T_TMP/keys" >"$T_TMP/keys-1k"
    head -n 10000 "$T_TMP/keys" >"$T_TMP/keys-10k"
    # The cold run uses keys no other scenario uses; the others have been
    # in use (bench-N is line N + 1 of the keys file).
    sed -n '20001,30000p' "$T_TMP/keys" >"$T_TMP/keys-10k-cold"
    cold="name LIKE 'bench-%' AND CAST(substr(name, 7) AS INTEGER) BETWEEN 20000 AND 29999"
    sql "UPDATE paa_api_keys SET last_used_at = $(($(date +%s) - 3600))
        WHERE name LIKE 'bench-%' AND NOT ($cold)" || bail "cannot mark the keys as in use"
    # What a deployment's autovacuum did long ago: the planner's statistics
    # and no dead rows left by the load. Without them PostgreSQL planned
    # the restart's warm as a scan and sort of every key per chunk of
    # 1,000 (95 ms each, instead of 5 by the primary key), and every read
    # of the change markers scanned the 100,000 dead versions of their
    # row that the load's one transaction left (4 ms instead of 0.02),
    # until autovacuum came by, a minute or more into the run.
    if [ "$db" = pgsql ]; then
        sql "VACUUM ANALYZE" || bail "VACUUM ANALYZE failed"
    fi
    key=$(head -n 1 "$T_TMP/keys")
    token=$(head -n 1 "$T_TMP/tokens")
    for f in keys-1k keys-10k keys-10k-cold keys; do
        lua_random "$T_TMP/$f" X-API-Key "" >"$T_TMP/$f.lua"
    done
    lua_random "$T_TMP/tokens" Authorization "Bearer " >"$T_TMP/tokens.lua"
    start_instance
    sid=$(curl -s -D - -o /dev/null -H "X-API-Key: $key" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' --data-binary \
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
        "$BASE/api/mcp" | tr -d '\r' | awk -F': ' 'tolower($1) == "mcp-session-id" {print $2}')
    [ -n "$sid" ] || bail "no MCP session"
    cat >"$T_TMP/mcp.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["X-API-Key"] = "$key"
wrk.headers["Mcp-Session-Id"] = "$sid"
LUA
    # Sanity: each protection is really what it claims.
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/key/bench.txt")" = 401 ] || bail "/key/ is not protected"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$BASE/key/bench.txt")" = 200 ] || bail "/key/ refuses the key"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE/jwt/bench.txt")" = 200 ] || bail "/jwt/ refuses the token"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE/api/personas")" = 200 ] || bail "/api/personas refuses the token"
    curl -s -D - -o /dev/null -H "X-API-Key: $key" -H 'Origin: https://app.example.com' "$BASE/policy/bench.txt" |
        grep -qi '^Access-Control-Allow-Origin' || bail "/policy/ sends no CORS headers"
    # The floor's responses are the ones it stands for.
    if ! diff <(headers -H "X-API-Key: $key" "$BASE/key/bench.txt") \
        <(headers -H "X-API-Key: $FLOOR_KEY" "$FLOOR_URL/key/bench.txt") >"$T_TMP/headers.diff" ||
        ! diff <(headers -H "X-API-Key: $key" -H 'Origin: https://app.example.com' "$BASE/policy/bench.txt") \
            <(headers -H "X-API-Key: $FLOOR_KEY" -H 'Origin: https://app.example.com' "$FLOOR_URL/policy/bench.txt") \
            >>"$T_TMP/headers.diff"; then
        bail "the floor's headers are not mod_paa's: $(cat "$T_TMP/headers.diff")"
    fi

    rm -rf "$T_TMP/res" && mkdir -p "$T_TMP/res"
    BARE_URL="http://127.0.0.1:$BARE_PORT/open/bench.txt"
    if [ -n "${BENCH_INSTRUCTIONS:-}" ]; then
        instructions "$db" | tee -a "$T_TMP/report"
        stop_instance
        return 0
    fi
    if [ -n "${BENCH_PROFILE:-}" ]; then
        profile "$db" | tee -a "$T_TMP/report"
        stop_instance
        return 0
    fi
    run warmup "$BARE_URL"
    run warmup "$BASE/open/bench.txt"
    for r in $(seq 1 "$ROUNDS"); do
        echo "# $db: round $r of $ROUNDS" >&2
        if selected key-10k-cold; then
            # Its keys as never used, again: the round before used them
            # and wrote their last-used times. A round shorter than a
            # minute leaves their windows open, and a restart makes the
            # old children write those, last-used times included: so the
            # keys are marked once that generation is gone, and the
            # restart that warms the cache comes after. Both servers right after
            # a restart: a new generation's children start cold and more
            # are forked under load, for bare httpd too; what is compared
            # is what mod_paa adds to that. In slices like every pair: one
            # run of each, one after the other, charged a slow second of
            # the machine's to one side in full (one module measured
            # 0.785 to 0.895 within an hour).
            settle_paa
            sql "UPDATE paa_api_keys SET last_used_at = NULL WHERE $cold" ||
                bail "cannot mark the cold keys as never used"
            graceful "$BARE_DIR" "$BARE_URL"
            graceful_paa
            pair key-10k-cold "$BASE/key/bench.txt" -s "$T_TMP/keys-10k-cold.lua"
        else
            graceful_paa
        fi
        pair bare:bare "$BARE_URL"
        pair open "$BASE/open/bench.txt"
        pair floor-key "$FLOOR_URL/key/bench.txt" -H "X-API-Key: $FLOOR_KEY"
        pair key-1 "$BASE/key/bench.txt" -H "X-API-Key: $key"
        pair_floor key-1:floor /key/bench.txt "$key"
        pair key-1k "$BASE/key/bench.txt" -s "$T_TMP/keys-1k.lua"
        pair key-10k "$BASE/key/bench.txt" -s "$T_TMP/keys-10k.lua"
        pair key-100k "$BASE/key/bench.txt" -s "$T_TMP/keys.lua"
        pair jwt-1 "$BASE/jwt/bench.txt" -H "Authorization: Bearer $token"
        pair jwt-10k-cold "$BASE/jwt/bench.txt" -s "$T_TMP/tokens.lua"
        pair jwt-10k "$BASE/jwt/bench.txt" -s "$T_TMP/tokens.lua"
        pair policy "$BASE/policy/bench.txt" -H "X-API-Key: $key" -H 'Origin: https://app.example.com'
        pair floor-policy "$FLOOR_URL/policy/bench.txt" -H "X-API-Key: $FLOOR_KEY" -H 'Origin: https://app.example.com'
        pair_floor policy:floor /policy/bench.txt "$key" -H 'Origin: https://app.example.com'
        pair reject-401 "$BASE/key/bench.txt" -H "X-API-Key: pak_$(printf '%064d' 7)"
        pair personas "$BASE/api/personas" -H "Authorization: Bearer $token"
        pair mcp-list "$BASE/api/mcp" -s "$T_TMP/mcp.lua"
    done
    BARE_MEM=$(mem "$BARE_DIR/run/httpd.pid")
    PAA_MEM=$(mem "$HOME_DIR/run/httpd.pid")
    report "$db" | tee -a "$T_TMP/report"
    stop_instance
}

bare_start
floor_start
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), module $PAA_MODULE" |
    tee "$T_TMP/report"
for db in $DBS; do
    bench_db "$db"
done
echo
cat "$T_TMP/report"
