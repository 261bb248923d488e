/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Metrics glue: the counter table (core/metrics.h) in anonymous shared
 * memory, created in post_config before the children fork so every child
 * adds to the same page; the log_transaction hook that counts every
 * request; and the paa-metrics handler that renders the table, so that
 * scraping any child gives the same totals. The table lives in pconf: a
 * restart, graceful included, recreates it and the counters start again
 * from zero, which paa_start_time_seconds tells Prometheus. */

#include "paa_private.h"

#include <apr_shm.h>
#include <apr_strings.h>

paa_metrics_t *paa_metrics;
int paa_metrics_enabled = 1; /* PAAMetrics; reset before each reading */
static apr_shm_t *metrics_shm;
/* The exposition's labels: provider names by breaker slot, the API's
 * routes then "metrics"; built at startup, read-only after. */
static const char **provider_names;
static const char **route_names;
static int route_count;

static apr_status_t metrics_cleanup(void *unused)
{
    (void)unused;
    paa_metrics = NULL;
    metrics_shm = NULL;
    provider_names = NULL;
    route_names = NULL;
    return APR_SUCCESS;
}

const char *paa_set_metrics(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    if (err) {
        return err;
    }
    paa_metrics_enabled = on;
    return NULL;
}

int paa_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;
    apr_status_t rv;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use || !paa_metrics_enabled) {
        return OK;
    }
    rv = apr_shm_create(&metrics_shm, paa_metrics_size(), NULL, pconf);
    if (rv != APR_SUCCESS) {
        /* Metrics are not worth refusing to serve for: run uncounted. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     PAALOGNO(01401) "cannot create shared memory for the "
                                     "metrics table: /metrics will be 503");
        return OK;
    }
    paa_metrics = paa_metrics_init(apr_shm_baseaddr_get(metrics_shm));
    paa_metrics->start_time = (apr_uint64_t)apr_time_sec(apr_time_now());
    /* Until something says otherwise (a failed statement, /health/ready). */
    paa_metrics->db_up = 1;
    provider_names =
        apr_pcalloc(pconf, sizeof(*provider_names) *
                               (paa_provider_count ? paa_provider_count : 1));
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        int i;
        for (i = 0; c->providers && i < c->providers->nelts; i++) {
            const paa_provider_t *pv =
                APR_ARRAY_IDX(c->providers, i, const paa_provider_t *);
            provider_names[pv->slot] = pv->name;
        }
    }
    route_names = paa_api_route_names(pconf, &route_count);
    route_names[route_count++] = "metrics";
    if (route_count > PAA_METRICS_ROUTES_MAX) {
        route_count = PAA_METRICS_ROUTES_MAX; /* the rest count as other */
    }
    apr_pool_cleanup_register(pconf, NULL, metrics_cleanup,
                              apr_pool_cleanup_null);
    return OK;
}

void paa_metrics_auth(request_rec *r, paa_auth_method_e method,
                      paa_auth_reason_e why)
{
    /* Subrequests reuse their main request's verdict: count it once. */
    if (!paa_metrics || r->main) {
        return;
    }
    if (why == PAA_AUTH_OK) {
        paa_metrics_add(paa_metrics, auth_ok[method], 1);
    }
    else {
        paa_metrics_add(paa_metrics, auth_fail[method][why], 1);
    }
}

/* Counted once per client request, after the response: the final request
 * of an internal redirect knows the handler that answered. */
int paa_metrics_log(request_rec *r)
{
    request_rec *last = r;
    const char *handler;
    int route = -1;

    if (!paa_metrics || r->main) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    /* A request refused before fixups (401, 403, 429) has no r->handler
     * yet: the location's SetHandler says whose route it was. */
    handler = last->handler;
    if (!handler && last->per_dir_config) {
        core_dir_config *cd = ap_get_core_module_config(last->per_dir_config);
        const char *err = NULL;
        handler = cd && cd->expr_handler
                      ? ap_expr_str_exec(last, cd->expr_handler, &err)
                      : NULL;
    }
    if (handler && !strcmp(handler, PAA_HANDLER)) {
        route = paa_api_route(last->uri);
    }
    else if (handler && !strcmp(handler, PAA_METRICS_HANDLER)) {
        route = paa_api_route_count(); /* "metrics", after the API's */
    }
    if (route >= route_count) {
        route = -1;
    }
    paa_metrics_request(paa_metrics, route, last->status,
                        apr_time_now() - r->request_time);
    return DECLINED;
}

int paa_metrics_handler(request_rec *r)
{
    paa_metrics_labels_t labels;
    char *text;

    if (!r->handler || strcmp(r->handler, PAA_METRICS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    if (!paa_metrics) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "metrics are not available");
    }
    labels.version = PAA_VERSION_STRING;
    labels.routes = route_names;
    labels.nroutes = route_count;
    labels.providers = provider_names;
    labels.nproviders = paa_provider_count;
    text = paa_metrics_render(r->pool, paa_metrics, &labels);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    ap_set_content_length(r, strlen(text));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}
