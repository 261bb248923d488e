/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Provider failovers (paa_failovers): one row each time a provider could
 * not answer and the next one was asked. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t add = {
    "paa_failover_add",
    "INSERT INTO paa_failovers (at, failed_provider, reason, answered_by)"
    " VALUES (%lld, %s, %s, %s)"};

apr_status_t paa_failovers_add(apr_pool_t *p, paa_db_t *db, apr_int64_t at,
                               const char *failed_provider, const char *reason,
                               const char *answered_by)
{
    const char *args[4];
    args[0] = paa_db_i64(p, at);
    args[1] = failed_provider;
    args[2] = apr_pstrndup(p, reason, 200); /* the column's size */
    args[3] = answered_by ? answered_by : "";
    return paa_db_run(p, db, &add, 4, args, NULL);
}
