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
    int recovered; /* 1: a process had died holding the lock; taken over */
    /* Redis store only: requests beyond this one already counted for the
     * caller to grant itself (0: none), until lease_ms from now. */
    apr_uint32_t lease;
    apr_uint32_t lease_ms;
    /* Redis store only: when the window ends (ms on Redis's clock): the
     * same for every decision of one window. */
    apr_int64_t window_ends;
} paa_rl_result_t;

/** Bytes of shared memory a table of slots entries needs. */
apr_size_t paa_rl_size(apr_uint32_t slots);

/**
 * Format a table in mem (all slots empty) with its locks, a process-shared
 * robust mutex for each stripe of the table (up to 64, with at least 64
 * slots each): mem must be shared by every process that uses the table
 * and not yet in use by any.
 * @return APR_SUCCESS, or the error initialising the mutex
 */
apr_status_t paa_rl_init(void *mem, apr_uint32_t slots);

/**
 * Count one request for key in a fixed window that starts with the key's
 * first request, under the lock of the key's stripe (the high half of key
 * chooses it, the low half the slot). A process that died holding the
 * lock does not stop the others: the next hit takes it over and says so in
 * res->recovered. A full neighbourhood evicts the entry whose window ends
 * first.
 * @return APR_SUCCESS with res filled in, or the lock's error (the lock is
 * unrecoverable: only a new table helps, and the keys of that stripe fail
 * until then); res is then untouched and the request was not counted, so
 * the caller must not let it through
 */
apr_status_t paa_rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                        apr_uint32_t limit, apr_uint32_t window,
                        paa_rl_result_t *res);

/**
 * Count the live entries (a window not yet over at now) for a status page,
 * each stripe under its lock in turn; read-only.
 * @param used set to the live entries
 * @param total set to the table's slots
 * @return APR_SUCCESS, or the lock's error (used and total untouched)
 */
apr_status_t paa_rl_usage(void *mem, apr_uint32_t now, apr_uint32_t *used,
                          apr_uint32_t *total);

#endif /* PAA_RATELIMIT_H */
