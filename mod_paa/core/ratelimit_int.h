/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file ratelimit_int.h
 * @brief The rate-limit table's layout and lock, for ratelimit.c and its
 * unit tests only (not part of libpaa's API, not included by paa.h).
 *
 * A test must be able to hold the lock in a process and kill that process,
 * or misuse the mutex to reach its unrecoverable state, and neither can be
 * done through paa_rl_hit(), which always releases the lock it took.
 */
#ifndef PAA_RATELIMIT_INT_H
#define PAA_RATELIMIT_INT_H

#include <apr_errno.h>
#include <pthread.h>

typedef struct {
    apr_uint64_t key;   /* 0: empty */
    apr_uint32_t start; /* Unix second the window began */
    apr_uint32_t window;
    apr_uint32_t count;
    apr_uint32_t refused; /* refusals in this window */
} paa_rl_entry_t;

/* At the start of the segment, followed by the entries. */
typedef struct {
    apr_uint32_t slots;
    pthread_mutex_t lock; /* process-shared and robust */
} paa_rl_header_t;

/**
 * Take the table's lock as paa_rl_hit() does.
 * @param mem a table formatted by paa_rl_init()
 * @param recovered set to 1 when the previous holder had died holding it
 * @return APR_SUCCESS (the lock is held), or the mutex's error (not held)
 */
apr_status_t paa_rl_lock(void *mem, int *recovered);

/** Release the lock taken by paa_rl_lock(). */
void paa_rl_unlock(void *mem);

#endif /* PAA_RATELIMIT_INT_H */
