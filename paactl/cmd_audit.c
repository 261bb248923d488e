/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl audit: the guide's "check logs for unauthorized usage". Records
 * are read newest first with every filter in SQL, so a busy audit table is
 * never read whole. Stored text can come from HTTP clients (usernames in
 * failed logins), so the table output neutralises control characters and
 * the JSON output survives invalid UTF-8. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUDIT_COLS      8
#define AUDIT_MAX_LIMIT 100000

typedef struct {
    apr_int64_t id;
    apr_int64_t at;
    const char *col[AUDIT_COLS - 1]; /* event ... detail */
} audit_row_t;

static const char *const audit_names[AUDIT_COLS - 1] = {
    "event", "outcome", "actor", "subject", "key_id", "client_ip", "detail"};

static void audit_help(void)
{
    printf("usage: paactl audit [--key KEY-ID|KEY|-] [--subject S] "
           "[--event E]\n"
           "                    [--since DURATION] [--limit N] [--json]\n\n"
           "Show audit records newest first: authentication failures, key "
           "use, key and\nuser lifecycle, admin changes. Records name keys by "
           "id, never by value.\n\n"
           "  --key KEY-ID      records about one key: its id (key_ + 16 hex "
           "digits),\n"
           "                    the key itself, or - to read the key from "
           "stdin\n"
           "  --subject S       records about one user or principal\n"
           "  --event E         one event (key.revoke), or a family "
           "(key.*)\n"
           "  --since DURATION  only the last DURATION (e.g. 1h, 7d)\n"
           "  --limit N         at most N records (default 100)\n"
           "  --json            a JSON array for scripts (times ISO 8601)\n");
}

/* Terminal output must not carry control characters from stored text. */
static const char *printable(paactl_t *ctl, const char *s)
{
    char *c, *out;
    if (!s || !*s) {
        return "-";
    }
    out = apr_pstrdup(ctl->pool, s);
    for (c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return out;
}

/* jansson refuses invalid UTF-8; such bytes become '?'. */
static json_t *jstr(paactl_t *ctl, const char *s)
{
    json_t *j;
    char *copy, *c;

    if ((j = json_string(s ? s : "")) != NULL) {
        return j;
    }
    copy = apr_pstrdup(ctl->pool, s);
    for (c = copy; *c; c++) {
        if ((unsigned char)*c >= 0x80) {
            *c = '?';
        }
    }
    return json_string(copy);
}

/* Display width: UTF-8 continuation bytes take no column. */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++) {
        w += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return w;
}

static int valid_key_id(const char *s)
{
    int i;
    if (strncmp(s, "key_", 4) || strlen(s) != 20) {
        return 0;
    }
    for (i = 4; i < 20; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* The id of the key whose SHA-256 is hash, or NULL. */
static apr_status_t key_id_by_hash(paactl_t *ctl, paa_db_t *db,
                                   const char *hash, const char **id,
                                   const char **err)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_status_t rv;

    *id = NULL;
    rv = paa_db_pselect(ctl->pool, db,
                        "SELECT id FROM paa_api_keys WHERE key_hash = %s", 1,
                        &hash, &res, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(db->driver, row, 0);
        if (!*id && v && *v) {
            *id = apr_pstrdup(ctl->pool, v);
        }
    }
    return APR_SUCCESS;
}

/* Reads "-" from stdin byte by byte, so no stdio buffer keeps the key. */
static int read_key(char *buf, apr_size_t size)
{
    apr_size_t n = 0;
    char c;
    while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
        if (n + 1 < size) {
            buf[n++] = c;
        }
        else {
            n = size;
        }
    }
    if (n && n < size && buf[n - 1] == '\r') {
        n--;
    }
    buf[n < size ? n : 0] = '\0';
    return n < size && paa_apikey_well_formed(buf);
}

