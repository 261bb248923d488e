#!/bin/bash
# paactl failure paths on both databases: global options (--version,
# --config=FILE, PAA_CONFIG), usage errors of every command (exit 2, found
# before the env file or the database is touched, nothing on stdout), env
# files that cannot be read or parsed, databases that cannot be opened or
# have no schema, and JWT settings paactl refuses. Every failure must exit
# 1 with a message that names what failed (the file and line, the
# database) and says what to do, and must never show a password, a secret
# or a credential.
. "$PAA_SRCDIR/tests/integration/lib.sh"

unset PAA_CONFIG

# A password in PAA_DB_PARAMS and secrets in env files: none may ever
# appear in a message.
PW=hunter2
SECRET_RE='hunter2|s3cr3t-value'

# ------------------------------------------------------- global options

version=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$PAA_SRCDIR/configure.ac")
run "$PAACTL" --version
is "$RC:$OUT:$ERR" "0:paactl $version:" "--version prints 'paactl $version' on stdout alone and exits 0"
run "$PAACTL" -V
is "$RC:$OUT" "0:paactl $version" "-V is --version"
PAA_CONFIG=/nonexistent/paa.env run "$PAACTL" --version
is "$RC" 0 "--version does not read the env file"

cfg_ok="$T_TMP/ok.env"
printf 'PAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS="%s"\n' "$T_TMP/ok.db" >"$cfg_ok"
chmod 600 "$cfg_ok"
run "$PAACTL" "--config=$cfg_ok" init
is "$RC" 0 "--config=FILE works"
like "$OUT" "sqlite3 database $T_TMP/ok.db" "--config=FILE: the database of that file is used"
run "$PAACTL" -c "$cfg_ok" list
is "$RC" 0 "-c FILE works"
PAA_CONFIG=$cfg_ok run "$PAACTL" init
is "$RC" 0 "PAA_CONFIG names the env file"
like "$OUT" "up to date .* $T_TMP/ok.db" "PAA_CONFIG: the database of that file is used"
PAA_CONFIG=/nonexistent/paa.env run "$PAACTL" list
is "$RC" 1 "PAA_CONFIG naming a missing file exits 1"
like "$ERR" "cannot open /nonexistent/paa.env" "PAA_CONFIG: the missing file is named"
PAA_CONFIG=/nonexistent/paa.env run "$PAACTL" --config "$cfg_ok" list
is "$RC" 0 "--config wins over PAA_CONFIG"
PAA_CONFIG=$cfg_ok run "$PAACTL" --config /nonexistent/other.env list
like "$RC:$ERR" "^1:.*/nonexistent/other.env" "--config wins over PAA_CONFIG, also when it is wrong"
# shellcheck disable=SC2016 # a literal $PAA_CONFIG in the help text
default=$("$PAACTL" --help | sed -n 's/.*default \$PAA_CONFIG, else \(.*\)$/\1/p')
if [ -z "$default" ]; then
    not_ok "--help names the default env file" "got: $("$PAACTL" --help)"
elif [ -e "$default" ]; then
    skip "without --config and PAA_CONFIG the default file is used" "$default exists here"
else
    PAA_CONFIG='' run "$PAACTL" list
    like "$RC:$ERR" "^1:.*cannot open $default" \
        "an empty PAA_CONFIG falls back to the default ($default)"
fi
run "$PAACTL" --config= list
is "$RC" 2 "--config= (an empty FILE) is a usage error like --config without FILE"
run "$PAACTL" --config
is "$RC:$OUT" "2:" "--config without FILE is a usage error"
like "$ERR" "needs a FILE" "--config without FILE says what is missing"
run "$PAACTL" -c
is "$RC" 2 "-c without FILE is a usage error"
run "$PAACTL" --bogus list
is "$RC:$OUT" "2:" "an unknown global option is a usage error"
like "$ERR" "unknown option --bogus" "the unknown global option is named"
run "$PAACTL" --config "$cfg_ok" list --config "$cfg_ok"
is "$RC" 2 "global options go before the command"

