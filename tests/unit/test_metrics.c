/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The metrics table and its exposition. Pins: the histogram's 2 s bucket
 * edge (the guide's latency alert counts requests above it, so a request
 * of exactly 2 s must fall inside it); status classes and an out-of-range
 * route going to "other" instead of past the table; cumulative buckets;
 * label values escaped (provider names come from the configuration); and
 * exact totals when several processes add to one shared table at once,
 * which a non-atomic increment loses under contention. */

#include "paa_test.h"
#include "core/metrics.h"

#include <apr_shm.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static const char *const routes[] = {"/health", "/api/personas/*"};
static const char *const providers[] = {"primary", "we\"ird\\name"};

static paa_metrics_labels_t labels(void)
{
    paa_metrics_labels_t l = {"1.2.3", routes, 2, providers, 2};
    return l;
}

START_TEST(buckets_have_a_2s_edge)
{
    ck_assert_int_eq(paa_metrics_bucket(0), 0);
    ck_assert_int_eq(paa_metrics_bucket(5000), 0);
    ck_assert_int_eq(paa_metrics_bucket(5001), 1);
    ck_assert_int_eq(paa_metrics_bucket(2000000), 8);    /* le="2" */
    ck_assert_int_eq(paa_metrics_bucket(2000001), 9);    /* le="5" */
    ck_assert_int_eq(paa_metrics_bucket(999000000), 12); /* +Inf */
}
END_TEST

START_TEST(requests_by_route_and_class)
{
    paa_metrics_t *m = paa_metrics_init(apr_palloc(tp, paa_metrics_size()));
    paa_metrics_labels_t l = labels();
    char *text;

    paa_metrics_request(m, 0, 200, 1000);
    paa_metrics_request(m, 0, 204, 1000);
    paa_metrics_request(m, 1, 404, 3000000);
    paa_metrics_request(m, 99, 503, 2000000); /* no such route: other */
    paa_metrics_request(m, -1, 999, -5);      /* nonsense stays bounded */
    paa_metrics_request(NULL, 0, 200, 1);     /* no table: no crash */
    text = paa_metrics_render(tp, m, &l);
    ck_assert_ptr_nonnull(strstr(
        text, "paa_http_requests_total{route=\"/health\",code=\"2xx\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(
        text,
        "paa_http_requests_total{route=\"/api/personas/*\",code=\"4xx\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(
        text, "paa_http_requests_total{route=\"other\",code=\"5xx\"} 2\n"));
    /* cumulative: the two 1 ms, the 2 s and the clamped 0 are <= 2 s */
    ck_assert_ptr_nonnull(
        strstr(text, "paa_http_request_duration_seconds_bucket{le=\"2\"} 4\n"));
    ck_assert_ptr_nonnull(strstr(
        text, "paa_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "paa_http_request_duration_seconds_count 5\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "paa_http_request_duration_seconds_sum 5.002000\n"));
}
END_TEST

