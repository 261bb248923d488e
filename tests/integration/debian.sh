#!/bin/bash
# The Debian packages, end to end on this machine (issue 11). Builds
# libapache2-mod-paa and paactl with dpkg-buildpackage from a copy of the
# tree, lints them (no error, no warning), installs them with apt, and runs
# the system's apache2 on its own /etc/apache2 configuration (listening
# only on 127.0.0.1:PORT: ports.conf is the one file left out) with
# a2enconf paa-api. Then: /health and /health/ready answer, paactl with no
# --config makes a key that authenticates, an existing mod_authn_dbd site
# keeps working, the rest of a site is untouched, apache2ctl configtest
# refuses a bad secret by name; an upgrade keeps the env file and the data,
# removal keeps them, purge removes them, and afterwards nothing of ours is
# left and /etc/apache2 is byte-identical to before.
#
# It changes the machine, so it runs only as root on Debian 12 with apt,
# when neither package is installed and the system apache2 is not running;
# otherwise it says why it skips. The EXIT trap stops what it started,
# purges the packages and restores /etc/apache2 and /var/lib/apache2
# whatever happened.
. "$PAA_SRCDIR/tests/integration/lib.sh"

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

PKGS=(libapache2-mod-paa paactl)
[ "$(id -u)" = 0 ] || skip_all "needs root (installs the packages with apt)"
case "$(cat /etc/debian_version 2>/dev/null)" in
12.* | bookworm*) ;;
*) skip_all "needs Debian 12 (this is $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"))" ;;
esac
for tool in apt-get dpkg-buildpackage dh lintian a2enconf git; do
    command -v "$tool" >/dev/null ||
        skip_all "$tool is missing (apt-get install debhelper devscripts lintian apache2 git; ./quickstart test does)"
done
[ -d "$PAA_SRCDIR/debian" ] || skip_all "no debian/ in $PAA_SRCDIR (a release tarball)"
git -C "$PAA_SRCDIR" rev-parse --git-dir >/dev/null 2>&1 ||
    skip_all "$PAA_SRCDIR is not a git checkout (the package is built from its files)"

# One run at a time per machine: two would install over each other.
exec 9>/run/lock/mod_paa-debian-test.lock
flock -w 900 9 || skip_all "another run of this test held the lock for 15 minutes"

for p in "${PKGS[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed"; then
        skip_all "$p is already on this machine (dpkg says: $(dpkg-query -W -f='${Status}' "$p")); this test would replace it"
    fi
done
for d in /etc/paa /var/lib/paa; do
    [ ! -e "$d" ] || skip_all "$d exists; this test would remove it"
