/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Revoked JWTs (paa_revoked_tokens): a jti refused before its token
 * expires. The check is part of the user lookup a token costs anyway
 * (paa_users_for_token); here are the writes. A row is useless once its
 * token has expired, so each revocation first drops those: the table stays
 * as small as the set of live revoked tokens without a purge job. */

#include "paa.h"

#include <apr_strings.h>

#define TOKEN_COLUMNS "jti, user_id, expires_at, revoked_at, reason"

static const paa_stmt_t drop_dead = {
    "paa_token_drop_dead", "DELETE FROM paa_revoked_tokens"
                           " WHERE expires_at > 0 AND expires_at < %lld"};
static const paa_stmt_t add = {
    "paa_token_revoke", "INSERT INTO paa_revoked_tokens (" TOKEN_COLUMNS ")"
                        " SELECT %s, %s, %lld, %lld, %s WHERE NOT EXISTS"
                        " (SELECT 1 FROM paa_revoked_tokens WHERE jti = %s)"};
static const paa_stmt_t get = {"paa_token_revoked",
                               "SELECT " TOKEN_COLUMNS
                               " FROM paa_revoked_tokens WHERE jti = %s"};
static const paa_stmt_t of_user = {
    "paa_token_revoked_of",
    "SELECT " TOKEN_COLUMNS " FROM paa_revoked_tokens"
    " WHERE user_id = %s AND jti > %s ORDER BY jti LIMIT %d"};
static const paa_stmt_t erase_user = {
    "paa_token_erase_user",
    "DELETE FROM paa_revoked_tokens WHERE user_id = %s"};

typedef struct {
    const paa_revoked_token_t *t;
    apr_int64_t dead_before;
    int *added;
} revoke_baton_t;

static apr_status_t revoke_tx(apr_pool_t *p, paa_db_t *db, void *baton)
{
    revoke_baton_t *b = baton;
    const char *args[6];

    args[0] = paa_db_i64(p, b->dead_before);
    if (paa_db_run(p, db, &drop_dead, 1, args, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    args[0] = b->t->jti;
    args[1] = b->t->user_id ? b->t->user_id : "";
    args[2] = paa_db_i64(p, b->t->expires_at);
    args[3] = paa_db_i64(p, b->t->revoked_at);
    args[4] = b->t->reason ? b->t->reason : "";
    args[5] = b->t->jti;
    return paa_db_run(p, db, &add, 6, args, b->added);
}

apr_status_t paa_tokens_revoke(apr_pool_t *p, paa_db_t *db,
                               const paa_revoked_token_t *t,
                               apr_int64_t dead_before, int *added)
{
    revoke_baton_t b;

    *added = 0;
    b.t = t;
    b.dead_before = dead_before;
    b.added = added;
    return paa_db_transaction(p, db, revoke_tx, &b);
}

/* The order TOKEN_COLUMNS lists. */
static void token_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                      paa_revoked_token_t *out)
{
    out->jti = paa_db_str(p, db, row, 0);
    out->user_id = paa_db_text(p, db, row, 1);
    out->expires_at = paa_db_int(db, row, 2);
    out->revoked_at = paa_db_int(db, row, 3);
    out->reason = paa_db_text(p, db, row, 4);
}

apr_status_t paa_tokens_revoked(apr_pool_t *p, paa_db_t *db, const char *jti,
                                paa_revoked_token_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &get, 1, &jti, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        token_row(p, db, row, out);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_tokens_revoked_of(apr_pool_t *p, paa_db_t *db,
                                   const char *user_id, const char *after,
                                   int limit, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[3];

    args[0] = user_id;
    args[1] = after ? after : "";
    args[2] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_revoked_token_t));
    if (paa_db_select(p, db, &of_user, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        token_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t paa_tokens_erase_user(apr_pool_t *p, paa_db_t *db,
                                   const char *user_id, int *nrows)
{
    return paa_db_run(p, db, &erase_user, 1, &user_id, nrows);
}
