/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The wall clock of the shared-memory micro-benchmarks (usage_bench,
 * rl_bench): monotonic, so that a clock step does not make a run. */
#ifndef PAA_BENCH_CLOCK_H
#define PAA_BENCH_CLOCK_H

#include <time.h>

static inline double bench_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif /* PAA_BENCH_CLOCK_H */
