/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_status's status_hook: /server-status gets a mod_paa section (an HTML
 * table, or key: value lines with ?auto) with the rate-limit table's live
 * entries, the credential cache's hits and misses summed over the children
 * (counted in the metrics table), each provider's circuit breaker and
 * whether the database answered last. Where mod_paa is loaded but not
 * used, the page has no section at all. Everything here only reads. */

#include "paa_private.h"

#include "http_main.h"
#include "mod_status.h"

#include <apr_strings.h>

/* One row: a key: value line with ?auto, a table row otherwise. */
static void row(request_rec *r, int flags, const char *key, const char *label,
                const char *value)
{
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "%s: %s\n", key, value);
    }
    else {
        ap_rprintf(r, "<tr><th align=\"left\">%s</th><td>%s</td></tr>\n",
                   ap_escape_html(r->pool, label),
                   ap_escape_html(r->pool, value));
    }
}

static void breakers(request_rec *r, int flags)
{
    char *seen = apr_pcalloc(r->pool, paa_provider_count + 1);
    server_rec *vs;

    /* Every virtual host's providers, each once (a host inherits its
     * parent's, with the same breaker slot). */
    for (vs = ap_server_conf; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        int i;
        for (i = 0; c->providers && i < c->providers->nelts; i++) {
            const paa_provider_t *pv =
                APR_ARRAY_IDX(c->providers, i, const paa_provider_t *);
            if (pv->slot < 0 || pv->slot >= paa_provider_count ||
                seen[pv->slot]) {
                continue;
            }
            seen[pv->slot] = 1;
            row(r, flags,
                apr_pstrcat(r->pool, "PAAProviderBreaker-", pv->name, NULL),
                apr_pstrcat(r->pool, "provider ", pv->name, " breaker", NULL),
                paa_provider_breaker_state(pv));
        }
    }
}

#define U64(v) apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, (apr_uint64_t)(v))

int paa_status_hook(request_rec *r, int flags)
{
    apr_uint32_t used, total;

    if (!paa_in_use) {
        return OK;
    }
    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("<hr />\n<h2>mod_paa</h2>\n<table border=\"0\">\n", r);
    }
    if (paa_ratelimit_usage(&used, &total)) {
        row(r, flags, "PAARateLimitSlotsUsed", "rate-limit slots used",
            apr_psprintf(r->pool, "%u", used));
        row(r, flags, "PAARateLimitSlotsTotal", "rate-limit slots total",
            apr_psprintf(r->pool, "%u", total));
    }
    /* Without the metrics table (PAAMetrics off, or no shared memory)
     * nothing was counted: say nothing rather than 0. */
    if (paa_metrics) {
        paa_metrics_t *m = apr_palloc(r->pool, sizeof(*m));
        paa_metrics_fold(paa_metrics, m);
        row(r, flags, "PAAAuthCacheHits", "auth cache hits",
            U64(m->authcache[0]));
        row(r, flags, "PAAAuthCacheMisses", "auth cache misses",
            U64(m->authcache[1]));
        row(r, flags, "PAADatabaseUp", "database up", U64(m->db_up));
    }
    breakers(r, flags);
    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("</table>\n", r);
    }
    return OK;
}
