#!/bin/bash
# The man pages drifted from the code: PAAMcpToolRateLimit and
# PAAResourceMetadata had no entry in mod_paa.8, "paactl persona import"
# and "persona list" were missing from paactl.8, five audit events the
# code writes were not listed, and paactl.8 gave schema version 2 after
# the schema reached 4. tools/check-docs compares the pages with what httpd
# (-L), paactl (--help) and the sources say; tools/check-lognos makes sure
# no PAALOGNO tag is used twice. Each check is also run against a page or
# source with one deliberate drift, so a checker that stopped seeing
# anything would fail here too.
. "$PAA_SRCDIR/tests/integration/lib.sh"

new_instance sqlite3
paa_render_conf "$HOME_DIR" "127.0.0.1:$(paa_free_port)" "$PAA_MODULE" "$PAA_SRCDIR/conf/instance.conf.in" ||
    bail "cannot render httpd.conf"
# check WHAT [MANDIR]: tools/check-docs for one category; sets OUT, RC.
check() {
    run "$PAA_SRCDIR/tools/check-docs" --src "$PAA_SRCDIR" --man-dir "${2:-$PAA_SRCDIR/man}" \
        --httpd "$PAA_HTTPD" --httpd-conf "$HOME_DIR/httpd.conf" --paactl "$PAACTL" --only "$1"
}

# clean DESCRIPTION: ok when the last check passed silently, else every
# problem it printed as a diagnostic.
clean() {
    local problems
    if [ "$RC" = 0 ] && [ -z "$OUT$ERR" ]; then
        ok "$1"
    else
        mapfile -t problems <<<"$OUT$ERR"
        not_ok "$1" "exit status $RC" "${problems[@]}"
    fi
}
for what in directives commands events schema; do
    check "$what"
    clean "man pages match the code: $what"
done
run "$PAA_SRCDIR/tools/check-lognos" "$PAA_SRCDIR"
OUT=
clean "no PAALOGNO tag is used twice"

# ----------------------------------------------- the checks see drift
man="$T_TMP/man"
fresh_man() {
    rm -rf "$man"
    cp -r "$PAA_SRCDIR/man" "$man"
}
fresh_man
sed -i '/^\.B PAAMcpToolRateLimit /d' "$man/mod_paa.8"
printf '.TP\n.B PAANoSuchDirective On|Off\nNothing.\n' >>"$man/mod_paa.8"
check directives "$man"
is "$RC" 1 "(control) a directive without an entry fails the check"
like "$OUT" "PAAMcpToolRateLimit is registered by mod_paa but has no entry" "... naming the directive"
like "$OUT" "documents PAANoSuchDirective, which mod_paa does not register" "... and so does a documented directive that does not exist"

fresh_man
sed -i '/^\.B paactl persona list/d' "$man/paactl.8"
sed -i 's/^\.B user enable \\fINAME\\fR$/.B user unable \\fINAME\\fR/' "$man/paactl.8"
sed -i 's/^\.B paactl user del /.B paactl user remove /' "$man/paactl.8"
check commands "$man"
is "$RC" 1 "(control) a subcommand missing from the man page fails the check"
like "$OUT" "'paactl persona list' is missing from the SYNOPSIS" "... naming it"
like "$OUT" "'paactl user enable' has no entry under COMMANDS" "... also when only its entry is missing"
like "$OUT" "SYNOPSIS names 'paactl user remove', which paactl does not have" "... and a command that does not exist"

fresh_man
sed -i 's/persona\.delete//' "$man/paactl.8"
check events "$man"
is "$RC" 1 "(control) an audit event missing from the list fails the check"
like "$OUT" "audit event persona.delete, which the Audit section" "... naming the event"

fresh_man
sed -i 's/^version (\([0-9]*\))/version (\1999)/' "$man/paactl.8"
check schema "$man"
is "$RC" 1 "(control) a stale schema version fails the check"
like "$OUT" "current schema version is [0-9]+999; PAA_SCHEMA_VERSION is" "... saying both versions"

src="$T_TMP/src"
mkdir -p "$src"
(cd "$PAA_SRCDIR" && find mod_paa paactl -name '*.[ch]' -print0 | xargs -0 cp --parents -t "$src")
file=$(grep -rl 'PAALOGNO(00401)' "$src/mod_paa" | head -n 1)
other=$(grep -rlE 'PAALOGNO\(0090[0-9]\)' "$src/mod_paa" | head -n 1)
sed -i 's/PAALOGNO(0090\([0-9]\))/PAALOGNO(00401)/' "$other"
run "$PAA_SRCDIR/tools/check-lognos" "$src"
is "$RC" 1 "(control) a PAALOGNO tag used twice fails the check"
like "$ERR" "PAA00401 is used [0-9]+ times:.*${file#"$src"/}" "... naming the tag and where it is used"

done_testing
