# shellcheck shell=bash
# Functions shared by ./quickstart and the integration tests: one way to
# lay out a private mod_paa instance, so that the tests exercise exactly
# what the quick start gives a newcomer.
#
# An instance directory holds:
#   paa.env      (0600) settings and secrets shared by httpd and paactl
#   httpd.conf   rendered from conf/instance.conf.in at every start
#   conf.d/      extra httpd configuration (tests drop snippets here)
#   db/          the SQLite database (owned by the httpd user)
#   logs/ run/ htdocs/

PAA_PG_BINDIR=${PAA_PG_BINDIR:-/usr/lib/postgresql/15/bin}

# The user httpd children run as when started by root.
paa_httpd_user() {
    if [ "$(id -u)" = 0 ]; then
        echo "${PAA_HTTPD_USER:-www-data}"
    fi
}

# paa_env_find FILE NAME: "=VALUE" when the env file defines NAME (last
# wins), nothing when it does not. The file is read with the grammar of
# mod_paa/core/env.c: optional "export ", a value in double or single
# quotes taken verbatim (no escapes), else up to a # that follows white
# space. Values never pass through sed or awk replacement text, where & and
# \ are special.
paa_env_find() {
    PAA_ENV_NAME=$2 awk '
        { line = $0
          sub(/\r$/, "", line); sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
          if (line == "" || substr(line, 1, 1) == "#") next
          if (length(line) > 7 && substr(line, 1, 7) == "export ") {
              line = substr(line, 8); sub(/^[ \t]+/, "", line)
          }
          eq = index(line, "=")
          if (!eq) next
          key = substr(line, 1, eq - 1); sub(/[ \t]+$/, "", key)
          if (key != ENVIRON["PAA_ENV_NAME"]) next
          v = substr(line, eq + 1); sub(/^[ \t]+/, "", v)
          q = substr(v, 1, 1)
          if (q == "\"" || q == "\047") {
              rest = substr(v, 2); end = index(rest, q)
              if (!end) next
              v = substr(rest, 1, end - 1)
          } else {
              for (i = 2; i <= length(v); i++) {
                  if (substr(v, i, 1) == "#" && substr(v, i - 1, 1) ~ /[ \t]/) {
                      v = substr(v, 1, i - 1); break
                  }
              }
              sub(/[ \t]+$/, "", v)
          }
          val = v; found = 1 }
        END { if (found) print "=" val }' "$1"
}

# paa_env_value FILE NAME: the value of NAME in an env file (last wins).
paa_env_value() {
    local v
    v=$(paa_env_find "$1" "$2")
    printf '%s' "${v#=}"
    [ -z "$v" ] || echo
}

# paa_env_setting FILE NAME: NAME as httpd and paactl read it: with
# PAA_ENV=prod in the file, NAME_PROD (even empty) wins over NAME.
paa_env_setting() {
    local suffix v
    suffix=$(paa_env_value "$1" PAA_ENV | tr '[:lower:]' '[:upper:]')
    if [ -n "$suffix" ]; then
        v=$(paa_env_find "$1" "${2}_$suffix")
        if [ -n "$v" ]; then
            printf '%s\n' "${v#=}"
            return 0
        fi
    fi
    paa_env_value "$1" "$2"
}

# paa_env_quote VALUE: VALUE quoted for an env file. The grammar has no
# escapes: double quotes unless the value holds one, else single quotes;
# a value with both cannot be written.
paa_env_quote() {
    case $1 in
    *'"'*"'"* | *"'"*'"'*)
        echo "a value with both ' and \" cannot be written to an env file" >&2
        return 1
        ;;
    *'"'*) printf "'%s'\n" "$1" ;;
    *) printf '"%s"\n' "$1" ;;
    esac
}

