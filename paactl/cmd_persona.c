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

/* Prints why an entry of the file is not a valid persona; *pp is the
 * validated persona otherwise. Returns 1 when it is not. */
static int entry_invalid(paactl_t *ctl, const char *file, json_t *doc, size_t i,
                         paa_persona_t *pp)
{
    json_t *item = json_array_get(doc, i), *errors = NULL, *e, *other;
    size_t j;
    int bad = 0;

    if (paa_persona_validate(ctl->pool, item, NULL, pp, &errors) ==
        APR_SUCCESS) {
        /* One file, one definition per id: which would win is a guess. */
        json_array_foreach(doc, j, other)
        {
            if (j < i && json_equal(json_object_get(other, "id"),
                                    json_object_get(item, "id"))) {
                fprintf(stderr,
                        "paactl: %s: persona %zu: id %s repeats "
                        "persona %zu\n",
                        file, i + 1, pp->id, j + 1);
                bad = 1;
                break;
            }
        }
    }
    else {
        json_array_foreach(errors, j, e)
        {
            fprintf(stderr, "paactl: %s: persona %zu: %s %s\n", file, i + 1,
                    json_string_value(json_object_get(e, "field")),
                    json_string_value(json_object_get(e, "message")));
        }
        bad = 1;
    }
    json_decref(errors);
    return bad;
}

/* The personas of file, validated; prints why not and returns the exit
 * status when the file or any entry is not valid. */
static int load_file(paactl_t *ctl, const char *file, apr_array_header_t **out)
{
    json_error_t je;
    json_t *doc;
    size_t i;
    int bad = 0;

    doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        return paactl_fail("%s:%d: %s", file, je.line, je.text);
    }
    if (!json_is_array(doc)) {
        json_decref(doc);
        return paactl_fail("%s: expected a JSON array of personas", file);
    }
    *out = apr_array_make(ctl->pool, (int)json_array_size(doc) + 1,
                          sizeof(paa_persona_t));
    for (i = 0; i < json_array_size(doc); i++) {
        bad += entry_invalid(ctl, file, doc, i, apr_array_push(*out));
    }
    json_decref(doc);
    if (bad) {
        return paactl_fail("%d invalid persona(s); nothing was imported", bad);
    }
    return PAACTL_OK;
}

static int import(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {{"replace", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    apr_array_header_t *personas = NULL, *outcomes;
    paa_db_t *db;
    const char *err = NULL;
    int c, i, rc, replace = 0, n[3] = {0, 0, 0};

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
    if ((rc = load_file(ctl, argv[optind], &personas)) != PAACTL_OK) {
        return rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_personas_upsert(ctl->pool, db, personas, replace,
                            apr_time_sec(apr_time_now()),
                            &outcomes) != APR_SUCCESS) {
        return paactl_db_error(db, "import personas (nothing was changed)",
                               db->error);
    }
    for (i = 0; i < outcomes->nelts; i++) {
        paa_persona_outcome_e o =
            APR_ARRAY_IDX(outcomes, i, paa_persona_outcome_e);
        if (o == PAA_PERSONA_SKIPPED) {
            fprintf(stderr,
                    "persona %s exists: skipped (--replace updates "
                    "it)\n",
                    APR_ARRAY_IDX(personas, i, paa_persona_t).id);
        }
        n[o]++;
    }
    paactl_audit(ctl, db, "persona.import", NULL, NULL,
                 apr_psprintf(ctl->pool, "created=%d updated=%d skipped=%d",
                              n[PAA_PERSONA_CREATED], n[PAA_PERSONA_UPDATED],
                              n[PAA_PERSONA_SKIPPED]),
                 &err);
    printf("imported personas: %d created, %d updated, %d skipped\n",
           n[PAA_PERSONA_CREATED], n[PAA_PERSONA_UPDATED],
           n[PAA_PERSONA_SKIPPED]);
    return PAACTL_OK;
}

static int list(paactl_t *ctl, int argc, char **argv)
{
    apr_array_header_t *personas;
    json_t *arr;
    paa_db_t *db;
    char *text;
    int i, as_json = argc > 1 && !strcmp(argv[1], "--json");

    if (argc > 1 && !as_json) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            persona_help();
            return PAACTL_OK;
        }
        return paactl_usage_error("persona list", "unexpected argument '%s'",
                                  argv[1]);
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_personas_list_all(ctl->pool, db, &personas) != APR_SUCCESS) {
        return paactl_db_error(db, "read personas", db->error);
    }
    if (!as_json) {
        printf("%-24s %-28s %-14s %5s %6s\n", "ID", "NAME", "CATEGORY", "TEMP",
               "TOKENS");
        for (i = 0; i < personas->nelts; i++) {
            const paa_persona_t *pp =
                &APR_ARRAY_IDX(personas, i, paa_persona_t);
            printf("%-24s %-28s %-14s %5.2f %6d\n", pp->id, pp->name,
                   pp->knowledge_category, pp->temperature, pp->max_tokens);
        }
        return PAACTL_OK;
    }
    arr = json_array();
    for (i = 0; i < personas->nelts; i++) {
        const paa_persona_t *pp = &APR_ARRAY_IDX(personas, i, paa_persona_t);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:f, s:i}", "id", pp->id, "name",
                           pp->name, "knowledgeCategory",
                           pp->knowledge_category, "temperature",
                           pp->temperature, "maxTokens", pp->max_tokens));
    }
    text = json_dumps(arr, JSON_INDENT(2));
    printf("%s\n", text ? text : "[]");
    free(text);
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
