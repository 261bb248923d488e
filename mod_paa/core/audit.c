/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include "paa.h"

#include <apr_strings.h>

const char paa_audit_insert_sql[] =
    "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id,"
    " client_ip, detail) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s)";

static const char *nz(const char *s)
{
    return s ? s : "";
}

apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err)
{
    const char *args[8];
    args[0] = apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_sec(apr_time_now()));
    args[1] = nz(a->event);
    args[2] = nz(a->outcome);
    args[3] = nz(a->actor);
    args[4] = nz(a->subject);
    args[5] = nz(a->key_id);
    args[6] = nz(a->client_ip);
    args[7] = nz(a->detail);
    return paa_db_pquery(p, db, paa_audit_insert_sql, 8, args, NULL, err);
}
