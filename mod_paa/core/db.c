/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Database access for the stores. paactl and the tests open their own
 * connection here; inside httpd the connection is mod_dbd's, wrapped by
 * paa_dbd.c. Statements are prepared on first use on the connection that
 * runs them and kept for its life. */

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
    db->pgsql = !strcmp(driver, "pgsql");
    db->pool = p;
    db->prepared = apr_hash_make(p);
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

paa_db_t *paa_db_wrap(apr_pool_t *p, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle, apr_pool_t *conn_pool,
                      apr_hash_t *prepared)
{
    paa_db_t *db = apr_pcalloc(p, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->pool = conn_pool;
    db->prepared = prepared;
    db->driver_name = apr_dbd_name(driver);
    db->pgsql = !strcmp(db->driver_name, "pgsql");
    db->label = db->driver_name;
    return db;
}

static void failed(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st, int rv)
{
    db->error = db_message(p, db, rv);
    if (db->log) {
        db->log(db->log_ctx, st->label, db->error);
    }
}

static apr_dbd_prepared_t *stmt_get(apr_pool_t *p, paa_db_t *db,
                                    const paa_stmt_t *st, int fresh)
{
    apr_dbd_prepared_t *stmt = NULL;
    int rv;

    if (!fresh &&
        (stmt = apr_hash_get(db->prepared, st->label, APR_HASH_KEY_STRING))) {
        return stmt;
    }
    /* A statement of a table that a pending migration adds fails here,
     * alone: everything else keeps working until 'paactl migrate'. */
    rv = apr_dbd_prepare(db->driver, db->pool, db->handle, st->sql, st->label,
                         &stmt);
    if (rv != 0) {
        failed(p, db, st, rv);
        return NULL;
    }
    apr_hash_set(db->prepared, st->label, APR_HASH_KEY_STRING, stmt);
    return stmt;
}

/* Two errors are cured by preparing the statement again, and only they:
 * apr_dbd_pgsql reconnects behind our back (PQreset) and the new session
 * has none of the statements prepared on the old one (SQLSTATE 26000);
 * apr_dbd_sqlite3's statements do not survive a schema change such as a
 * 'paactl migrate' while httpd runs (SQLITE_SCHEMA). Any other error, a
 * missing privilege or bad encoding, is reported as it is. */
static int statement_lost(apr_pool_t *p, paa_db_t *db, int rv)
{
    const char *m = db_message(p, db, rv);
    if (db->pgsql) {
        return strstr(m, "prepared statement") && strstr(m, "does not exist");
    }
    return strstr(m, "schema has changed") != NULL;
}

apr_status_t paa_db_select(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                           int nargs, const char **args,
                           apr_dbd_results_t **res)
{
    apr_dbd_prepared_t *stmt = stmt_get(p, db, st, 0);
    int rv;

    *res = NULL;
    if (!stmt) {
        return APR_EGENERAL;
    }
    /* Random access: pgsql in sequential mode hides errors as no rows. */
    rv = apr_dbd_pselect(db->driver, p, db->handle, res, stmt, 1, nargs, args);
    if (rv != 0 && statement_lost(p, db, rv) &&
        (stmt = stmt_get(p, db, st, 1))) {
        rv = apr_dbd_pselect(db->driver, p, db->handle, res, stmt, 1, nargs,
                             args);
    }
    if (rv != 0) {
        failed(p, db, st, rv);
        *res = NULL;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t paa_db_run(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                        int nargs, const char **args, int *nrows)
{
    apr_dbd_prepared_t *stmt = stmt_get(p, db, st, 0);
    int rv, n = 0;

    if (!stmt) {
        return APR_EGENERAL;
    }
    rv = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
    if (rv != 0 && statement_lost(p, db, rv) &&
        (stmt = stmt_get(p, db, st, 1))) {
        rv = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
    }
    if (rv != 0) {
        failed(p, db, st, rv);
        return APR_EGENERAL;
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}

int paa_db_next(apr_pool_t *p, paa_db_t *db, apr_dbd_results_t *res,
                apr_dbd_row_t **row)
{
    return res && apr_dbd_get_row(db->driver, p, res, row, -1) == 0;
}

const char *paa_db_str(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(db->driver, row, n);
    return v && *v ? apr_pstrdup(p, v) : NULL;
}

const char *paa_db_text(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = paa_db_str(p, db, row, n);
    return v ? v : "";
}

apr_int64_t paa_db_int(paa_db_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(db->driver, row, n);
    return v && *v ? apr_atoi64(v) : 0;
}

const char *paa_db_i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

apr_status_t paa_db_chunks(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                           int nargs, const char **args, int after, int size,
                           int limit, int chunk, paa_db_row_fn fn, void *baton,
                           int *count)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    apr_pool_t *cp;
    const char *last = NULL;
    int n = 0, want, got;
    apr_status_t rv = APR_SUCCESS;

    if (limit <= 0 || chunk <= 0) {
        return APR_SUCCESS;
    }
    if (apr_pool_create(&cp, p) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    args[after] = "";
    do {
        want = chunk < limit - n ? chunk : limit - n;
        got = 0;
        apr_pool_clear(cp);
        args[size] = apr_itoa(cp, want);
        if ((rv = paa_db_select(cp, db, st, nargs, args, &res)) !=
            APR_SUCCESS) {
            break;
        }
        row = NULL;
        while (paa_db_next(cp, db, res, &row)) {
            last = fn(cp, db, row, baton);
            got++;
        }
        n += got;
        /* Into p, which outlives the chunks: one key per chunk. */
        args[after] = got ? apr_pstrdup(p, last) : args[after];
    } while (got == want && n < limit);
    apr_pool_destroy(cp);
    *count += n;
    return rv;
}

apr_status_t paa_db_transaction(apr_pool_t *p, paa_db_t *db,
                                apr_status_t (*fn)(apr_pool_t *p, paa_db_t *db,
                                                   void *baton),
                                void *baton)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_status_t rv;

    if (apr_dbd_transaction_start(db->driver, p, db->handle, &txn) != 0) {
        db->error = db_message(p, db, -1);
        return APR_EGENERAL;
    }
    rv = fn(p, db, baton);
    if (rv != APR_SUCCESS) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    if (apr_dbd_transaction_end(db->driver, p, txn) != 0 && rv == APR_SUCCESS) {
        db->error = db_message(p, db, -1);
        rv = APR_EGENERAL;
    }
    return rv;
}
