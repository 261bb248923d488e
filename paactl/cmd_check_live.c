/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check --url: the running server, seen from outside as the guide's
 * section 5.2 does it with curl -I. A dozen requests without credentials:
 * /health, an anonymous /api request (an error response, 401), /metrics,
 * plain HTTP, and CORS requests from origins that must not be allowed.
 * Nothing is sent that could change state (GET and OPTIONS only) or that
 * is secret, so the server's certificate is not verified on these
 * requests: the TLS checks judge it on their own (cmd_check_tls.c). */

#include "check.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Any /api path that needs authentication under the default deny. */
#define API_PATH "/api/personas"

static const check_def_t def_reach = {"live.reach", "5.2",
                                      "the server answers /health"};
static const check_def_t def_https = {
    "live.https", "5.1", "Enable HTTPS only: plain HTTP redirects"};
static const check_def_t def_headers = {
    "live.headers", "5.2", "Security headers on /health (CSP, XFO, nosniff)"};
static const check_def_t def_error_headers = {
    "live.error-headers", "5.2", "Security headers on an error response"};
static const check_def_t def_hsts = {
    "live.hsts", "5.2", "Strict-Transport-Security: max-age >= 31536000"};
static const check_def_t def_server = {"live.server-header", "5.2",
                                       "Server header without a version"};
static const check_def_t def_anon = {"live.anonymous", "1.2",
                                     "an anonymous /api request gets 401"};
static const check_def_t def_ratelimit = {
    "live.ratelimit", "5.6", "Configure rate limiting: RateLimit headers"};
static const check_def_t def_metrics = {"live.metrics", "5.7",
                                        "/metrics is not public"};
static const check_def_t def_cors = {
    "live.cors", "2.3", "an evil origin gets no CORS allow (suffix trap)"};
static const check_def_t *const after_reach[] = {
    &def_headers,   &def_error_headers, &def_hsts, &def_server, &def_anon,
    &def_ratelimit, &def_metrics,       &def_cors, NULL};

typedef struct {
    long status; /* 0: no answer, see error */
    apr_table_t *headers;
    const char *error;
} answer_t;

/* Header lines into the table; a new status line (after a 100 Continue)
 * starts a new set. */
static size_t on_header(char *buf, size_t size, size_t n, void *data)
{
    answer_t *a = data;
    size_t len = size * n;
    const char *colon = memchr(buf, ':', len);
    apr_pool_t *p = apr_table_elts(a->headers)->pool;
    char *name, *value;

    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        apr_table_clear(a->headers);
        return len;
    }
    if (!colon) {
        return len;
    }
    name = apr_pstrmemdup(p, buf, (apr_size_t)(colon - buf));
    value = apr_pstrmemdup(p, colon + 1, len - (size_t)(colon - buf) - 1);
    apr_collapse_spaces(name, name);
    while (apr_isspace(*value)) {
        value++;
    }
    while (*value && apr_isspace(value[strlen(value) - 1])) {
        value[strlen(value) - 1] = '\0';
    }
    apr_table_add(a->headers, name, value);
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *data)
{
    (void)buf;
    (void)data;
    return size * n; /* only the status and the headers are judged */
}

