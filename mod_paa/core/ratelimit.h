/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file ratelimit.h
 * @brief The fixed-window rate-limit table in shared memory.
 */
#ifndef PAA_RATELIMIT_H
#define PAA_RATELIMIT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ----------------------------------------------------------- ratelimit */

/** What one counted request learned. */
typedef struct {
    int allowed;            /* 1: within the limit */
    apr_uint32_t remaining; /* requests left in this window */
    apr_uint32_t reset;     /* seconds until the window ends */
    int first_refusal;      /* 1 on the first refusal of this window */
} paa_rl_result_t;

/** Bytes of shared memory a table of slots entries needs. */
apr_size_t paa_rl_size(apr_uint32_t slots);

/** Format a table in mem (all slots empty). */
void paa_rl_init(void *mem, apr_uint32_t slots);

/**
 * Count one request for key in a fixed window that starts with the key's
 * first request, under the table's lock (a spinlock in the table itself,
 * shared by every process that maps it; a holder that died is detected).
 * A full neighbourhood evicts the entry whose window ends first.
 */
void paa_rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                apr_uint32_t limit, apr_uint32_t window, paa_rl_result_t *res);

#endif /* PAA_RATELIMIT_H */