done
if pid=$(cat /run/apache2/apache2.pid 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
    skip_all "the system apache2 runs (pid $pid); the packages' scripts would restart it"
fi

D="$T_TMP/deb"
A="$T_TMP/apache2"
mkdir -p "$D" "$A"/run "$A"/lock "$A"/log "$A"/www "$A"/www-dbd "$A"/authn
chmod 755 "$D" "$A" "$A"/www "$A"/www-dbd

# ------------------------------------------------------------------ state
# apache2_state DIR: every entry (type, mode, owner, link target) and the
# checksum of every file, sorted: equal output means byte-identical.
apache2_state() {
    (
        cd "$1" 2>/dev/null || exit 0
        find . -printf '%y %m %u:%g %p -> %l\n' | sort
        find . -type f -exec sha256sum {} + | sort -k 2
    )
}
# a2enmod_state: the marker files a2enmod and friends keep (who enabled or
# disabled what). Their empty marker directories, which the tools create
# on first use whoever calls them, do not count.
a2enmod_state() {
    (cd /var/lib/apache2 2>/dev/null && find . -type f | sort)
}
apache2_state /etc/apache2 >"$T_TMP/etc-before"
a2enmod_state >"$T_TMP/var-before"
tar -C / -cpf "$T_TMP/apache2-before.tar" etc/apache2 var/lib/apache2 ||
    bail "cannot back up /etc/apache2"
RUN_APACHE2_EXISTED=$([ -d /run/apache2 ] && echo 1)
POLICY_RC=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    # The packages' scripts restart apache2 through invoke-rc.d: a running
    # system apache2 is this test's to start, on loopback, and nobody's else.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC=1
fi

# shellcheck disable=SC2317 # run by the EXIT trap
deb_cleanup() {
    apache2_stop
    if dpkg-query -W -f='${Status}\n' "${PKGS[@]}" 2>/dev/null | grep -qv "not-installed"; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq \
            -o DPkg::Lock::Timeout=120 "${PKGS[@]}" >/dev/null 2>&1
    fi
    rm -rf /etc/paa /var/lib/paa
    if ! apache2_state /etc/apache2 | cmp -s - "$T_TMP/etc-before" ||
        ! a2enmod_state | cmp -s - "$T_TMP/var-before"; then
        echo "# restoring /etc/apache2 and /var/lib/apache2 from the backup" >&2
        rm -rf /etc/apache2 /var/lib/apache2
        tar -C / -xpf "$T_TMP/apache2-before.tar"
    fi
    [ -n "$POLICY_RC" ] && rm -f /usr/sbin/policy-rc.d
    # apache2ctl (configtest, and the packages' scripts through it) makes
    # /run/apache2 and its socks/ directory; no file of ours stays in it.
    if [ -z "$RUN_APACHE2_EXISTED" ] && [ -z "$(find /run/apache2 ! -type d 2>/dev/null)" ]; then
        rm -rf /run/apache2
    fi
    t_cleanup
}
trap deb_cleanup EXIT

# ---------------------------------------------------------- system apache2
# The system's apache2 with its own configuration, except ports.conf
# (Listen 80 on every address) and with its runtime files and logs here.
# Two name-based sites of the test's own come after it: a static one, and
# an existing mod_authn_dbd one with its own SQLite database and no paa
# tables.
PORT=
write_apache2_conf() {
    sed "s|^Include ports.conf\$|Listen 127.0.0.1:$PORT|" /etc/apache2/apache2.conf >"$A/apache2.conf"
    grep -q "^Listen 127.0.0.1:$PORT\$" "$A/apache2.conf" ||
        bail "/etc/apache2/apache2.conf has no 'Include ports.conf' line to replace"
    cat >>"$A/apache2.conf" <<CONF
ServerName static.test
<IfModule !dbd_module>
    LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
</IfModule>
<IfModule !authn_dbd_module>
    LoadModule authn_dbd_module /usr/lib/apache2/modules/mod_authn_dbd.so
</IfModule>
<VirtualHost 127.0.0.1:$PORT>
    ServerName static.test
    DocumentRoot "$A/www"
    <Directory "$A/www">
        Require all granted
    </Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:$PORT>
    ServerName dbd.test
    DocumentRoot "$A/www-dbd"
    DBDriver sqlite3
    DBDParams "$A/authn/users.db"
    <Directory "$A/www-dbd">
        AuthType Basic
        AuthName "dbd test"
        AuthBasicProvider dbd
        AuthDBDUserPWQuery "SELECT pw FROM users WHERE name = %s"
        Require valid-user
    </Directory>
</VirtualHost>
CONF
}

apache2_run() {
    (
        set +u # envvars reads APACHE_CONFDIR, unset here
        # shellcheck source=/dev/null
        . /etc/apache2/envvars
        export APACHE_PID_FILE="$A/run/apache2.pid" APACHE_RUN_DIR="$A/run" \
            APACHE_LOCK_DIR="$A/lock" APACHE_LOG_DIR="$A/log"
        exec /usr/sbin/apache2 -d /etc/apache2 -f "$A/apache2.conf" "$@"
    )
}

# The package's paactl processes: another suite on this machine runs its
# own paactl, from its build tree, which is none of this test's business.
package_paactl() {
    local p
    for p in $(pgrep -x paactl); do
        case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
        /usr/sbin/paactl*) echo "$p" ;;
        esac
    done
}
apache2_pid() {
    local pid
    pid=$(cat "$A/run/apache2.pid" 2>/dev/null) || return 0
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# apache2_start: on a free loopback port; sets PORT and BASE.
apache2_start() {
    local tries=3
    while [ $tries -gt 0 ]; do
        PORT=$(paa_free_port) || bail "no free port"
        BASE="http://127.0.0.1:$PORT"
        write_apache2_conf
        : >"$A/log/error.log" # each run's messages alone
        if apache2_run -k start 2>"$T_TMP/apache2-start.err" &&
            paa_wait_http "$BASE/" 15; then
            return 0
        fi
        apache2_stop
        tries=$((tries - 1))
    done
    cat "$T_TMP/apache2-start.err" "$A/log/error.log" >&2 2>/dev/null
    bail "the system apache2 did not start"
}

apache2_stop() {
    local pid n=150
    pid=$(apache2_pid)
    [ -n "$pid" ] || return 0
    apache2_run -k stop 2>/dev/null || kill "$pid"
    while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    return 0
}

# get HOST PATH [curl args]: STATUS, BODY, HEADERS of a request to a site.
get() {
    local host=$1 path=$2
    shift 2
    http GET "$path" -H "Host: $host" "$@"
}

# header_names: the response's header names, sorted, without Date.
header_names() {
    printf '%s\n' "$HEADERS" | sed -n 's/^\([A-Za-z0-9-]*\):.*/\1/p' |
        tr '[:upper:]' '[:lower:]' | grep -vx date | sort | tr '\n' ' '
}

# sites_as_before WHEN: the static site, /server-status and the
# mod_authn_dbd site answer as they did before mod_paa was installed.
sites_as_before() {
    local when=$1
    get static.test /
    is "$STATUS:$BODY" "200:static page" "$when: a static page of the site is served"
    is "$(header_names)" "$STATIC_HEADERS" "$when: ... with the same headers as before mod_paa"
    get static.test /no-such-page
    is "$STATUS" 404 "$when: a missing page is 404"
    is "$(header_names)" "$NOTFOUND_HEADERS" "$when: ... with the same headers as before mod_paa"
    get static.test /server-status
    is "$STATUS:$(printf '%s' "$BODY" | grep -c 'Apache Server Status')" "200:1" \
        "$when: /server-status still answers from 127.0.0.1"
    get dbd.test /
    is "$STATUS" 401 "$when: mod_authn_dbd site: no credentials, 401"
    get dbd.test / -u alice:wrong-password
    is "$STATUS" 401 "$when: mod_authn_dbd site: a wrong password, 401"
    get dbd.test / -u alice:alice-password
    is "$STATUS:$BODY" "200:dbd page" "$when: mod_authn_dbd site: the right password, 200 (AuthBasicProvider dbd on its own database)"
    [ "$STATUS" = 200 ] || grep -E 'dbd|PAA' "$A/log/error.log" | tail -n 4 | sed 's/^/# error.log: /'
}

echo "static page" >"$A/www/index.html"
echo "dbd page" >"$A/www-dbd/index.html"
hash=$(htpasswd -nbB alice alice-password | cut -d: -f2-)
sqlite3 "$A/authn/users.db" "CREATE TABLE users (name TEXT PRIMARY KEY, pw TEXT);
    INSERT INTO users VALUES ('alice', '$hash');" || bail "cannot create the mod_authn_dbd database"
chown -R www-data:www-data "$A/authn"

# ------------------------------------------------------------ the baseline
apache2_start
get static.test /
STATIC_HEADERS=$(header_names)
get static.test /no-such-page
NOTFOUND_HEADERS=$(header_names)
sites_as_before "before mod_paa"
apache2_stop

# ------------------------------------------------------------------- build
SRC="$D/mod-paa"
mkdir -p "$SRC"
(cd "$PAA_SRCDIR" && git ls-files -co --exclude-standard -z |
    tar --null -T - -cf -) | tar -C "$SRC" -xf - || bail "cannot copy the tree"
# As a package build runs on a builder: not as a sub-make of this suite,
# whose MAKEFLAGS (TEST_LOGS=every test) would reach the package's own
# make and run the whole integration suite inside it.
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b) >"$D/build.log" 2>&1
RC=$?
is "$RC" 0 "dpkg-buildpackage -us -uc -b (in a copy of the tree) succeeds"
[ $RC -eq 0 ] || { tail -n 30 "$D/build.log" | sed 's/^/# /'; bail "no packages to test"; }
DEB_MOD=$(ls "$D"/libapache2-mod-paa_*.deb)
DEB_CTL=$(ls "$D"/paactl_*.deb)
if [ ! -f "$DEB_MOD" ] || [ ! -f "$DEB_CTL" ]; then
    bail "the .debs are missing: $(ls "$D")"
