/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Users (paa_users): local accounts for logins and JWT subjects. The
 * password hash is read only by the lookup by name, which logins need; the
 * list never carries it. */

#include "paa.h"

#include <apr_strings.h>

#define USER_COLUMNS "id, username, roles, disabled, created_at, updated_at"

static const paa_stmt_t by_id = {
    "paa_user_by_id", "SELECT " USER_COLUMNS " FROM paa_users WHERE id = %s"};

static const paa_stmt_t by_name = {"paa_user_by_name",
                                   "SELECT " USER_COLUMNS ", password_hash"
                                   " FROM paa_users WHERE username = %s"};

static const paa_stmt_t add = {
    "paa_user_add",
    "INSERT INTO paa_users (id, username, password_hash, roles, disabled,"
    " created_at, updated_at) VALUES (%s, %s, %s, %s, %d, %lld, %lld)"};
/* A logout time only moves forward: paactl on a host whose clock is
 * behind must not let back tokens that a later logout refused. */
#define NOT_BEFORE                                                             \
    "CASE WHEN tokens_not_before > %lld THEN tokens_not_before ELSE %lld END"
static const paa_stmt_t set_password = {
    "paa_user_set_password",
    "UPDATE paa_users SET password_hash = %s, updated_at = %lld,"
    " tokens_not_before = " NOT_BEFORE " WHERE id = %s"};
static const paa_stmt_t set_roles = {
    "paa_user_set_roles",
    "UPDATE paa_users SET roles = %s, updated_at = %lld WHERE id = %s"};
static const paa_stmt_t set_disabled = {
    "paa_user_set_disabled",
    "UPDATE paa_users SET disabled = %d, updated_at = %lld WHERE id = %s"};
static const paa_stmt_t delete = {"paa_user_delete",
                                  "DELETE FROM paa_users WHERE id = %s"};
/* The JWT lookup: the user, when they last logged out everywhere, and
 * whether this token's jti was revoked, in the one round trip a token
 * costs anyway. */
static const paa_stmt_t for_token = {
    "paa_user_for_token",
    "SELECT " USER_COLUMNS ", tokens_not_before,"
    " (SELECT count(*) FROM paa_revoked_tokens WHERE jti = %s)"
    " FROM paa_users WHERE id = %s"};
/* What a restart warms its cache with for tokens (paa_users_warm): the
 * jtis of the revocations no user accounts for (revoked by jti alone, or
 * of a user deleted since), and the enabled users none of whose tokens is
 * revoked, each a chunk at a time along the primary key; a revocation of
 * a token that expired (beyond any leeway) counts for neither. */
#define REVOCATION_LIVE " AND NOT (r.expires_at > 0 AND r.expires_at < %lld)"
static const paa_stmt_t revoked_unattributed = {
    "paa_user_revoked_unattributed",
    "SELECT r.jti FROM paa_revoked_tokens r WHERE (r.user_id = '' OR"
    " NOT EXISTS (SELECT 1 FROM paa_users u WHERE u.id = "
    "r.user_id))" REVOCATION_LIVE " AND r.jti > %s ORDER BY r.jti LIMIT %d"};
static const paa_stmt_t warm_chunk = {
    "paa_user_warm",
    "SELECT " USER_COLUMNS ", tokens_not_before FROM paa_users u"
    " WHERE u.disabled = 0 AND u.id > %s AND NOT EXISTS"
    " (SELECT 1 FROM paa_revoked_tokens r WHERE r.user_id = "
    "u.id" REVOCATION_LIVE ") ORDER BY u.id LIMIT %d"};
static const paa_stmt_t logout_one = {
    "paa_user_logout", "UPDATE paa_users SET tokens_not_before = " NOT_BEFORE
                       ", updated_at = %lld WHERE id = %s"};
static const paa_stmt_t logout_all = {
    "paa_user_logout_all",
    "UPDATE paa_users SET tokens_not_before = " NOT_BEFORE
    ", updated_at = %lld"};
static const paa_stmt_t list = {"paa_user_list",
                                "SELECT " USER_COLUMNS
                                " FROM paa_users ORDER BY username"};

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
    u->tokens_not_before = 0;
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

apr_status_t paa_users_for_token(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *jti, paa_user_t *out, int *revoked,
                                 int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];
    int version = 0;

    *found = *revoked = 0;
    args[0] = jti ? jti : "";
    args[1] = id;
    if (paa_db_select(p, db, &for_token, 2, args, &res) == APR_SUCCESS) {
        while (paa_db_next(p, db, res, &row)) {
            user_row(p, db, row, out);
            out->tokens_not_before = paa_db_int(db, row, 6);
            *revoked = paa_db_int(db, row, 7) > 0;
            *found = 1;
        }
        return APR_SUCCESS;
    }
    /* Before 'paactl migrate' has added revocations nothing can have been
     * revoked, and tokens keep working (issue: an upgrade must not lock
     * everyone out). Any other failure, a missing grant on the table
     * included, must not be read as "not revoked". */
    if (paa_schema_current(p, db, &version) != APR_SUCCESS ||
        version >= PAA_SCHEMA_TOKEN_REVOCATION) {
        return APR_EGENERAL;
    }
    return lookup(p, db, &by_id, id, out, found);
}

