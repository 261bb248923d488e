#!/bin/bash
# Structure that a compiler cannot check: every per-directory field has a
# merge rule (tools/check-merge; a field without one silently resets in
# every nested <Location>). Each check also runs against a copy with one
# deliberate defect, so a checker that stopped seeing anything fails here.
. "$PAA_SRCDIR/tests/integration/lib.sh"

run "$PAA_SRCDIR/tools/check-merge" "$PAA_SRCDIR"
is "$RC:$ERR" "0:" "every paa_dir_conf field has a merge rule"

copy="$T_TMP/src"
mkdir -p "$copy/mod_paa"
cp "$PAA_SRCDIR/mod_paa/paa_private.h" "$PAA_SRCDIR/mod_paa/paa_config.c" "$copy/mod_paa/"
# (control) a new field nobody merges
sed -i 's|^} paa_dir_conf;|    int forgotten_limit;\n} paa_dir_conf;|' "$copy/mod_paa/paa_private.h"
run "$PAA_SRCDIR/tools/check-merge" "$copy"
is "$RC" 1 "(control) a field without a merge rule fails the check"
like "$ERR" 'paa_dir_conf\.forgotten_limit has no merge rule' "... naming the field"
# (control) an existing rule removed
cp "$PAA_SRCDIR/mod_paa/paa_private.h" "$copy/mod_paa/"
sed -i '/conf->csp = /d' "$copy/mod_paa/paa_config.c"
run "$PAA_SRCDIR/tools/check-merge" "$copy"
is "$RC" 1 "(control) a merge rule removed fails the check"
like "$ERR" 'paa_dir_conf\.csp has no merge rule' "... naming that field"

done_testing
