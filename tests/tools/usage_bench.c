/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* usage_bench: what counting one API key's uses costs when every thread
 * of a node counts the same key (a service account behind a busy
 * client), in the table the children share (core/usage.c): THREADS
 * threads each note COUNT uses of one key from one address, in shared
 * memory as the module maps it, and the wall time is reported per use of
 * one thread. Then it takes the table and checks that every use was
 * counted once. Not part of the suite: compare two builds on one machine.
 *
 *   usage_bench THREADS COUNT      (1 to 64 threads, 1 to 100,000,000)
 */

#include "core/paa.h"
#include "bench.h"

#include <apr_general.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static paa_usage_t *table;
static long count;

static void *noter(void *unused)
{
    long i;
    (void)unused;
    /* The second moves as a server's would, every 20,000 uses or so: the
     * first use in a new second takes the stripe's lock. */
    for (i = 0; i < count; i++) {
        paa_usage_note(table, &table, "key_0123456789abcdef", "127.0.0.1",
                       1000 + i / 20000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    apr_size_t size = paa_usage_size(262144);
    apr_array_header_t *due;
    apr_int64_t uses = 0, dropped = 0;
    int threads, i;
    double took;
    void *mem;

    if (!bench_args(argc, argv, "usage_bench", "uses", &threads, &count)) {
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    if (mem == MAP_FAILED || !(table = paa_usage_init(mem, 262144, 1))) {
        fprintf(stderr, "usage_bench: no shared table\n");
        return 1;
    }
    if ((took = bench_threads(threads, noter)) < 0) {
        fprintf(stderr, "usage_bench: cannot start a thread\n");
        return 1;
    }
    due = paa_usage_take(table, p, 2000000, 60, 1, &dropped);
    for (i = 0; i < due->nelts; i++) {
        uses += APR_ARRAY_IDX(due, i, paa_key_use_t).uses;
    }
    printf("%d threads: %.1f ns a use (wall time over one thread's %ld), "
           "%" APR_INT64_T_FMT " uses counted, %" APR_INT64_T_FMT " dropped\n",
           threads, took * 1e9 / (double)count, count, uses, dropped);
    return uses == (apr_int64_t)threads * count ? 0 : 1;
}
