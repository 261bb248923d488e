/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The change markers (paa_changes, schema version 7): counters that
 * triggers move whenever what a cache holds changes. httpd reads them
 * instead of the rows they stand for. */

#include "paa.h"

static const paa_stmt_t credentials = {
    "paa_changes_credentials",
    "SELECT serial FROM paa_changes WHERE name = 'credentials'"};

apr_status_t paa_changes_credentials(apr_pool_t *p, paa_db_t *db,
                                     apr_int64_t *serial, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    *serial = 0;
    if (paa_db_select(p, db, &credentials, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *serial = paa_db_int(db, row, 0);
        *found = 1;
    }
    return APR_SUCCESS;
}
