/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl providers failovers: when an LLM provider could not answer a chat
 * and the next one was asked, without SQL. httpd records each failover in
 * paa_failovers (paa_provider.c); an operator reading them after an
 * incident wants the newest first, one provider at a time, over a recent
 * window. Reasons are httpd's own words (HTTP 500, timeout, connection
 * error ...), never a provider key or answer. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILOVERS_MAX_LIMIT 100000
#define FAILOVER_COLS       5

static void providers_help(void)
{
    printf("usage: paactl providers failovers [--provider NAME] "
           "[--since DURATION]\n"
           "                                  [--limit N] [--json]\n\n"
           "Show LLM provider failovers newest first: when a provider "
           "(PAAProvider)\ncould not answer a chat, why, and which provider "
           "answered instead (- when\nnone did).\n\n"
           "  --provider NAME   failovers of one provider\n"
           "  --since DURATION  only the last DURATION (e.g. 1h, 7d)\n"
           "  --limit N         at most N failovers (default 100)\n"
           "  --json            a JSON array for scripts (times ISO 8601)\n");
}

typedef struct {
    paa_failover_filter_t f;
    const char *since;
    int json;
} failovers_args_t;

static int failovers_parse(int argc, char **argv, failovers_args_t *a)
{
    static const struct option opts[] = {
        {"provider", required_argument, NULL, 'p'},
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
        case 'p':
            a->f.provider = optarg;
            break;
        case 'S':
            a->since = optarg;
            break;
        case 'l':
            limit = strtol(optarg, &end, 10);
            if (!*optarg || *end || limit < 1 || limit > FAILOVERS_MAX_LIMIT) {
                return paactl_usage_error("providers failovers",
                                          "--limit must be a number from 1 "
                                          "to %d",
                                          FAILOVERS_MAX_LIMIT);
            }
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            providers_help();
            return -1;
        default:
            return paactl_usage_error("providers failovers",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    a->f.limit = (int)limit;
    if (optind < argc) {
        return paactl_usage_error("providers failovers",
                                  "unexpected argument '%s'", argv[optind]);
    }
    /* The failed_provider column's size; a name is never empty. */
    if (a->f.provider && (!*a->f.provider || strlen(a->f.provider) > 100)) {
        return paactl_usage_error("providers failovers",
                                  "--provider must be 1 to 100 characters");
    }
    if (a->since) {
        apr_int64_t age = 0;
        if (paa_duration_parse(a->since, &age) != APR_SUCCESS) {
            return paactl_usage_error("providers failovers",
                                      "--since '%s' is not a duration "
                                      "(e.g. 1h, 30m, 7d)",
                                      a->since);
        }
        a->f.since = apr_time_sec(apr_time_now()) - age;
    }
    return PAACTL_OK;
}

static int print_json(paactl_t *ctl, apr_array_header_t *rows)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const paa_failover_t *fo = &APR_ARRAY_IDX(rows, i, paa_failover_t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(fo->id));
        json_object_set_new(o, "at", json_string(paactl_time(ctl, fo->at)));
        json_object_set_new(o, "provider",
                            paactl_json_str(ctl, fo->failed_provider));
        json_object_set_new(o, "reason", paactl_json_str(ctl, fo->reason));
        json_object_set_new(
            o, "answered_by",
            paactl_json_str(ctl, *fo->answered_by ? fo->answered_by : NULL));
        json_object_set_new(o, "node",
                            paactl_json_str(ctl, *fo->node ? fo->node : NULL));
        json_array_append_new(arr, o);
    }
    return paactl_json_print(arr);
}

static void print_table(paactl_t *ctl, apr_array_header_t *rows)
{
    static const char *const head[FAILOVER_COLS] = {
        "TIME", "PROVIDER", "ANSWERED BY", "NODE", "REASON"};
    const char **cells =
        apr_pcalloc(ctl->pool, sizeof(char *) * FAILOVER_COLS * rows->nelts);
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const paa_failover_t *fo = &APR_ARRAY_IDX(rows, i, paa_failover_t);
        const char **cell = cells + i * FAILOVER_COLS;
        cell[0] = paactl_time(ctl, fo->at);
        cell[1] = paactl_printable(ctl, fo->failed_provider);
        cell[2] = paactl_printable(ctl, fo->answered_by);
        cell[3] = paactl_printable(ctl, fo->node);
        /* Last: the longest, and never padded. */
        cell[4] = paactl_printable(ctl, fo->reason);
    }
    paactl_table_print(ctl, FAILOVER_COLS, head, cells, rows->nelts);
}

static int failovers(paactl_t *ctl, int argc, char **argv)
{
    apr_array_header_t *rows;
    failovers_args_t a;
    paa_db_t *db;
    int rc;

    memset(&a, 0, sizeof(a));
    if ((rc = failovers_parse(argc, argv, &a)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_failovers_find(ctl->pool, db, &a.f, &rows) != APR_SUCCESS) {
        return paactl_db_error(db, "read the provider failovers", db->error);
    }
    if (a.json) {
        return print_json(ctl, rows);
    }
    if (!rows->nelts) {
        fprintf(stderr, "no provider failovers match\n");
        return PAACTL_OK;
    }
    print_table(ctl, rows);
    if (rows->nelts == a.f.limit) {
        fprintf(stderr,
                "showing the newest %d failovers; --limit N shows more\n",
                a.f.limit);
    }
    return PAACTL_OK;
}

int paactl_cmd_providers(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        return paactl_usage_error("providers",
                                  "a subcommand is needed: failovers");
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        providers_help();
        return PAACTL_OK;
    }
    if (!strcmp(argv[1], "failovers")) {
        return failovers(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("providers", "unknown subcommand '%s'", argv[1]);
}
