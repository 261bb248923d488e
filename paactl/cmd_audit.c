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

/* The key argument as an id; the key itself is only ever hashed. */
static int resolve_key(paactl_t *ctl, paa_db_t *db, const char *arg,
                       const char **id)
{
    const char *hash;
    paa_key_t k;
    int rc, found = 0;

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
    if (paa_keys_by_hash(ctl->pool, db, hash, &k, &found) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", db->error);
    }
    *id = found ? k.id : NULL;
    if (!*id) {
        return paactl_fail("no API key with the given value in %s database "
                           "%s (see 'paactl list --all')",
                           db->driver_name, db->label);
    }
    return PAACTL_OK;
}

/* The text columns in the order of audit_names and the table. */
static void audit_cols(const paa_audit_t *a, const char **col)
{
    col[0] = a->event;
    col[1] = a->outcome;
    col[2] = a->actor;
    col[3] = a->subject;
    col[4] = a->key_id;
    col[5] = a->client_ip;
    col[6] = a->detail;
}

static int print_json(paactl_t *ctl, apr_array_header_t *rows)
{
    json_t *arr = json_array();
    const char *col[AUDIT_COLS - 1];
    int i, c;

    for (i = 0; i < rows->nelts; i++) {
        const paa_audit_t *a = &APR_ARRAY_IDX(rows, i, paa_audit_t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(a->id));
        json_object_set_new(o, "at", json_string(paactl_time(ctl, a->at)));
        audit_cols(a, col);
        for (c = 0; c < AUDIT_COLS - 1; c++) {
            json_object_set_new(o, audit_names[c],
                                paactl_json_str(ctl, col[c]));
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
    const char *col[AUDIT_COLS - 1];
    int i, c;

    for (i = 0; i < rows->nelts; i++) {
        const paa_audit_t *a = &APR_ARRAY_IDX(rows, i, paa_audit_t);
        const char **cell = cells + i * AUDIT_COLS;
        cell[0] = paactl_time(ctl, a->at);
        audit_cols(a, col);
        for (c = 1; c < AUDIT_COLS; c++) {
            cell[c] = paactl_printable(ctl, col[c - 1]);
        }
    }
    /* The detail column is last, so paactl_table_print never pads it. */
    paactl_table_print(ctl, AUDIT_COLS, head, cells, rows->nelts);
}

/* The command line: f is the filter but for the key, which needs the
 * database to be resolved. */
typedef struct {
    paa_audit_filter_t f;
    const char *key;
    const char *since;
    int json;
} audit_args_t;

static int audit_parse(int argc, char **argv, audit_args_t *a)
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
    long limit = 100;
    char *end;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->key = optarg;
            break;
        case 's':
            a->f.subject = optarg;
            break;
        case 'e':
            a->f.event = optarg;
            break;
        case 'S':
            a->since = optarg;
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
            a->json = 1;
            break;
        case 'h':
            audit_help();
            return -1;
        default:
            return paactl_usage_error(
                "audit", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    a->f.limit = (int)limit;
    if (optind < argc) {
        return paactl_usage_error("audit", "unexpected argument '%s'",
                                  argv[optind]);
    }
    return PAACTL_OK;
}

/* Checks what audit_parse could not, and turns --since and a family
 * --event into the filter's terms. */
static int audit_check(paactl_t *ctl, audit_args_t *a)
{
    const char *event = a->f.event;
    apr_int64_t age = 0;

    if (a->since && paa_duration_parse(a->since, &age) != APR_SUCCESS) {
        return paactl_usage_error("audit",
                                  "--since '%s' is not a duration "
                                  "(e.g. 1h, 30m, 7d)",
                                  a->since);
    }
    if (a->since) {
        a->f.since = apr_time_sec(apr_time_now()) - age;
    }
    if (event && (!*event || strlen(event) > 64)) {
        return paactl_usage_error("audit", "--event must be 1 to 64 "
                                           "characters");
    }
    if (event && event[strlen(event) - 1] == '*') {
        a->f.event_prefix = apr_pstrmemdup(ctl->pool, event, strlen(event) - 1);
        a->f.event = NULL;
    }
    /* The key's value is never echoed, even when it is mistyped. */
    if (a->key && !paactl_key_id_well_formed(a->key) && strcmp(a->key, "-") &&
        !paa_apikey_well_formed(a->key)) {
        return paactl_usage_error("audit", "--key needs a key id (key_ + 16 "
                                           "hex digits), an API key (pak_ + "
                                           "64 hex digits) or -");
    }
    return PAACTL_OK;
}

int paactl_cmd_audit(paactl_t *ctl, int argc, char **argv)
{
    apr_array_header_t *rows;
    audit_args_t a;
    paa_db_t *db;
    int rc;

    memset(&a, 0, sizeof(a));
    if ((rc = audit_parse(argc, argv, &a)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = audit_check(ctl, &a)) != PAACTL_OK) {
        return rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (a.key && (rc = resolve_key(ctl, db, a.key, &a.f.key_id)) != PAACTL_OK) {
        return rc;
    }
    if (paa_audit_query(ctl->pool, db, &a.f, &rows) != APR_SUCCESS) {
        return paactl_db_error(db, "read the audit records", db->error);
    }
    if (a.json) {
        return print_json(ctl, rows);
    }
    if (!rows->nelts) {
        fprintf(stderr, "no audit records match\n");
        return PAACTL_OK;
    }
    print_table(ctl, rows);
    if (rows->nelts == a.f.limit) {
        fprintf(stderr,
                "showing the newest %d records; --limit N shows "
                "more\n",
                a.f.limit);
    }
    return PAACTL_OK;
}