/* The key argument as an id; the key itself is only ever hashed. */
static int resolve_key(paactl_t *ctl, paa_db_t *db, const char *arg,
                       const char **id)
{
    char buf[PAA_APIKEY_LEN + 2];
    const char *hash, *err = NULL;

    if (valid_key_id(arg)) {
        *id = arg;
        return PAACTL_OK;
    }
    if (!strcmp(arg, "-")) {
        int ok = read_key(buf, sizeof(buf));
        hash = ok ? paa_sha256_hex(ctl->pool, buf, PAA_APIKEY_LEN) : NULL;
        paa_wipe(buf, sizeof(buf));
        if (!ok) {
            return paactl_usage_error("audit", "standard input does not hold "
                                               "an API key (pak_ + 64 "
                                               "lowercase hex digits)");
        }
    }
    else {
        hash = paa_sha256_hex(ctl->pool, arg, strlen(arg));
    }
    if (key_id_by_hash(ctl, db, hash, id, &err) != APR_SUCCESS) {
        return paactl_fail("cannot read API keys in %s database %s: %s "
                           "(has 'paactl init' been run?)",
                           db->driver_name, db->label, err);
    }
    if (!*id) {
        return paactl_fail("no API key with the given value in %s database "
                           "%s (see 'paactl list --all')",
                           db->driver_name, db->label);
    }
    return PAACTL_OK;
}

static int print_json(paactl_t *ctl, apr_array_header_t *rows)
{
    json_t *arr = json_array();
    char *text;
    int i, c;

    for (i = 0; i < rows->nelts; i++) {
        audit_row_t *r = &APR_ARRAY_IDX(rows, i, audit_row_t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->id));
        json_object_set_new(o, "at", json_string(paactl_time(ctl, r->at)));
        for (c = 0; c < AUDIT_COLS - 1; c++) {
            json_object_set_new(o, audit_names[c], jstr(ctl, r->col[c]));
        }
        json_array_append_new(arr, o);
    }
    text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!text) {
        return paactl_fail("cannot format the JSON output (out of memory)");
    }
    printf("%s\n", text);
    free(text);
    return PAACTL_OK;
}

static void print_table(paactl_t *ctl, apr_array_header_t *rows)
{
    static const char *const head[AUDIT_COLS] = {"TIME",   "EVENT",   "OUTCOME",
                                                 "ACTOR",  "SUBJECT", "KEY",
                                                 "CLIENT", "DETAIL"};
    const char **cells =
        apr_pcalloc(ctl->pool, sizeof(char *) * AUDIT_COLS * rows->nelts);
    int w[AUDIT_COLS], i, c;

    for (c = 0; c < AUDIT_COLS; c++) {
        w[c] = width(head[c]);
    }
    for (i = 0; i < rows->nelts; i++) {
        audit_row_t *r = &APR_ARRAY_IDX(rows, i, audit_row_t);
        const char **cell = cells + i * AUDIT_COLS;
        cell[0] = paactl_time(ctl, r->at);
        for (c = 1; c < AUDIT_COLS; c++) {
            cell[c] = printable(ctl, r->col[c - 1]);
        }
        for (c = 0; c < AUDIT_COLS; c++) {
            if (width(cell[c]) > w[c]) {
                w[c] = width(cell[c]);
            }
        }
    }
    /* The detail column is last and never padded: it can be long. */
    for (i = -1; i < rows->nelts; i++) {
        const char *const *cell = i < 0 ? head : cells + i * AUDIT_COLS;
        for (c = 0; c < AUDIT_COLS - 1; c++) {
            printf("%s%*s", cell[c], w[c] - width(cell[c]) + 2, "");
        }
        printf("%s\n", cell[AUDIT_COLS - 1]);
    }
}

