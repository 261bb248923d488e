/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Personas (paa_personas): the row is paa_persona_t, the same struct
 * validation fills, so what is checked is exactly what is stored. */

#include "paa.h"

#include <apr_strings.h>
#include <stdlib.h>

/* The order persona_row reads. */
#define PERSONA_COLUMNS                                                        \
    "id, name, description, extra_instructions, knowledge_category,"           \
    " temperature, max_tokens, created_at, updated_at"

static const paa_stmt_t count = {"paa_persona_count",
                                 "SELECT count(*) FROM paa_personas"};
static const paa_stmt_t page = {"paa_persona_page",
                                "SELECT " PERSONA_COLUMNS " FROM paa_personas"
                                " ORDER BY id LIMIT %d OFFSET %d"};
static const paa_stmt_t get = {"paa_persona_get",
                               "SELECT " PERSONA_COLUMNS
                               " FROM paa_personas WHERE id = %s"};
static const paa_stmt_t insert = {
    "paa_persona_insert", "INSERT INTO paa_personas (" PERSONA_COLUMNS ")"
                          " VALUES (%s, %s, %s, %s, %s, %lf, %d, %lld, %lld)"};
static const paa_stmt_t update = {
    "paa_persona_update",
    "UPDATE paa_personas SET name = %s, description = %s,"
    " extra_instructions = %s, knowledge_category = %s, temperature = %lf,"
    " max_tokens = %d, updated_at = %lld WHERE id = %s"};
static const paa_stmt_t delete = {"paa_persona_delete",
                                  "DELETE FROM paa_personas WHERE id = %s"};
static const paa_stmt_t all = {"paa_persona_all",
                               "SELECT " PERSONA_COLUMNS
                               " FROM paa_personas ORDER BY id"};

static void persona_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                        paa_persona_t *out)
{
    const char *t;
    out->id = paa_db_text(p, db, row, 0);
    out->name = paa_db_text(p, db, row, 1);
    out->description = paa_db_text(p, db, row, 2);
    out->extra_instructions = paa_db_text(p, db, row, 3);
    out->knowledge_category = paa_db_text(p, db, row, 4);
    t = paa_db_str(p, db, row, 5);
    out->temperature = t ? atof(t) : 0;
    out->max_tokens = (int)paa_db_int(db, row, 6);
    out->created_at = paa_db_int(db, row, 7);
    out->updated_at = paa_db_int(db, row, 8);
}

apr_status_t paa_personas_count(apr_pool_t *p, paa_db_t *db, int *n)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *n = 0;
    if (paa_db_select(p, db, &count, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *n = (int)paa_db_int(db, row, 0);
    }
    return APR_SUCCESS;
}

apr_status_t paa_personas_page(apr_pool_t *p, paa_db_t *db, int limit,
                               int offset, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = apr_itoa(p, limit);
    args[1] = apr_itoa(p, offset);
    *out = apr_array_make(p, limit < 64 ? limit : 64, sizeof(paa_persona_t));
    if (paa_db_select(p, db, &page, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        persona_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t paa_personas_get(apr_pool_t *p, paa_db_t *db, const char *id,
                              paa_persona_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &get, 1, &id, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        persona_row(p, db, row, out);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_personas_insert(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *pp, apr_int64_t now)
{
    const char *a[9];
    a[0] = pp->id;
    a[1] = pp->name;
    a[2] = pp->description;
    a[3] = pp->extra_instructions ? pp->extra_instructions : "";
    a[4] = pp->knowledge_category;
    a[5] = apr_psprintf(p, "%.17g", pp->temperature);
    a[6] = apr_itoa(p, pp->max_tokens);
    a[7] = paa_db_i64(p, now);
    a[8] = a[7];
    return paa_db_run(p, db, &insert, 9, a, NULL);
}

apr_status_t paa_personas_update(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *pp, apr_int64_t now,
                                 int *nrows)
{
    const char *a[8];
    a[0] = pp->name;
    a[1] = pp->description;
    a[2] = pp->extra_instructions ? pp->extra_instructions : "";
    a[3] = pp->knowledge_category;
    a[4] = apr_psprintf(p, "%.17g", pp->temperature);
    a[5] = apr_itoa(p, pp->max_tokens);
    a[6] = paa_db_i64(p, now);
    a[7] = pp->id;
    return paa_db_run(p, db, &update, 8, a, nrows);
}

apr_status_t paa_personas_delete(apr_pool_t *p, paa_db_t *db, const char *id,
                                 int *nrows)
{
    return paa_db_run(p, db, &delete, 1, &id, nrows);
}

apr_status_t paa_personas_list_all(apr_pool_t *p, paa_db_t *db,
                                   apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = apr_array_make(p, 16, sizeof(paa_persona_t));
    if (paa_db_select(p, db, &all, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        persona_row(p, db, row, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

typedef struct {
    const apr_array_header_t *personas;
    int replace;
    apr_int64_t now;
    apr_array_header_t *outcomes;
} upsert_t;

static apr_status_t upsert_txn(apr_pool_t *p, paa_db_t *db, void *baton)
{
    upsert_t *u = baton;
    int i;

    for (i = 0; i < u->personas->nelts; i++) {
        const paa_persona_t *pp = &APR_ARRAY_IDX(u->personas, i, paa_persona_t);
        paa_persona_t existing;
        paa_persona_outcome_e o = PAA_PERSONA_CREATED;
        int found = 0;

        if (paa_personas_get(p, db, pp->id, &existing, &found) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (found) {
            o = u->replace ? PAA_PERSONA_UPDATED : PAA_PERSONA_SKIPPED;
        }
        if ((o == PAA_PERSONA_CREATED &&
             paa_personas_insert(p, db, pp, u->now) != APR_SUCCESS) ||
            (o == PAA_PERSONA_UPDATED &&
             paa_personas_update(p, db, pp, u->now, NULL) != APR_SUCCESS)) {
            return APR_EGENERAL;
        }
        APR_ARRAY_PUSH(u->outcomes, paa_persona_outcome_e) = o;
    }
    return APR_SUCCESS;
}

apr_status_t paa_personas_upsert(apr_pool_t *p, paa_db_t *db,
                                 const apr_array_header_t *personas,
                                 int replace, apr_int64_t now,
                                 apr_array_header_t **outcomes)
{
    upsert_t u;

    u.personas = personas;
    u.replace = replace;
    u.now = now;
    u.outcomes = apr_array_make(p, personas->nelts ? personas->nelts : 1,
                                sizeof(paa_persona_outcome_e));
    *outcomes = u.outcomes;
    return paa_db_transaction(p, db, upsert_txn, &u);
}
