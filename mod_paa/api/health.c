/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Liveness and readiness. /health does no I/O so that a slow database can
 * never make an orchestrator kill a live server; /health/ready proves the
 * database answers a real query (never an LLM call: probes must not spend
 * provider quota). */

#include "../paa_private.h"

#include <apr_file_io.h>
#include <apr_strings.h>

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
static int sqlite_file_reachable(request_rec *r, paa_db_t *db)
{
    const char *file = NULL;
    apr_file_t *f;
    apr_status_t rv;

    if (paa_db_sqlite_file(r->pool, db, &file) != APR_SUCCESS) {
        return 0;
    }
    if (!file) {
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

static int not_ready(request_rec *r, const char *detail)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE, detail);
}

int paa_api_ready(request_rec *r)
{
    paa_db_t *db;
    int version = 0;

    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    if (!(db = paa_db(r)) ||
        paa_schema_current(r->pool, db, &version) != APR_SUCCESS) {
        paa_metrics_set(paa_metrics, db_up, 0);
        return not_ready(r, "the database is unreachable");
    }
    if (version != PAA_SCHEMA_VERSION) {
        /* Everything the older schema has keeps working meanwhile: the
         * statements of a missing table fail alone. */
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            PAALOGNO(
                00303) "readiness: database schema version %d, this module "
                       "needs %d (run 'paactl migrate')",
            version, PAA_SCHEMA_VERSION);
        if (version > PAA_SCHEMA_VERSION) {
            return not_ready(
                r, apr_psprintf(r->pool,
                                "the database schema is at version %d, newer "
                                "than this server's %d: upgrade mod_paa",
                                version, PAA_SCHEMA_VERSION));
        }
        return not_ready(
            r, version + 1 == PAA_SCHEMA_VERSION
                   ? apr_psprintf(r->pool,
                                  "the database schema is at version %d and "
                                  "needs migration %d: run 'paactl migrate'",
                                  version, PAA_SCHEMA_VERSION)
                   : apr_psprintf(r->pool,
                                  "the database schema is at version %d and "
                                  "needs migrations %d to %d: run 'paactl "
                                  "migrate'",
                                  version, version + 1, PAA_SCHEMA_VERSION));
    }
    if (db->pgsql == 0 && !sqlite_file_reachable(r, db)) {
        paa_metrics_set(paa_metrics, db_up, 0);
        return not_ready(r, "the database is unreachable");
    }
    /* The only place the gauge goes back up: a probe that proved it. */
    paa_metrics_set(paa_metrics, db_up, 1);
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:{s:s}}", "status", "ok", "checks",
                                   "database", "up"));
}