fi
like "$(grep -E '^# (TOTAL|PASS|FAIL)' "$D/build.log" | tr '\n' ' ')" "FAIL: +0" \
    "the package build ran the unit tests, and they passed"
unlike "$(grep -E '^(PASS|FAIL|ERROR|SKIP): tests/integration/' "$D/build.log" | head -n 3)" . \
    "the package build ran no integration test (they start httpd and databases)"

run lintian --fail-on error,warning "$D"/*.deb
is "$RC" 0 "lintian: no error and no warning on the .debs"
unlike "$OUT" "^[EW]: " "lintian prints no E: or W: line"
printf '%s\n' "$OUT" | grep . | sed 's/^/# lintian: /'

# dh_auto_install ran `make install DESTDIR=debian/tmp` after configure
# --prefix=/usr --sysconfdir=/etc --localstatedir=/var: the packages ship
# exactly those files (besides their docs, lintian overrides and the daily
# purge's systemd units, which are Debian's), so other distributions can
# package what `make install` gives them.
installed=$(cd "$SRC/debian/tmp" && find . ! -type d | sed 's|^\./||; s|\.gz$||' | sort)
shipped=$(for deb in "$DEB_MOD" "$DEB_CTL"; do dpkg-deb -c "$deb"; done |
    awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||; s|\.gz$||' |
    grep -Ev '^usr/share/(doc|lintian)/|^lib/systemd/system/paactl-purge\.(service|timer)$' | sort)
is "$shipped" "$installed" "the two packages ship exactly what make install installs"

contents=$(dpkg-deb -c "$DEB_MOD" | awk '{print $6}')
like "$contents" "etc/apache2/mods-available/paa\.load" "libapache2-mod-paa ships mods-available/paa.load"
like "$contents" "etc/apache2/mods-available/paa\.conf" "... and mods-available/paa.conf"
like "$contents" "etc/apache2/conf-available/paa-api\.conf" "... and conf-available/paa-api.conf"
like "$contents" "usr/lib/apache2/modules/mod_paa\.so" "... and mod_paa.so"
like "$contents" "usr/share/man/man8/mod_paa\.8" "... and mod_paa(8)"
unlike "$contents" "\.la$" "... and no libtool archive"
like "$(dpkg-deb -f "$DEB_MOD" Depends)" "apache2-api-[0-9]{8}" "libapache2-mod-paa depends on apache2-api (dh_apache2)"
contents=$(dpkg-deb -c "$DEB_CTL" | awk '{print $6}')
like "$contents" "usr/sbin/paactl" "paactl ships /usr/sbin/paactl"
like "$contents" "usr/share/man/man8/paactl\.8" "... and paactl(8)"
like "$contents" "usr/share/paa/personas\.json" "... and the example personas in /usr/share/paa"
like "$contents" "lib/systemd/system/paactl-purge\.timer" "... and the daily retention purge's systemd timer"
load=$(dpkg-deb --fsys-tarfile "$DEB_MOD" | tar -xOf - ./etc/apache2/mods-available/paa.load)
like "$load" "LoadModule paa_module /usr/lib/apache2/modules/mod_paa.so" "paa.load loads the installed module"
api=$(dpkg-deb --fsys-tarfile "$DEB_MOD" | tar -xOf - ./etc/apache2/conf-available/paa-api.conf)
like "$api" "PAAEnvFile /etc/paa/paa.env" "paa-api.conf reads /etc/paa/paa.env"
like "$api" "DBDParams /var/lib/paa/paa.db" "paa-api.conf uses the database in /var/lib/paa"

# ----------------------------------------------------------------- install
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=120 "$@"
}
apt_get install "$DEB_MOD" "$DEB_CTL" >"$D/install.log" 2>&1
RC=$?
is "$RC" 0 "apt-get install of both .debs succeeds"
[ $RC -eq 0 ] || { tail -n 30 "$D/install.log" | sed 's/^/# /'; bail "not installed"; }

is "$(stat -c '%a %U:%G' /etc/paa/paa.env 2>&1)" "600 root:root" \
    "/etc/paa/paa.env: created, mode 0600 root:root (httpd reads it as root at startup)"
secret=$(paa_env_value /etc/paa/paa.env JWT_SECRET)
[ "${#secret}" -ge 43 ]
is "$?" 0 "/etc/paa/paa.env has a generated JWT secret of 32 bytes or more"
is "$(stat -c '%a %U:%G' /var/lib/paa 2>&1)" "700 www-data:www-data" "/var/lib/paa: owned by www-data, mode 0700"
is "$(stat -c '%a %U:%G' /var/lib/paa/paa.db 2>&1)" "600 www-data:www-data" \
    "/var/lib/paa/paa.db: initialised, owned by www-data, mode 0600"
run paactl migrate
like "$RC:$OUT" "^0:schema is up to date .* /var/lib/paa/paa.db" "paactl with no --config finds /etc/paa/paa.env and an up-to-date schema"
[ -L /etc/apache2/mods-enabled/paa.load ]
is "$?" 0 "the module is enabled (a2enmod paa, by dh_apache2)"
[ ! -e /etc/apache2/conf-enabled/paa-api.conf ]
is "$?" 0 "the API is not (no conf-enabled/paa-api.conf until a2enconf)"
[ ! -e /usr/lib/apache2/modules/mod_paa.la ]
is "$?" 0 "no mod_paa.la in the module directory"

# The module is loaded and serves nothing.
apache2_start
get static.test /health
is "$STATUS" 404 "module enabled, API not: /health is the site's own 404"
sites_as_before "module enabled, API not"
is "$(grep -E '\[paa:' "$A/log/error.log")" "" "module enabled, API not: mod_paa logs nothing"
apache2_stop

# ---------------------------------------------------------- a2enconf paa-api
run a2enconf -q paa-api
is "$RC" 0 "a2enconf paa-api succeeds"
run apache2ctl configtest
is "$RC:$(printf '%s' "$ERR" | grep -c 'Syntax OK')" "0:1" "apache2ctl configtest: Syntax OK"
apache2_start
get static.test /health
like "$STATUS:$BODY" '^200:.*"status": *"ok"' "/health: 200 ok"
get static.test /health/ready
is "$STATUS" 200 "/health/ready: 200 (the database in /var/lib/paa is reachable and writable)"
[ "$STATUS" = 200 ] || echo "$BODY" | sed 's/^/# /'
get static.test /.well-known/oauth-protected-resource
is "$STATUS" 200 "/.well-known/oauth-protected-resource: public"
get static.test /api/me
is "$STATUS" 401 "/api/me without credentials: 401 (default deny on the API paths)"
run paactl keygen --name deb-test --role admin
KEY=$OUT
like "$RC:$KEY" '^0:pak_[0-9a-f]{64}$' "paactl keygen with no --config prints a key"
get static.test /api/me -H "X-API-Key: $KEY"
like "$STATUS:$BODY" "^200:.*admin" "that key authenticates: /api/me 200 with role admin"
get static.test /api/me -H "X-API-Key: pak_$(printf '0%.0s' $(seq 64))"
is "$STATUS" 401 "an unknown key: 401"
sites_as_before "API enabled"
is "$(grep -E '\[paa:(emerg|alert|crit|error)\]' "$A/log/error.log" | grep -v 'authentication failure')" "" \
    "API enabled: no mod_paa error in the error log but the two authentication failures above"
apache2_stop

# A bad secret: configtest fails and says which and why.
cp -p /etc/paa/paa.env "$D/paa.env.saved"
sed -i 's/^JWT_SECRET=.*/JWT_SECRET=too-short/' /etc/paa/paa.env
run apache2ctl configtest
like "$RC" "^[1-9]" "apache2ctl configtest fails with a short JWT secret"
like "$OUT $ERR" "JWT_SECRET.*unacceptable.*paactl secret gen" \
    "... and says the JWT_SECRET is unacceptable and how to make one"
