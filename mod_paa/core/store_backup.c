/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Backups (paactl backup and restore): the SQL side. An SQLite database
 * is copied by SQLite itself (VACUUM INTO, SQLite >= 3.27), which reads
 * it in one transaction: the copy is consistent while httpd keeps
 * writing, unlike a file copy that can catch a page half-written.
 * PostgreSQL is dumped by pg_dump, outside this file. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t vacuum_into = {"paa_backup_vacuum_into",
                                       "VACUUM INTO %s"};

/* What a restore would overwrite: the durable tables' rows. Login failures
 * and sessions are transient and not counted. */
static const paa_stmt_t rows = {"paa_backup_rows",
                                "SELECT (SELECT count(*) FROM paa_api_keys)"
                                " + (SELECT count(*) FROM paa_users)"
                                " + (SELECT count(*) FROM paa_personas)"
                                " + (SELECT count(*) FROM paa_audit)"};

apr_status_t paa_backup_sqlite(apr_pool_t *p, paa_db_t *db, const char *path)
{
    if (db->pgsql) {
        db->error = "VACUUM INTO is for SQLite databases";
        return APR_EGENERAL;
    }
    return paa_db_run(p, db, &vacuum_into, 1, &path, NULL);
}

apr_status_t paa_backup_rows(apr_pool_t *p, paa_db_t *db, apr_int64_t *n)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *n = 0;
    if (paa_db_select(p, db, &rows, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *n = paa_db_int(db, row, 0);
    }
    return APR_SUCCESS;
}
