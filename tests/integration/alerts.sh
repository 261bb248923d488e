#!/bin/bash
# The shipped Prometheus rules (conf/prometheus/paa-alerts.yml) are valid
# and do what the security guide's section 5.7 asks: promtool check rules,
# then promtool test rules with paa-alerts.test.yml (for every alert a case
# that fires and one that does not). Controls: a copy with one threshold
# loosened must fail the tests, so tests that stopped asserting anything
# would be seen; and every item of 5.7 has its alert.
. "$PAA_SRCDIR/tests/integration/lib.sh"

dir="$PAA_SRCDIR/conf/prometheus"
if ! command -v promtool >/dev/null; then
    echo "1..0 # SKIP promtool is not installed (apt-get install prometheus)"
    exit 0
fi

run promtool check rules "$dir/paa-alerts.yml"
is "$RC" 0 "promtool check rules paa-alerts.yml"
like "$OUT" "SUCCESS: 11 rules found" "4 recording rules and 7 alerts"

run promtool test rules "$dir/paa-alerts.test.yml"
is "$RC" 0 "promtool test rules: every alert fires and stays quiet as expected"

# One alert per item of the guide's list (and one for a failing scrape),
# and a firing and a quiet case for each in the tests.
for a in PaaFailedAuthentication PaaRateLimitViolations PaaHigh5xxRate \
    PaaHighResponseTime PaaDatabaseFailures PaaProviderFailures PaaScrapeFailing; do
    n=$(grep -c "alertname: $a\$" "$dir/paa-alerts.test.yml")
    quiet=$(grep -A1 "alertname: $a\$" "$dir/paa-alerts.test.yml" | grep -c 'exp_alerts: \[\]')
    is "$n:$quiet" "2:1" "$a: a case that fires and one that does not"
done

# (control) the failed-authentication threshold raised from 10 to 30 a
# minute: the firing case (20 a minute) must now fail.
copy="$T_TMP/rules"
mkdir -p "$copy"
sed 's/paa:auth_failures:per_minute > 10/paa:auth_failures:per_minute > 30/' \
    "$dir/paa-alerts.yml" >"$copy/paa-alerts.yml"
cp "$dir/paa-alerts.test.yml" "$copy/"
run promtool test rules "$copy/paa-alerts.test.yml"
is "$RC" 1 "(control) a loosened threshold fails promtool test rules"
like "$OUT$ERR" "PaaFailedAuthentication" "... naming the alert"

done_testing