typedef struct {
    paa_user_fn fn;
    paa_jti_fn revoked;
    void *baton;
} warm_t;

static const char *warm_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                            void *baton)
{
    warm_t *w = baton;
    paa_user_t u;

    user_row(p, db, row, &u);
    u.tokens_not_before = paa_db_int(db, row, 6);
    w->fn(w->baton, &u);
    return u.id;
}

static const char *revoked_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                               void *baton)
{
    warm_t *w = baton;
    const char *jti = paa_db_text(p, db, row, 0);

    w->revoked(w->baton, jti);
    return jti;
}

apr_status_t paa_users_warm(apr_pool_t *p, paa_db_t *db,
                            apr_int64_t expired_before, int limit, int chunk,
                            paa_jti_fn revoked, paa_user_fn fn, void *baton,
                            int *count)
{
    const char *args[3];
    warm_t w = {fn, revoked, baton};
    int jtis = 0;
    apr_status_t rv;

    *count = 0;
    if (limit <= 0 || chunk <= 0) {
        return APR_SUCCESS;
    }
    args[0] = paa_db_i64(p, expired_before);
    /* Every one of them, before any user: a token of a user given below
     * may be one of these. The walk starts after "", so a revocation of
     * "" (made by hand: paactl refuses it), which a token without a jti
     * is looked up as, would never be read: it is given anyway. */
    revoked(baton, "");
    rv = paa_db_chunks(p, db, &revoked_unattributed, 3, args, 1, 2,
                       PAA_USERS_WARM_REVOKED_MAX + 1, chunk, revoked_row, &w,
                       &jtis);
    if (rv != APR_SUCCESS || jtis > PAA_USERS_WARM_REVOKED_MAX) {
        return rv;
    }
    args[1] = args[0];
    return paa_db_chunks(p, db, &warm_chunk, 3, args, 0, 2, limit, chunk,
                         warm_row, &w, count);
}

apr_status_t paa_users_logout(apr_pool_t *p, paa_db_t *db, const char *id,
                              apr_int64_t not_before, int *nrows)
{
    const char *args[4];
    args[0] = args[1] = args[2] = paa_db_i64(p, not_before);
    args[3] = id;
    return paa_db_run(p, db, id ? &logout_one : &logout_all, id ? 4 : 3, args,
                      nrows);
}

apr_status_t paa_users_add(apr_pool_t *p, paa_db_t *db, const paa_user_t *u)
{
    const char *args[7];
    args[0] = u->id;
    args[1] = u->username;
    args[2] = u->password_hash;
    args[3] = u->roles ? u->roles : "";
    args[4] = u->disabled ? "1" : "0";
    args[5] = paa_db_i64(p, u->created_at);
    args[6] = paa_db_i64(p, u->updated_at);
    return paa_db_run(p, db, &add, 7, args, NULL);
}

/* One column, updated_at and the id: the shape of every change. */
static apr_status_t set(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                        const char *id, const char *value, apr_int64_t at,
                        int *nrows)
{
    const char *args[3];
    args[0] = value;
    args[1] = paa_db_i64(p, at);
    args[2] = id;
    return paa_db_run(p, db, st, 3, args, nrows);
}

apr_status_t paa_users_set_password(apr_pool_t *p, paa_db_t *db, const char *id,
                                    const char *password_hash, apr_int64_t at,
                                    apr_int64_t not_before, int *nrows)
{
    const char *args[5];
    args[0] = password_hash;
    args[1] = paa_db_i64(p, at);
    args[2] = args[3] = paa_db_i64(p, not_before);
    args[4] = id;
    return paa_db_run(p, db, &set_password, 5, args, nrows);
}

apr_status_t paa_users_set_roles(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *roles, apr_int64_t at, int *nrows)
{
    return set(p, db, &set_roles, id, roles ? roles : "", at, nrows);
}

apr_status_t paa_users_set_disabled(apr_pool_t *p, paa_db_t *db, const char *id,
                                    int disabled, apr_int64_t at, int *nrows)
{
    return set(p, db, &set_disabled, id, disabled ? "1" : "0", at, nrows);
}

apr_status_t paa_users_delete(apr_pool_t *p, paa_db_t *db, const char *id,
                              int *nrows)
{
    return paa_db_run(p, db, &delete, 1, &id, nrows);
}

apr_status_t paa_users_list(apr_pool_t *p, paa_db_t *db,
                            apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = apr_array_make(p, 16, sizeof(paa_user_t));
    if (paa_db_select(p, db, &list, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        user_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}
