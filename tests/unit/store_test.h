/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fixture of the store tests: each test gets a fresh in-memory SQLite
 * database, migrated as paactl init would. */

#ifndef STORE_TEST_H
#define STORE_TEST_H

#include "paa_test.h"

#include <apr_strings.h>
#include <string.h>

static paa_db_t *db;

#define OK(call)    ck_assert_int_eq((call), APR_SUCCESS)
#define FAILS(call) ck_assert_int_eq((call), APR_EGENERAL)

static void store_setup(void)
{
    const char *err = NULL;
    int from = -1, to = -1;

    paa_test_setup();
    ck_assert_msg(paa_db_open(tp, "sqlite3", ":memory:", &db, &err) ==
                      APR_SUCCESS,
                  "%s", err);
    ck_assert_msg(paa_schema_migrate(tp, db, &from, &to, &err) == APR_SUCCESS,
                  "%s", err);
    ck_assert_int_eq(to, PAA_SCHEMA_VERSION);
}

static void store_teardown(void)
{
    paa_db_close(db);
    db = NULL;
    paa_test_teardown();
}

/* A test's own look at a table, for what no store reads back. */
static apr_int64_t scalar(const char *label, const char *sql)
{
    paa_stmt_t st = {label, sql};
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t v = -1;

    OK(paa_db_select(tp, db, &st, 0, NULL, &res));
    while (paa_db_next(tp, db, res, &row)) {
        v = paa_db_int(db, row, 0);
    }
    return v;
}

#endif /* STORE_TEST_H */