cp -p "$D/paa.env.saved" /etc/paa/paa.env
run apache2ctl configtest
is "$RC" 0 "configtest passes again with the secret back"

# ----------------------------------------------------------------- upgrade
env_sum=$(sha256sum /etc/paa/paa.env)
apt_get install --reinstall "$DEB_MOD" "$DEB_CTL" >"$D/reinstall.log" 2>&1
is "$?" 0 "apt-get install --reinstall (the upgrade path: postinst configure with the old version)"
like "$(cat "$D/reinstall.log")" "schema is up to date" "the upgrade ran paactl migrate"
is "$(sha256sum /etc/paa/paa.env)" "$env_sum" "the upgrade did not touch /etc/paa/paa.env"
like "$(paactl list 2>&1)" "deb-test" "the upgrade kept the data (the key is still there)"
is "$(stat -c '%a %U:%G' /var/lib/paa/paa.db)" "600 www-data:www-data" "... and the database's owner and mode"
[ -L /etc/apache2/conf-enabled/paa-api.conf ]
is "$?" 0 "the upgrade kept the administrator's a2enconf paa-api"

# ------------------------------------------------------------------ remove
apt_get remove "${PKGS[@]}" >"$D/remove.log" 2>&1
is "$?" 0 "apt-get remove succeeds"
is "$(sha256sum /etc/paa/paa.env 2>&1)" "$env_sum" "remove keeps /etc/paa/paa.env"
[ -s /var/lib/paa/paa.db ]
is "$?" 0 "remove keeps the database"
[ ! -e /etc/apache2/conf-enabled/paa-api.conf ] && [ ! -e /etc/apache2/mods-enabled/paa.load ]
is "$?" 0 "remove disables the module and the API"

