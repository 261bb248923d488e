/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Edge policy for mod_paa locations, applied in header_parser: after the
 * location is known, before authentication (a CORS preflight carries no
 * credentials and must be answered first). Security headers go into
 * err_headers_out, which httpd sends with every response, 401, 413, 429
 * and 500 included; a filter removes a proxied backend's own copies so
 * that ours are the only ones. */

#include "paa_private.h"

#include "http_ssl.h"
#include "apr_strings.h"
#include "apr_lib.h"

#define PAA_DEFAULT_MAX_AGE   600
#define PAA_CORS_METHODS      "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
#define PAA_CORS_BASE_HEADERS "Content-Type, Authorization, X-API-Key"
#define PAA_CORS_EXPOSE                                                        \
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, "     \
    "Mcp-Session-Id, WWW-Authenticate"

ap_filter_rec_t *paa_headers_filter_handle;

static const char *const security_header_names[] = {
    "Content-Security-Policy",   "X-Frame-Options",
    "X-Content-Type-Options",    "Referrer-Policy",
    "Strict-Transport-Security", NULL};

static paa_dir_conf *dconf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &paa_module);
}

static void set_security_headers(request_rec *r, int https);

static paa_srv_conf *sconf(request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &paa_module);
}

apr_off_t paa_max_body(request_rec *r)
{
    apr_off_t m = dconf(r)->max_body;
    return m > 0 ? m : PAA_DEFAULT_MAX_BODY;
}

/* The TCP peer (not a client-supplied X-Forwarded-For) must be a
 * configured proxy for its X-Forwarded-Proto to count. */
static int from_trusted_proxy(request_rec *r)
{
    apr_array_header_t *tp = sconf(r)->trusted_proxies;
    apr_sockaddr_t *peer = r->connection->client_addr;
    int i;
    for (i = 0; tp && peer && i < tp->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(tp, i, apr_ipsubnet_t *), peer)) {
            return 1;
        }
    }
    return 0;
}

static int is_https(request_rec *r)
{
    const char *xfp;
    if (ap_ssl_conn_is_ssl(r->connection)) {
        return 1;
    }
    xfp = apr_table_get(r->headers_in, "X-Forwarded-Proto");
    return xfp && !strcasecmp(xfp, "https") && from_trusted_proxy(r);
}

const char *paa_public_url(request_rec *r, const char *scheme, const char *path)
{
    const char *base = sconf(r)->public_url, *host;
    apr_port_t port, dflt;

    if (base) {
        return apr_pstrcat(r->pool, base, path, NULL);
    }
    scheme = scheme ? scheme : paa_request_is_https(r) ? "https" : "http";
    dflt = strcmp(scheme, "https") ? 80 : 443;
    host = r->server->server_hostname ? r->server->server_hostname
                                      : r->connection->local_ip;
    /* A scheme change (the HTTPS redirect) cannot know the other port. */
    port = !strcmp(scheme, paa_request_is_https(r) ? "https" : "http")
               ? (r->server->port ? r->server->port
                                  : r->connection->local_addr->port)
               : dflt;
    return apr_psprintf(
        r->pool, "%s://%s%s%s%s", scheme, strchr(host, ':') ? "[" : "", host,
        strchr(host, ':') ? "]" : "",
        port == dflt ? path : apr_psprintf(r->pool, ":%u%s", port, path));
}

int paa_request_is_https(request_rec *r)
{
    paa_req_t *ctx = paa_req(r);
    if (ctx->https == PAA_UNSET) {
        ctx->https = is_https(r);
    }
    return ctx->https;
}

void paa_policy_security_headers(request_rec *r)
{
    set_security_headers(r, paa_request_is_https(r));
}

static void set_security_headers(request_rec *r, int https)
{
    paa_dir_conf *d = dconf(r);
    apr_table_t *h = r->err_headers_out;

    if (d->security_headers == 0) {
        return;
    }
    apr_table_setn(h, "Content-Security-Policy",
                   d->csp ? d->csp : PAA_DEFAULT_CSP);
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "Referrer-Policy",
                   d->referrer_policy ? d->referrer_policy
                                      : PAA_DEFAULT_REFERRER);
    /* RFC 6797 7.2: never over plain HTTP */
    if (https) {
        apr_table_setn(h, "Strict-Transport-Security",
                       "max-age=31536000; includeSubDomains");
    }
}

static const apr_array_header_t *allowlist(request_rec *r)
{
    paa_dir_conf *d = dconf(r);
    return d->cors_origins ? d->cors_origins : sconf(r)->env_cors;
}

int paa_origin_ok(request_rec *r, const char *origin)
{
    const apr_array_header_t *allow = allowlist(r);
    return allow && paa_origin_allowed(r->pool, allow, origin);
}

static int any_origin(const apr_array_header_t *a)
{
    int i;
    for (i = 0; i < a->nelts; i++) {
        if (APR_ARRAY_IDX(a, i, paa_origin_t).any) {
            return 1;
        }
    }
    return 0;
}

/* Allowed origin headers on a response; credentials only ever go with an
 * explicit origin from the list, never with "*". */