# ------------------------------------------------ usage errors (exit 2)

# The env file does not exist: a usage error must be found before it is
# read, or the exit status would be 1.
export PAA_CONFIG=/nonexistent/paa.env
K=key_0123456789abcdef
# usage WHAT ERR-REGEX ARGS...: exit 2, nothing on stdout, a message.
usage() {
    local what=$1 re=$2
    shift 2
    run "$PAACTL" "$@"
    is "$RC:$OUT" "2:" "paactl $*: $what exits 2, nothing on stdout"
    like "$ERR" "$re" "paactl $*: the message names the problem"
}
usage "unknown option" "'--bogus'" init --bogus
usage "extra argument" "'extra'" init extra
usage "unknown option" "'--bogus'" migrate --bogus
usage "extra argument" "'extra'" migrate extra

usage "unknown option" "'--bogus'" keygen --name x --bogus
usage "option without its value" "'--expires'" keygen --name x --expires
usage "extra argument" "'extra'" keygen --name x extra
usage "bad role" "--role" keygen --name x --role 'a b'

for cmd in rotate revoke show; do
    usage "unknown option" "'--bogus'" $cmd "$K" --bogus
    usage "missing key" "which key" $cmd
    usage "extra argument" "'extra'" $cmd "$K" extra
done
usage "option without its value" "'--grace'" rotate "$K" --grace
usage "option of another command" "--reason is not an option" rotate "$K" --reason x
usage "option without its value" "'--reason'" revoke "$K" --reason
usage "option of another command" "--json is not an option" revoke "$K" --json

usage "unknown option" "'--bogus'" list --bogus
usage "extra argument" "'extra'" list extra
usage "option of another command" "--grace is not an option" list --grace 1h

usage "unknown option" "'--bogus'" audit --bogus
usage "option without its value" "'--key'" audit --key
usage "option without its value" "'--limit'" audit --limit
usage "extra argument" "'extra'" audit extra
usage "a non-number --limit" "--limit must be" audit --limit 10x

usage "unknown option" "'--bogus'" secret gen --bogus
usage "option without its value" "'--bytes'" secret gen --bytes
usage "too few bytes" "--bytes must be 16" secret gen --bytes 8
usage "extra argument" "'extra'" secret gen extra
usage "unknown option" "'--bogus'" secret set --bogus FOO
usage "missing NAME" "NAME is missing" secret set
usage "option without its value" "'--env'" secret set FOO --env
usage "--bytes without --generate" "go with --generate" secret set FOO --bytes 32 --hex
usage "missing subcommand" "usage: paactl secret" secret
usage "unknown subcommand" "unknown subcommand 'bogus'" secret bogus

for sub in add passwd roles disable enable del; do
    usage "unknown option" "'--bogus'" user $sub --bogus bob
    usage "missing NAME" "a user NAME is required" user $sub
    usage "extra argument" "'extra'" user $sub bob extra
done
usage "option without its value" "'--role'" user add bob --role
usage "option without its value" "'--role'" user roles bob --role
usage "option of another subcommand" "--role is not an option" user passwd bob --role x
usage "unknown option" "'--bogus'" user list --bogus
usage "extra argument" "'extra'" user list extra
usage "option of another subcommand" "--json is not an option" user del bob --json

usage "unknown option" "'--bogus'" token issue --sub alice --bogus
usage "option without its value" "'--sub'" token issue --sub
usage "extra argument" "'extra'" token issue --sub alice extra
usage "unknown option" "'--bogus'" token inspect --bogus x
usage "missing TOKEN" "TOKEN" token inspect
usage "extra argument" "'extra'" token inspect x extra
usage "missing subcommand" "usage: paactl token" token
usage "unknown subcommand" "unknown subcommand 'bogus'" token bogus