/* One request; extra is a NULL-terminated list of header lines. */
static void request(check_t *ck, const char *method, const char *url,
                    const char *const *extra, answer_t *a)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    a->status = 0;
    a->headers = apr_table_make(ck->ctl->pool, 16);
    a->error = "cannot start libcurl";
    if (!c) {
        return;
    }
    for (; extra && *extra; extra++) {
        h = curl_slist_append(h, *extra);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "paactl-check/" PAA_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
        a->error = NULL;
    }
    else {
        a->error = apr_pstrdup(ck->ctl->pool,
                               *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* scheme://host[:port] of url, and its host and port (the scheme's
 * default when none is given); NULL when url is not http(s). */
static const char *url_origin(check_t *ck, const char *url, const char **host,
                              const char **port)
{
    apr_pool_t *p = ck->ctl->pool;
    int tls = !strncasecmp(url, "https://", 8);
    const char *h, *end, *colon;

    if (!tls && strncasecmp(url, "http://", 7)) {
        return NULL;
    }
    h = url + (tls ? 8 : 7);
    end = h + strcspn(h, "/?#");
    colon = *h == '[' ? memchr(h, ']', (apr_size_t)(end - h)) : h;
    colon = colon ? memchr(colon, ':', (apr_size_t)(end - colon)) : NULL;
    if (host) {
        *host = apr_pstrmemdup(p, h, (apr_size_t)((colon ? colon : end) - h));
        if (**host == '[') { /* an IPv6 literal, without its brackets */
            *host = apr_pstrmemdup(p, *host + 1, strlen(*host) - 2);
        }
    }
    if (port) {
        *port =
            colon ? apr_pstrmemdup(p, colon + 1, (apr_size_t)(end - colon - 1))
                  : (tls ? "443" : "80");
    }
    return apr_pstrmemdup(p, url, (apr_size_t)(end - url));
}

static const char *hdr(const answer_t *a, const char *name)
{
    return apr_table_get(a->headers, name);
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* The guide's 5.2 list but HSTS, which is judged on its own (HTTPS only). */
static const char *missing_headers(check_t *ck, const answer_t *a)
{
    const char *csp = hdr(a, "Content-Security-Policy");
    const char *xfo = hdr(a, "X-Frame-Options");
    const char *xcto = hdr(a, "X-Content-Type-Options");
    const char *miss = NULL;

    if (!csp || !*csp) {
        miss = "Content-Security-Policy";
    }
    if (!xfo || strcasecmp(xfo, "DENY")) {
        miss = apr_pstrcat(ck->ctl->pool, miss ? miss : "", miss ? ", " : "",
                           "X-Frame-Options: DENY", NULL);
    }
    if (!xcto || strcasecmp(xcto, "nosniff")) {
        miss = apr_pstrcat(ck->ctl->pool, miss ? miss : "", miss ? ", " : "",
                           "X-Content-Type-Options: nosniff", NULL);
    }
    return miss;
}

static void judge_headers(check_t *ck, const check_def_t *d, const char *what,
                          const answer_t *a)
{
    const char *miss = missing_headers(ck, a);
    if (miss) {
        check_add(ck, d, CHECK_FAIL,
                  "PAASecurityHeaders On where mod_paa serves (the default), "
                  "or Header always set ... for other locations",
                  "%s (%ld) lacks %s", what, a->status, miss);
    }
    else {
        check_add(ck, d, CHECK_PASS, NULL,
                  "%s (%ld): Content-Security-Policy, X-Frame-Options: DENY, "
                  "X-Content-Type-Options: nosniff",
                  what, a->status);
    }
}

/* max-age from a Strict-Transport-Security value; -1 when absent. */
static long hsts_max_age(check_t *ck, const char *v)
{
    char *low = apr_pstrdup(ck->ctl->pool, v), *c, *m;

    for (c = low; *c; c++) {
        *c = apr_tolower(*c);
    }
    if (!(m = strstr(low, "max-age"))) {
        return -1;
    }
    for (m += 7; *m == ' ' || *m == '\t'; m++) {
    }
    if (*m++ != '=') {
        return -1;
    }
    while (*m == ' ' || *m == '"') {
        m++;
    }
    return apr_isdigit(*m) ? strtol(m, NULL, 10) : -1;
}

static void judge_hsts(check_t *ck, int over_tls, const answer_t *a)
{
    const char *v = hdr(a, "Strict-Transport-Security");
    const char *fix = "PAASecurityHeaders On: over HTTPS mod_paa sends "
                      "Strict-Transport-Security: max-age=31536000; "
                      "includeSubDomains";
    long age;

    if (!over_tls) {
        check_add(ck, &def_hsts, CHECK_SKIP, NULL,
                  "no HTTPS endpoint: HSTS is only sent over HTTPS (see "
                  "live.https)");
        return;
    }
    if (!v) {
        check_add(ck, &def_hsts, CHECK_FAIL, fix,
                  "GET /health over HTTPS has no Strict-Transport-Security");
        return;
    }
    if ((age = hsts_max_age(ck, v)) < 31536000) {
        check_add(ck, &def_hsts, CHECK_FAIL, fix,
                  "Strict-Transport-Security: %s: max-age is less than a "
                  "year (31536000)",
                  v);
        return;
    }
    check_add(ck, &def_hsts, CHECK_PASS, NULL, "Strict-Transport-Security: %s",
              v);
}

static void judge_server(check_t *ck, const answer_t *a)
{
    const char *v = hdr(a, "Server");
    if (v && strpbrk(v, "0123456789")) {
        check_add(ck, &def_server, CHECK_FAIL,
                  "ServerTokens Prod and ServerSignature Off",
                  "Server: %s tells attackers which version to look up", v);
        return;
    }
    check_add(ck, &def_server, CHECK_PASS, NULL, "Server: %s",
              v ? v : "(none)");
}

static void judge_anonymous(check_t *ck, const answer_t *a)
{
    const char *fix = "AuthType PAA and Require valid-user on <Location /> "
                      "(default deny, guide 1.2 Option A)";
    if (a->status == 401) {
        check_add(ck, &def_anon, CHECK_PASS, NULL,
                  "GET " API_PATH " without credentials: 401");
    }
    else if (a->status >= 200 && a->status < 300) {
        check_add(ck, &def_anon, CHECK_FAIL, fix,
                  "GET " API_PATH " without credentials: %ld, the API is "
                  "public",
                  a->status);
    }
    else {
        check_add(ck, &def_anon, CHECK_WARN, fix,
                  "GET " API_PATH " without credentials: %ld, not 401",
                  a->status);
    }
}

static void judge_ratelimit(check_t *ck, const answer_t *a)
{
    const char *limit = hdr(a, "RateLimit-Limit");
    if (!limit) {
        check_add(ck, &def_ratelimit, CHECK_FAIL,
                  "PAARateLimit 100 60s on <Location /> (guide 5.6)",
                  "GET " API_PATH " (%ld) carries no RateLimit-Limit header: "
                  "no rate limit applies",
                  a->status);
        return;
    }
    check_add(ck, &def_ratelimit, CHECK_PASS, NULL,
              "GET " API_PATH ": RateLimit-Limit %s, RateLimit-Remaining %s, "
              "RateLimit-Reset %s",
              limit, or_dash(hdr(a, "RateLimit-Remaining")),
              or_dash(hdr(a, "RateLimit-Reset")));
}

static void judge_metrics(check_t *ck, const answer_t *a)
{
    const char *fix = "Require paa-role admin (or Require ip for the "
                      "monitoring network) on <Location /metrics>";
    if (a->status == 404) {
        check_add(ck, &def_metrics, CHECK_SKIP, NULL,
                  "no /metrics endpoint (404)");
    }
    else if (a->status == 401 || a->status == 403) {
        check_add(ck, &def_metrics, CHECK_PASS, NULL,
                  "GET /metrics without credentials: %ld", a->status);
    }
    else if (a->status >= 200 && a->status < 300) {
        check_add(ck, &def_metrics, CHECK_FAIL, fix,
                  "GET /metrics without credentials: %ld, public", a->status);
    }
    else {
        check_add(ck, &def_metrics, CHECK_WARN, fix,
                  "GET /metrics without credentials: %ld", a->status);
    }
}

static void push_new(apr_array_header_t *list, const char *origin)
{
    int i;
    for (i = 0; i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), origin)) {
            return;
        }
    }
    APR_ARRAY_PUSH(list, const char *) = origin;
}

