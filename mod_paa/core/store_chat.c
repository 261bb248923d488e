/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Chat sessions and their messages (paa_chat_sessions,
 * paa_chat_messages). A session belongs to the principal that created
 * it; callers compare the owner, the store only reports it. */

#include "paa.h"

#include <apr_strings.h>

#define SESSION_COLUMNS "id, principal, agent_id, created_at, expires_at"

static const paa_stmt_t session_get = {"paa_chat_session_get",
                                       "SELECT " SESSION_COLUMNS
                                       " FROM paa_chat_sessions WHERE id = %s"};
static const paa_stmt_t session_add = {
    "paa_chat_session_add",
    "INSERT INTO paa_chat_sessions (id, principal, agent_id, created_at,"
    " expires_at) VALUES (%s, %s, %s, %lld, %lld)"};
static const paa_stmt_t history = {
    "paa_chat_history",
    "SELECT role, content FROM paa_chat_messages WHERE session_id = %s"
    " ORDER BY id DESC LIMIT %d"};
/* An export's pages (store_gdpr.c's callers): by id, after the last seen. */
static const paa_stmt_t sessions_of = {
    "paa_gdpr_chat_sessions",
    "SELECT " SESSION_COLUMNS " FROM paa_chat_sessions"
    " WHERE principal = %s AND id > %s ORDER BY id LIMIT %d"};
static const paa_stmt_t messages_page = {
    "paa_gdpr_chat_messages",
    "SELECT id, role, content, at FROM paa_chat_messages"
    " WHERE session_id = %s AND id > %lld ORDER BY id LIMIT %d"};
static const paa_stmt_t message_add = {
    "paa_chat_message_add", "INSERT INTO paa_chat_messages (session_id, role,"
                            " content, at) VALUES (%s, %s, %s, %lld)"};

/* The order SESSION_COLUMNS lists. */
static void session_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                        paa_chat_session_t *out)
{
    out->id = paa_db_text(p, db, row, 0);
    out->principal = paa_db_text(p, db, row, 1);
    out->agent_id = paa_db_text(p, db, row, 2);
    out->created_at = paa_db_int(db, row, 3);
    out->expires_at = paa_db_int(db, row, 4);
}

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
        session_row(p, db, row, out);
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

apr_status_t paa_gdpr_chat_sessions(apr_pool_t *p, paa_db_t *db,
                                    const char *principal, const char *after,
                                    int limit, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[3];

    args[0] = principal;
    args[1] = after ? after : "";
    args[2] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_chat_session_t));
    if (paa_db_select(p, db, &sessions_of, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        session_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t paa_gdpr_chat_messages(apr_pool_t *p, paa_db_t *db,
                                    const char *session, apr_int64_t after,
                                    int limit, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[3];

    args[0] = session;
    args[1] = paa_db_i64(p, after);
    args[2] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_chat_message_t));
    if (paa_db_select(p, db, &messages_page, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_chat_message_t *m = apr_array_push(*out);
        m->id = paa_db_int(db, row, 0);
        m->role = paa_db_text(p, db, row, 1);
        m->content = paa_db_text(p, db, row, 2);
        m->at = paa_db_int(db, row, 3);
    }
    return APR_SUCCESS;
}