# "-" reads a key from standard input; what is there is checked before
# anything else and never echoed, even when it is no key.
unset PAA_CONFIG
for c in "show -" "revoke -" "rotate -" "audit --key -"; do
    # shellcheck disable=SC2086 # c is a command and its arguments
    run_in 'pak_s3cr3t-value' "$PAACTL" --config "$cfg_ok" $c
    is "$RC:$OUT" "2:" "paactl $c with no key on stdin: exits 2, nothing on stdout"
    like "$ERR" "standard input does not hold an API key" "paactl $c: says what stdin should hold"
    unlike "$ERR" "$SECRET_RE" "paactl $c: what stdin held is not shown"
done
run "$PAACTL" --config "$cfg_ok" revoke - </dev/null
is "$RC" 2 "paactl revoke - with empty stdin exits 2"
export PAA_CONFIG=/nonexistent/paa.env

# paactl --help lists -h as the short form of --help: every command's
# help must answer to it, not only some.
no_h=""
for c in init migrate keygen rotate revoke list show audit "secret gen" "secret set" \
    "secret rotate" "secret unset" user "user add" "user list" "user unlock" token \
    "token issue" "token inspect" backup restore "revoke --all"; do
    # shellcheck disable=SC2086 # c is a command and its subcommand
    run "$PAACTL" $c -h
    [ "$RC" = 0 ] && [ -n "$OUT" ] || no_h="$no_h [$c]"
done
is "${no_h:-none}" none "every command takes -h as well as --help (commands that refuse it)"
unset PAA_CONFIG

# ------------------------------------------------------------ env files

# A syntax error: exit 1, the file and the line are named, the line itself
# is not shown (it may hold a secret), and the advice is to fix the line,
# not to pick another file.
bad="$T_TMP/syntax.env"
printf '# settings\nPAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS="%s"\nJWT_SECRET s3cr3t-value\n' "$T_TMP/ok.db" >"$bad"
for cmd in init "keygen --name x" list "user list" "token issue --sub alice"; do
    # shellcheck disable=SC2086 # cmd is a command and its arguments
    run "$PAACTL" --config "$bad" $cmd
    is "$RC:$OUT" "1:" "syntax error, $cmd: exits 1, nothing on stdout"
    like "$ERR" "$bad:4: expected NAME=VALUE" "syntax error, $cmd: names the file and the line"
done
unlike "$ERR" "$SECRET_RE" "syntax error: the offending line is not shown"
unlike "$ERR" "use --config FILE or set PAA_CONFIG" \
    "syntax error: the message does not suggest another file (the file was found)"
printf 'PAA_DB_DRIVER=sqlite3\nJWT_SECRET="s3cr3t-value\n' >"$T_TMP/quote.env"
run "$PAACTL" --config "$T_TMP/quote.env" list
like "$RC:$ERR" "^1:.*quote.env:2: unterminated quote" "an unterminated quote: exits 1 naming file and line"
unlike "$ERR" "$SECRET_RE" "an unterminated quote: the value is not shown"
cp "$bad" "$T_TMP/syntax.before"
run_in 'new-value' "$PAACTL" --config "$bad" secret set OTHER
is "$RC:$OUT" "1:" "secret set into a file with a syntax error exits 1"
like "$ERR" "$bad:4: .*fix that line first, nothing was changed" "secret set names the line and changes nothing"
is "$(cmp "$bad" "$T_TMP/syntax.before" && echo same)" same "secret set left the broken file untouched"
run "$PAACTL" --config "$bad" secret gen
is "$RC" 0 "secret gen does not need the env file"

printf 'JWT_SECRET=%s\n' "$("$PAACTL" secret gen)" >"$T_TMP/nodb.env"
run "$PAACTL" --config "$T_TMP/nodb.env" list
is "$RC" 1 "an env file without PAA_DB_DRIVER/PAA_DB_PARAMS exits 1"
like "$ERR" "$T_TMP/nodb.env does not set PAA_DB_DRIVER and PAA_DB_PARAMS" "... and says which file lacks what"
printf 'PAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS=\n' >"$T_TMP/empty.env"
run "$PAACTL" --config "$T_TMP/empty.env" list
like "$RC:$ERR" "^1:.*PAA_DB_PARAMS is empty" "an empty PAA_DB_PARAMS exits 1 and says so"
run "$PAACTL" --config "$T_TMP" list
like "$RC:$ERR" "^1:.*$T_TMP is not a regular file" "a directory as env file exits 1 and says so"

