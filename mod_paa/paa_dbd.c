/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_dbd glue. Statements are registered once at startup for every
 * virtual host, because mod_dbd prepares them on each new connection and
 * copies its list at vhost merge time (before our post_config runs).
 * The SQL must prepare on both sqlite3 and pgsql: one failing statement
 * breaks every connection of that server. Integers are %d or %lld because
 * pgsql types %s as varchar. */

#include "paa_private.h"

#include "ap_mpm.h"
#include <apr_optional.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * dbd_prepare_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire_fn;

typedef struct {
    const char *label;
    const char *sql;
} paa_statement_t;

static const paa_statement_t statements[] = {
    {"paa_schema_version", "SELECT max(version) FROM paa_schema"},
    {"paa_key_by_hash", "SELECT id, name, client, roles, expires_at, revoked_at"
                        " FROM paa_api_keys WHERE key_hash = %s"},
    {"paa_key_touch", "UPDATE paa_api_keys SET last_used_at = %lld"
                      " WHERE id = %s"},
    {"paa_user_by_id",
     "SELECT id, username, roles, disabled FROM paa_users WHERE id = %s"},
    {"paa_user_by_name", "SELECT id, username, roles, disabled, password_hash"
                         " FROM paa_users WHERE username = %s"},
    {"paa_audit_insert", paa_audit_insert_sql},
    {"paa_login_failures",
     "SELECT count(*), min(at) FROM paa_login_failures"
     " WHERE username = %s AND client = %s AND at > %lld"},
    {"paa_login_failure_add",
     "INSERT INTO paa_login_failures (id, username, client, at)"
     " VALUES (%s, %s, %s, %lld)"},
    {"paa_login_attempt_del", "DELETE FROM paa_login_failures WHERE id = %s"},
    {"paa_login_client_failures",
     "SELECT count(*) FROM paa_login_failures WHERE client = %s AND at > %lld"},
    {"paa_login_purge",
     "DELETE FROM paa_login_failures WHERE client = %s AND at <= %lld"},
    {"paa_login_failures_clear", "DELETE FROM paa_login_failures"
                                 " WHERE username = %s AND client = %s"},
#define PERSONA_COLUMNS                                                        \
    "id, name, description, extra_instructions, knowledge_category,"           \
    " temperature, max_tokens, created_at, updated_at"
    {"paa_persona_count", "SELECT count(*) FROM paa_personas"},
    {"paa_persona_page", "SELECT " PERSONA_COLUMNS " FROM paa_personas"
                         " ORDER BY id LIMIT %d OFFSET %d"},
    {"paa_persona_get",
     "SELECT " PERSONA_COLUMNS " FROM paa_personas WHERE id = %s"},
    {"paa_persona_insert", "INSERT INTO paa_personas (" PERSONA_COLUMNS ")"
                           " VALUES (%s, %s, %s, %s, %s, %lf, %d, %lld, %lld)"},
    {"paa_persona_update",
     "UPDATE paa_personas SET name = %s, description = %s,"
     " extra_instructions = %s, knowledge_category = %s, temperature = %lf,"
     " max_tokens = %d, updated_at = %lld WHERE id = %s"},
    {"paa_persona_delete", "DELETE FROM paa_personas WHERE id = %s"},
    {"paa_session_get", "SELECT principal, agent_id, expires_at"
                        " FROM paa_chat_sessions WHERE id = %s"},
    {"paa_session_insert",
     "INSERT INTO paa_chat_sessions (id, principal, agent_id, created_at,"
     " expires_at) VALUES (%s, %s, %s, %lld, %lld)"},
    {"paa_session_history",
     "SELECT role, content FROM paa_chat_messages WHERE session_id = %s"
     " ORDER BY id DESC LIMIT %d"},
    {"paa_message_insert", "INSERT INTO paa_chat_messages (session_id, role,"
                           " content, at) VALUES (%s, %s, %s, %lld)"},
    {"paa_mcp_session_get",
     "SELECT principal, protocol_version FROM paa_mcp_sessions"
     " WHERE id = %s AND created_at > %lld"},
    {"paa_mcp_session_insert",
     "INSERT INTO paa_mcp_sessions (id, principal, protocol_version,"
     " created_at) VALUES (%s, %s, %s, %lld)"},
    {"paa_mcp_session_delete",
     "DELETE FROM paa_mcp_sessions WHERE id = %s AND principal = %s"},
    {"paa_failover_insert",
     "INSERT INTO paa_failovers (at, failed_provider, reason, answered_by)"
     " VALUES (%lld, %s, %s, %s)"},
    {NULL, NULL}};

