/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_dbd glue: a request's database is mod_dbd's connection, wrapped for
 * the stores (core/store_*.c), which prepare their statements on it the
 * first time they run and keep them in the connection's own table.
 * Nothing is registered with ap_dbd_prepare: mod_dbd would prepare it on
 * every connection of every virtual host, breaking other mod_dbd users
 * whose databases have no paa tables. */

#include "paa_private.h"

#include <apr_optional.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * dbd_open_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * dbd_close_fn;

int paa_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_acquire_fn && paa_in_use) {
        /* Health still works without a database; readiness says 503. */
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, s,
            PAALOGNO(
                00101) "mod_dbd is not loaded: mod_paa has no database "
                       "(LoadModule dbd_module and set DBDriver/DBDParams)");
    }
    return OK;
}

/* SQLite's words for a file the httpd user may read but not write (or
 * not open): say who cannot do what, since the fix is an owner or mode. */
static const char *hint(const char *msg)
{
    if (strstr(msg, "readonly database") ||
        strstr(msg, "unable to open database file")) {
        return " (httpd cannot write the SQLite database: the httpd user "
               "must own the database file and its directory, mode 0600 "
               "and 0700)";
    }
    return "";
}

static void log_db_error(void *ctx, const char *label, const char *msg)
{
    request_rec *r = ctx;
    msg = msg ? msg : "unknown error";
    paa_metrics_add(paa_metrics, db_errors, 1);
    paa_metrics_set(paa_metrics, db_up, 0);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PAALOGNO(00106) "database statement %s failed: %s%s", label,
                  msg, hint(msg));
}

#define PAA_DBD_ACQUIRE_TRIES 3

paa_db_t *paa_db(request_rec *r)
{
    ap_dbd_t *dbd = NULL;
    paa_db_t *db;
    int attempt;

    if (!dbd_acquire_fn) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00102) "no database: mod_dbd is not loaded");
        return NULL;
    }
    /* mod_dbd discards one dead pooled connection per failed acquire; after
     * a database restart a few retries flush the stale ones so that the
     * first request does not fail needlessly. */
    for (attempt = 0; attempt < PAA_DBD_ACQUIRE_TRIES && !dbd; attempt++) {
        dbd = dbd_acquire_fn(r);
    }
    if (!dbd) {
        paa_metrics_add(paa_metrics, db_errors, 1);
        paa_metrics_set(paa_metrics, db_up, 0);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00103) "cannot acquire a database connection "
                                      "from mod_dbd (DBDriver/DBDParams: is "
                                      "the database reachable, and can the "
                                      "httpd user open and write it?)");
        return NULL;
    }
    db = paa_db_wrap(r->pool, dbd->driver, dbd->handle, dbd->pool,
                     dbd->prepared);
    db->log = log_db_error;
    db->log_ctx = r;
    return db;
}

static void log_server_db_error(void *ctx, const char *label, const char *msg)
{
    server_rec *s = ctx;
    msg = msg ? msg : "unknown error";
    paa_metrics_add(paa_metrics, db_errors, 1);
    paa_metrics_set(paa_metrics, db_up, 0);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                 PAALOGNO(01501) "database statement %s failed: %s%s", label,
                 msg, hint(msg));
}

paa_db_t *paa_db_server_open(apr_pool_t *p, server_rec *s, void **handle)
{
    ap_dbd_t *dbd;
    paa_db_t *db;

    *handle = NULL;
    if (!dbd_open_fn || !dbd_close_fn || !(dbd = dbd_open_fn(p, s))) {
        return NULL;
    }
    db = paa_db_wrap(p, dbd->driver, dbd->handle, dbd->pool, dbd->prepared);
    db->log = log_server_db_error;
    db->log_ctx = s;
    *handle = dbd;
    return db;
}

void paa_db_server_close(server_rec *s, void *handle)
{
    if (handle && dbd_close_fn) {
        dbd_close_fn(s, handle);
    }
}