# PAA_ENV: NAME_<ENV> wins over NAME, also for the database.
printf 'PAA_ENV=prod\nPAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS="%s"\nPAA_DB_PARAMS_PROD="%s"\n' \
    "$T_TMP/ok.db" "$T_TMP/no-such-dir/prod.db" >"$T_TMP/penv.env"
run "$PAACTL" --config "$T_TMP/penv.env" list
like "$RC:$ERR" "^1:.*$T_TMP/no-such-dir/prod.db" "PAA_ENV=prod: PAA_DB_PARAMS_PROD is used, not PAA_DB_PARAMS"

# An env file paactl may not read (it is 0600 and owned by someone else).
unr="$T_TMP/unreadable"
mkdir -p "$unr"
printf 'PAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS="%s"\n' "$unr/paa.db" >"$unr/paa.env"
as=()
if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null && runuser -u nobody -- "$PAACTL" --version >/dev/null 2>&1; then
        chown -R nobody "$unr"
        as=(runuser -u nobody --)
    else
        as=(none)
    fi
fi
if [ "${as[*]-}" = none ]; then
    skip "an unreadable env file" "root, and cannot run paactl as nobody"
else
    chmod 000 "$unr/paa.env"
    for cmd in init list "token issue --sub alice"; do
        # shellcheck disable=SC2086 # cmd is a command and its arguments
        run "${as[@]}" "$PAACTL" --config "$unr/paa.env" $cmd
        is "$RC:$OUT" "1:" "unreadable env file, $cmd: exits 1, nothing on stdout"
        like "$ERR" "cannot open $unr/paa.env: Permission denied" \
            "unreadable env file, $cmd: names the file and the reason"
    done
    OUT=$(echo new-value | "${as[@]}" "$PAACTL" --config "$unr/paa.env" secret set OTHER 2>"$T_TMP/err")
    RC=$?
    ERR=$(cat "$T_TMP/err")
    is "$RC" 1 "secret set into an unreadable env file exits 1"
    like "$ERR" "cannot read $unr/paa.env: Permission denied" "... naming the file and the reason"
    is "$(stat -c %a "$unr/paa.env")" 0 "... and leaves it alone"
    chmod 600 "$unr/paa.env"
fi

# ------------------------------------------------------- JWT settings

sqlite_cfg="$T_TMP/jwt.env"
jwt_env() {
    {
        printf 'PAA_DB_DRIVER=sqlite3\nPAA_DB_PARAMS="%s"\n' "$T_TMP/ok.db"
        printf '%s\n' "$@"
    } >"$sqlite_cfg"
}
GOOD=$("$PAACTL" secret gen --bytes 48)
jwt_env
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
is "$RC:$OUT" "1:" "token issue without JWT_SECRET exits 1, no token"
like "$ERR" "$sqlite_cfg: JWT_SECRET is not set.*paactl secret gen" "... names the file and says how to make one"
jwt_env "JWT_SECRET=s3cr3t-value"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_SECRET is unacceptable: .*at least 32" "a short JWT_SECRET is refused"
unlike "$ERR" "$SECRET_RE" "the refused secret is not shown"
run "$PAACTL" --config "$sqlite_cfg" token inspect x.y.z
like "$RC:$ERR" "^1:.*JWT_SECRET is unacceptable" "token inspect refuses a short JWT_SECRET too"
jwt_env "JWT_SECRET=$GOOD" "JWT_SECRET_PREVIOUS=s3cr3t-value"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_SECRET_PREVIOUS is unacceptable" "a short JWT_SECRET_PREVIOUS is refused"
unlike "$ERR" "$SECRET_RE" "the refused previous secret is not shown"
jwt_env "JWT_SECRET=$GOOD" "JWT_EXPIRES_IN=0"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_EXPIRES_IN '0' is not a duration" "JWT_EXPIRES_IN=0 is refused (no zero)"
jwt_env "JWT_SECRET=$GOOD" "JWT_LEEWAY=301"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_LEEWAY must be 0 to 300" "JWT_LEEWAY over 300 is refused"
jwt_env "JWT_SECRET=$GOOD" "JWT_ALGORITHM=none"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_ALGORITHM none is not supported" "JWT_ALGORITHM=none is refused"
jwt_env "JWT_SECRET=$GOOD" "JWT_ALGORITHM=RS256"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_ALGORITHM is RS256" "token issue refuses a non-HMAC algorithm"
is "$OUT" "" "... and prints no token"
# paactl has no public key (that is httpd's PAAJWTPublicKey), so it cannot
# verify such a token: it must say so, not blame the token's signature.
"$JWT_MINT" genkey rsa "$T_TMP/rsa.pem" "$T_TMP/rsa.pub.pem" 2>/dev/null
tok=$("$JWT_MINT" sign --alg RS256 --key-file "$T_TMP/rsa.pem" \
    --payload '{"sub":"usr_0123456789abcdef","exp":"now+300"}')
