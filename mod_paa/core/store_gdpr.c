/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What a principal has stored, for the GDPR export and erasure: the one
 * place that knows every table holding personal data, so that a new such
 * table is added to both or to neither. Export reads in pages (keyset
 * paging on the primary key) so that a long history never sits in memory
 * whole; erasure is one transaction, so that a failure leaves the data
 * exactly as it was rather than half erased. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t chat_sessions = {
    "paa_gdpr_chat_sessions",
    "SELECT id, principal, agent_id, created_at, expires_at"
    " FROM paa_chat_sessions WHERE principal = %s AND id > %s"
    " ORDER BY id LIMIT %d"};
static const paa_stmt_t chat_messages = {
    "paa_gdpr_chat_messages",
    "SELECT id, role, content, at FROM paa_chat_messages"
    " WHERE session_id = %s AND id > %lld ORDER BY id LIMIT %d"};
static const paa_stmt_t mcp_sessions = {
    "paa_gdpr_mcp_sessions",
    "SELECT id, principal, protocol_version, created_at"
    " FROM paa_mcp_sessions WHERE principal = %s AND id > %s"
    " ORDER BY id LIMIT %d"};
static const paa_stmt_t audit_involving = {
    "paa_gdpr_audit", "SELECT id, at, event, outcome, actor, subject, key_id,"
                      " client_ip, detail FROM paa_audit"
                      " WHERE (subject = %s OR actor = %s) AND id > %lld"
                      " ORDER BY id LIMIT %d"};

static const paa_stmt_t erase_messages = {
    "paa_gdpr_erase_messages",
    "DELETE FROM paa_chat_messages WHERE session_id IN"
    " (SELECT id FROM paa_chat_sessions WHERE principal = %s)"};
static const paa_stmt_t erase_sessions = {
    "paa_gdpr_erase_sessions",
    "DELETE FROM paa_chat_sessions WHERE principal = %s"};
static const paa_stmt_t erase_mcp = {
    "paa_gdpr_erase_mcp", "DELETE FROM paa_mcp_sessions WHERE principal = %s"};
static const paa_stmt_t pseudonymise_subject = {
    "paa_gdpr_pseudo_subject",
    "UPDATE paa_audit SET subject = %s WHERE subject = %s"};
static const paa_stmt_t pseudonymise_actor = {
    "paa_gdpr_pseudo_actor",
    "UPDATE paa_audit SET actor = %s WHERE actor = %s"};
static const paa_stmt_t erase_user = {"paa_gdpr_erase_user",
                                      "DELETE FROM paa_users WHERE id = %s"};

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
    if (paa_db_select(p, db, &chat_sessions, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_chat_session_t *s = apr_array_push(*out);
        s->id = paa_db_text(p, db, row, 0);
        s->principal = paa_db_text(p, db, row, 1);
        s->agent_id = paa_db_text(p, db, row, 2);
        s->created_at = paa_db_int(db, row, 3);
        s->expires_at = paa_db_int(db, row, 4);
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
    if (paa_db_select(p, db, &chat_messages, 3, args, &res) != APR_SUCCESS) {
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
    if (paa_db_select(p, db, &mcp_sessions, 3, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_mcp_session_t *s = apr_array_push(*out);
        s->id = paa_db_text(p, db, row, 0);
        s->principal = paa_db_text(p, db, row, 1);
        s->protocol_version = paa_db_text(p, db, row, 2);
        s->created_at = paa_db_int(db, row, 3);
    }
    return APR_SUCCESS;
}

apr_status_t paa_gdpr_audit(apr_pool_t *p, paa_db_t *db, const char *who,
                            apr_int64_t after, int limit,
                            apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[4];

    args[0] = args[1] = who;
    args[2] = paa_db_i64(p, after);
    args[3] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_audit_t));
    if (paa_db_select(p, db, &audit_involving, 4, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_audit_t *a = apr_array_push(*out);
        a->id = paa_db_int(db, row, 0);
        a->at = paa_db_int(db, row, 1);
        a->event = paa_db_text(p, db, row, 2);
        a->outcome = paa_db_text(p, db, row, 3);
        a->actor = paa_db_text(p, db, row, 4);
        a->subject = paa_db_text(p, db, row, 5);
        a->key_id = paa_db_text(p, db, row, 6);
        a->client_ip = paa_db_text(p, db, row, 7);
        a->detail = paa_db_text(p, db, row, 8);
    }
    return APR_SUCCESS;
}

typedef struct {
    const char *id;
    const char *pseudonym;
    const paa_audit_t *record;
    paa_gdpr_erased_t *erased;
} erase_baton_t;

static apr_status_t erase_all(apr_pool_t *p, paa_db_t *db, void *baton)
{
    erase_baton_t *b = baton;
    const char *one[1];
    const char *two[2];
    int n = 0;

    one[0] = b->id;
    /* Messages first: they are found through the sessions. */
    if (paa_db_run(p, db, &erase_messages, 1, one, &b->erased->messages) ||
        paa_db_run(p, db, &erase_sessions, 1, one, &b->erased->sessions) ||
        paa_db_run(p, db, &erase_mcp, 1, one, &b->erased->mcp_sessions)) {
        return APR_EGENERAL;
    }
    two[0] = b->pseudonym;
    two[1] = b->id;
    if (b->pseudonym) {
        if (paa_db_run(p, db, &pseudonymise_subject, 2, two, &n)) {
            return APR_EGENERAL;
        }
        b->erased->audit = n;
        if (paa_db_run(p, db, &pseudonymise_actor, 2, two, &n)) {
            return APR_EGENERAL;
        }
        b->erased->audit += n;
    }
    if (paa_db_run(p, db, &erase_user, 1, one, &b->erased->user)) {
        return APR_EGENERAL;
    }
    return b->record ? paa_audit_add(p, db, b->record) : APR_SUCCESS;
}

apr_status_t paa_gdpr_erase(apr_pool_t *p, paa_db_t *db, const char *id,
                            const char *pseudonym, const paa_audit_t *record,
                            paa_gdpr_erased_t *erased)
{
    erase_baton_t b;

    memset(erased, 0, sizeof(*erased));
    b.id = id;
    b.pseudonym = pseudonym;
    b.record = record;
    b.erased = erased;
    return paa_db_transaction(p, db, erase_all, &b);
}