/* Origins no deployment should allow: the guide's evil-yourdomain.com
 * (which its endsWith() snippet lets in), "null" (sandboxed frames, local
 * files), and for each allowed origin its suffix and prefix look-alikes. */
static apr_array_header_t *evil_origins(check_t *ck)
{
    apr_pool_t *p = ck->ctl->pool;
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    apr_array_header_t *allowed;
    int i;

    APR_ARRAY_PUSH(out, const char *) = "https://evil-yourdomain.com";
    APR_ARRAY_PUSH(out, const char *) = "null";
    allowed =
        paa_split_list(p, ck->env ? paa_env_get(ck->env, "CORS_ORIGIN") : NULL);
    for (i = 0; i < allowed->nelts && out->nelts < 8; i++) {
        const char *err = NULL, *port;
        paa_origin_t o;
        if (paa_origin_parse(p, APR_ARRAY_IDX(allowed, i, const char *), &o,
                             &err) != APR_SUCCESS ||
            o.any) {
            continue;
        }
        port = o.port == (strcmp(o.scheme, "https") ? 80 : 443)
                   ? ""
                   : apr_psprintf(p, ":%d", o.port);
        push_new(out,
                 apr_psprintf(p, "%s://evil-%s%s", o.scheme, o.host, port));
        push_new(out, apr_psprintf(p, "%s://%s.evil.example%s", o.scheme,
                                   o.host, port));
    }
    return out;
}