run "$PAACTL" --config "$sqlite_cfg" token inspect "$tok"
is "$RC" 1 "token inspect with JWT_ALGORITHM=RS256 exits 1"
like "$ERR" "RS256" "token inspect with RS256: says it cannot verify RS256 tokens (not 'bad signature')"
jwt_env "PAA_ENV=prod" "JWT_SECRET=$GOOD" "JWT_SECRET_PROD=s3cr3t-value"
run "$PAACTL" --config "$sqlite_cfg" token issue --sub alice
like "$RC:$ERR" "^1:.*JWT_SECRET is unacceptable" "PAA_ENV=prod: JWT_SECRET_PROD is used, not JWT_SECRET"
jwt_env "JWT_SECRET=$GOOD"
run "$PAACTL" --config "$sqlite_cfg" token inspect not-a-token-s3cr3t-value
is "$RC" 1 "token inspect of a malformed token exits 1"
unlike "$OUT$ERR" "$SECRET_RE" "token inspect does not echo the token it refuses"
run_in 'x"s3cr3t-value' "$PAACTL" --config "$sqlite_cfg" secret set OTHER
is "$RC" 1 "secret set refuses a value with a double quote"
unlike "$ERR" "$SECRET_RE" "... without showing the value"

# ------------------------------------- secret set and httpd's startup check
# paactl wrote any JWT_SECRET it was given; httpd then refused to start or
# reload with it. Both use one check now: for each weak value paactl
# refuses to write it, and httpd -t, given the same value, refuses with
# the same reason. "abcdefgh" four times passed both before.
new_instance sqlite3
paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in"
# reason TEXT: what follows "unacceptable: " in a refusal.
reason() {
    sed -n 's/.*unacceptable: \(.*\)\. \(Generate\|Nothing\).*/\1/p' <<<"$1" | head -n 1
}
httpd_with_secret() {
    sed -i '/^JWT_SECRET=/d' "$CONFIG"
    printf 'JWT_SECRET=%s\n' "$1" >>"$CONFIG"
    "$PAA_HTTPD" -t -f "$HOME_DIR/httpd.conf" 2>&1
}
weak_secret() {
    local desc=$1 value=$2 want=$3 httpd_out r_paactl r_httpd
    cp "$sqlite_cfg" "$T_TMP/weak.before"
    run_in "$value" "$PAACTL" --config "$sqlite_cfg" secret set JWT_SECRET
    is "$RC:$OUT" "1:" "secret set JWT_SECRET refuses $desc (exit 1)"
    like "$ERR" "^paactl: JWT_SECRET: the JWT secret is unacceptable: .*$want.*Nothing was changed" \
        "... says why ($want) and that nothing changed"
    unlike "$ERR" "$(printf '%s' "$value" | sed 's/[][\.*^$]/\\&/g')" "... without showing the value"
    is "$(cmp "$sqlite_cfg" "$T_TMP/weak.before" && echo same)" same "... and leaves the env file as it was"
    httpd_out=$(httpd_with_secret "$value")
    like "$httpd_out" "PAAJWTSecret \(JWT_SECRET\): the JWT secret is unacceptable: .*$want" \
        "httpd refuses to start with $desc"
    r_paactl=$(reason "$ERR")
    r_httpd=$(reason "$httpd_out")
    is "${r_paactl:-(no reason from paactl)}" "${r_httpd:-(no reason from httpd)}" \
        "paactl and httpd give the same reason for $desc"
}
jwt_env "JWT_SECRET=$GOOD"
weak_secret "a short value" "s3cr3t-value" "at least 32"
weak_secret "the guide's example" "your_generated_secret_here" "published example"
weak_secret "a uniform value" "$(printf 'ab%.0s' $(seq 20))" "too little variety"
weak_secret "a repeated pattern (abcdefgh x 4)" "abcdefghabcdefghabcdefghabcdefgh" "repeats a 8-byte pattern"
weak_secret "a repeated pattern cut short" "Zx8d!kq2-JHs7Zx8d!kq2-JHs7Zx8d!kq2" "repeats a 13-byte pattern"
for name in JWT_SECRET_PREVIOUS JWT_SECRET_PROD; do
    run_in "abcdefghabcdefghabcdefghabcdefgh" "$PAACTL" --config "$sqlite_cfg" secret set "$name"
    like "$RC:$ERR" "^1:paactl: $name: the JWT secret is unacceptable" "secret set $name applies the same check"
