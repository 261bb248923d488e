/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The paa-api handler: one route table, one handler per API area (the
 * files beside this one). Paths are matched exactly, as the reference
 * implementation's clients expect them. */

#include "../paa_private.h"

#include <apr_strings.h>

#define PAA_BODY_CHUNK    8192 /* first buffer for a body of unknown length */
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX     100

typedef int (*paa_route_fn)(request_rec *r);

typedef struct {
    const char *path;
    paa_route_fn fn;
} paa_route_t;

/* clang-format off */
static const paa_route_t routes[] = {
    {"/health", paa_api_health},
    {"/health/ready", paa_api_ready},
    {"/api/auth/login", paa_api_login},
    {"/api/admin/auth/login", paa_api_login},
    {"/api/me", paa_api_me},
    {"/api/me/export", paa_api_me_export},
    {"/api/me/consent", paa_api_me_consent},
    {"/api/agents", paa_api_personas},
    {"/api/personas", paa_api_personas},
    {"/api/personas/*", paa_api_persona},
    {"/api/chat", paa_api_chat},
    {"/api/mcp", paa_api_mcp},
    {"/api/admin/audit/logs", paa_api_audit_logs},
    {"/.well-known/oauth-protected-resource", paa_api_resource_metadata},
    {NULL, NULL}};
/* clang-format on */

/* A pattern ending in "/" followed by "*" matches one more non-empty path
 * segment. */
static int route_matches(const char *pattern, const char *uri)
{
    apr_size_t n = strlen(pattern);
    if (n > 2 && !strcmp(pattern + n - 2, "/*")) {
        return !strncmp(uri, pattern, n - 1) && uri[n - 1] &&
               !strchr(uri + n - 1, '/');
    }
    return !strcmp(uri, pattern);
}

#define ROUTE_COUNT ((int)(sizeof(routes) / sizeof(routes[0])) - 1)

int paa_api_route(const char *uri)
{
    int i;
    for (i = 0; i < ROUTE_COUNT; i++) {
        if (route_matches(routes[i].path, uri)) {
            return i;
        }
    }
    return -1;
}

int paa_api_route_count(void)
{
    return ROUTE_COUNT;
}

const char **paa_api_route_names(apr_pool_t *p, int *n)
{
    const char **names = apr_palloc(p, sizeof(*names) * (ROUTE_COUNT + 1));
    int i;
    for (i = 0; i < ROUTE_COUNT; i++) {
        names[i] = routes[i].path;
    }
    *n = ROUTE_COUNT;
    return names;
}

int paa_api_handler(request_rec *r)
{
    int route;

    if (!r->handler || strcmp(r->handler, PAA_HANDLER)) {
        return DECLINED;
    }
    if ((route = paa_api_route(r->uri)) >= 0) {
        return routes[route].fn(r);
    }
    return paa_send_problem(r, HTTP_NOT_FOUND, "no such API endpoint");
}

static int send_text(request_rec *r, int status, const char *type,
                     const char *text)
{
    r->status = status;
    ap_set_content_type(r, type);
    ap_set_content_length(r, strlen(text));
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

int paa_send_json(request_rec *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc;

    json_decref(body);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00201) "cannot serialise a JSON response");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = send_text(r, status, "application/json", text);
    free(text);
    return rc;
}

int paa_send_json_text(request_rec *r, int status, const char *text)
{
    return send_text(r, status, "application/json", text);
}

/* Errors leave the handler as a status, like every other error in a
 * mod_paa location: httpd's error path (paa_errors.c) writes the problem
 * document, so an ErrorDocument or a filter sees them all alike. */
int paa_send_invalid(request_rec *r, json_t *errors)
{
    paa_req(r)->problem = paa_problem_json_errors(
        r->pool, HTTP_BAD_REQUEST, "the request is not valid", r->uri, errors);
    paa_req(r)->problem_status = HTTP_BAD_REQUEST;
    return paa_error(r, HTTP_BAD_REQUEST, "the request is not valid");
}

int paa_send_problem(request_rec *r, int status, const char *detail)
{
    return paa_error(r, status, detail);
}

/* The one error a handler writes itself: httpd's error path would replace
 * this Allow with its own list from r->allowed (TRACE included). */
