/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The GDPR export document, written in pieces through a callback so that
 * GET /api/me/export (ap_rwrite) and paactl user export (stdout) produce
 * the same document and neither holds a long history in memory: each page
 * of rows is read into a pool cleared before the next. Only what is the
 * subject's own is shown: in an audit record, the other party (an admin
 * acting on the user) is named only as "another principal". */

#include "paa.h"

#include <apr_strings.h>

#define EXPORT_PAGE 200 /* rows per store call */

typedef struct {
    apr_pool_t *page; /* cleared after each page */
    paa_db_t *db;
    const paa_export_t *who;
    paa_export_write_fn write;
    void *ctx;
    apr_status_t rv;
} export_t;

static void out(export_t *x, const char *s)
{
    if (x->rv == APR_SUCCESS) {
        x->rv = x->write(x->ctx, s, strlen(s));
    }
}

/* json_dumps, then the value released: one row at a time. */
static void out_json(export_t *x, json_t *j)
{
    char *s =
        json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(j);
    if (!s) {
        x->rv = APR_ENOMEM;
        return;
    }
    out(x, s);
    free(s);
}

/* Stored text may predate UTF-8 escaping; jansson refuses such bytes. */
static json_t *text(apr_pool_t *p, const char *s)
{
    return s ? json_string(paa_utf8_escape(p, s)) : json_null();
}

static json_t *when(apr_pool_t *p, apr_int64_t t)
{
    return t ? json_string(paa_iso_time(p, t)) : json_null();
}

/* The subject's own id, or who it is not. */
static json_t *party(export_t *x, const char *id)
{
    if (!*id) {
        return json_null();
    }
    return json_string(strcmp(id, x->who->id) ? "another principal" : id);
}

static void user_part(export_t *x, const paa_user_t *u)
{
    out(x, ",\"user\":");
    if (!u) {
        out(x, "null");
        return;
    }
    out_json(x, json_pack("{s:o, s:o, s:o, s:b, s:o, s:o}", "id",
                          text(x->page, u->id), "username",
                          text(x->page, u->username), "roles",
                          text(x->page, u->roles), "disabled", u->disabled,
                          "createdAt", when(x->page, u->created_at),
                          "updatedAt", when(x->page, u->updated_at)));
}

/* Key metadata: never the hash, and not who created it (an admin). */
static void key_part(export_t *x, const paa_key_t *k)
{
    out(x, ",\"apiKey\":");
    if (!k) {
        out(x, "null");
        return;
    }
    out_json(
        x, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     text(x->page, k->id), "prefix", text(x->page, k->prefix),
                     "name", text(x->page, k->name), "client",
                     text(x->page, k->client), "roles", text(x->page, k->roles),
                     "createdAt", when(x->page, k->created_at), "expiresAt",
                     when(x->page, k->expires_at), "revokedAt",
                     when(x->page, k->revoked_at), "lastUsedAt",
                     when(x->page, k->last_used_at), "rotatedFrom",
                     text(x->page, k->rotated_from)));
}

static void messages_part(export_t *x, const char *session)
{
    apr_pool_t *sub = NULL;
    apr_array_header_t *rows;
    apr_int64_t after = 0;
    int i, first = 1;

    apr_pool_create(&sub, x->page);
    out(x, ",\"messages\":[");
    do {
        apr_pool_clear(sub);
        if (paa_gdpr_chat_messages(sub, x->db, session, after, EXPORT_PAGE,
                                   &rows) != APR_SUCCESS) {
            x->rv = APR_EGENERAL;
            break;
        }
        for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
            paa_chat_message_t *m = &APR_ARRAY_IDX(rows, i, paa_chat_message_t);
            out(x, first ? "" : ",");
            first = 0;
            out_json(x, json_pack("{s:o, s:o, s:o}", "role", text(sub, m->role),
                                  "content", text(sub, m->content), "at",
                                  when(sub, m->at)));
            after = m->id;
        }
    } while (x->rv == APR_SUCCESS && rows->nelts == EXPORT_PAGE);
    out(x, "]");
    apr_pool_destroy(sub);
}

