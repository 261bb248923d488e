/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What a principal has stored, for the GDPR export and erasure: the one
 * place that knows every table holding personal data, so that a new such
 * table is added to both or to neither. Export reads in pages (keyset
 * paging on the primary key) so that a long history never sits in memory
 * whole; erasure is one transaction, so that a failure leaves the data
 * exactly as it was rather than half erased. */

#include "paa.h"

#include <apr_strings.h>

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
static const paa_stmt_t erase_consents = {
    "paa_gdpr_erase_consents", "DELETE FROM paa_consents WHERE principal = %s"};

/* Idempotent: a second acceptance keeps the first one's time. */
static const paa_stmt_t consent_add = {
    "paa_consent_add",
    "INSERT INTO paa_consents (principal, version, accepted_at)"
    " SELECT %s, %s, %lld WHERE NOT EXISTS (SELECT 1 FROM paa_consents"
    " WHERE principal = %s AND version = %s)"};
static const paa_stmt_t consent_get = {
    "paa_consent_get", "SELECT accepted_at FROM paa_consents"
                       " WHERE principal = %s AND version = %s"};
static const paa_stmt_t consents = {
    "paa_gdpr_consents", "SELECT version, accepted_at FROM paa_consents"
                         " WHERE principal = %s ORDER BY accepted_at, version"};

apr_status_t paa_consent_accept(apr_pool_t *p, paa_db_t *db,
                                const char *principal, const char *version,
                                apr_int64_t at, int *added)
{
    const char *args[5];
    args[0] = args[3] = principal;
    args[1] = args[4] = version;
    args[2] = paa_db_i64(p, at);
    return paa_db_run(p, db, &consent_add, 5, args, added);
}