int paa_method_not_allowed(request_rec *r, const char *allow)
{
    int status = HTTP_METHOD_NOT_ALLOWED;
    apr_table_setn(r->err_headers_out, "Allow", allow);
    return send_text(
        r, status, "application/problem+json",
        paa_problem_json(r->pool, status, NULL,
                         apr_psprintf(r->pool, "%s is not allowed here; use %s",
                                      r->method, allow),
                         r->uri));
}

/* Shared by every paged listing, so that they page alike. */
int paa_paging(request_rec *r, int *page, int *size, json_t *errors)
{
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *pair, *state;

    *page = 1;
    *size = PAGE_SIZE_DEFAULT;
    for (pair = args ? apr_strtok(args, "&", &state) : NULL; pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '='), *end;
        long v;
        if (!eq) {
            continue;
        }
        *eq++ = '\0';
        v = strtol(eq, &end, 10);
        if (!strcmp(pair, "page")) {
            if (*end || v < 1 || v > 1000000) {
                json_array_append_new(
                    errors, json_pack("{s:s, s:s}", "field", "page", "message",
                                      "must be a positive integer"));
            }
            *page = (int)v;
        }
        else if (!strcmp(pair, "pageSize")) {
            if (*end || v < 1 || v > PAGE_SIZE_MAX) {
                json_array_append_new(
                    errors,
                    json_pack("{s:s, s:s}", "field", "pageSize", "message",
                              apr_psprintf(r->pool, "must be 1 to %d",
                                           PAGE_SIZE_MAX)));
            }
            *size = (int)v;
        }
    }
    return json_array_size(errors) == 0;
}

int paa_read_body(request_rec *r, apr_size_t limit, char **out,
                  apr_size_t *out_len)
{
    const char *type = apr_table_get(r->headers_in, "Content-Type");
    const char *clen = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t configured = paa_max_body(r);
    apr_size_t len = 0, cap;
    char *buf;
    long n;

    if (limit == 0 || (apr_off_t)limit > configured) {
        limit = (apr_size_t)configured;
    }
    if (!type || strncasecmp(type, "application/json", 16) ||
        (type[16] && type[16] != ';' && type[16] != ' ')) {
        return paa_send_problem(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "the body must be application/json");
    }
    /* Refuse a declared oversize body before reading any of it. */
    if (clen && apr_atoi64(clen) > (apr_int64_t)limit) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return paa_send_problem(
            r, HTTP_REQUEST_ENTITY_TOO_LARGE,
            apr_psprintf(r->pool,
                         "the body is larger than %" APR_SIZE_T_FMT " bytes",
                         limit));
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        return paa_send_problem(r, HTTP_BAD_REQUEST,
                                "the request body could not be read");
    }
    /* Sized by what is declared, grown as it arrives: a ping must not
     * cost the whole limit. One byte past the limit shows an oversize
     * body without reading the rest. */
    cap = clen && apr_atoi64(clen) > 0 ? (apr_size_t)apr_atoi64(clen) + 1
                                       : PAA_BODY_CHUNK;
    cap = cap > limit + 1 ? limit + 1 : cap;
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, cap - len)) > 0) {
            len += (apr_size_t)n;
            if (len == cap && cap < limit + 1) {
                char *grown;
                cap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
                grown = apr_palloc(r->pool, cap + 1);
                memcpy(grown, buf, len);
                buf = grown;
            }
            if (len > limit) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return paa_send_problem(
                    r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                    apr_psprintf(r->pool,
                                 "the body is larger than %" APR_SIZE_T_FMT
                                 " bytes",
                                 limit));
            }
        }
        if (n < 0) {
            return paa_send_problem(r, HTTP_BAD_REQUEST,
                                    "the request body could not be read");
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return DECLINED;
}

int paa_read_json(request_rec *r, apr_size_t limit, json_t **body)
{
    json_error_t je;
    char *buf;
    apr_size_t len;
    int rc;

    *body = NULL;
    if ((rc = paa_read_body(r, limit, &buf, &len)) != DECLINED) {
        return rc;
    }
    *body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(*body)) {
        json_decref(*body);
        *body = NULL;
        return paa_send_problem(r, HTTP_BAD_REQUEST,
                                "the body must be a JSON object");
    }
    return DECLINED;
}