static void chat_part(export_t *x)
{
    apr_array_header_t *rows;
    const char *after = "";
    int i, first = 1;

    out(x, ",\"chatSessions\":[");
    do {
        apr_pool_clear(x->page);
        if (paa_gdpr_chat_sessions(x->page, x->db, x->who->id, after,
                                   EXPORT_PAGE, &rows) != APR_SUCCESS) {
            x->rv = APR_EGENERAL;
            break;
        }
        for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
            paa_chat_session_t *s = &APR_ARRAY_IDX(rows, i, paa_chat_session_t);
            out(x, first ? "{\"id\":" : ",{\"id\":");
            first = 0;
            out_json(x, text(x->page, s->id));
            out(x, ",\"agentId\":");
            out_json(x, text(x->page, s->agent_id));
            out(x, ",\"createdAt\":");
            out_json(x, when(x->page, s->created_at));
            out(x, ",\"expiresAt\":");
            out_json(x, when(x->page, s->expires_at));
            messages_part(x, s->id);
            out(x, "}");
        }
        after = rows->nelts ? apr_pstrdup(x->who->pool,
                                          APR_ARRAY_IDX(rows, rows->nelts - 1,
                                                        paa_chat_session_t)
                                              .id)
                            : after;
    } while (x->rv == APR_SUCCESS && rows->nelts == EXPORT_PAGE);
    out(x, "]");
}

static void mcp_part(export_t *x)
{
    apr_array_header_t *rows;
    const char *after = "";
    int i, first = 1;

    out(x, ",\"mcpSessions\":[");
    do {
        apr_pool_clear(x->page);
        if (paa_gdpr_mcp_sessions(x->page, x->db, x->who->id, after,
                                  EXPORT_PAGE, &rows) != APR_SUCCESS) {
            x->rv = APR_EGENERAL;
            break;
        }
        for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
            paa_mcp_session_t *s = &APR_ARRAY_IDX(rows, i, paa_mcp_session_t);
            out(x, first ? "" : ",");
            first = 0;
            out_json(x, json_pack("{s:o, s:o, s:o}", "id", text(x->page, s->id),
                                  "protocolVersion",
                                  text(x->page, s->protocol_version),
                                  "createdAt", when(x->page, s->created_at)));
        }
        after = rows->nelts ? apr_pstrdup(x->who->pool,
                                          APR_ARRAY_IDX(rows, rows->nelts - 1,
                                                        paa_mcp_session_t)
                                              .id)
                            : after;
    } while (x->rv == APR_SUCCESS && rows->nelts == EXPORT_PAGE);
    out(x, "]");
}

static void revoked_part(export_t *x)
{
    apr_array_header_t *rows;
    const char *after = "";
    int i, first = 1;

    out(x, ",\"revokedTokens\":[");
    do {
        apr_pool_clear(x->page);
        if (paa_tokens_revoked_of(x->page, x->db, x->who->id, after,
                                  EXPORT_PAGE, &rows) != APR_SUCCESS) {
            x->rv = APR_EGENERAL;
            break;
        }
        for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
            paa_revoked_token_t *t =
                &APR_ARRAY_IDX(rows, i, paa_revoked_token_t);
            out(x, first ? "" : ",");
            first = 0;
            out_json(x, json_pack("{s:o, s:o, s:o, s:o}", "jti",
                                  text(x->page, t->jti), "revokedAt",
                                  when(x->page, t->revoked_at), "expiresAt",
                                  when(x->page, t->expires_at), "reason",
                                  text(x->page, t->reason)));
        }
        /* The next page's cursor, in a pool the pages do not clear: one
         * copy a page. */
        after = rows->nelts ? apr_pstrdup(x->who->pool,
                                          APR_ARRAY_IDX(rows, rows->nelts - 1,
                                                        paa_revoked_token_t)
                                              .jti)
                            : after;
    } while (x->rv == APR_SUCCESS && rows->nelts == EXPORT_PAGE);
    out(x, "]");
}

