/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* GET /api/me/export and DELETE /api/me: the caller's own data, exported
 * or erased (the GDPR's access and erasure rights); GET and POST
 * /api/me/consent: the terms version a user accepted (PAAConsentRequired). The
 * export is streamed as core/export.c writes it, flushed every EXPORT_FLUSH
 * bytes, so that a long chat history costs neither memory nor a timeout.
 * Erasure is for user accounts only: an API key is a client's credential,
 * revoked by an administrator, and deleting its history would let a client
 * erase the audit trail of what it did. */

#include "../paa_private.h"

#include <apr_strings.h>

#define EXPORT_FLUSH     65536
#define CONSENT_BODY_MAX 1024

typedef struct {
    request_rec *r;
    apr_size_t unflushed;
    apr_size_t written; /* 0: nothing is buffered yet, an error can go */
} export_out_t;

static apr_status_t export_write(void *ctx, const char *buf, apr_size_t len)
{
    export_out_t *o = ctx;

    if (ap_rwrite(buf, (int)len, o->r) < 0) {
        return APR_EGENERAL; /* the client went away */
    }
    o->unflushed += len;
    o->written += len;
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
    export_out_t o = {r, 0, 0};
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
    if (rv != APR_SUCCESS && !o.written) {
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

int paa_consent_check(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_int64_t at = 0;
    paa_db_t *db;
    int found = 0;

    if (!sc->consent_version || !pr || strcmp(pr->method, "jwt")) {
        return OK;
    }
    if (!(db = paa_db(r)) ||
        paa_consent_get(r->pool, db, pr->id, sc->consent_version, &at,
                        &found) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the consent store is unavailable");
    }
    if (found) {
        return OK;
    }
    paa_req(r)->problem = paa_problem_json_typed(
        r->pool, HTTP_FORBIDDEN, PAA_CONSENT_PROBLEM,
        apr_psprintf(r->pool,
                     "accept the data-processing terms version %s first: "
                     "POST /api/me/consent {\"version\":\"%s\"}",
                     sc->consent_version, sc->consent_version),
        r->uri);
    paa_req(r)->problem_status = HTTP_FORBIDDEN;
    return paa_send_problem(r, HTTP_FORBIDDEN, "consent required");
}

/* {"version": "..."}: the version the user read and accepts. */
static int consent_post(request_rec *r, const paa_principal_t *pr,
                        const char *required)
{
    json_t *body = NULL, *errors, *v;
    const char *key, *version = NULL;
    apr_int64_t at = apr_time_sec(r->request_time);
    paa_db_t *db;
    int rc, added = 0;

    if ((rc = paa_read_json(r, CONSENT_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    errors = json_array();
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "version")) {
            json_array_append_new(errors, json_pack("{s:s, s:s}", "field", key,
                                                    "message",
                                                    "is not a consent field"));
        }
    }
    v = json_object_get(body, "version");
    if (!json_is_string(v)) {
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "field", "version",
                                        "message", "must be a string"));
    }
    else {
        version = apr_pstrdup(r->pool, json_string_value(v));
        /* Only the version in force can be accepted: consent to terms the
         * server does not show is no consent. */
        if (!required || strcmp(version, required)) {
            json_array_append_new(
                errors,
                json_pack("{s:s, s:s}", "field", "version", "message",
                          required ? apr_psprintf(r->pool,
                                                  "must be the terms version "
                                                  "in force, %s",
                                                  required)
                                   : "no consent is asked for here"));
        }
    }
    json_decref(body);
    if (json_array_size(errors)) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    if (!(db = paa_db(r)) || paa_consent_accept(r->pool, db, pr->id, version,
                                                at, &added) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the consent store is unavailable");
    }
    if (added) {
        paa_audit(r, "consent.accept", "success", pr->id, NULL,
                  apr_pstrcat(r->pool, "version=", version, NULL));
    }
    return paa_send_json(
        r, added ? HTTP_CREATED : HTTP_OK,
        json_pack("{s:s, s:b}", "version", version, "accepted", 1));
}

int paa_api_me_consent(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    const char *required = sc->consent_version;
    apr_int64_t at = 0;
    paa_db_t *db;
    int found = 0;

    if (r->method_number != M_GET && r->method_number != M_POST) {
        return paa_method_not_allowed(r, "GET, HEAD, POST");
    }
    if (!pr) {
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    if (strcmp(pr->method, "jwt")) {
        return paa_send_problem(r, HTTP_FORBIDDEN,
                                "consent is given by a user; an API key is a "
                                "client's and is never asked");
    }
    if (r->method_number == M_POST) {
        return consent_post(r, pr, required);
    }
    if (required &&
        (!(db = paa_db(r)) || paa_consent_get(r->pool, db, pr->id, required,
                                              &at, &found) != APR_SUCCESS)) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the consent store is unavailable");
    }
    return paa_send_json(
        r, HTTP_OK,
        json_pack("{s:o, s:b}", "required",
                  required ? json_string(required) : json_null(), "accepted",
                  !required || found));
}
