/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The audit trail (paa_audit). Rows have no foreign keys: the record of
 * what a user or key did outlives them. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t add = {
    "paa_audit_add",
    "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id,"
    " client_ip, detail) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s)"};

static const char *nz(const char *s)
{
    return s ? s : "";
}

apr_status_t paa_audit_add(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a)
{
    const char *args[8];
    args[0] = paa_db_i64(p, a->at ? a->at : apr_time_sec(apr_time_now()));
    args[1] = nz(a->event);
    args[2] = nz(a->outcome);
    args[3] = nz(a->actor);
    args[4] = nz(a->subject);
    args[5] = nz(a->key_id);
    args[6] = nz(a->client_ip);
    args[7] = nz(a->detail);
    return paa_db_run(p, db, &add, 8, args, NULL);
}

apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err)
{
    apr_status_t rv = paa_audit_add(p, db, a);
    if (rv != APR_SUCCESS) {
        *err = db->error;
    }
    return rv;
}