apr_status_t paa_consent_get(apr_pool_t *p, paa_db_t *db, const char *principal,
                             const char *version, apr_int64_t *accepted_at,
                             int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = principal;
    args[1] = version;
    *found = 0;
    if (paa_db_select(p, db, &consent_get, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *accepted_at = paa_db_int(db, row, 0);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_gdpr_consents(apr_pool_t *p, paa_db_t *db,
                               const char *principal, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = apr_array_make(p, 4, sizeof(paa_consent_t));
    if (paa_db_select(p, db, &consents, 1, &principal, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_consent_t *c = apr_array_push(*out);
        c->version = paa_db_text(p, db, row, 0);
        c->accepted_at = paa_db_int(db, row, 1);
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
        paa_db_run(p, db, &erase_mcp, 1, one, &b->erased->mcp_sessions) ||
        paa_db_run(p, db, &erase_consents, 1, one, &b->erased->consents) ||
        paa_tokens_erase_user(p, db, b->id, NULL)) {
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

/* ----------------------------------------------------------- retention */

/* Each kind's rows past retention, one WHERE for the count (--dry-run)
 * and the deletion so that the two can never disagree. A chat session is
 * gone once expired (it can no longer be continued) or past retention,
 * and its messages with it; messages also go on their own past theirs. */
#define SESSIONS_GONE                                                          \
    "SELECT id FROM paa_chat_sessions WHERE created_at < %lld"                 \
    " OR expires_at <= %lld"
#define WHERE_MESSAGES                                                         \
    " FROM paa_chat_messages WHERE at < %lld OR session_id IN"                 \
    " (" SESSIONS_GONE ")"
#define WHERE_SESSIONS                                                         \
    " FROM paa_chat_sessions WHERE created_at < %lld OR expires_at <= %lld"
#define WHERE_MCP      " FROM paa_mcp_sessions WHERE created_at < %lld"
#define WHERE_AUDIT    " FROM paa_audit WHERE at < %lld"
#define WHERE_FAILOVER " FROM paa_failovers WHERE at < %lld"
#define WHERE_LOGINS   " FROM paa_login_failures WHERE at < %lld"

static const paa_stmt_t purge_count[PAA_PURGE_KINDS] = {
    {"paa_purge_n_messages", "SELECT count(*)" WHERE_MESSAGES},
    {"paa_purge_n_sessions", "SELECT count(*)" WHERE_SESSIONS},
    {"paa_purge_n_mcp", "SELECT count(*)" WHERE_MCP},
    {"paa_purge_n_audit", "SELECT count(*)" WHERE_AUDIT},
    {"paa_purge_n_failovers", "SELECT count(*)" WHERE_FAILOVER},
    {"paa_purge_n_logins", "SELECT count(*)" WHERE_LOGINS}};
/* Messages before sessions: they are found through them. */
static const paa_stmt_t purge_delete[PAA_PURGE_KINDS] = {
    {"paa_purge_messages", "DELETE" WHERE_MESSAGES},
    {"paa_purge_sessions", "DELETE" WHERE_SESSIONS},
    {"paa_purge_mcp", "DELETE" WHERE_MCP},
    {"paa_purge_audit", "DELETE" WHERE_AUDIT},
    {"paa_purge_failovers", "DELETE" WHERE_FAILOVER},
    {"paa_purge_logins", "DELETE" WHERE_LOGINS}};

const char *const paa_purge_kind_names[PAA_PURGE_KINDS] = {
    "chat messages", "chat sessions", "mcp sessions",
    "audit records", "failovers",     "login attempts"};

typedef struct {
    const paa_retention_t *keep;
    int dry_run;
    const paa_audit_t *record;
    int *counts;
} purge_baton_t;

/* A cut-off of 0 (kept forever) matches no row: times are positive. */
static int purge_args(apr_pool_t *p, const paa_retention_t *k, int kind,
                      const char **args)
{
    apr_int64_t cut = k->before[kind];
    apr_int64_t sessions = k->before[PAA_PURGE_SESSIONS];

    switch (kind) {
    case PAA_PURGE_MESSAGES:
        args[0] = paa_db_i64(p, cut);
        args[1] = paa_db_i64(p, sessions);
        args[2] = paa_db_i64(p, k->now);
        return 3;
    case PAA_PURGE_SESSIONS:
        args[0] = paa_db_i64(p, cut);
        args[1] = paa_db_i64(p, k->now);
        return 2;
    default:
        args[0] = paa_db_i64(p, cut);
        return 1;
    }
}

static apr_status_t purge_all(apr_pool_t *p, paa_db_t *db, void *baton)
{
    purge_baton_t *b = baton;
    int kind;

    for (kind = 0; kind < PAA_PURGE_KINDS; kind++) {
        const char *args[3];
        int n = purge_args(p, b->keep, kind, args);
        if (b->dry_run) {
            apr_dbd_results_t *res;
            apr_dbd_row_t *row = NULL;
            if (paa_db_select(p, db, &purge_count[kind], n, args, &res) !=
                APR_SUCCESS) {
                return APR_EGENERAL;
            }
            while (paa_db_next(p, db, res, &row)) {
                b->counts[kind] = (int)paa_db_int(db, row, 0);
            }
        }
        else if (paa_db_run(p, db, &purge_delete[kind], n, args,
                            &b->counts[kind]) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (b->record && !b->dry_run) {
        /* Written after the audit purge, so it is never its own victim;
         * its detail is what was deleted, known only now. */
        paa_audit_t rec = *b->record;
        rec.detail = apr_psprintf(
            p,
            "chat_messages=%d chat_sessions=%d mcp_sessions=%d audit=%d "
            "failovers=%d login_attempts=%d",
            b->counts[PAA_PURGE_MESSAGES], b->counts[PAA_PURGE_SESSIONS],
            b->counts[PAA_PURGE_MCP], b->counts[PAA_PURGE_AUDIT],
            b->counts[PAA_PURGE_FAILOVERS], b->counts[PAA_PURGE_LOGINS]);
        return paa_audit_add(p, db, &rec);
    }
    return APR_SUCCESS;
}

apr_status_t paa_retention_purge(apr_pool_t *p, paa_db_t *db,
                                 const paa_retention_t *keep, int dry_run,
                                 const paa_audit_t *record, int *counts)
{
    purge_baton_t b;

    memset(counts, 0, sizeof(int) * PAA_PURGE_KINDS);
    b.keep = keep;
    b.dry_run = dry_run;
    b.record = record;
    b.counts = counts;
    return dry_run ? purge_all(p, db, &b)
                   : paa_db_transaction(p, db, purge_all, &b);
}
