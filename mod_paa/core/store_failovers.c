/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Provider failovers (paa_failovers): one row each time a provider could
 * not answer and the next one was asked. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t add = {
    "paa_failover_add",
    "INSERT INTO paa_failovers (at, failed_provider, reason, answered_by,"
    " node) VALUES (%lld, %s, %s, %s, %s)"};

apr_status_t paa_failovers_add(apr_pool_t *p, paa_db_t *db, apr_int64_t at,
                               const char *failed_provider, const char *reason,
                               const char *answered_by, const char *node)
{
    const char *args[5];
    args[0] = paa_db_i64(p, at);
    args[1] = failed_provider;
    args[2] = apr_pstrndup(p, reason, 200); /* the column's size */
    args[3] = answered_by ? answered_by : "";
    args[4] = node ? apr_pstrndup(p, node, 100) : "";
    return paa_db_run(p, db, &add, 5, args, NULL);
}

/* Newest first, as an operator reads them after an incident; (at, id) so
 * that failovers of the same second keep the order they happened in. */
static const paa_stmt_t find = {
    "paa_failover_find",
    "SELECT id, at, failed_provider, reason, answered_by, node"
    " FROM paa_failovers"
    " WHERE (%s IS NULL OR failed_provider = %s) AND at >= %lld"
    " ORDER BY at DESC, id DESC LIMIT %d"};

apr_status_t paa_failovers_find(apr_pool_t *p, paa_db_t *db,
                                const paa_failover_filter_t *f,
                                apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[4];

    args[0] = args[1] = f->provider;
    args[2] = paa_db_i64(p, f->since);
    args[3] = apr_itoa(p, f->limit);
    *out = apr_array_make(p, f->limit < 64 ? f->limit : 64,
                          sizeof(paa_failover_t));
    if (paa_db_select(p, db, &find, 4, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_failover_t *fo = apr_array_push(*out);
        fo->id = paa_db_int(db, row, 0);
        fo->at = paa_db_int(db, row, 1);
        fo->failed_provider = paa_db_text(p, db, row, 2);
        fo->reason = paa_db_text(p, db, row, 3);
        fo->answered_by = paa_db_text(p, db, row, 4);
        fo->node = paa_db_text(p, db, row, 5);
    }
    return APR_SUCCESS;
}