static const char *allowed_by(const answer_t *a, const char *origin)
{
    const char *acao = hdr(a, "Access-Control-Allow-Origin");
    return acao && (!strcmp(acao, "*") || !strcasecmp(acao, origin)) ? acao
                                                                     : NULL;
}

/* A simple request (GET /health) and a preflight for the API, from each
 * origin: either answer allowing it is a FAIL. */
static void judge_cors(check_t *ck, const char *base)
{
    apr_pool_t *p = ck->ctl->pool;
    apr_array_header_t *evil = evil_origins(ck);
    const char *health = apr_pstrcat(p, base, "/health", NULL);
    const char *api = apr_pstrcat(p, base, API_PATH, NULL);
    answer_t a;
    int i;

    for (i = 0; i < evil->nelts; i++) {
        const char *o = APR_ARRAY_IDX(evil, i, const char *), *acao;
        const char *simple[] = {apr_pstrcat(p, "Origin: ", o, NULL), NULL};
        const char *pre[] = {simple[0], "Access-Control-Request-Method: POST",
                             "Access-Control-Request-Headers: x-api-key", NULL};
        request(ck, "GET", health, simple, &a);
        if (!(acao = allowed_by(&a, o))) {
            request(ck, "OPTIONS", api, pre, &a);
            acao = allowed_by(&a, o);
        }
        if (acao) {
            check_add(ck, &def_cors, CHECK_FAIL,
                      "list exact origins in CORS_ORIGIN or PAACorsOrigin "
                      "(https://*.example.com for subdomains), never *",
                      "Origin: %s is allowed (Access-Control-Allow-Origin: "
                      "%s)",
                      o, acao);
            return;
        }
    }
    check_add(ck, &def_cors, CHECK_PASS, NULL,
              "%d foreign origins, the guide's evil-yourdomain.com among "
              "them, get no Access-Control-Allow-Origin",
              evil->nelts);
}

/* Where plain HTTP is asked: --url itself when it is http://, else
 * --http-url, else port 80 of an https:// URL on port 443; NULL when it
 * cannot be told. */
static const char *plain_url(check_t *ck, const char *base, int tls)
{
    const char *host, *port;
    if (!tls) {
        return base;
    }
    if (ck->http_url) {
        return ck->http_url;
    }
    url_origin(ck, base, &host, &port);
    if (strcmp(port, "443")) {
        return NULL;
    }
    return apr_pstrcat(ck->ctl->pool, "http://", strchr(host, ':') ? "[" : "",
                       host, strchr(host, ':') ? "]" : "",
                       base + strcspn(base + 8, "/") + 8, NULL);
}

/* Plain HTTP must only redirect to https (PAAHTTPSOnly) or not be served
 * at all. A redirect from the --url tells where HTTPS is. Returns 0 when
 * an http:// --url does not answer. */
