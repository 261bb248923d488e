/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* GET /api/admin/audit/logs: the audit trail for administrators, newest
 * first and paged like the persona list, filtered in SQL (core/audit.c)
 * so that a large table is never read whole. Who may read it is decided
 * by the configuration (Require paa-role admin in the shipped ones), as
 * for persona writes. A filter that cannot be understood is a 400 naming
 * the parameter, never ignored: a mistyped filter must not quietly show
 * every record as if they matched. */

#include "../paa_private.h"

#include <apr_strings.h>
#include <arpa/inet.h>

#define FILTER_EVENT_MAX   64  /* the event column */
#define FILTER_SUBJECT_MAX 200 /* the subject column */
#define FILTER_CLIENT_MAX  64  /* the client_ip column */

typedef struct {
    paa_audit_filter_t f;
    const char *seen; /* ",name," of each parameter given, for repeats */
    json_t *errors;
} audit_query_t;

static void invalid(audit_query_t *q, const char *field, const char *message)
{
    json_array_append_new(
        q->errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

/* A parameter name the client sent, for errors[].field: valid UTF-8 (as
 * JSON needs), at most 64 bytes, cut between characters. */
static const char *client_name(request_rec *r, const char *name)
{
    const char *s = paa_utf8_escape(r->pool, name);
    apr_size_t n = strlen(s);

    if (n <= 64) {
        return s;
    }
    for (n = 64; ((unsigned char)s[n] & 0xc0) == 0x80; n--) {
    }
    return apr_pstrndup(r->pool, s, n);
}

/* event=key.revoke, or a family: event=key.* */
static void parse_event(request_rec *r, audit_query_t *q, const char *v)
{
    apr_size_t n = strlen(v);

    if (n > FILTER_EVENT_MAX ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789._") <
            n - (v[n - 1] == '*')) {
        invalid(q, "event",
                "must be an event name (key.revoke) or a family ending "
                "in * (key.*): lowercase letters, digits, '.' and '_', "
                "at most 64 characters");
        return;
    }
    if (v[n - 1] == '*') {
        q->f.event_prefix = apr_pstrmemdup(r->pool, v, n - 1);
    }
    else {
        q->f.event = v;
    }
}

/* key=key_0123456789abcdef or key=legacy:N (an API_KEYS key). */
static void parse_key(audit_query_t *q, const char *v)
{
    apr_size_t n = strlen(v);

    if (!strncmp(v, "pak_", 4)) {
        /* It is in this request's access log already; do not ask for it. */
        invalid(q, "key",
                "must be a key id, never the key itself (which must not "
                "appear in URLs)");
    }
    else if (!((n == 20 && !strncmp(v, "key_", 4) &&
                strspn(v + 4, "0123456789abcdef") == 16) ||
               (n > 7 && n <= 16 && !strncmp(v, "legacy:", 7) &&
                strspn(v + 7, "0123456789") == n - 7))) {
        invalid(q, "key",
                "must be a key id: key_ and 16 hex digits, or legacy:N");
    }
    else {
        q->f.key_id = v;
    }
}

/* client=192.0.2.1 or 2001:db8::1, written as httpd writes addresses (an
 * IPv6 one lowercase and compressed, a v4-mapped one as IPv4), so that
 * 2001:DB8:0::1 finds what httpd recorded as 2001:db8::1. */
static void parse_client(request_rec *r, audit_query_t *q, const char *v)
{
    unsigned char addr[16];
    char *text = apr_palloc(r->pool, INET6_ADDRSTRLEN);

    if (strlen(v) < FILTER_CLIENT_MAX && inet_pton(AF_INET, v, addr) == 1 &&
        inet_ntop(AF_INET, addr, text, INET6_ADDRSTRLEN)) {
        q->f.client_ip = text;
    }
    else if (strlen(v) < FILTER_CLIENT_MAX &&
             inet_pton(AF_INET6, v, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        int v4 = !memcmp(addr, mapped, sizeof(mapped));
        if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? addr + 12 : addr, text,
                      INET6_ADDRSTRLEN)) {
            q->f.client_ip = text;
        }
    }
    if (!q->f.client_ip) {
        invalid(q, "client", "must be an IPv4 or IPv6 address");
    }
}

static void parse_time(audit_query_t *q, const char *name, const char *v,
                       apr_int64_t *out)
{
    if (paa_time_parse(v, out) != APR_SUCCESS) {
        invalid(q, name,
                "must be Unix seconds or an ISO 8601 time with a zone "
                "(2026-11-28T09:30:00Z, 2026-11-28T10:30:00+01:00) or "
                "date (2026-11-28, midnight UTC)");
    }
}

/* One name=value of the query string, both decoded. */
static void parse_param(request_rec *r, audit_query_t *q, const char *name,
                        char *v)
{
    static const char *const known[] = {"event", "subject", "key", "client",
                                        "since", "until",   NULL};
    int i;

    if (!strcmp(name, "page") || !strcmp(name, "pageSize")) {
        return; /* paa_paging's */
    }
    for (i = 0; known[i] && strcmp(known[i], name); i++) {
    }
    if (!known[i]) {
        invalid(q, client_name(r, name),
                "unknown parameter: filter by event, subject, key, "
                "client, since or until; page with page and pageSize");
        return;
    }
    if (strstr(q->seen, apr_pstrcat(r->pool, ",", name, ",", NULL))) {
        invalid(q, name, "is given more than once");
        return;
    }
    q->seen = apr_pstrcat(r->pool, q->seen, name, ",", NULL);
    if (!*v) {
        invalid(q, name, "must not be empty");
    }
    else if (!strcmp(name, "event")) {
        parse_event(r, q, v);
    }
    else if (!strcmp(name, "subject")) {
        if (paa_utf8_escape(r->pool, v) != v ||
            paa_utf8_chars(v) > FILTER_SUBJECT_MAX) {
            invalid(q, "subject", "must be UTF-8 text of 1 to 200 characters");
        }
        q->f.subject = v;
    }
    else if (!strcmp(name, "key")) {
        parse_key(q, v);
    }
    else if (!strcmp(name, "client")) {
        parse_client(r, q, v);
    }
    else if (!strcmp(name, "since")) {
        parse_time(q, "since", v, &q->f.since);
    }
    else {
        parse_time(q, "until", v, &q->f.until);
    }
}

/* The filters of r's query string into q; 1 when all are valid. */
static int parse_query(request_rec *r, audit_query_t *q)
{
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *pair, *state;

    q->seen = ",";
    for (pair = args ? apr_strtok(args, "&", &state) : NULL; pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *v = strchr(pair, '=');
        if (v) {
            *v++ = '\0';
        }
        /* ap_unescape_urlencoded: '+' is a space, %XX a byte; a bad
         * escape or an encoded NUL is refused. */
        if (ap_unescape_urlencoded(pair) != OK) {
            invalid(q, "query", "a parameter name is not valid URL encoding");
        }
        else if (v && ap_unescape_urlencoded(v) != OK) {
            invalid(q, client_name(r, pair), "is not valid URL encoding");
        }
        else {
            parse_param(r, q, pair, v ? v : "");
        }
    }
    if (q->f.since && q->f.until && q->f.until <= q->f.since) {
        invalid(q, "until", "must be later than since");
    }
    return json_array_size(q->errors) == 0;
}

/* Empty columns are "none": null, as the API shows what does not apply.
 * Rows from before audit text was escaped may hold bytes jansson refuses. */
static json_t *text_or_null(request_rec *r, const char *s)
{
    return *s ? json_string(paa_utf8_escape(r->pool, s)) : json_null();
}

static json_t *record_json(request_rec *r, const paa_audit_t *a)
{
    return json_pack(
        "{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)a->id, "at", paa_iso_time(r->pool, a->at), "event",
        text_or_null(r, a->event), "outcome", text_or_null(r, a->outcome),
        "actor", text_or_null(r, a->actor), "subject",
        text_or_null(r, a->subject), "keyId", text_or_null(r, a->key_id),
        "clientIp", text_or_null(r, a->client_ip), "detail",
        text_or_null(r, a->detail));
}

int paa_api_audit_logs(request_rec *r)
{
    audit_query_t q;
    apr_array_header_t *rows;
    apr_int64_t total = 0;
    paa_db_t *db;
    json_t *items;
    int page, size, i;

    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    memset(&q, 0, sizeof(q));
    q.errors = json_array();
    /* Both, so that one answer names every bad parameter. */
    paa_paging(r, &page, &size, q.errors);
    if (!parse_query(r, &q)) {
        return paa_send_invalid(r, q.errors);
    }
    json_decref(q.errors);
    q.f.limit = size;
    q.f.offset = (page - 1) * size;
    if (!(db = paa_db(r)) ||
        paa_audit_count(r->pool, db, &q.f, &total) != APR_SUCCESS ||
        paa_audit_query(r->pool, db, &q.f, &rows) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "the audit store is unavailable");
    }
    items = json_array();
    for (i = 0; i < rows->nelts; i++) {
        json_array_append_new(
            items, record_json(r, &APR_ARRAY_IDX(rows, i, paa_audit_t)));
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:o, s:i, s:i, s:I, s:I}", "items", items,
                                   "page", page, "pageSize", size, "total",
                                   (json_int_t)total, "totalPages",
                                   (json_int_t)((total + size - 1) / size)));
}
