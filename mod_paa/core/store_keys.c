/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API keys (paa_api_keys): the only file that knows their SQL and
 * columns. A key is stored as the SHA-256 of the whole key; the key itself
 * never reaches the database. */

#include "paa.h"

#include <apr_strings.h>

/* The order key_row reads. */
#define KEY_COLUMNS                                                            \
    "k.id, k.prefix, k.name, k.client, k.roles, k.created_by,"                 \
    " k.revoked_reason, k.rotated_from, k.created_at, k.expires_at,"           \
    " k.revoked_at, k.last_used_at"

static const paa_stmt_t by_hash = {
    "paa_key_by_hash",
    "SELECT " KEY_COLUMNS " FROM paa_api_keys k WHERE k.key_hash = %s"};

static const paa_stmt_t touch = {"paa_key_touch",
                                 "UPDATE paa_api_keys SET last_used_at = %lld"
                                 " WHERE id = %s"};

static void key_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                    paa_key_t *k)
{
    k->id = paa_db_str(p, db, row, 0);
    k->prefix = paa_db_text(p, db, row, 1);
    k->name = paa_db_text(p, db, row, 2);
    k->client = paa_db_text(p, db, row, 3);
    k->roles = paa_db_text(p, db, row, 4);
    k->created_by = paa_db_text(p, db, row, 5);
    k->revoked_reason = paa_db_str(p, db, row, 6);
    k->rotated_from = paa_db_str(p, db, row, 7);
    k->created_at = paa_db_int(db, row, 8);
    k->expires_at = paa_db_int(db, row, 9);
    k->revoked_at = paa_db_int(db, row, 10);
    k->last_used_at = paa_db_int(db, row, 11);
    k->replaced_by = NULL;
}

apr_status_t paa_keys_by_hash(apr_pool_t *p, paa_db_t *db, const char *hash,
                              paa_key_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &by_hash, 1, &hash, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        key_row(p, db, row, out);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_keys_touch(apr_pool_t *p, paa_db_t *db, const char *id,
                            apr_int64_t at)
{
    const char *args[2];
    args[0] = paa_db_i64(p, at);
    args[1] = id;
    return paa_db_run(p, db, &touch, 2, args, NULL);
}