START_TEST(render_labels_and_types)
{
    paa_metrics_t *m = paa_metrics_init(apr_palloc(tp, paa_metrics_size()));
    paa_metrics_labels_t l = labels();
    char *text;

    m->start_time = 1764288000;
    paa_metrics_add(m, auth_fail[PAA_AUTH_M_API_KEY][PAA_AUTH_R_UNKNOWN_KEY],
                    25);
    paa_metrics_add(m, provider[1][1], 3);
    paa_metrics_set(m, db_up, 1);
    text = paa_metrics_render(tp, m, &l);
    ck_assert_ptr_nonnull(
        strstr(text, "paa_build_info{version=\"1.2.3\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "paa_start_time_seconds 1764288000\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "# TYPE paa_auth_failures_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "paa_auth_failures_total{method=\"api_"
                                       "key\",reason=\"unknown_key\"} 25\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "# TYPE paa_http_request_duration_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(text, "paa_db_up 1\n"));
    /* quote and backslash escaped, as the format requires */
    ck_assert_ptr_nonnull(strstr(
        text, "paa_provider_requests_total{provider=\"we\\\"ird\\\\name\","
              "outcome=\"failure\"} 3\n"));
    ck_assert_str_eq(paa_metrics_auth_reason_name(PAA_AUTH_R_BAD_SIGNATURE),
                     "bad_signature");
    ck_assert_str_eq(paa_metrics_auth_method_name(PAA_AUTH_M_COUNT), "none");
}
END_TEST

#define WRITERS 4
#define ADDS    200000

START_TEST(exact_across_processes)
{
    apr_shm_t *shm;
    paa_metrics_t *m, sum;
    int i, status;

    ck_assert_int_eq(apr_shm_create(&shm, paa_metrics_size(), NULL, tp),
                     APR_SUCCESS);
    m = paa_metrics_init(apr_shm_baseaddr_get(shm));
    for (i = 0; i < WRITERS; i++) {
        if (fork() == 0) {
            int j;
            /* Every add into one copy, whatever the CPU: a lost update
             * between processes would show. */
            paa_metrics_copy_mask = 0;
            for (j = 0; j < ADDS; j++) {
                paa_metrics_request(m, 0, 200, 1);
                paa_metrics_add(m, db_errors, 1);
            }
            _exit(0);
        }
    }
    for (i = 0; i < WRITERS; i++) {
        ck_assert_int_ne(wait(&status), -1);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    paa_metrics_fold(m, &sum);
    ck_assert_uint_eq(sum.requests[0][1], (apr_uint64_t)WRITERS * ADDS);
    ck_assert_uint_eq(sum.db_errors, (apr_uint64_t)WRITERS * ADDS);
    ck_assert_uint_eq(sum.duration_us, (apr_uint64_t)WRITERS * ADDS);
}
END_TEST

/* Run the calling thread on cpu only; 0 when it cannot. */
static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0 &&
           sched_getcpu() == cpu;
}

/* A request adds to the copy of the CPU it runs on, so that CPUs do not
 * pull the same lines from each other; the exposition sums the copies,
 * and a gauge lives in the first copy only. Run on each of the first two
 * CPUs this process may use (whichever they are), one after the other. */
START_TEST(copies_per_cpu_summed)
{
    paa_metrics_t *m = paa_metrics_init(apr_palloc(tp, paa_metrics_size())),
                  sum;
    paa_metrics_labels_t l = labels();
    cpu_set_t was;
    int cpu, ran = 0, copy;

    ck_assert_int_eq(sched_getaffinity(0, sizeof(was), &was), 0);
    for (cpu = 0; cpu < CPU_SETSIZE && ran < 2; cpu++) {
        if (!CPU_ISSET(cpu, &was) || !pin(cpu)) {
            continue;
        }
        copy = cpu % PAA_METRICS_SHARDS;
        paa_metrics_request(m, 0, 200, 10 + ran * 10);
        paa_metrics_add(m, db_errors, 2 + ran);
        paa_metrics_set(m, db_up, 1); /* stored in the first copy */
        ck_assert_uint_eq(m[copy].requests[0][1], 1);
        ck_assert_uint_eq(m[copy].duration_us, 10 + ran * 10);
        ck_assert_uint_eq(m[copy].db_errors, 2 + ran);
        ck_assert_uint_eq(m[copy].db_up, copy == 0 ? 1 : 0);
        ran++;
    }
    ck_assert_int_eq(sched_setaffinity(0, sizeof(was), &was), 0);
    ck_assert_msg(ran > 0, "could not run on any CPU of the affinity mask");
    paa_metrics_fold(m, &sum);
    ck_assert_uint_eq(sum.requests[0][1], (apr_uint64_t)ran);
    ck_assert_uint_eq(sum.db_errors, ran == 2 ? 5 : 2);
    ck_assert_uint_eq(sum.duration_us, ran == 2 ? 30 : 10);
    ck_assert_uint_eq(sum.db_up, 1);
    /* What another copy holds is in the exposition too. */
    m[PAA_METRICS_SHARDS - 1].requests[1][3] = 7;
    ck_assert_ptr_nonnull(strstr(
        paa_metrics_render(tp, m, &l),
        "paa_http_requests_total{route=\"/api/personas/*\",code=\"4xx\"} "
        "7\n"));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, paa_test_setup, paa_test_teardown);
    tcase_add_test(tc, buckets_have_a_2s_edge);
    tcase_add_test(tc, requests_by_route_and_class);
    tcase_add_test(tc, render_labels_and_types);
    tcase_add_test(tc, exact_across_processes);
    tcase_add_test(tc, copies_per_cpu_summed);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(metrics_suite)
