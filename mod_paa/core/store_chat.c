/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Chat sessions and their messages (paa_chat_sessions,
 * paa_chat_messages). A session belongs to the principal that created
 * it; callers compare the owner, the store only reports it. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t session_get = {
    "paa_chat_session_get",
    "SELECT id, principal, agent_id, created_at, expires_at"
    " FROM paa_chat_sessions WHERE id = %s"};
static const paa_stmt_t session_add = {
    "paa_chat_session_add",
    "INSERT INTO paa_chat_sessions (id, principal, agent_id, created_at,"
    " expires_at) VALUES (%s, %s, %s, %lld, %lld)"};
static const paa_stmt_t history = {
    "paa_chat_history",
    "SELECT role, content FROM paa_chat_messages WHERE session_id = %s"
    " ORDER BY id DESC LIMIT %d"};
static const paa_stmt_t message_add = {
    "paa_chat_message_add", "INSERT INTO paa_chat_messages (session_id, role,"
                            " content, at) VALUES (%s, %s, %s, %lld)"};

apr_status_t paa_chat_session_get(apr_pool_t *p, paa_db_t *db, const char *id,
                                  paa_chat_session_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &session_get, 1, &id, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        out->id = paa_db_text(p, db, row, 0);
        out->principal = paa_db_text(p, db, row, 1);
        out->agent_id = paa_db_text(p, db, row, 2);
        out->created_at = paa_db_int(db, row, 3);
        out->expires_at = paa_db_int(db, row, 4);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_chat_session_add(apr_pool_t *p, paa_db_t *db,
                                  const paa_chat_session_t *s)
{
    const char *args[5];
    args[0] = s->id;
    args[1] = s->principal;
    args[2] = s->agent_id;
    args[3] = paa_db_i64(p, s->created_at);
    args[4] = paa_db_i64(p, s->expires_at);
    return paa_db_run(p, db, &session_add, 5, args, NULL);
}

apr_status_t paa_chat_history(apr_pool_t *p, paa_db_t *db, const char *session,
                              int limit, json_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = session;
    args[1] = apr_itoa(p, limit);
    *out = NULL;
    if (paa_db_select(p, db, &history, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    *out = json_array();
    /* Newest first from the database; the model wants them oldest first. */
    while (paa_db_next(p, db, res, &row)) {
        json_array_insert_new(*out, 0,
                              json_pack("{s:s, s:s}", "role",
                                        paa_db_text(p, db, row, 0), "content",
                                        paa_db_text(p, db, row, 1)));
    }
    return APR_SUCCESS;
}

apr_status_t paa_chat_message_add(apr_pool_t *p, paa_db_t *db,
                                  const char *session, const char *role,
                                  const char *content, apr_int64_t at)
{
    const char *args[4];
    args[0] = session;
    args[1] = role;
    args[2] = content;
    args[3] = paa_db_i64(p, at);
    return paa_db_run(p, db, &message_add, 4, args, NULL);
}
