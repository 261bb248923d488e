/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Direct apr_dbd access for paactl and tests. The module never uses this:
 * inside httpd, connections come from mod_dbd's pool. */

#include "paa.h"

#include <apr_strings.h>

/* Driver messages can span lines (libpq adds the SQL and a caret); the
 * first line is the one that says what went wrong. */
static const char *first_line(apr_pool_t *p, const char *m)
{
    const char *nl;
    apr_size_t n;
    if (!m) {
        return "unknown database error";
    }
    nl = strchr(m, '\n');
    n = nl ? (apr_size_t)(nl - m) : strlen(m);
    while (n && (m[n - 1] == ' ' || m[n - 1] == '\t' || m[n - 1] == '\r')) {
        n--;
    }
    return apr_pstrmemdup(p, m, n);
}

static const char *db_message(apr_pool_t *p, paa_db_t *db, int rv)
{
    return first_line(p, apr_dbd_error(db->driver, db->handle, rv));
}

apr_status_t paa_db_open(apr_pool_t *p, const char *driver, const char *params,
                         paa_db_t **out, const char **err)
{
    paa_db_t *db = apr_pcalloc(p, sizeof(*db));
    const char *dberr = NULL;
    apr_status_t rv;

    if (!driver || (strcmp(driver, "sqlite3") && strcmp(driver, "pgsql"))) {
        *err = apr_psprintf(p,
                            "unsupported database driver '%s' "
                            "(PAA_DB_DRIVER must be sqlite3 or pgsql)",
                            driver ? driver : "");
        return APR_EINVAL;
    }
    if (!params || !*params) {
        *err = "PAA_DB_PARAMS is empty (a SQLite file, or a PostgreSQL "
               "connection string)";
        return APR_EINVAL;
    }
    apr_dbd_init(p);
    rv = apr_dbd_get_driver(p, driver, &db->driver);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p,
                            "cannot load the apr_dbd %s driver: install "
                            "libaprutil1-dbd-%s",
                            driver, driver);
        return rv;
    }
    db->driver_name = driver;
    db->params = params;
    db->label = paa_db_label(p, driver, params);
    rv = apr_dbd_open_ex(db->driver, p, params, &db->handle, &dberr);
    if (rv != APR_SUCCESS || !db->handle) {
        *err =
            apr_psprintf(p, "cannot open %s database %s%s%s", driver, db->label,
                         dberr ? ": " : "", dberr ? first_line(p, dberr) : "");
        return rv ? rv : APR_EGENERAL;
    }
    if (!strcmp(driver, "sqlite3")) {
        /* httpd may be writing: wait for its lock rather than fail. The
         * pragma answers with a row, so it is run as a select. */
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        if (apr_dbd_select(db->driver, p, db->handle, &res,
                           "PRAGMA busy_timeout = 5000", 1) == 0) {
            while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
            }
        }
    }
    *out = db;
    return APR_SUCCESS;
}

void paa_db_close(paa_db_t *db)
{
    if (db && db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
}

apr_status_t paa_db_exec(apr_pool_t *p, paa_db_t *db, const char *sql,
                         const char **err)
{
    int nrows = 0;
    int rv = apr_dbd_query(db->driver, db->handle, &nrows, sql);
    if (rv != 0) {
        *err = db_message(p, db, rv);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

const char *paa_db_label(apr_pool_t *p, const char *driver, const char *params)
{
    const char *host = NULL, *dbname = NULL, *port = NULL;
    char *copy, *tok, *state;

    if (!driver || strcmp(driver, "pgsql")) {
        return params;
    }
    if (!strncmp(params, "postgresql://", 13) ||
        !strncmp(params, "postgres://", 11)) {
        /* scheme://[user[:password]@]host[:port][/dbname][?options] */
        const char *h = strstr(params, "://") + 3, *at, *slash, *q;
        apr_size_t hl;
        q = strchr(h, '?');
        at = strchr(h, '@');
        if (at && (!q || at < q)) {
            h = at + 1;
        }
        slash = strchr(h, '/');
        hl = slash ? (apr_size_t)(slash - h)
             : q   ? (apr_size_t)(q - h)
                   : strlen(h);
        return apr_psprintf(
            p, "%s/%s", hl ? apr_pstrmemdup(p, h, hl) : "localhost",
            slash ? apr_pstrmemdup(p, slash + 1,
                                   q && q > slash ? (apr_size_t)(q - slash - 1)
                                                  : strlen(slash + 1))
                  : "");
    }
    /* Only the fields needed to recognise the server; a password is never
     * copied into a message. */
    copy = apr_pstrdup(p, params);
    for (tok = apr_strtok(copy, " \t", &state); tok;
         tok = apr_strtok(NULL, " \t", &state)) {
        if (!strncmp(tok, "host=", 5)) {
            host = tok + 5;
        }
        else if (!strncmp(tok, "port=", 5)) {
            port = tok + 5;
        }
        else if (!strncmp(tok, "dbname=", 7)) {
            dbname = tok + 7;
        }
    }
    return apr_psprintf(p, "%s%s%s/%s", host ? host : "localhost",
                        port ? ":" : "", port ? port : "",
                        dbname ? dbname : "");
}

static apr_status_t prepare(apr_pool_t *p, paa_db_t *db, const char *sql,
                            int nargs, apr_dbd_prepared_t **stmt,
                            const char **err)
{
    int rv = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, stmt);
    if (rv != 0) {
        *err = db_message(p, db, rv);
        return APR_EGENERAL;
    }
    (void)nargs;
    return APR_SUCCESS;
}

apr_status_t paa_db_pquery(apr_pool_t *p, paa_db_t *db, const char *sql,
                           int nargs, const char **args, int *nrows,
                           const char **err)
{
    apr_dbd_prepared_t *stmt = NULL;
    int n = 0, rv;

    if (prepare(p, db, sql, nargs, &stmt, err) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    rv = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
    if (rv != 0) {
        *err = db_message(p, db, rv);
        return APR_EGENERAL;
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}

apr_status_t paa_db_pselect(apr_pool_t *p, paa_db_t *db, const char *sql,
                            int nargs, const char **args,
                            apr_dbd_results_t **res, const char **err)
{
    apr_dbd_prepared_t *stmt = NULL;
    int rv;

    *res = NULL;
    if (prepare(p, db, sql, nargs, &stmt, err) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* Random access: with pgsql, sequential mode reports errors as an
     * empty result. */
    rv = apr_dbd_pselect(db->driver, p, db->handle, res, stmt, 1, nargs, args);
    if (rv != 0) {
        *err = db_message(p, db, rv);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
