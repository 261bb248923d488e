/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Users (paa_users): local accounts for logins and JWT subjects. The
 * password hash is read only where a password is checked. */

#include "paa.h"

#include <apr_strings.h>

#define USER_COLUMNS "id, username, roles, disabled, created_at, updated_at"

static const paa_stmt_t by_id = {
    "paa_user_by_id", "SELECT " USER_COLUMNS " FROM paa_users WHERE id = %s"};

static const paa_stmt_t by_name = {"paa_user_by_name",
                                   "SELECT " USER_COLUMNS ", password_hash"
                                   " FROM paa_users WHERE username = %s"};

static void user_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                     paa_user_t *u)
{
    u->id = paa_db_str(p, db, row, 0);
    u->username = paa_db_text(p, db, row, 1);
    u->roles = paa_db_text(p, db, row, 2);
    u->disabled = paa_db_int(db, row, 3) != 0;
    u->created_at = paa_db_int(db, row, 4);
    u->updated_at = paa_db_int(db, row, 5);
    u->password_hash = NULL;
}

static apr_status_t lookup(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                           const char *arg, paa_user_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, st, 1, &arg, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        user_row(p, db, row, out);
        if (st == &by_name) {
            out->password_hash = paa_db_str(p, db, row, 6);
        }
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_users_by_id(apr_pool_t *p, paa_db_t *db, const char *id,
                             paa_user_t *out, int *found)
{
    return lookup(p, db, &by_id, id, out, found);
}

apr_status_t paa_users_by_name(apr_pool_t *p, paa_db_t *db,
                               const char *username, paa_user_t *out,
                               int *found)
{
    return lookup(p, db, &by_name, username, out, found);
}
