/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Login attempts (paa_login_failures), shared by every httpd child so
 * that the lockout counts them together. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t add = {
    "paa_login_add", "INSERT INTO paa_login_failures (id, username, client, at)"
                     " VALUES (%s, %s, %s, %lld)"};
static const paa_stmt_t forget = {
    "paa_login_forget", "DELETE FROM paa_login_failures WHERE id = %s"};
static const paa_stmt_t count = {
    "paa_login_count", "SELECT count(*), min(at) FROM paa_login_failures"
                       " WHERE username = %s AND client = %s AND at > %lld"};
static const paa_stmt_t count_client = {
    "paa_login_count_client",
    "SELECT count(*) FROM paa_login_failures WHERE client = %s AND at > %lld"};
static const paa_stmt_t expire = {
    "paa_login_expire",
    "DELETE FROM paa_login_failures WHERE client = %s AND at <= %lld"};
static const paa_stmt_t clear = {"paa_login_clear",
                                 "DELETE FROM paa_login_failures"
                                 " WHERE username = %s AND client = %s"};

static const paa_stmt_t unlock = {
    "paa_login_unlock", "DELETE FROM paa_login_failures WHERE username = %s"};

apr_status_t paa_logins_add(apr_pool_t *p, paa_db_t *db, const char *id,
                            const char *username, const char *client,
                            apr_int64_t at)
{
    const char *args[4];
    args[0] = id;
    args[1] = username;
    args[2] = client;
    args[3] = paa_db_i64(p, at);
    return paa_db_run(p, db, &add, 4, args, NULL);
}

apr_status_t paa_logins_forget(apr_pool_t *p, paa_db_t *db, const char *id)
{
    return paa_db_run(p, db, &forget, 1, &id, NULL);
}

apr_status_t paa_logins_count(apr_pool_t *p, paa_db_t *db, const char *username,
                              const char *client, apr_int64_t since, int *n,
                              apr_int64_t *oldest)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[3];

    args[0] = username;
    args[1] = client;
    args[2] = paa_db_i64(p, since);
    *n = 0;
    if (paa_db_select(p, db, &count, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *n = (int)paa_db_int(db, row, 0);
        if (paa_db_str(p, db, row, 1)) {
            *oldest = paa_db_int(db, row, 1);
        }
    }
    return APR_SUCCESS;
}

apr_status_t paa_logins_count_client(apr_pool_t *p, paa_db_t *db,
                                     const char *client, apr_int64_t since,
                                     int *n)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = client;
    args[1] = paa_db_i64(p, since);
    *n = 0;
    if (paa_db_select(p, db, &count_client, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *n = (int)paa_db_int(db, row, 0);
    }
    return APR_SUCCESS;
}

apr_status_t paa_logins_expire(apr_pool_t *p, paa_db_t *db, const char *client,
                               apr_int64_t before)
{
    const char *args[2];
    args[0] = client;
    args[1] = paa_db_i64(p, before);
    return paa_db_run(p, db, &expire, 2, args, NULL);
}

apr_status_t paa_logins_clear(apr_pool_t *p, paa_db_t *db, const char *username,
                              const char *client)
{
    const char *args[2];
    args[0] = username;
    args[1] = client;
    return paa_db_run(p, db, &clear, 2, args, NULL);
}

apr_status_t paa_logins_unlock(apr_pool_t *p, paa_db_t *db,
                               const char *username, int *nrows)
{
    return paa_db_run(p, db, &unlock, 1, &username, nrows);
}