done
run_in "abcdefghabcdefghabcdefghabcdefgh" "$PAACTL" --config "$sqlite_cfg" secret set JWT_SECRET --env staging
like "$RC:$ERR" "^1:paactl: JWT_SECRET_STAGING: the JWT secret is unacceptable" "... and so does secret set JWT_SECRET --env staging"
run "$PAACTL" --config "$sqlite_cfg" secret set JWT_SECRET --generate --bytes 16 </dev/null
like "$RC:$ERR" "^2:.*--bytes 16 makes a value shorter than the 32 bytes a JWT secret needs" \
    "secret set JWT_SECRET --generate --bytes 16 (24 base64 characters) is a usage error"
# Positive controls: other variables keep any value; good secrets pass both.
run_in "abcdefghabcdefghabcdefghabcdefgh" "$PAACTL" --config "$sqlite_cfg" secret set OTHER_TOKEN
is "$RC" 0 "a variable that is not a JWT secret takes a patterned value"
run "$PAACTL" --config "$sqlite_cfg" secret set JWT_SECRET --generate --bytes 16 --hex </dev/null
is "$RC" 0 "secret set JWT_SECRET --generate --bytes 16 --hex (32 characters) is accepted"
strong="Zx8d!kq2-JHs7QnV w0p1#LmRt4yUe6iOa"
run_in "$strong" "$PAACTL" --config "$sqlite_cfg" secret set JWT_SECRET
is "$RC" 0 "secret set JWT_SECRET accepts a strong value (with a space and #)"
if httpd_out=$(httpd_with_secret "\"$strong\""); then
    ok "httpd starts with the same value"
else
    not_ok "httpd starts with the same value" "$httpd_out"
fi

# ------------------------------------------------ databases without schema

