/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl audit: the guide's "check logs for unauthorized usage". Records
 * are read newest first with every filter in SQL, so a busy audit table is
 * never read whole. Stored text can come from HTTP clients (usernames in
 * failed logins), so the table output neutralises control characters and
 * the JSON output survives invalid UTF-8. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void audit_fill(paactl_t *ctl, paa_db_t *db, apr_dbd_row_t *row,
                       void *elt)
{
    audit_row_t *r = elt;
    const char *v;
    int c;

    v = apr_dbd_get_entry(db->driver, row, 0);
    r->id = v ? apr_atoi64(v) : 0;
    v = apr_dbd_get_entry(db->driver, row, 1);
    r->at = v ? apr_atoi64(v) : 0;
    for (c = 0; c < AUDIT_COLS - 1; c++) {
        v = apr_dbd_get_entry(db->driver, row, c + 2);
        r->col[c] = apr_pstrdup(ctl->pool, v ? v : "");
    }
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

/* The key argument as an id; the key itself is only ever hashed. */
static int resolve_key(paactl_t *ctl, paa_db_t *db, const char *arg,
                       const char **id)
{
    const char *hash, *err = NULL;
    int rc;

    if (paactl_key_id_well_formed(arg)) {
        *id = arg;
        return PAACTL_OK;
    }
    if (!strcmp(arg, "-")) {
        if ((rc = paactl_key_hash_stdin(ctl, "audit", &hash)) != PAACTL_OK) {
            return rc;
        }
    }
    else {
        hash = paa_sha256_hex(ctl->pool, arg, strlen(arg));
    }
    if (key_id_by_hash(ctl, db, hash, id, &err) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", err);
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
    int i, c;

    for (i = 0; i < rows->nelts; i++) {
        audit_row_t *r = &APR_ARRAY_IDX(rows, i, audit_row_t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->id));
        json_object_set_new(o, "at", json_string(paactl_time(ctl, r->at)));
        for (c = 0; c < AUDIT_COLS - 1; c++) {
            json_object_set_new(o, audit_names[c],
                                paactl_json_str(ctl, r->col[c]));
        }
        json_array_append_new(arr, o);
    }
    return paactl_json_print(arr);
}

static void print_table(paactl_t *ctl, apr_array_header_t *rows)
{
    static const char *const head[AUDIT_COLS] = {"TIME",   "EVENT",   "OUTCOME",
                                                 "ACTOR",  "SUBJECT", "KEY",
                                                 "CLIENT", "DETAIL"};
    const char **cells =
        apr_pcalloc(ctl->pool, sizeof(char *) * AUDIT_COLS * rows->nelts);
    int i, c;

    for (i = 0; i < rows->nelts; i++) {
        audit_row_t *r = &APR_ARRAY_IDX(rows, i, audit_row_t);
        const char **cell = cells + i * AUDIT_COLS;
        cell[0] = paactl_time(ctl, r->at);
        for (c = 1; c < AUDIT_COLS; c++) {
            cell[c] = paactl_printable(ctl, r->col[c - 1]);
        }
    }
    /* The detail column is last, so paactl_table_print never pads it. */
    paactl_table_print(ctl, AUDIT_COLS, head, cells, rows->nelts);
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
    if (key && !paactl_key_id_well_formed(key) && strcmp(key, "-") &&
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
    if (paactl_select(ctl, db, sql, nargs, args, sizeof(audit_row_t),
                      audit_fill, &rows, &err) != APR_SUCCESS) {
        return paactl_db_error(db, "read the audit records", err);
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
