/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file breaker.h
 * @brief A provider's circuit breaker, kept in shared memory.
 */
#ifndef PAA_BREAKER_H
#define PAA_BREAKER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ------------------------------------------------------------- breaker */

/** One provider's circuit breaker, kept in shared memory. */
typedef struct {
    apr_uint32_t failures;   /* consecutive */
    apr_int64_t open_until;  /* usec; 0 when closed */
    apr_int64_t probe_until; /* usec; a half-open probe is in flight */
} paa_breaker_t;

typedef enum {
    PAA_BREAKER_CLOSED = 0, /* call it */
    PAA_BREAKER_OPEN,       /* skip it */
    PAA_BREAKER_PROBE       /* call it as the one half-open probe */
} paa_breaker_e;

/** Whether to call the provider now (caller holds the lock). */
paa_breaker_e paa_breaker_check(paa_breaker_t *b, apr_time_t now,
                                apr_interval_time_t probe_timeout);

/** Record a call's outcome (caller holds the lock). */
void paa_breaker_record(paa_breaker_t *b, int ok, apr_time_t now,
                        apr_uint32_t threshold, apr_interval_time_t cooldown);

#endif /* PAA_BREAKER_H */