# no_schema NAME CFG: every command that reads or writes the database
# exits 1, prints nothing on stdout, names the database and says to run
# paactl init; init then works.
no_schema() {
    local db=$1 cfg=$2 secret label tok c
    secret=$(paa_env_value "$cfg" JWT_SECRET)
    label=$3
    tok=$("$JWT_MINT" sign --alg HS256 --key "$secret" \
        --payload '{"sub":"usr_0123456789abcdef","exp":"now+300"}')
    for c in "keygen --name ci" list "show $K" "rotate $K" "revoke $K" audit "audit --key $K" \
        "user list" "user disable bob" "token issue --sub alice" "token inspect $tok"; do
        # shellcheck disable=SC2086 # c is a command and its arguments
        run "$PAACTL" --config "$cfg" $c
        # token inspect prints the claims of a well-signed token first.
        [ "${c%% *}" = token ] && [ "${c#token inspect}" != "$c" ] && OUT=""
        is "$RC:$OUT" "1:" "$db, no schema, ${c:0:20}: exits 1, nothing on stdout"
        # libpq's messages span lines; the advice may follow them.
        like "$(tr '\n' ' ' <<<"$ERR")" "$label.*paactl init" \
            "$db, no schema, ${c:0:20}: names the database and says to run paactl init"
    done
    run_in 'correct horse battery staple' "$PAACTL" --config "$cfg" user add bob
    like "$RC:$OUT:$(tr '\n' ' ' <<<"$ERR")" "^1::.*$label.*paactl init" \
        "$db, no schema, user add: exits 1 and says to run paactl init"
    run "$PAACTL" --config "$cfg" list
    is "$(wc -l <<<"$ERR")" 1 "$db, no schema: the message is one line (no SQL excerpt between it and the advice)"
    run "$PAACTL" --config "$cfg" init
    is "$RC" 0 "$db: init then creates the schema"
    run "$PAACTL" --config "$cfg" list
    is "$RC" 0 "$db: and list works"
}

mk_env() { # mk_env FILE DRIVER PARAMS
    printf 'PAA_DB_DRIVER=%s\nPAA_DB_PARAMS="%s"\nJWT_SECRET=%s\n' "$2" "$3" "$GOOD" >"$1"
    chmod 600 "$1"
}

# --------------------------------------------------------------- SQLite

# A directory that does not exist.
mk_env "$T_TMP/nodir.env" sqlite3 "$T_TMP/no-such-dir/paa.db"
for c in init "keygen --name ci" list; do
    # shellcheck disable=SC2086 # c is a command and its arguments
    run "$PAACTL" --config "$T_TMP/nodir.env" $c
    is "$RC:$OUT" "1:" "sqlite, missing directory, $c: exits 1, nothing on stdout"
    like "$ERR" "sqlite3 database $T_TMP/no-such-dir/paa.db" "sqlite, missing directory, $c: names the database"
done
run "$PAACTL" --config "$T_TMP/nodir.env" init
like "$ERR" "no-such-dir.*(does not exist|No such file or directory)" \
    "sqlite, missing directory: init says the directory does not exist (not just 'unable to open')"
[ ! -e "$T_TMP/no-such-dir" ]
is "$?" 0 "sqlite, missing directory: nothing was created"

# A file that is not a database.
echo garbage >"$T_TMP/garbage.db"
mk_env "$T_TMP/garbage.env" sqlite3 "$T_TMP/garbage.db"
for c in init "keygen --name ci" list; do
    # shellcheck disable=SC2086 # c is a command and its arguments
    run "$PAACTL" --config "$T_TMP/garbage.env" $c
    is "$RC:$OUT" "1:" "sqlite, not a database, $c: exits 1, nothing on stdout"
    like "$ERR" "sqlite3 database $T_TMP/garbage.db.*file is not a database" \
        "sqlite, not a database, $c: names the database and the reason"
done
is "$(cat "$T_TMP/garbage.db")" garbage "sqlite, not a database: the file was not changed"

# A database file that does not exist (a typo): reading commands must not
# leave an empty database behind.
mk_env "$T_TMP/typo.env" sqlite3 "$T_TMP/typo.db"
run "$PAACTL" --config "$T_TMP/typo.env" list
is "$RC:$OUT" "1:" "sqlite, missing database file: list exits 1, nothing on stdout"
like "$ERR" "$T_TMP/typo.db" "sqlite, missing database file: list names it"
[ ! -e "$T_TMP/typo.db" ]
is "$?" 0 "sqlite, missing database file: list does not create it"
rm -f "$T_TMP/typo.db"