static int judge_plain(check_t *ck, const char *base, int tls)
{
    apr_pool_t *p = ck->ctl->pool;
    const char *url = plain_url(ck, base, tls), *loc;
    const char *fix = "PAAHTTPSOnly On on every location, with a TLS "
                      "listener (mod_ssl)";
    answer_t a;

    if (!url) {
        check_add(ck, &def_https, CHECK_SKIP, NULL,
                  "cannot tell where %s serves plain HTTP: give --http-url",
                  base);
        return 1;
    }
    request(ck, "GET", apr_pstrcat(p, url, "/health", NULL), NULL, &a);
    loc = hdr(&a, "Location");
    if (!a.status) {
        if (!tls) {
            check_add(ck, &def_reach, CHECK_FAIL,
                      "check --url and that httpd runs", "%s: %s", url,
                      a.error);
            check_add(ck, &def_https, CHECK_SKIP, NULL,
                      "the server did not answer");
            return 0;
        }
        check_add(ck, &def_https, CHECK_PASS, NULL,
                  "nothing answers plain HTTP at %s", url);
    }
    else if (a.status >= 301 && a.status <= 308 && a.status != 304 && loc &&
             !strncasecmp(loc, "https://", 8)) {
        check_add(ck, &def_https, CHECK_PASS, NULL,
                  "plain HTTP redirects (%ld) to %s", a.status, loc);
        if (!tls) {
            apr_size_t n = strlen(loc);
            ck->https_base = n > 7 && !strcmp(loc + n - 7, "/health")
                                 ? apr_pstrmemdup(p, loc, n - 7)
                                 : url_origin(ck, loc, NULL, NULL);
        }
    }
    else {
        check_add(ck, &def_https, CHECK_FAIL, fix,
                  "plain HTTP is served at %s (%ld), not redirected to "
                  "https://",
                  url, a.status);
    }
    return 1;
}

void check_live(check_t *ck)
{
    apr_pool_t *p = ck->ctl->pool;
    char *base = apr_pstrdup(p, ck->url);
    const char *host = NULL, *port = NULL, *main;
    answer_t health, anon, err, metrics;
    apr_size_t n = strlen(base);
    int tls = !strncasecmp(base, "https://", 8);

    while (n > 8 && base[n - 1] == '/') {
        base[--n] = '\0';
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck->https_base = tls ? base : NULL;
    if (!judge_plain(ck, base, tls)) {
        check_skip_all(ck, after_reach, "the server did not answer");
        check_tls(ck, NULL, NULL);
        curl_global_cleanup();
        return;
    }
    if (ck->https_base) {
        url_origin(ck, ck->https_base, &host, &port);
    }
    check_tls(ck, host, port);
    main = ck->https_base ? ck->https_base : base;
    request(ck, "GET", apr_pstrcat(p, main, "/health", NULL), NULL, &health);
    if (!health.status) {
        check_add(ck, &def_reach, CHECK_FAIL, "check --url and that httpd runs",
                  "%s/health: %s", main, health.error);
        check_skip_all(ck, after_reach, "the server did not answer");
        curl_global_cleanup();
        return;
    }
    check_add(ck, &def_reach, CHECK_PASS, NULL, "GET %s/health: %ld", main,
              health.status);
    judge_headers(ck, &def_headers, "GET /health", &health);
    request(ck, "GET", apr_pstrcat(p, main, API_PATH, NULL), NULL, &anon);
    err = anon;
    if (anon.status < 400) { /* a server whose API is public: any 404 */
        request(ck, "GET", apr_pstrcat(p, main, "/paactl-check-404", NULL),
                NULL, &err);
    }
    judge_headers(
        ck, &def_error_headers,
        apr_psprintf(p, "GET %s",
                     anon.status < 400 ? "/paactl-check-404" : API_PATH),
        &err);
    judge_hsts(ck, ck->https_base != NULL, &health);
    judge_server(ck, &health);
    judge_anonymous(ck, &anon);
    judge_ratelimit(ck, &anon);
    request(ck, "GET", apr_pstrcat(p, main, "/metrics", NULL), NULL, &metrics);
    judge_metrics(ck, &metrics);
    judge_cors(ck, main);
    curl_global_cleanup();
}
