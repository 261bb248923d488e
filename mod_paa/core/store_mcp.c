/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* MCP sessions (paa_mcp_sessions): known to every httpd child, bound to
 * the principal that initialised them. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t get = {
    "paa_mcp_session_get",
    "SELECT id, principal, protocol_version, created_at FROM paa_mcp_sessions"
    " WHERE id = %s AND created_at > %lld"};
static const paa_stmt_t add = {
    "paa_mcp_session_add",
    "INSERT INTO paa_mcp_sessions (id, principal, protocol_version,"
    " created_at) VALUES (%s, %s, %s, %lld)"};
static const paa_stmt_t end = {
    "paa_mcp_session_end",
    "DELETE FROM paa_mcp_sessions WHERE id = %s AND principal = %s"};

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
        out->id = paa_db_text(p, db, row, 0);
        out->principal = paa_db_text(p, db, row, 1);
        out->protocol_version = paa_db_text(p, db, row, 2);
        out->created_at = paa_db_int(db, row, 3);
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
