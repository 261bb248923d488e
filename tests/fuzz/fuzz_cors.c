/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for CORS: the allowlist entries of PAACorsOrigin and
 * CORS_ORIGIN (paa_origin_parse) and the Origin header of every
 * cross-origin request (paa_origin_allowed), which decides whether a
 * browser lets another site read our answers.
 *
 * The input is lines: every line is parsed as an allowlist entry, and
 * those accepted, but for the last line, form the list in order; the last
 * line is the Origin header, and every line is also tried as an Origin
 * against the list.
 *
 * A reference parser written from the grammar in cors.h (scheme http or
 * https, host as DNS labels or a bracketed IPv6 literal, lowercased,
 * optional port 1..65535 defaulting to the scheme's, for entries "*",
 * "*." before a domain with a dot, one trailing slash) must agree with
 * paa_origin_parse on every line and on the parsed entry. Matching is
 * checked from its definition: an origin is allowed exactly when some
 * entry is "*", or has its scheme and port and either its host or, for a
 * wildcard, a host that ends with "." and the entry's domain. Then, for
 * each entry alone: its canonical text parses back to the same entry; the
 * origin spelled from it is allowed exactly when it is not a wildcard; a
 * subdomain of it exactly when it is; the host with a letter glued in
 * front ("x" + "example.com"), the other scheme and another port never.
 * "null" and what does not parse as an origin are never allowed, not
 * even by "*". */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed. */
static struct {
    int entries; /* lines accepted as entries */
    int lines;   /* lines */
    int allowed; /* the last line allowed as an Origin */
} last;

static const char *input;

static void broken(const char *what)
{
    fuzz_broken("fuzz_cors", what, input);
}

/* ---------------------------------------------------------- reference */

typedef struct {
    char scheme[6];
    char host[256];
    int port, wildcard, any;
} ref_origin_t;

static int ref_host(const char *h, size_t n, char *out)
{
    size_t i;

    if (n == 0 || n > 253) {
        return 0;
    }
    if (h[0] == '[') {
        if (n < 2 || h[n - 1] != ']') {
            return 0;
        }
        for (i = 1; i + 1 < n; i++) {
            if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.') {
                return 0;
            }
        }
    }
    else {
        if (h[0] == '.' || h[n - 1] == '.') {
            return 0;
        }
        for (i = 0; i < n; i++) {
            if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.') {
                return 0;
            }
            if (h[i] == '.' && h[i + 1] == '.') {
                return 0;
            }
        }
    }
    for (i = 0; i < n; i++) {
        out[i] = (char)tolower((unsigned char)h[i]);
    }
    out[n] = '\0';
    return 1;
}

/* entry: "*", one trailing slash and "*." allowed */
static int ref_parse(const char *text, int entry, ref_origin_t *o)
{
    const char *sep = strstr(text, "://"), *h, *end, *port = NULL, *hend;
    size_t sl;

    memset(o, 0, sizeof(*o));
    if (entry && !strcmp(text, "*")) {
        o->any = 1;
        return 1;
    }
    if (!sep) {
        return 0;
    }
    sl = (size_t)(sep - text);
    if (sl == 5 && !strncasecmp(text, "https", 5)) {
        strcpy(o->scheme, "https");
        o->port = 443;
    }
    else if (sl == 4 && !strncasecmp(text, "http", 4)) {
        strcpy(o->scheme, "http");
        o->port = 80;
    }
    else {
        return 0;
    }
    h = sep + 3;
    end = h + strlen(h);
    if (entry && end > h && end[-1] == '/') {
        end--;
    }
    for (hend = h; hend < end; hend++) {
        if (strchr("/@?#", *hend)) {
            return 0;
        }
    }
    if (entry && end - h > 2 && h[0] == '*' && h[1] == '.') {
        o->wildcard = 1;
        h += 2;
    }
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) {
            return 0;
        }
        hend = rb + 1;
        if (hend < end) {
            if (*hend != ':') {
                return 0;
            }
            port = hend + 1;
        }
    }
    else {
        hend = memchr(h, ':', (size_t)(end - h));
        if (hend) {
            port = hend + 1;
        }
        else {
            hend = end;
        }
    }
    if (port) {
        long v = 0;
        const char *c;
        if (port == end || end - port > 5) {
            return 0;
        }
        for (c = port; c < end; c++) {
            if (!isdigit((unsigned char)*c)) {
                return 0;
            }
            v = v * 10 + (*c - '0');
        }
        if (v < 1 || v > 65535) {
            return 0;
        }
        o->port = (int)v;
    }
    if (!ref_host(h, (size_t)(hend - h), o->host)) {
        return 0;
    }
    return !o->wildcard || strchr(o->host, '.') != NULL;
}

