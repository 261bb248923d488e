/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Access-log items written as JSON values, for a JSON access log
 * (LogFormat paa_json in conf/paa.conf). httpd's own items escape what
 * they log as \xNN, which JSON does not allow, so a single request for
 * /caf%C3%A9, or a User-Agent with one byte above 127, would make its line
 * unreadable to JSON tools; and an unset variable is "-", not null. Each
 * item here is the JSON value itself, quotes included, valid whatever
 * bytes the client sent: "^j" followed by the letter of httpd's own item.
 *
 *   %{VAR}^je  the request environment's VAR (PAA_PRINCIPAL, ...), or null
 *   %{Hdr}^ji  a request header, or null
 *   %^jm       the method
 *   %^jU       the URL path, decoded (the original request's, as %U)
 *   %^jq       the query string without '?', or null
 *   %^jr       the request line (the original request's, as %r)
 */

#include "paa_private.h"

#include "mod_log_config.h"

static const char *log_env(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, apr_table_get(r->subprocess_env, a));
}

static const char *log_header_in(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, apr_table_get(r->headers_in, a));
}

static const char *log_method(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, r->method);
}

static const char *log_path(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, r->uri);
}

static const char *log_query(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, r->args);
}

static const char *log_request_line(request_rec *r, char *a)
{
    return paa_json_quote(r->pool, r->the_request);
}

/* Registered on every (re)start: the handlers live in pconf's generation.
 * Without mod_log_config there is nothing to register with, and a
 * LogFormat could not be written anyway. */
int paa_log_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);

    if (reg) {
        /* The last argument: 1 logs the original request of an internal
         * redirect, as httpd's %U and %r do. */
        reg(pconf, (char *)"^je", log_env, 0);
        reg(pconf, (char *)"^ji", log_header_in, 0);
        reg(pconf, (char *)"^jm", log_method, 0);
        reg(pconf, (char *)"^jU", log_path, 1);
        reg(pconf, (char *)"^jq", log_query, 0);
        reg(pconf, (char *)"^jr", log_request_line, 1);
    }
    return OK;
}