# ------------------------------------------------------------------- purge
apt_get purge "${PKGS[@]}" >"$D/purge.log" 2>&1
is "$?" 0 "apt-get purge succeeds"
[ ! -e /etc/paa ] && [ ! -e /var/lib/paa ]
is "$?" 0 "purge removes /etc/paa and /var/lib/paa"
left=$(
    for f in /usr/sbin/paactl /usr/lib/apache2/modules/mod_paa.so /usr/share/paa \
        /usr/share/doc/paactl /usr/share/doc/libapache2-mod-paa \
        /usr/share/man/man8/paactl.8.gz /usr/share/man/man8/mod_paa.8.gz; do
        [ ! -e "$f" ] || echo "$f"
    done
    find /etc/apache2 /var/lib/apache2 -name 'paa*'
)
is "$left" "" "purge leaves no file of ours (programs, docs, apache2 snippets, links, state)"
is "$(dpkg-query -W -f='${db:Status-Abbrev}' "${PKGS[@]}" 2>/dev/null | tr -d ' ')" "" \
    "dpkg knows neither package any more"
run diff "$T_TMP/etc-before" <(apache2_state /etc/apache2)
is "$RC" 0 "/etc/apache2 is byte-identical to before (files, links, modes, owners)"
[ "$RC" = 0 ] || printf '%s\n' "$OUT" | head -n 20 | sed 's/^/# /'
run diff "$T_TMP/var-before" <(a2enmod_state)
is "$RC" 0 "a2enmod's state (/var/lib/apache2) is as before: mod_dbd, enabled for mod_paa, is off again"
[ "$RC" = 0 ] || printf '%s\n' "$OUT" | head -n 20 | sed 's/^/# /'
is "$(apache2_pid)$(package_paactl)" "" "no apache2 of this test and no paactl of the package is left"
pid=$(cat /run/apache2/apache2.pid 2>/dev/null)
[ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null
is "$?" 0 "the system apache2 was never started by the packages' scripts"

done_testing
