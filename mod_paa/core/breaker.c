/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A provider's circuit breaker: after enough consecutive failures the
 * provider is skipped for a cool-down, then one half-open probe decides.
 * The state lives in shared memory; callers hold its lock. */

#include "paa.h"

paa_breaker_e paa_breaker_check(paa_breaker_t *b, apr_time_t now,
                                apr_interval_time_t probe_timeout)
{
    if (b->open_until == 0) {
        return PAA_BREAKER_CLOSED;
    }
    if (now < b->open_until) {
        return PAA_BREAKER_OPEN;
    }
    /* Cooled down: let exactly one request probe it; the others still
     * skip it until that probe reports (or its time runs out). */
    if (now < b->probe_until) {
        return PAA_BREAKER_OPEN;
    }
    b->probe_until = now + probe_timeout;
    return PAA_BREAKER_PROBE;
}

void paa_breaker_record(paa_breaker_t *b, int ok, apr_time_t now,
                        apr_uint32_t threshold, apr_interval_time_t cooldown)
{
    b->probe_until = 0;
    if (ok) {
        b->failures = 0;
        b->open_until = 0;
        return;
    }
    b->failures++;
    if (b->failures >= threshold || b->open_until) {
        /* a failed half-open probe opens it again at once */
        b->open_until = now + cooldown;
    }
}
