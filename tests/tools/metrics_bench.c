/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* metrics_bench: what the metrics table costs a request when every thread
 * of a node counts at once (core/metrics.c): THREADS threads each count
 * COUNT requests as the module does (paa_metrics_request, one
 * authentication and one credential cache hit: five counters), in shared
 * memory as the module maps it, and the wall time is reported per request
 * of one thread. Then it checks that every request was counted once. Not
 * part of the suite: compare two builds on one machine.
 *
 *   metrics_bench THREADS COUNT      (1 to 64 threads, 1 to 100,000,000)
 */

#include "core/metrics.h"
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static paa_metrics_t *table;
static long count;

static void *counter(void *unused)
{
    long i;
    (void)unused;
    for (i = 0; i < count; i++) {
        paa_metrics_request(table, 3, 200, 800 + i % 1000);
        paa_metrics_add(table, auth_ok[PAA_AUTH_M_API_KEY], 1);
        paa_metrics_add(table, authcache[0], 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    paa_metrics_t sum;
    apr_uint64_t want;
    int threads;
    double took;
    void *mem;

    if (!bench_args(argc, argv, "metrics_bench", "requests", &threads,
                    &count)) {
        return 2;
    }
    mem = mmap(NULL, paa_metrics_size(), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        fprintf(stderr, "metrics_bench: no shared table\n");
        return 1;
    }
    table = paa_metrics_init(mem);
    if ((took = bench_threads(threads, counter)) < 0) {
        fprintf(stderr, "metrics_bench: cannot start a thread\n");
        return 1;
    }
    paa_metrics_fold(table, &sum);
    want = (apr_uint64_t)threads * (apr_uint64_t)count;
    printf("%d threads: %.1f ns a request (wall time over one thread's %ld), "
           "%" APR_UINT64_T_FMT " counted\n",
           threads, took * 1e9 / (double)count, count, sum.requests[3][1]);
    return sum.requests[3][1] == want &&
                   sum.auth_ok[PAA_AUTH_M_API_KEY] == want &&
                   sum.authcache[0] == want
               ? 0
               : 1;
}