int paactl_cmd_audit(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"subject", required_argument, NULL, 's'},
        {"event", required_argument, NULL, 'e'},
        {"since", required_argument, NULL, 'S'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *key = NULL, *subject = NULL, *event = NULL, *since = NULL;
    const char *where = "", *err = NULL, *args[5], *sql;
    apr_int64_t age = 0;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *rows;
    long limit = 100;
    int json = 0, nargs = 0, c, rc;
    paa_db_t *db;
    char *end;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key = optarg;
            break;
        case 's':
            subject = optarg;
            break;
        case 'e':
            event = optarg;
            break;
        case 'S':
            since = optarg;
            break;
        case 'l':
            limit = strtol(optarg, &end, 10);
            if (!*optarg || *end || limit < 1 || limit > AUDIT_MAX_LIMIT) {
                return paactl_usage_error("audit",
                                          "--limit must be a number from 1 "
                                          "to %d",
                                          AUDIT_MAX_LIMIT);
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            audit_help();
            return PAACTL_OK;
        default:
            return paactl_usage_error(
                "audit", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("audit", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if (since && paa_duration_parse(since, &age) != APR_SUCCESS) {
        return paactl_usage_error("audit",
                                  "--since '%s' is not a duration "
                                  "(e.g. 1h, 30m, 7d)",
                                  since);
    }
    if (event && (!*event || strlen(event) > 64)) {
        return paactl_usage_error("audit", "--event must be 1 to 64 "
                                           "characters");
    }
    /* The key's value is never echoed, even when it is mistyped. */
    if (key && !valid_key_id(key) && strcmp(key, "-") &&
        !paa_apikey_well_formed(key)) {
        return paactl_usage_error("audit", "--key needs a key id (key_ + 16 "
                                           "hex digits), an API key (pak_ + "
                                           "64 hex digits) or -");
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (key) {
        if ((rc = resolve_key(ctl, db, key, &args[nargs])) != PAACTL_OK) {
            return rc;
        }
        /* A rotation is recorded under the new key; its detail starts
         * with the old one, whose history it also belongs to. */
        args[nargs + 1] =
            apr_pstrcat(ctl->pool, "rotated_from=", args[nargs], NULL);
        where = apr_psprintf(ctl->pool,
                             "%s AND (key_id = %%s OR (event = 'key.rotate'"
                             " AND substr(detail, 1, %d) = %%s))",
                             where, (int)strlen(args[nargs + 1]));
        nargs += 2;
    }
    if (subject) {
        args[nargs++] = subject;
        where = apr_pstrcat(ctl->pool, where, " AND subject = %s", NULL);
    }
    if (event) {
        apr_size_t n = strlen(event);
        /* substr rather than LIKE: event names contain '_', a wildcard. */
        if (event[n - 1] == '*') {
            args[nargs++] = apr_pstrmemdup(ctl->pool, event, n - 1);
            where = apr_psprintf(ctl->pool, "%s AND substr(event, 1, %d) = %%s",
                                 where, (int)(n - 1));
        }
        else {
            args[nargs++] = event;
            where = apr_pstrcat(ctl->pool, where, " AND event = %s", NULL);
        }
    }
    if (since) {
        args[nargs++] = apr_psprintf(ctl->pool, "%" APR_INT64_T_FMT,
                                     apr_time_sec(apr_time_now()) - age);
        where = apr_pstrcat(ctl->pool, where, " AND at >= %lld", NULL);
    }
    /* The limit is a checked integer, so it can be part of the text; a
     * placeholder would be typed differently by each driver. */
    sql = apr_psprintf(ctl->pool,
                       "SELECT id, at, event, outcome, actor, subject, key_id,"
                       " client_ip, detail FROM paa_audit WHERE 1 = 1%s"
                       " ORDER BY at DESC, id DESC LIMIT %ld",
                       where, limit);
    if (paa_db_pselect(ctl->pool, db, sql, nargs, args, &res, &err) !=
        APR_SUCCESS) {
        return paactl_fail("cannot read the audit records in %s database %s: "
                           "%s (has 'paactl init' been run?)",
                           db->driver_name, db->label, err);
    }
    rows = apr_array_make(ctl->pool, 64, sizeof(audit_row_t));
    while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
        audit_row_t *r = apr_array_push(rows);
        const char *v;
        v = apr_dbd_get_entry(db->driver, row, 0);
        r->id = v ? apr_atoi64(v) : 0;
        v = apr_dbd_get_entry(db->driver, row, 1);
        r->at = v ? apr_atoi64(v) : 0;
        for (c = 0; c < AUDIT_COLS - 1; c++) {
            v = apr_dbd_get_entry(db->driver, row, c + 2);
            r->col[c] = apr_pstrdup(ctl->pool, v ? v : "");
        }
    }
    if (json) {
        return print_json(ctl, rows);
    }
    if (!rows->nelts) {
        fprintf(stderr, "no audit records match\n");
        return PAACTL_OK;
    }
    print_table(ctl, rows);
    if (rows->nelts == limit) {
        fprintf(stderr,
                "showing the newest %ld records; --limit N shows "
                "more\n",
                limit);
    }
    return PAACTL_OK;
}
