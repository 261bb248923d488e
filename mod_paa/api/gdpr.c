/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* GET /api/me/export and DELETE /api/me: the caller's own data, exported
 * or erased (the GDPR's access and erasure rights). The export is streamed
 * as core/export.c writes it, flushed every EXPORT_FLUSH bytes, so that a
 * long chat history costs neither memory nor a timeout. Erasure is for
 * user accounts only: an API key is a client's credential, revoked by an
 * administrator, and deleting its history would let a client erase the
 * audit trail of what it did. */

#include "../paa_private.h"

#include <apr_strings.h>

#define EXPORT_FLUSH 65536

typedef struct {
    request_rec *r;
    apr_size_t unflushed;
} export_out_t;

static apr_status_t export_write(void *ctx, const char *buf, apr_size_t len)
{
    export_out_t *o = ctx;

    if (ap_rwrite(buf, (int)len, o->r) < 0) {
        return APR_EGENERAL; /* the client went away */
    }
    o->unflushed += len;
    if (o->unflushed >= EXPORT_FLUSH) {
        o->unflushed = 0;
        if (ap_rflush(o->r) < 0) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

int paa_api_me_export(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    export_out_t o = {r, 0};
    paa_export_t who;
    paa_db_t *db;
    apr_status_t rv;

    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    if (!pr) {
        /* Only reachable when the location lets anonymous requests in. */
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    if (!(db = paa_db(r))) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the data store is unavailable");
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   "attachment; filename=\"paa-export.json\"");
    if (r->header_only) {
        return OK;
    }
    who.pool = r->pool;
    who.id = pr->id;
    who.method = pr->method;
    who.now = apr_time_sec(r->request_time);
    rv = paa_gdpr_export(db, &who, export_write, &o);
    if (rv != APR_SUCCESS && !r->sent_bodyct && !r->bytes_sent) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the data store is unavailable");
    }
    if (rv != APR_SUCCESS) {
        /* The status line is gone: closing the connection cuts the
         * document, which a client then cannot mistake for a whole one. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      PAALOGNO(01301) "export for %s cut short", pr->id);
        r->connection->keepalive = AP_CONN_CLOSE;
        r->connection->aborted = 1;
        return OK;
    }
    paa_audit(r, "user.export", "success", pr->id, pr->key_id, NULL);
    return OK;
}

int paa_api_me_erase(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    paa_gdpr_erased_t erased;
    const char *pseudonym;
    paa_audit_t rec;
    paa_db_t *db;

    if (!pr) {
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    if (strcmp(pr->method, "jwt")) {
        return paa_send_problem(r, HTTP_FORBIDDEN,
                                "only a user account can be erased; an API "
                                "key is revoked by an administrator");
    }
    if (!sc->jwt.key || !paa_jwt_alg_is_hmac(sc->jwt.alg) ||
        !(pseudonym =
              paa_pseudonym(r->pool, sc->jwt.key, sc->jwt.key_len, pr->id))) {
        /* Without the shared secret the pseudonym would not be the one
         * paactl computes: refuse rather than scatter two names. */
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "erasure needs an HMAC PAAJWTSecret");
    }
    if (!(db = paa_db(r))) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the data store is unavailable");
    }
    memset(&rec, 0, sizeof(rec));
    rec.at = apr_time_sec(r->request_time);
    rec.event = "user.erase";
    rec.outcome = "success";
    rec.actor = pseudonym;
    rec.subject = pseudonym;
    rec.client_ip = r->useragent_ip;
    rec.detail = "erased at the user's request";
    if (paa_gdpr_erase(r->pool, db, pr->id, pseudonym, &rec, &erased) !=
        APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the data store is unavailable");
    }
    /* The token stays signed but names a user that no longer exists:
     * authentication refuses it from the next request on. */
    r->status = HTTP_NO_CONTENT;
    return OK;
}