int paa_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    server_rec *vs;
    const paa_statement_t *st;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!dbd_prepare_fn || !dbd_acquire_fn) {
        /* Health still works without a database; readiness says 503. */
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, s,
            PAALOGNO(
                00101) "mod_dbd is not loaded: mod_paa has no database "
                       "(LoadModule dbd_module and set DBDriver/DBDParams)");
        dbd_prepare_fn = NULL;
        dbd_acquire_fn = NULL;
        return OK;
    }
    for (vs = s; vs; vs = vs->next) {
        for (st = statements; st->label; st++) {
            dbd_prepare_fn(vs, st->sql, st->label);
        }
    }
    return OK;
}

#define PAA_DBD_ACQUIRE_TRIES 3

ap_dbd_t *paa_dbd_acquire(request_rec *r)
{
    ap_dbd_t *dbd;
    int attempt;
    if (!dbd_acquire_fn) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00102) "no database: mod_dbd is not loaded");
        return NULL;
    }
    /* mod_dbd discards one dead pooled connection per failed acquire; after
     * a database restart a few retries flush the stale ones so that the
     * first request does not fail needlessly. */
    for (attempt = 0; attempt < PAA_DBD_ACQUIRE_TRIES; attempt++) {
        if ((dbd = dbd_acquire_fn(r)) != NULL) {
            return dbd;
        }
    }
    ap_log_rerror(
        APLOG_MARK, APLOG_ERR, 0, r,
        PAALOGNO(00103) "cannot acquire a database connection from mod_dbd "
                        "(is the database reachable and initialised with "
                        "'paactl init'?)");
    return NULL;
}

static apr_dbd_prepared_t *statement(request_rec *r, ap_dbd_t *dbd,
                                     const char *label)
{
    apr_dbd_prepared_t *stmt =
        apr_hash_get(dbd->prepared, label, APR_HASH_KEY_STRING);
    if (!stmt) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            PAALOGNO(
                00104) "prepared statement %s is missing (did 'paactl init' "
                       "run on this database?)",
            label);
    }
    return stmt;
}

/* apr_dbd_pgsql's connection check silently reconnects (PQreset), and the
 * new session has none of the statements mod_dbd prepared: every query
 * then fails with "prepared statement does not exist" for the life of
 * the pooled connection. After a failure, prepare ours again on this
 * connection (it is ours alone for the request) and retry once. */
static int reprepare(request_rec *r, ap_dbd_t *dbd)
{
    const paa_statement_t *st;
    for (st = statements; st->label; st++) {
        apr_dbd_prepared_t *stmt = NULL;
        if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, st->sql,
                            st->label, &stmt) != 0) {
            return 0;
        }
        apr_hash_set(dbd->prepared, st->label, APR_HASH_KEY_STRING, stmt);
    }
    ap_log_rerror(
        APLOG_MARK, APLOG_INFO, 0, r,
        PAALOGNO(
            00105) "prepared statements restored on a reconnected database "
                   "connection");
    return 1;
}

/* Only pgsql loses statements behind our back; on SQLite a failure (busy,
 * a constraint) says nothing about them, and preparing again would only
 * grow the connection's pool. */
static int reprepare_needed(ap_dbd_t *dbd)
{
    return !strcmp(apr_dbd_name(dbd->driver), "pgsql");
}

static void log_db_error(request_rec *r, ap_dbd_t *dbd, const char *label,
                         int rv)
{
    const char *m = apr_dbd_error(dbd->driver, dbd->handle, rv);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PAALOGNO(00106) "database statement %s failed: %s", label,
                  m ? m : "unknown error");
}

apr_status_t paa_dbd_select(request_rec *r, ap_dbd_t *dbd, const char *label,
                            apr_dbd_results_t **res, int nargs,
                            const char **args)
{
    apr_dbd_prepared_t *stmt = statement(r, dbd, label);
    int rv;

    *res = NULL;
    if (!stmt) {
        return APR_EGENERAL;
    }
    /* Random access: pgsql in sequential mode hides errors as no rows. */
    rv = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, res, stmt, 1, nargs,
                         args);
    if (rv != 0 && reprepare_needed(dbd) && reprepare(r, dbd)) {
        stmt = statement(r, dbd, label);
        rv = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, res, stmt, 1,
                             nargs, args);
    }
    if (rv != 0) {
        log_db_error(r, dbd, label, rv);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t paa_dbd_query(request_rec *r, ap_dbd_t *dbd, const char *label,
                           int *nrows, int nargs, const char **args)
{
    apr_dbd_prepared_t *stmt = statement(r, dbd, label);
    int rv, n = 0;

    if (!stmt) {
        return APR_EGENERAL;
    }
    rv = apr_dbd_pquery(dbd->driver, r->pool, dbd->handle, &n, stmt, nargs,
                        args);
    if (rv != 0 && reprepare_needed(dbd) && reprepare(r, dbd)) {
        stmt = statement(r, dbd, label);
        rv = apr_dbd_pquery(dbd->driver, r->pool, dbd->handle, &n, stmt, nargs,
                            args);
    }
    if (rv != 0) {
        log_db_error(r, dbd, label, rv);
        return APR_EGENERAL;
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}