static int ref_match(const ref_origin_t *e, const ref_origin_t *o)
{
    size_t hl = strlen(o->host), el = strlen(e->host);

    if (e->any) {
        return 1;
    }
    if (strcmp(e->scheme, o->scheme) || e->port != o->port) {
        return 0;
    }
    if (!e->wildcard) {
        return !strcmp(e->host, o->host);
    }
    return hl > el + 1 && o->host[hl - el - 1] == '.' &&
           !strcmp(o->host + hl - el, e->host);
}

/* ------------------------------------------------------------- checks */

static int same(const paa_origin_t *a, const ref_origin_t *r)
{
    if (a->any || r->any) {
        return a->any == r->any;
    }
    return a->scheme && a->host && !strcmp(a->scheme, r->scheme) &&
           !strcmp(a->host, r->host) && a->port == r->port &&
           a->wildcard == r->wildcard;
}

static int allowed_alone(apr_pool_t *p, const paa_origin_t *e,
                         const char *origin)
{
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(paa_origin_t));
    APR_ARRAY_PUSH(one, paa_origin_t) = *e;
    return paa_origin_allowed(p, one, origin);
}

/* The entry alone, probed with origins spelled from it. */
static void probe_entry(apr_pool_t *p, const paa_origin_t *e)
{
    const char *canon, *other_scheme, *err = NULL;
    paa_origin_t back;

    if (e->any) {
        if (!allowed_alone(p, e, "https://anything.test") ||
            allowed_alone(p, e, "null")) {
            broken("\"*\" does not allow every origin but null");
        }
        return;
    }
    canon = apr_psprintf(p, "%s://%s%s:%d", e->scheme, e->wildcard ? "*." : "",
                         e->host, e->port);
    if (paa_origin_parse(p, canon, &back, &err) != APR_SUCCESS || back.any ||
        strcmp(back.scheme, e->scheme) || strcmp(back.host, e->host) ||
        back.port != e->port || back.wildcard != e->wildcard) {
        broken("an entry's canonical text does not parse back to it");
    }
    if (allowed_alone(
            p, e, apr_psprintf(p, "%s://%s:%d", e->scheme, e->host, e->port)) ==
        e->wildcard) {
        broken("an entry's own origin is allowed by a wildcard, or refused "
               "by the exact entry");
    }
    other_scheme = strcmp(e->scheme, "https") ? "https" : "http";
    if (allowed_alone(
            p, e,
            apr_psprintf(p, "%s://%s:%d", other_scheme, e->host, e->port)) ||
        allowed_alone(p, e,
                      apr_psprintf(p, "%s://%s:%d", e->scheme, e->host,
                                   e->port == 65535 ? 1 : e->port + 1))) {
        broken("an origin with another scheme or port is allowed");
    }
    if (e->host[0] == '[' || strlen(e->host) > 250) {
        return;
    }
    if (allowed_alone(
            p, e,
            apr_psprintf(p, "%s://x%s:%d", e->scheme, e->host, e->port)) ||
        allowed_alone(
            p, e,
            apr_psprintf(p, "%s://x-%s:%d", e->scheme, e->host, e->port))) {
        broken("a host that merely ends with the entry's host is allowed");
    }
    if (allowed_alone(p, e,
                      apr_psprintf(p, "%s://a.%s:%d", e->scheme, e->host,
                                   e->port)) != e->wildcard) {
        broken("a subdomain is allowed by an exact entry, or refused by a "
               "wildcard");
    }
}

