/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Origins are compared as (scheme, host, port) triples, never as strings:
 * the guide's endsWith('yourdomain.com') accepts evil-yourdomain.com and
 * yourdomain.com.evil.net; here a wildcard matches only whole labels under
 * the parent domain, with the same scheme and port. */

#include "paa.h"

#include <apr_lib.h>
#include <apr_strings.h>

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") ? 80 : 443;
}

/* Host: DNS labels (letters, digits, hyphens) or a bracketed IPv6
 * literal; lowercased. */
static const char *parse_host(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *h = apr_pstrmemdup(p, s, n);
    apr_size_t i;

    if (n == 0 || n > 253) {
        return NULL;
    }
    if (h[0] == '[') {
        if (h[n - 1] != ']') {
            return NULL;
        }
        for (i = 1; i < n - 1; i++) {
            if (!apr_isxdigit(h[i]) && h[i] != ':' && h[i] != '.') {
                return NULL;
            }
            h[i] = apr_tolower(h[i]);
        }
        return h;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(h[i]) && h[i] != '-' && h[i] != '.') {
            return NULL;
        }
        if (h[i] == '.' && (i == 0 || h[i - 1] == '.' || i == n - 1)) {
            return NULL; /* empty label */
        }
        h[i] = apr_tolower(h[i]);
    }
    return h;
}

/* scheme://host[:port] with nothing after; wildcard permits "*." first. */
static apr_status_t parse(apr_pool_t *p, const char *text, int allow_wild,
                          paa_origin_t *out)
{
    const char *sep = strstr(text, "://"), *h, *end, *colon;
    apr_size_t tl = strlen(text);

    memset(out, 0, sizeof(*out));
    if (!sep) {
        return APR_EINVAL;
    }
    if ((sep - text == 5 && !strncasecmp(text, "https", 5))) {
        out->scheme = "https";
    }
    else if (sep - text == 4 && !strncasecmp(text, "http", 4)) {
        out->scheme = "http";
    }
    else {
        return APR_EINVAL;
    }
    h = sep + 3;
    end = text + tl;
    if (allow_wild && end > h && end[-1] == '/') {
        end--; /* a configured origin written with a trailing slash */
    }
    if (memchr(h, '/', end - h) || memchr(h, '@', end - h) ||
        memchr(h, '?', end - h) || memchr(h, '#', end - h)) {
        return APR_EINVAL;
    }
    if (allow_wild && end - h > 2 && h[0] == '*' && h[1] == '.') {
        out->wildcard = 1;
        h += 2;
    }
    colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', end - h);
        if (!rb) {
            return APR_EINVAL;
        }
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                return APR_EINVAL;
            }
            colon = rb + 1;
        }
    }
    else {
        colon = memchr(h, ':', end - h);
    }
    out->port = default_port(out->scheme);
    if (colon) {
        const char *c;
        long port = 0;
        if (colon + 1 == end || end - colon > 6) {
            return APR_EINVAL;
        }
        for (c = colon + 1; c < end; c++) {
            if (!apr_isdigit(*c)) {
                return APR_EINVAL;
            }
            port = port * 10 + (*c - '0');
        }
        if (port < 1 || port > 65535) {
            return APR_EINVAL;
        }
        out->port = (int)port;
        end = colon;
    }
    out->host = parse_host(p, h, end - h);
    if (!out->host || (out->wildcard && !strchr(out->host, '.'))) {
        /* "*.com" would allow every .com site */
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t paa_origin_parse(apr_pool_t *p, const char *text,
                              paa_origin_t *out, const char **err)
{
    if (!strcmp(text, "*")) {
        memset(out, 0, sizeof(*out));
        out->any = 1;
        return APR_SUCCESS;
    }
    if (parse(p, text, 1, out) != APR_SUCCESS) {
        *err = apr_psprintf(p,
                            "'%s' is not an origin (scheme://host[:port], "
                            "or scheme://*.domain for subdomains)",
                            text);
        return APR_EINVAL;
    }
    if (!out->wildcard) {
        out->serialized =
            out->port == default_port(out->scheme)
                ? apr_pstrcat(p, out->scheme, "://", out->host, NULL)
                : apr_psprintf(p, "%s://%s:%d", out->scheme, out->host,
                               out->port);
    }
    return APR_SUCCESS;
}

int paa_origin_allowed(apr_pool_t *p, const apr_array_header_t *allow,
                       const char *origin)
{
    paa_origin_t o;
    int i, ok = 0;

    if (!origin || !allow || !strcmp(origin, "null")) {
        return 0;
    }
    /* What a browser sends for an exact entry is its serialization, which
     * parses back to that entry: the parse (most of a CORS request's cost
     * here) is only for the other spellings and for wildcards. */
    for (i = 0; i < allow->nelts; i++) {
        const char *s = APR_ARRAY_IDX(allow, i, paa_origin_t).serialized;
        if (s && !strcmp(s, origin)) {
            return 1;
        }
    }
    if (parse(p, origin, 0, &o) == APR_SUCCESS) {
        for (i = 0; i < allow->nelts && !ok; i++) {
            const paa_origin_t *a = &APR_ARRAY_IDX(allow, i, paa_origin_t);
            apr_size_t hl, al;
            if (a->any) {
                ok = 1;
                continue;
            }
            if (strcmp(a->scheme, o.scheme) || a->port != o.port) {
                continue;
            }
            if (!a->wildcard) {
                ok = !strcmp(a->host, o.host);
                continue;
            }
            /* a strict subdomain: "x.example.com" ends with ".example.com" */
            hl = strlen(o.host);
            al = strlen(a->host);
            ok = hl > al + 1 && o.host[hl - al - 1] == '.' &&
                 !strcmp(o.host + hl - al, a->host);
        }
    }
    return ok;
}
