/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* MCP sessions (paa_mcp_sessions): known to every httpd child, bound to
 * the principal that initialised them. */

#include "paa.h"

#include <apr_strings.h>

#define MCP_COLUMNS "id, principal, protocol_version, created_at"

static const paa_stmt_t get = {"paa_mcp_session_get",
                               "SELECT " MCP_COLUMNS " FROM paa_mcp_sessions"
                               " WHERE id = %s AND created_at > %lld"};
/* An export's pages: the principal's sessions by id, after the last seen. */
static const paa_stmt_t sessions_of = {
    "paa_gdpr_mcp_sessions",
    "SELECT " MCP_COLUMNS " FROM paa_mcp_sessions"
    " WHERE principal = %s AND id > %s ORDER BY id LIMIT %d"};
static const paa_stmt_t add = {
    "paa_mcp_session_add",
    "INSERT INTO paa_mcp_sessions (id, principal, protocol_version,"
    " created_at) VALUES (%s, %s, %s, %lld)"};
static const paa_stmt_t end = {
    "paa_mcp_session_end",
    "DELETE FROM paa_mcp_sessions WHERE id = %s AND principal = %s"};

/* The order MCP_COLUMNS lists. */
static void session_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                        paa_mcp_session_t *out)
{
    out->id = paa_db_text(p, db, row, 0);
    out->principal = paa_db_text(p, db, row, 1);
    out->protocol_version = paa_db_text(p, db, row, 2);
    out->created_at = paa_db_int(db, row, 3);
}

apr_status_t paa_mcp_session_get(apr_pool_t *p, paa_db_t *db, const char *id,
                                 apr_int64_t since, paa_mcp_session_t *out,
                                 int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = id;
    args[1] = paa_db_i64(p, since);
    *found = 0;
    if (paa_db_select(p, db, &get, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        session_row(p, db, row, out);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_mcp_session_add(apr_pool_t *p, paa_db_t *db,
                                 const paa_mcp_session_t *s)
{
    const char *args[4];
    args[0] = s->id;
    args[1] = s->principal;
    args[2] = s->protocol_version;
    args[3] = paa_db_i64(p, s->created_at);
    return paa_db_run(p, db, &add, 4, args, NULL);
}

apr_status_t paa_mcp_session_end(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *principal, int *nrows)
{
    const char *args[2];
    args[0] = id;
    args[1] = principal;
    return paa_db_run(p, db, &end, 2, args, nrows);
}

apr_status_t paa_gdpr_mcp_sessions(apr_pool_t *p, paa_db_t *db,
                                   const char *principal, const char *after,
                                   int limit, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[3];

    args[0] = principal;
    args[1] = after ? after : "";
    args[2] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_mcp_session_t));
    if (paa_db_select(p, db, &sessions_of, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        session_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}
