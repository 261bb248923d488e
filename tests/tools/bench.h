/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What the shared-memory micro-benchmarks (usage_bench, rl_bench,
 * metrics_bench) have in common: their arguments, THREADS COUNT, and
 * running THREADS threads at once against the wall clock. */
#ifndef PAA_BENCH_H
#define PAA_BENCH_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MAX_THREADS 64

/* THREADS and COUNT from argv, or a usage message and 0. */
static inline int bench_args(int argc, char **argv, const char *name,
                             const char *what, int *threads, long *count)
{
    if (argc != 3 || (*threads = atoi(argv[1])) < 1 ||
        *threads > BENCH_MAX_THREADS || (*count = atol(argv[2])) < 1 ||
        *count > 100000000) {
        fprintf(stderr,
                "usage: %s THREADS COUNT (1 to %d threads, 1 to 100,000,000 "
                "%s each)\n",
                name, BENCH_MAX_THREADS, what);
        return 0;
    }
    return 1;
}

/* Monotonic, so that a clock step does not make a run. */
static inline double bench_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run fn in threads threads at once, the i-th given (void *)(long)i; the
 * wall time in seconds until the last one ends, or -1 when a thread could
 * not start. */
static inline double bench_threads(int threads, void *(*fn)(void *))
{
    pthread_t th[BENCH_MAX_THREADS];
    double start = bench_seconds();
    int i;

    for (i = 0; i < threads; i++) {
        if (pthread_create(&th[i], NULL, fn, (void *)(long)i) != 0) {
            return -1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
    }
    return bench_seconds() - start;
}

#endif /* PAA_BENCH_H */