# An empty database: no schema.
: >"$T_TMP/noschema.db"
mk_env "$T_TMP/noschema.env" sqlite3 "$T_TMP/noschema.db"
no_schema sqlite "$T_TMP/noschema.env" "sqlite3 database $T_TMP/noschema.db"

# ----------------------------------------------------------- PostgreSQL

if have_pg; then
    new_pg
    # shellcheck disable=SC2001 # as in paactl_init.sh
    pghost=$(sed 's/host=\([^ ]*\).*/\1/' <<<"$PG_PARAMS")
    # shellcheck disable=SC2001
    pgport=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_PARAMS")
    port=$(paa_free_port) || bail "no free port"

    # pg_fails NAME CFG LABEL-REGEX REASON-REGEX
    pg_fails() {
        local what=$1 cfg=$2 label=$3 reason=$4 c
        for c in init "keygen --name ci" list; do
            # shellcheck disable=SC2086 # c is a command and its arguments
            run "$PAACTL" --config "$cfg" $c
            is "$RC:$OUT" "1:" "pgsql, $what, $c: exits 1, nothing on stdout"
            like "$ERR" "pgsql database $label" "pgsql, $what, $c: names the database"
            like "$ERR" "$reason" "pgsql, $what, $c: says why"
            unlike "$ERR" "$PW" "pgsql, $what, $c: the password is not shown"
        done
    }

    mk_env "$T_TMP/pgport.env" pgsql \
        "host=127.0.0.1 port=$port dbname=paa user=paa password=$PW connect_timeout=5"
    pg_fails "nothing listening" "$T_TMP/pgport.env" "127\.0\.0\.1:$port/paa" "Connection refused"
    "$PAACTL" --config "$T_TMP/pgport.env" list 2>"$T_TMP/err" >/dev/null
    is "$(grep -c '^paactl: ' "$T_TMP/err"):$(grep -c '^[[:space:]]*$' "$T_TMP/err")" "1:0" \
        "pgsql, nothing listening: one message, no blank line after it"

    mk_env "$T_TMP/pgsock.env" pgsql "host=$T_TMP port=$port dbname=paa user=paa password=$PW"
    pg_fails "no server on the socket" "$T_TMP/pgsock.env" "$T_TMP:$port/paa" "No such file or directory"

    mk_env "$T_TMP/pgnodb.env" pgsql "host=$pghost port=$pgport dbname=nosuchdb user=paa password=$PW"
    pg_fails "missing database" "$T_TMP/pgnodb.env" "$pghost:$pgport/nosuchdb" 'database "nosuchdb" does not exist'

    # The same server as a URI: the message must name it as well.
    mk_env "$T_TMP/pguri.env" pgsql "postgresql://paa:$PW@127.0.0.1:$port/paa?connect_timeout=5"
    run "$PAACTL" --config "$T_TMP/pguri.env" list
    is "$RC:$OUT" "1:" "pgsql, URI, nothing listening: exits 1, nothing on stdout"
    unlike "$ERR" "$PW" "pgsql, URI: the password is not shown"
    like "$ERR" "pgsql database 127\.0\.0\.1:$port/paa" \
        "pgsql, URI: the message names host, port and database (not localhost/)"

    # A typo in the connection string that libpq reports.
    mk_env "$T_TMP/pgtypo.env" pgsql "host=$pghost port=$pgport dbname=paa user=paa passwd=$PW"
    run "$PAACTL" --config "$T_TMP/pgtypo.env" list
    like "$RC:$ERR" "^1:.*invalid connection option \"passwd\"" "pgsql, a misspelt option: exits 1 and names it"
    unlike "$ERR" "$PW" "pgsql, a misspelt option: the password is not shown"

    # The new cluster's database has no schema yet.
    mk_env "$T_TMP/pgnoschema.env" pgsql "$PG_PARAMS password=$PW"
    no_schema pgsql "$T_TMP/pgnoschema.env" "pgsql database $pghost:$pgport/paa"
else
    skip "pgsql paactl failure checks" "PostgreSQL 15 server binaries not installed"
fi

done_testing