static void check_origin(apr_pool_t *p, const apr_array_header_t *list,
                         const ref_origin_t *refs, const char *origin,
                         int *result)
{
    ref_origin_t o;
    int got = paa_origin_allowed(p, list, origin), want = 0, i;

    /* "null" and anything unparsable never match, "*" included */

    if (got != 0 && got != 1) {
        broken("paa_origin_allowed is not 0 or 1");
    }
    if (strcmp(origin, "null") && ref_parse(origin, 0, &o)) {
        paa_origin_t self;
        const char *err = NULL;
        for (i = 0; i < list->nelts && !want; i++) {
            want = ref_match(&refs[i], &o);
        }
        /* an origin that parses is an entry that allows it */
        if (paa_origin_parse(p, origin, &self, &err) != APR_SUCCESS ||
            !allowed_alone(p, &self, origin)) {
            broken("an origin is not allowed by itself as an entry");
        }
    }
    if (got != want) {
        fprintf(stderr, "origin \"%s\": allowed %d, reference %d\n", origin,
                got, want);
        broken("paa_origin_allowed disagrees with the definition");
    }
    *result = got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), *line, *next;
    apr_pool_t *p;
    apr_array_header_t *list, *lines;
    ref_origin_t *refs;
    int i, n = 0, allowed = 0;

    fuzz_setup();
    memset(&last, 0, sizeof(last));
    input = text;
    apr_pool_create(&p, NULL);
    list = apr_array_make(p, 4, sizeof(paa_origin_t));
    lines = apr_array_make(p, 4, sizeof(char *));
    for (line = text; line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        APR_ARRAY_PUSH(lines, char *) = line;
    }
    refs = apr_pcalloc(p, sizeof(*refs) * (size_t)lines->nelts);
    for (i = 0; i < lines->nelts; i++) {
        const char *l = APR_ARRAY_IDX(lines, i, char *), *err = NULL;
        paa_origin_t e;
        ref_origin_t r;
        int ok = paa_origin_parse(p, l, &e, &err) == APR_SUCCESS;
        if (ok != ref_parse(l, 1, &r)) {
            broken(ok ? "paa_origin_parse accepted an entry the grammar "
                        "refuses"
                      : "paa_origin_parse refused an entry the grammar "
                        "accepts");
        }
        if (!ok) {
            if (!err || !strstr(err, "is not an origin")) {
                broken("paa_origin_parse refused without saying why");
            }
            continue;
        }
        if (!same(&e, &r)) {
            broken("paa_origin_parse's entry is not the grammar's");
        }
        probe_entry(p, &e);
        if (i < lines->nelts - 1) { /* the last line is the Origin */
            APR_ARRAY_PUSH(list, paa_origin_t) = e;
            refs[n++] = r;
        }
    }
    for (i = 0; i < lines->nelts; i++) {
        check_origin(p, list, refs, APR_ARRAY_IDX(lines, i, char *), &allowed);
    }
    if (paa_origin_allowed(p, list, NULL) || paa_origin_allowed(p, NULL, "x")) {
        broken("paa_origin_allowed allowed a missing origin or list");
    }
    last.entries = n;
    last.lines = lines->nelts;
    last.allowed = allowed;
    apr_pool_destroy(p);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

/* What each named seed must produce: entries in the list (the lines
 * before the last that parse), and whether the last line is allowed as an
 * Origin. */
static const struct {
    const char *name;
    int entries, allowed;
} seeds[] = {
    {"exact_match", 1, 1},
    {"exact_default_port_spelled", 1, 1},
    {"exact_uppercase_origin", 1, 1},
    {"exact_other_port", 1, 0},
    {"exact_other_scheme", 1, 0},
    {"exact_suffix_attack", 1, 0},
    {"exact_subdomain", 1, 0},
    {"wildcard_subdomain", 1, 1},
    {"wildcard_deep_subdomain", 1, 1},
    {"wildcard_apex", 1, 0},
    {"wildcard_evil_prefix", 1, 0},
    {"wildcard_evil_suffix_domain", 1, 0},
    {"wildcard_tld_refused", 0, 0},
    {"wildcard_port", 1, 1},
    {"wildcard_ip_literal", 1, 0},
    {"any", 1, 1},
    {"any_null_origin", 1, 0},
    {"any_unparsable_origin", 1, 0},
    {"null_origin", 1, 0},
    {"origin_with_path", 1, 0},
    {"origin_with_userinfo", 1, 0},
    {"origin_trailing_slash", 1, 0},
    {"entry_trailing_slash", 1, 1},
    {"entry_two_trailing_slashes", 0, 0},
    {"entry_with_path", 0, 0},
    {"ipv6", 1, 1},
    {"ipv6_port", 1, 1},
    {"ipv6_unclosed", 0, 0},
    {"port_zero", 0, 0},
    {"port_too_big", 0, 0},
    {"port_leading_zeros", 1, 1},
    {"port_six_digits", 0, 0},
    {"empty_label", 0, 0},
    {"trailing_dot", 0, 0},
    {"ftp_scheme", 0, 0},
    {"no_scheme", 0, 0},
    {"empty", 0, 0},
    {"many_entries", 5, 1},
    {NULL, 0, 0},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[200];
    int i;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    if (!seeds[i].name) {
        return NULL;
    }
    if (seeds[i].entries != last.entries || seeds[i].allowed != last.allowed) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: %d of %d lines are entries, last "
                 "line allowed=%d",
                 last.entries, last.lines, last.allowed);
        return msg;
    }
    return NULL;
}
