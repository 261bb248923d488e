/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl persona import FILE [--replace] | list [--json]: load personas
 * from a JSON file (conf/personas.json has the reference's four) with the
 * same validation as POST /api/personas. The import is one transaction:
 * a file with one bad persona changes nothing. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void persona_help(void)
{
    printf("usage: paactl persona import FILE [--replace]\n"
           "       paactl persona list [--json]\n\n"
           "import loads a JSON array of personas (the fields of POST "
           "/api/personas),\nvalidated like the API. Existing ids are "
           "skipped, or updated with --replace.\nNothing is changed unless "
           "every persona is valid.\n");
}

static int import(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {{"replace", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    apr_dbd_transaction_t *txn = NULL;
    json_error_t je;
    json_t *doc, *item;
    paa_db_t *db;
    size_t i;
    int c, replace = 0, bad = 0, created = 0, updated = 0, skipped = 0;
    const char *err = NULL, *now;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            replace = 1;
            break;
        case 'h':
            persona_help();
            return PAACTL_OK;
        default:
            return paactl_usage_error("persona import",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) {
        return paactl_usage_error("persona import", "one FILE is required");
    }
    doc = json_load_file(argv[optind], JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        return paactl_fail("%s:%d: %s", argv[optind], je.line, je.text);
    }
    if (!json_is_array(doc)) {
        json_decref(doc);
        return paactl_fail("%s: expected a JSON array of personas",
                           argv[optind]);
    }
    json_array_foreach(doc, i, item)
    {
        paa_persona_t pp;
        json_t *errors = NULL, *e;
        size_t j;
        if (paa_persona_validate(ctl->pool, item, NULL, &pp, &errors) ==
            APR_SUCCESS) {
            size_t k;
            json_t *other;
            /* One file, one definition per id: which would win is a guess. */
            json_array_foreach(doc, k, other)
            {
                if (k < i && json_equal(json_object_get(other, "id"),
                                        json_object_get(item, "id"))) {
                    fprintf(stderr,
                            "paactl: %s: persona %zu: id %s repeats "
                            "persona %zu\n",
                            argv[optind], i + 1, pp.id, k + 1);
                    bad++;
                    break;
                }
            }
        }
        else {
            json_array_foreach(errors, j, e)
            {
                fprintf(stderr, "paactl: %s: persona %zu: %s %s\n",
                        argv[optind], i + 1,
                        json_string_value(json_object_get(e, "field")),
                        json_string_value(json_object_get(e, "message")));
            }
            bad++;
        }
        json_decref(errors);
    }
    if (bad) {
        json_decref(doc);
        return paactl_fail("%d invalid persona(s); nothing was imported", bad);
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        json_decref(doc);
        return PAACTL_FAIL;
    }
    now = paactl_now(ctl);
    if (apr_dbd_transaction_start(db->driver, ctl->pool, db->handle, &txn)) {
        json_decref(doc);
        return paactl_db_error(db, "start a transaction", "failed");
    }
    json_array_foreach(doc, i, item)
    {
        paa_persona_t pp;
        json_t *errors = NULL;
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        const char *args[9];
        int exists = 0;

        paa_persona_validate(ctl->pool, item, NULL, &pp, &errors);
        json_decref(errors);
        if (paa_db_pselect(ctl->pool, db,
                           "SELECT id FROM paa_personas WHERE id = %s", 1,
                           &pp.id, &res, &err) != APR_SUCCESS) {
            break;
        }
        while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
            exists = 1;
        }
        args[0] = pp.id;
        args[1] = pp.name;
        args[2] = pp.description;
        args[3] = pp.extra_instructions;
        args[4] = pp.knowledge_category;
        args[5] = apr_psprintf(ctl->pool, "%.17g", pp.temperature);
        args[6] = apr_itoa(ctl->pool, pp.max_tokens);
        args[7] = now;
        args[8] = now;
        if (exists && !replace) {
            fprintf(stderr,
                    "persona %s exists: skipped (--replace updates "
                    "it)\n",
                    pp.id);
            skipped++;
            continue;
        }
        if (exists) {
            const char *u[8] = {args[1], args[2], args[3], args[4],
                                args[5], args[6], now,     pp.id};
            if (paa_db_pquery(ctl->pool, db,
                              "UPDATE paa_personas SET name = %s,"
                              " description = %s, extra_instructions = %s,"
                              " knowledge_category = %s, temperature = %lf,"
                              " max_tokens = %d, updated_at = %lld"
                              " WHERE id = %s",
                              8, u, NULL, &err) != APR_SUCCESS) {
                break;
            }
            updated++;
        }
        else {
            if (paa_db_pquery(ctl->pool, db,
                              "INSERT INTO paa_personas (id, name, "
                              "description, extra_instructions, "
                              "knowledge_category, temperature, max_tokens, "
                              "created_at, updated_at) VALUES (%s, %s, %s, "
                              "%s, %s, %lf, %d, %lld, %lld)",
                              9, args, NULL, &err) != APR_SUCCESS) {
                break;
            }
            created++;
        }
    }
    json_decref(doc);
    if (err) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        apr_dbd_transaction_end(db->driver, ctl->pool, txn);
        return paactl_db_error(db, "import personas (nothing was changed)",
                               err);
    }
    if (apr_dbd_transaction_end(db->driver, ctl->pool, txn)) {
        return paactl_db_error(db, "commit the import", "failed");
    }
    paactl_audit(ctl, db, "persona.import", NULL, NULL,
                 apr_psprintf(ctl->pool, "created=%d updated=%d skipped=%d",
                              created, updated, skipped),
                 &err);
    printf("imported personas: %d created, %d updated, %d skipped\n", created,
           updated, skipped);
    return PAACTL_OK;
}

static int list(paactl_t *ctl, int argc, char **argv)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    json_t *arr = json_array();
    paa_db_t *db;
    const char *err = NULL;
    int as_json = argc > 1 && !strcmp(argv[1], "--json");

    if (argc > 1 && !as_json) {
        json_decref(arr);
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            persona_help();
            return PAACTL_OK;
        }
        return paactl_usage_error("persona list", "unexpected argument '%s'",
                                  argv[1]);
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        json_decref(arr);
        return PAACTL_FAIL;
    }
    if (paa_db_pselect(ctl->pool, db,
                       "SELECT id, name, knowledge_category, temperature,"
                       " max_tokens FROM paa_personas ORDER BY id",
                       0, NULL, &res, &err) != APR_SUCCESS) {
        json_decref(arr);
        return paactl_db_error(db, "read personas", err);
    }
    if (!as_json) {
        printf("%-24s %-28s %-14s %5s %6s\n", "ID", "NAME", "CATEGORY", "TEMP",
               "TOKENS");
    }
    while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
        const char *v[5];
        int k;
        for (k = 0; k < 5; k++) {
            v[k] = apr_dbd_get_entry(db->driver, row, k);
            v[k] = v[k] ? v[k] : "";
        }
        if (as_json) {
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:f, s:i}", "id", v[0], "name",
                               v[1], "knowledgeCategory", v[2], "temperature",
                               atof(v[3]), "maxTokens", atoi(v[4])));
        }
        else {
            printf("%-24s %-28s %-14s %5.2f %6s\n", v[0], v[1], v[2],
                   atof(v[3]), v[4]);
        }
    }
    if (as_json) {
        char *text = json_dumps(arr, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
    }
    json_decref(arr);
    return PAACTL_OK;
}

int paactl_cmd_persona(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        return paactl_usage_error("persona", "a subcommand is needed: import "
                                             "or list");
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        persona_help();
        return PAACTL_OK;
    }
    if (!strcmp(argv[1], "import")) {
        return import(ctl, argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "list")) {
        return list(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("persona", "unknown subcommand '%s'", argv[1]);
}
