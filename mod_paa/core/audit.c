/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The audit trail (paa_audit). Rows have no foreign keys: the record of
 * what a user or key did outlives them. */

#include "paa.h"

#include <apr_strings.h>
#include <stdio.h>

static const paa_stmt_t add = {
    "paa_audit_add",
    "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id,"
    " client_ip, detail) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s)"};

/* The filters of a query and of its count, so that a page and its total
 * can never disagree. A NULL argument switches its filter off (see
 * paa_key_find). A rotation is recorded under the new key with a detail
 * that starts "rotated_from=OLD": it belongs to the old key's history too.
 * substr rather than LIKE: event names contain '_', a LIKE wildcard. */
#define AUDIT_WHERE                                                            \
    " WHERE (%s IS NULL OR key_id = %s OR (event = 'key.rotate'"               \
    " AND substr(detail, 1, %d) = %s))"                                        \
    " AND (%s IS NULL OR subject = %s)"                                        \
    " AND (%s IS NULL OR event = %s)"                                          \
    " AND (%s IS NULL OR substr(event, 1, %d) = %s)"                           \
    " AND (%s IS NULL OR client_ip = %s)"                                      \
    " AND at >= %lld AND at < %lld"
#define AUDIT_WHERE_ARGS 15

#define AUDIT_COLUMNS                                                          \
    "id, at, event, outcome, actor, subject, key_id, client_ip, detail"

static const paa_stmt_t query = {
    "paa_audit_query", "SELECT " AUDIT_COLUMNS " FROM paa_audit" AUDIT_WHERE
                       " ORDER BY at DESC, id DESC LIMIT %d OFFSET %d"};

/* For the GDPR export (store_gdpr.c): keyset paging on id. */
static const paa_stmt_t involving = {
    "paa_gdpr_audit", "SELECT " AUDIT_COLUMNS " FROM paa_audit"
                      " WHERE (subject = %s OR actor = %s) AND id > %lld"
                      " ORDER BY id LIMIT %d"};

static const paa_stmt_t count = {"paa_audit_count",
                                 "SELECT count(*) FROM paa_audit" AUDIT_WHERE};

/* Shared (util.h): the access-log JSON escaping reads UTF-8 the same way. */
int paa_utf8_seq(const unsigned char *s)
{
    int n, i;
    unsigned int cp;

    if (s[0] < 0x80) {
        return 1;
    }
    n = (s[0] & 0xe0) == 0xc0   ? 2
        : (s[0] & 0xf0) == 0xe0 ? 3
        : (s[0] & 0xf8) == 0xf0 ? 4
                                : 0;
    if (!n) {
        return 0;
    }
    cp = s[0] & (0x7f >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Audit text comes partly from requests (a path, a name): PostgreSQL
 * refuses invalid UTF-8 and the record would be lost, so such bytes are
 * written as \xNN. Valid text is returned as it is. */
const char *paa_utf8_escape(apr_pool_t *p, const char *s)
{
    const unsigned char *c;
    char *out, *o;
    int n;

    for (c = (const unsigned char *)s; *c; c += n) {
        if (!(n = paa_utf8_seq(c))) {
            break;
        }
    }
    if (!*c) {
        return s;
    }
    o = out = apr_palloc(p, 4 * strlen(s) + 1);
    for (c = (const unsigned char *)s; *c; c += n) {
        if ((n = paa_utf8_seq(c))) {
            memcpy(o, c, n);
            o += n;
        }
        else {
            o += sprintf(o, "\\x%02x", *c);
            n = 1;
        }
    }
    *o = '\0';
    return out;
}

static const char *nz(apr_pool_t *p, const char *s)
{
    return s ? paa_utf8_escape(p, s) : "";
}

apr_status_t paa_audit_add(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a)
{
    const char *args[8];
    args[0] = paa_db_i64(p, a->at ? a->at : apr_time_sec(apr_time_now()));
    args[1] = nz(p, a->event);
    args[2] = nz(p, a->outcome);
    args[3] = nz(p, a->actor);
    args[4] = nz(p, a->subject);
    args[5] = nz(p, a->key_id);
    args[6] = nz(p, a->client_ip);
    args[7] = nz(p, a->detail);
    return paa_db_run(p, db, &add, 8, args, NULL);
}

apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err)
{
    apr_status_t rv = paa_audit_add(p, db, a);
    if (rv != APR_SUCCESS) {
        *err = db->error;
    }
    return rv;
}

static void audit_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                      paa_audit_t *a)
{
    a->id = paa_db_int(db, row, 0);
    a->at = paa_db_int(db, row, 1);
    a->event = paa_db_text(p, db, row, 2);
    a->outcome = paa_db_text(p, db, row, 3);
    a->actor = paa_db_text(p, db, row, 4);
    a->subject = paa_db_text(p, db, row, 5);
    a->key_id = paa_db_text(p, db, row, 6);
    a->client_ip = paa_db_text(p, db, row, 7);
    a->detail = paa_db_text(p, db, row, 8);
}

apr_status_t paa_gdpr_audit(apr_pool_t *p, paa_db_t *db, const char *who,
                            apr_int64_t after, int limit,
                            apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[4];

    args[0] = args[1] = who;
    args[2] = paa_db_i64(p, after);
    args[3] = apr_itoa(p, limit);
    *out = apr_array_make(p, 16, sizeof(paa_audit_t));
    if (paa_db_select(p, db, &involving, 4, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        audit_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

/* The arguments of AUDIT_WHERE, in args[0 .. AUDIT_WHERE_ARGS - 1]. */
static void where_args(apr_pool_t *p, const paa_audit_filter_t *f,
                       const char **args)
{
    const char *rotated = NULL;

    if (f->key_id) {
        rotated = apr_pstrcat(p, "rotated_from=", f->key_id, NULL);
    }
    args[0] = args[1] = f->key_id;
    args[2] = apr_itoa(p, rotated ? (int)strlen(rotated) : 0);
    args[3] = rotated;
    args[4] = args[5] = f->subject;
    args[6] = args[7] = f->event;
    args[8] = args[10] = f->event_prefix;
    args[9] = apr_itoa(p, f->event_prefix ? (int)strlen(f->event_prefix) : 0);
    args[11] = args[12] = f->client_ip;
    args[13] = paa_db_i64(p, f->since);
    /* No bound is a bound no record reaches: one statement for both. */
    args[14] = paa_db_i64(p, f->until ? f->until : APR_INT64_MAX);
}

apr_status_t paa_audit_query(apr_pool_t *p, paa_db_t *db,
                             const paa_audit_filter_t *f,
                             apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[AUDIT_WHERE_ARGS + 2];

    where_args(p, f, args);
    args[AUDIT_WHERE_ARGS] = apr_itoa(p, f->limit);
    args[AUDIT_WHERE_ARGS + 1] = apr_itoa(p, f->offset);
    *out =
        apr_array_make(p, f->limit < 64 ? f->limit : 64, sizeof(paa_audit_t));
    if (paa_db_select(p, db, &query, AUDIT_WHERE_ARGS + 2, args, &res) !=
        APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        audit_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t paa_audit_count(apr_pool_t *p, paa_db_t *db,
                             const paa_audit_filter_t *f, apr_int64_t *total)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[AUDIT_WHERE_ARGS];

    *total = 0;
    where_args(p, f, args);
    if (paa_db_select(p, db, &count, AUDIT_WHERE_ARGS, args, &res) !=
        APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* Every row is read: the driver releases its cursor at the end. */
    while (paa_db_next(p, db, res, &row)) {
        *total = paa_db_int(db, row, 0);
    }
    return APR_SUCCESS;
}
