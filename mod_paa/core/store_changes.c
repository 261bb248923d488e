/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The change markers (paa_changes, schema versions 8 to 10): counters that
 * triggers move whenever what a cache holds changes. httpd reads them
 * instead of the rows they stand for. */

#include "paa.h"

#include <string.h>

static const paa_stmt_t all = {"paa_changes_all",
                               "SELECT name, serial FROM paa_changes"};

apr_status_t paa_changes_read(apr_pool_t *p, paa_db_t *db, paa_changes_t *out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    memset(out, 0, sizeof(*out));
    if (paa_db_select(p, db, &all, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        const char *name = paa_db_text(p, db, row, 0);
        if (!strcmp(name, "credentials")) {
            out->credentials = paa_db_int(db, row, 1);
            out->found |= 1;
        }
        else if (!strcmp(name, "mcp_sessions")) {
            out->mcp_sessions = paa_db_int(db, row, 1);
            out->found |= 2;
        }
        else if (!strcmp(name, "personas")) {
            out->personas = paa_db_int(db, row, 1);
            out->personas_found = 1;
        }
        else if (!strcmp(name, "keys_added")) {
            out->keys_added = paa_db_int(db, row, 1);
        }
    }
    /* A database of version 8 has no personas' marker: the credentials'
     * are no less right for that. Before version 10 a new key or user
     * moves 'credentials', so keys_added may stay 0. */
    out->found = out->found == 3;
    return APR_SUCCESS;
}
