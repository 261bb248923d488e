/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Liveness and readiness. /health does no I/O so that a slow database can
 * never make an orchestrator kill a live server; /health/ready proves the
 * database answers a real query (never an LLM call: probes must not spend
 * provider quota). */

#include "../paa_private.h"

#include <apr_file_io.h>

int paa_api_health(request_rec *r)
{
    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    return paa_send_json(
        r, HTTP_OK,
        json_pack("{s:s, s:s}", "status", "ok", "version", PAA_VERSION_STRING));
}

/* A pooled SQLite connection keeps its file descriptor after the file
 * becomes unreadable or is replaced, and would go on answering. Readiness
 * must report what a new connection would meet, so also open the main
 * database file the way the driver does. */
static int sqlite_file_reachable(request_rec *r, ap_dbd_t *dbd)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *file = NULL;
    apr_file_t *f;
    apr_status_t rv;

    if (apr_dbd_select(dbd->driver, r->pool, dbd->handle, &res,
                       "PRAGMA database_list", 1) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        const char *name = apr_dbd_get_entry(dbd->driver, row, 1);
        if (name && !strcmp(name, "main")) {
            file = apr_dbd_get_entry(dbd->driver, row, 2);
        }
    }
    if (!file || !*file) {
        return 1; /* in-memory database */
    }
    rv = apr_file_open(&f, file, APR_FOPEN_READ | APR_FOPEN_WRITE,
                       APR_OS_DEFAULT, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, rv, r,
            PAALOGNO(00301) "readiness: SQLite database %s cannot be opened "
                            "read-write by this server",
            file);
        return 0;
    }
    apr_file_close(f);
    return 1;
}

int paa_api_ready(request_rec *r)
{
    ap_dbd_t *dbd;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int version = 0;

    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    dbd = paa_dbd_acquire(r);
    if (!dbd || paa_dbd_select(r, dbd, "paa_schema_version", &res, 0, NULL) !=
                    APR_SUCCESS) {
        goto down;
    }
    /* Read every row: breaking out would leave the cursor open. */
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(dbd->driver, row, 0);
        version = v ? atoi(v) : 0;
    }
    if (version != PAA_SCHEMA_VERSION) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            PAALOGNO(
                00303) "readiness: database schema version %d, this module "
                       "needs %d (run 'paactl migrate')",
            version, PAA_SCHEMA_VERSION);
        goto down;
    }
    if (!strcmp(apr_dbd_name(dbd->driver), "sqlite3") &&
        !sqlite_file_reachable(r, dbd)) {
        goto down;
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:{s:s}}", "status", "ok", "checks",
                                   "database", "up"));
down:
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                            "the database is unreachable");
}