# paa_instance_create HOME PAACTL [DRIVER PARAMS]: a new instance with a
# fresh JWT secret and an initialised database. Prints nothing on success.
paa_instance_create() {
    local home=$1 paactl=$2 driver=${3:-sqlite3} params=${4:-} user secret qparams
    user=$(paa_httpd_user)
    mkdir -p "$home"/conf.d "$home"/db "$home"/logs "$home"/run "$home"/htdocs
    chmod 755 "$home"
    [ -n "$params" ] || params="$home/db/paa.db"
    qparams=$(paa_env_quote "$params") || return 1
    secret=$("$paactl" secret gen --bytes 48) || return 1
    (
        umask 077
        cat >"$home/paa.env" <<ENV
# mod_paa instance settings, read by httpd (PAAEnvFile) and paactl.
# Keep this file private (mode 0600): it holds secrets.
PAA_DB_DRIVER=$driver
PAA_DB_PARAMS=$qparams
JWT_SECRET=$secret
JWT_EXPIRES_IN=24h
ENV
    )
    if [ -n "$user" ]; then
        chown -R "$user" "$home"/db "$home"/logs "$home"/run
    fi
    "$paactl" --config "$home/paa.env" init >/dev/null || return 1
    if [ "$driver" = sqlite3 ]; then
        # Only the httpd user (and root, for paactl) may read the database.
        [ -n "$user" ] && chown "$user" "$params"
        chmod 600 "$params"
        chmod 700 "$home/db"
    fi
}

# paa_render_conf HOME LISTEN MODULE TEMPLATE: write HOME/httpd.conf.
# Values are substituted literally (a PostgreSQL password may hold & or \,
# which awk's gsub and sed treat as special) and escaped for httpd's
# double-quoted arguments, where \\ and \" stand for \ and ". httpd expands
# ${NAME} anywhere in a line and has no escape for it, so such a value is
# refused rather than silently changed.
paa_render_conf() {
    local home=$1 listen=$2 module=$3 template=$4 user driver params moddir confdir v
    user=$(paa_httpd_user)
    # conf/paa.conf beside the template, as a2enmod paa loads it.
    confdir=$(cd "$(dirname "$template")" && pwd)
    driver=$(paa_env_setting "$home/paa.env" PAA_DB_DRIVER)
    params=$(paa_env_setting "$home/paa.env" PAA_DB_PARAMS)
    moddir=${PAA_APACHE_MODDIR:-/usr/lib/apache2/modules}
    for v in "$home" "$module" "$params" "$moddir" "$confdir"; do
        case $v in
        *'${'*)
            echo "paa_render_conf: '\${' cannot be passed to httpd (it expands \${NAME}): $([ "$v" = "$params" ] && echo PAA_DB_PARAMS || echo "$v")" >&2
            return 1
            ;;
        esac
    done
    case $driver in
    sqlite3 | pgsql) ;;
    *)
        echo "paa_render_conf: PAA_DB_DRIVER must be sqlite3 or pgsql, not '$driver'" >&2
        return 1
        ;;
    esac
    local userlines="" dbinit=""
    # SQLite: wait for a writer instead of failing at once.
    [ "$driver" = sqlite3 ] && dbinit='DBDInitSQL "PRAGMA busy_timeout = 5000"'
    [ -n "$user" ] && userlines="User $user