static void allow_origin(request_rec *r, const char *origin,
                         const apr_array_header_t *allow)
{
    paa_dir_conf *d = dconf(r);
    int wildcard = any_origin(allow);

    if (wildcard && d->cors_credentials != 1) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", "*");
        return;
    }
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    if (d->cors_credentials == 1 && !wildcard) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Credentials",
                       "true");
    }
}

static int preflight(request_rec *r, const char *origin,
                     const apr_array_header_t *allow)
{
    paa_dir_conf *d = dconf(r);
    const char *headers = PAA_CORS_BASE_HEADERS;
    int i;

    if (!origin || !paa_origin_allowed(r->pool, allow, origin)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      PAALOGNO(00801) "CORS preflight refused for origin %s",
                      origin ? origin : "(none)");
        return paa_error(r, HTTP_FORBIDDEN,
                         "this origin is not allowed to call this API");
    }
    for (i = 0; d->cors_headers && i < d->cors_headers->nelts; i++) {
        headers =
            apr_pstrcat(r->pool, headers, ", ",
                        APR_ARRAY_IDX(d->cors_headers, i, const char *), NULL);
    }
    allow_origin(r, origin, allow);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                   PAA_CORS_METHODS);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", headers);
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age",
                   apr_itoa(r->pool, d->cors_max_age != PAA_UNSET
                                         ? d->cors_max_age
                                         : PAA_DEFAULT_MAX_AGE));
    /* Answered here, before authentication: browsers send no credentials
     * on a preflight. */
    r->status = HTTP_NO_CONTENT;
    ap_set_content_length(r, 0);
    return DONE;
}

int paa_policy_check(request_rec *r)
{
    paa_dir_conf *d;
    const apr_array_header_t *allow;
    const char *origin, *clen;
    int https;

    if (r->main || !paa_enabled(r)) {
        return DECLINED;
    }
    d = dconf(r);
    https = paa_request_is_https(r);
    set_security_headers(r, https);

    if (d->https_only == 1 && !https) {
        if (r->method_number == M_GET) { /* GET and HEAD */
            apr_table_setn(r->headers_out, "Location",
                           paa_public_url(r, "https", r->unparsed_uri));
            return HTTP_MOVED_PERMANENTLY;
        }
        /* Whatever credential this request carries has already crossed
         * the network in clear text; it is not used. */
        return paa_error(r, HTTP_FORBIDDEN,
                         "this API is only served over HTTPS");
    }

    allow = allowlist(r);
    if (allow) {
        origin = apr_table_get(r->headers_in, "Origin");
        apr_table_mergen(r->err_headers_out, "Vary", "Origin");
        if (r->method_number == M_OPTIONS &&
            apr_table_get(r->headers_in, "Access-Control-Request-Method")) {
            return preflight(r, origin, allow);
        }
        if (origin && paa_origin_allowed(r->pool, allow, origin)) {
            allow_origin(r, origin, allow);
            apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                           PAA_CORS_EXPOSE);
        }
    }

    /* A declared oversize body is refused before any of it is read. */
    clen = apr_table_get(r->headers_in, "Content-Length");
    if (clen && apr_atoi64(clen) > paa_max_body(r)) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return paa_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                         apr_psprintf(r->pool,
                                      "the body is larger than %" APR_OFF_T_FMT
                                      " bytes",
                                      paa_max_body(r)));
    }
    return DECLINED;
}

/* After authentication: responses for a principal must not be cached. */
int paa_policy_fixups(request_rec *r)
{
    if (!r->main && r->user && paa_principal(r) && paa_enabled(r)) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    }
    return DECLINED;
}

/* Which of security_header_names a response header is, or -1: by its
 * first letter, so that most names cost one comparison or none. */
static int security_header(const char *name)
{
    int i;
    for (i = 0; security_header_names[i]; i++) {
        if (apr_tolower(*name) == apr_tolower(*security_header_names[i]) &&
            !strcasecmp(name, security_header_names[i])) {
            return i;
        }
    }
    return -1;
}

/* A proxied backend may send its own X-Frame-Options and friends; ours,
 * in err_headers_out, must be the only ones. */
apr_status_t paa_headers_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const apr_array_header_t *h = apr_table_elts(r->headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    unsigned int seen = 0; /* a bit per name: a backend may repeat one */
    int i, k;

    /* One pass over the response's own headers (most carry none of
     * ours): a lookup of each of ours in both tables cost more than the
     * rest of the filter. Unset after the pass, which it would reorder. */
    for (i = 0; i < h->nelts; i++) {
        if (e[i].key && (k = security_header(e[i].key)) >= 0) {
            seen |= 1u << k;
        }
    }
    for (k = 0; seen; k++, seen >>= 1) {
        if ((seen & 1) &&
            apr_table_get(r->err_headers_out, security_header_names[k])) {
            apr_table_unset(r->headers_out, security_header_names[k]);
        }
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void paa_policy_insert_filter(request_rec *r)
{
    if (paa_enabled(r) && dconf(r)->security_headers != 0) {
        ap_add_output_filter_handle(paa_headers_filter_handle, NULL, r,
                                    r->connection);
    }
}
