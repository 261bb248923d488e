/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Every error answered from a mod_paa location is RFC 9457 problem+json,
 * whoever produced the status: our hooks (401, 403, 429), httpd's core
 * (404, 405, 413) or a failing handler (500). insert_error_filter runs
 * before httpd looks up the error text, so a custom response set there
 * replaces the stock HTML; a content-set filter then fixes the type that
 * ap_send_error_response forces to text/html. An ErrorDocument the admin
 * configured always wins. */

#include "paa_private.h"

#include "mod_core.h"

#include <apr_strings.h>

ap_filter_rec_t *paa_problem_filter_handle;

static int enabled(request_rec *r)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    core_dir_config *core;
    const char *type;

    if (d->enable != PAA_UNSET) {
        return d->enable;
    }
    type = ap_auth_type(r);
    if (type && !strcasecmp(type, PAA_AUTH_TYPE)) {
        return 1;
    }
    if (r->handler) {
        return !strcmp(r->handler, PAA_HANDLER);
    }
    /* Before fixups SetHandler has not been applied yet: look at it. */
    core = ap_get_core_module_config(r->per_dir_config);
    if (core && core->expr_handler) {
        const char *err = NULL;
        const char *h = ap_expr_str_exec(r, core->expr_handler, &err);
        return h && !strcmp(h, PAA_HANDLER);
    }
    return 0;
}

/* Asked by several phases of one request; the location is final once
 * the request is parsed, before any of them runs. */
int paa_enabled(request_rec *r)
{
    paa_req_t *ctx = paa_req(r);
    if (ctx->enabled == PAA_UNSET) {
        ctx->enabled = enabled(r);
    }
    return ctx->enabled;
}

static request_rec *top(request_rec *r)
{
    while (r->main) {
        r = r->main;
    }
    return r;
}

int paa_error(request_rec *r, int status, const char *detail)
{
    request_rec *main = top(r);
    paa_req(main)->detail = detail ? apr_pstrdup(main->pool, detail) : NULL;
    return status;
}

/* The detail noted for this response: by the request itself, or by the
 * one an ErrorDocument or internal redirect came from. */
static const char *noted_detail(request_rec *r)
{
    const char *detail = paa_req(top(r))->detail;
    if (!detail && r->prev) {
        detail = paa_req(top(r->prev))->detail;
    }
    return detail;
}

apr_status_t paa_problem_type_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/problem+json");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void paa_insert_error_filter(request_rec *r)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    const char *detail, *problem;
    int idx;

    if (!ap_is_HTTP_ERROR(r->status)) {
        return;
    }
    /* httpd can refuse a request before any location is known (a bad
     * path, an encoded slash: the request still has the server's defaults
     * as its configuration): on a server where mod_paa is configured
     * those answers carry the security headers too. An error of a
     * location that does not use mod_paa (a static site's 404) is left
     * as it was. */
    if (!apr_table_get(r->err_headers_out, "X-Content-Type-Options") &&
        ((sc->configured && r->per_dir_config == r->server->lookup_defaults) ||
         paa_enabled(r))) {
        paa_policy_security_headers(r);
    }
    if (!paa_enabled(r)) {
        return;
    }
    idx = ap_index_of_response(r->status);
    if (ap_response_code_string(r, idx)) {
        return;
    }
    problem = paa_req(top(r))->problem;
    detail = noted_detail(r);
    ap_custom_response(
        r, r->status,
        problem && r->status == paa_req(top(r))->problem_status
            ? problem
            : paa_problem_json(r->pool, r->status, NULL, detail, r->uri));
    ap_add_output_filter_handle(paa_problem_filter_handle, NULL, r,
                                r->connection);
}
