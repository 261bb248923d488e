/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared fixture for the check unit tests: one APR pool per test. */

#ifndef PAA_TEST_H
#define PAA_TEST_H

#include <check.h>
#include <stdlib.h>
#include <apr_general.h>

#include "core/paa.h"

static apr_pool_t *tp;

static void paa_test_setup(void)
{
    apr_pool_create(&tp, NULL);
}

static void paa_test_teardown(void)
{
    apr_pool_destroy(tp);
    tp = NULL;
}

/* The runner reports through CK_TAP_LOG_FILE_NAME, set by the Makefile. */
#define PAA_TEST_MAIN(suite_fn)                                                \
    int main(void)                                                             \
    {                                                                          \
        int failed;                                                            \
        SRunner *sr;                                                           \
        apr_initialize();                                                      \
        sr = srunner_create(suite_fn());                                       \
        srunner_run_all(sr, CK_ENV);                                           \
        failed = srunner_ntests_failed(sr);                                    \
        srunner_free(sr);                                                      \
        apr_terminate();                                                       \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                           \
    }

#endif /* PAA_TEST_H */