static void consent_part(export_t *x)
{
    apr_array_header_t *rows;
    int i;

    apr_pool_clear(x->page);
    out(x, ",\"consents\":[");
    if (paa_gdpr_consents(x->page, x->db, x->who->id, &rows) != APR_SUCCESS) {
        x->rv = APR_EGENERAL;
        return;
    }
    for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
        paa_consent_t *c = &APR_ARRAY_IDX(rows, i, paa_consent_t);
        out(x, i ? "," : "");
        out_json(x,
                 json_pack("{s:o, s:o}", "version", text(x->page, c->version),
                           "acceptedAt", when(x->page, c->accepted_at)));
    }
    out(x, "]");
}

static void audit_part(export_t *x)
{
    apr_array_header_t *rows;
    apr_int64_t after = 0;
    int i, first = 1;

    out(x, ",\"audit\":[");
    do {
        apr_pool_clear(x->page);
        if (paa_gdpr_audit(x->page, x->db, x->who->id, after, EXPORT_PAGE,
                           &rows) != APR_SUCCESS) {
            x->rv = APR_EGENERAL;
            break;
        }
        for (i = 0; i < rows->nelts && x->rv == APR_SUCCESS; i++) {
            paa_audit_t *a = &APR_ARRAY_IDX(rows, i, paa_audit_t);
            int own = !strcmp(a->actor, x->who->id);
            out(x, first ? "" : ",");
            first = 0;
            /* The client address is the actor's: shown only when that is
             * the subject of the export. */
            out_json(x,
                     json_pack(
                         "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "at",
                         when(x->page, a->at), "event", text(x->page, a->event),
                         "outcome", text(x->page, a->outcome), "actor",
                         party(x, a->actor), "subject", party(x, a->subject),
                         "keyId",
                         *a->key_id ? text(x->page, a->key_id) : json_null(),
                         "clientIp",
                         own && *a->client_ip ? text(x->page, a->client_ip)
                                              : json_null(),
                         "detail", text(x->page, a->detail)));
            after = a->id;
        }
    } while (x->rv == APR_SUCCESS && rows->nelts == EXPORT_PAGE);
    out(x, "]");
}

apr_status_t paa_gdpr_export(paa_db_t *db, const paa_export_t *who,
                             paa_export_write_fn write, void *ctx)
{
    paa_user_t u;
    paa_key_t k;
    int user_found = 0, key_found = 0;
    export_t x;

    memset(&x, 0, sizeof(x));
    x.db = db;
    x.who = who;
    x.write = write;
    x.ctx = ctx;
    /* Both lookups before the first byte: a database that is down is
     * still reported as an error rather than as a cut document. */
    if (paa_users_by_id(who->pool, db, who->id, &u, &user_found) !=
            APR_SUCCESS ||
        paa_keys_get(who->pool, db, who->id, &k, &key_found) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    apr_pool_create(&x.page, who->pool);
    out(&x, "{\"exportedAt\":");
    out_json(&x, when(who->pool, who->now));
    out(&x, ",\"principal\":");
    out_json(&x, json_pack("{s:o, s:o}", "id", text(who->pool, who->id),
                           "method", text(who->pool, who->method)));
    user_part(&x, user_found ? &u : NULL);
    key_part(&x, key_found ? &k : NULL);
    out(&x, ",\"apiKeysNote\":\"API keys are issued to clients by an "
            "administrator and are not linked to user accounts; a key's own "
            "metadata is under apiKey when the key itself asks\"");
    chat_part(&x);
    mcp_part(&x);
    revoked_part(&x);
    consent_part(&x);
    audit_part(&x);
    out(&x, "}\n");
    apr_pool_destroy(x.page);
    return x.rv;
}