Group $(id -gn "$user")"
    (
        umask 077
        R_HOME=$home R_LISTEN=$listen R_MODULE=$module R_DRIVER=$driver \
            R_PARAMS=$params R_MODDIR=$moddir R_USER=$userlines R_DBINIT=$dbinit \
            R_CONFDIR=$confdir \
            awk '
            function quoted(s,    i, c, out) {
                out = ""
                for (i = 1; i <= length(s); i++) {
                    c = substr(s, i, 1)
                    if (c == "\\" || c == "\"") out = out "\\"
                    out = out c
                }
                return out
            }
            function put(line, tag, val,    i, out) {
                out = ""
                while ((i = index(line, tag)) > 0) {
                    out = out substr(line, 1, i - 1) val
                    line = substr(line, i + length(tag))
                }
                return out line
            }
            BEGIN {
                n = split("HOME MODULE PARAMS MODDIR CONFDIR", q, " ")
                for (k = 1; k <= n; k++) val[q[k]] = quoted(ENVIRON["R_" q[k]])
                val["LISTEN"] = ENVIRON["R_LISTEN"]; val["DRIVER"] = ENVIRON["R_DRIVER"]
                val["USER"] = ENVIRON["R_USER"]; val["DBINIT"] = ENVIRON["R_DBINIT"]
            }
            { $0 = put($0, "@HOME@", val["HOME"]); $0 = put($0, "@LISTEN@", val["LISTEN"])
              $0 = put($0, "@MODULE@", val["MODULE"]); $0 = put($0, "@DB_DRIVER@", val["DRIVER"])
              $0 = put($0, "@DB_PARAMS@", val["PARAMS"]); $0 = put($0, "@APACHE_MODDIR@", val["MODDIR"])
              $0 = put($0, "@USER@", val["USER"]); $0 = put($0, "@DB_INIT@", val["DBINIT"])
              $0 = put($0, "@CONFDIR@", val["CONFDIR"]); print }' \
            "$template" >"$home/httpd.conf.tmp"
    ) && mv "$home/httpd.conf.tmp" "$home/httpd.conf"
}

# paa_httpd_pid HOME: the running httpd's pid, or nothing.
paa_httpd_pid() {
    local pid
    pid=$(cat "$1/run/httpd.pid" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
    fi
}

# paa_wait_http URL SECONDS: wait until URL answers at all.
paa_wait_http() {
    local url=$1 n=$(($2 * 10))
    while [ $n -gt 0 ]; do
        if curl -s -o /dev/null --max-time 1 "$url"; then
            return 0
        fi
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# paa_httpd_start HOME HTTPD URL: start in the background, wait until up.
paa_httpd_start() {
    local home=$1 httpd=$2 url=$3
    "$httpd" -f "$home/httpd.conf" -k start || return 1
    if ! paa_wait_http "$url" 15; then
        echo "httpd did not answer at $url; see $home/logs/error.log" >&2
        tail -n 20 "$home/logs/error.log" >&2 2>/dev/null
        return 1
    fi
}

# paa_httpd_stop HOME HTTPD: stop and wait for every process to exit.
paa_httpd_stop() {
    local home=$1 httpd=$2 pid n=100
    pid=$(paa_httpd_pid "$home")
    [ -n "$pid" ] || return 0
    "$httpd" -f "$home/httpd.conf" -k stop 2>/dev/null || kill "$pid"
    while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        pkill -9 -f "$home/httpd.conf" 2>/dev/null
    fi
    return 0
}

# paa_free_port: a loopback TCP port nobody listens on right now. It is
# below the kernel's ephemeral range when that leaves room: a port in it
# can be taken by any outgoing connection (the tests make thousands)
# between this check and httpd's bind, and not every port is retried.
paa_free_port() {
    local port tries=50 first=20000 count=30000 low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        [ "${low:-0}" -ge 15000 ] && first=10000 count=$((low - 10000))
    while [ $tries -gt 0 ]; do
        port=$((first + RANDOM % count))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        tries=$((tries - 1))
    done
    return 1
}

# PostgreSQL throwaway cluster: paa_pg_start DIR PORT [OPTIONS] prints the
# DBDParams for database "paa" (over the Unix socket); OPTIONS are more
# postgres command-line options (-c name=value ...), which win over the
# defaults here; paa_pg_stop DIR stops it.
paa_pg_run() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

paa_pg_start() {
    local dir=$1 port=$2 options=${3:-}
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown nobody "$dir"
    paa_pg_run "$PAA_PG_BINDIR/initdb" -D "$dir/data" -U paa --auth=trust \
        -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" \
        -o "-k $dir -p $port -c listen_addresses='' $options" -w start >/dev/null || {
        cat "$dir/log" >&2
        return 1
    }
    paa_pg_run "$PAA_PG_BINDIR/createdb" -h "$dir" -p "$port" -U paa paa || return 1
    echo "host=$dir port=$port dbname=paa user=paa"
}

paa_pg_stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    paa_pg_run "$PAA_PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
}
