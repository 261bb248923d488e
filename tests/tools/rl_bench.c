/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* rl_bench: what a PAARateLimit hit costs when every thread of a node
 * hits the table the children share (core/ratelimit.c) at once, each for
 * clients of its own (many keys, the common case): THREADS threads each
 * make COUNT hits, spread over 1,000 clients of their own, in shared
 * memory as the module maps it, and the wall time is reported per hit of
 * one thread. Every hit must be allowed and counted: the limit is above
 * COUNT, and each client's last hit must report the budget its hits
 * left. Not part of the suite: compare two builds on one machine.
 *
 *   rl_bench THREADS COUNT      (1 to 64 threads, 1 to 100,000,000)
 */

#include "core/paa.h"
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CLIENTS 1000
#define SLOTS   65536
#define LIMIT   4000000000u

static void *table;
static long count;
static int failed;

static void *hitter(void *arg)
{
    apr_uint64_t base = (apr_uint64_t)(long)arg * CLIENTS + 1;
    apr_uint32_t left[CLIENTS];
    paa_rl_result_t res;
    long i;
    int c;

    for (c = 0; c < CLIENTS; c++) {
        left[c] = LIMIT;
    }
    for (i = 0; i < count; i++) {
        /* A multiplicative hash of the client, as paa_ratelimit.c hashes
         * its identity: neighbouring clients land anywhere in the table. */
        c = (int)(i % CLIENTS);
        if (paa_rl_hit(table, (base + c) * 0x9E3779B97F4A7C15ull, 1000, LIMIT,
                       3600, &res) != APR_SUCCESS ||
            !res.allowed || res.remaining != --left[c]) {
            __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    apr_size_t size = paa_rl_size(SLOTS);
    int threads;
    double took;

    if (!bench_args(argc, argv, "rl_bench", "hits", &threads, &count)) {
        return 2;
    }
    table = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    if (table == MAP_FAILED || paa_rl_init(table, SLOTS) != APR_SUCCESS) {
        fprintf(stderr, "rl_bench: no shared table\n");
        return 1;
    }
    if ((took = bench_threads(threads, hitter)) < 0) {
        fprintf(stderr, "rl_bench: cannot start a thread\n");
        return 1;
    }
    printf("%d threads: %.1f ns a hit (wall time over one thread's %ld)%s\n",
           threads, took * 1e9 / (double)count, count,
           failed ? ", A HIT WAS REFUSED OR MISCOUNTED" : "");
    return failed;
}
