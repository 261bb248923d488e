/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file ratelimit_int.h
 * @brief The rate-limit table's layout and locks, for ratelimit.c and its
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

/* A stripe's lock, alone on its cache line (the table starts on one):
 * takers of neighbouring stripes do not pull each other's line away. */
typedef union {
    pthread_mutex_t lock; /* process-shared and robust */
    char line[64];
} paa_rl_stripe_t;

/* At the first 64-byte boundary of the memory given (apr_shm's base is
 * not on one), padded to a cache line; then the stripes' locks, then the
 * entries: stripe i owns entries [i * per, (i + 1) * per), the last one
 * also the rest up to slots. */
typedef struct {
    apr_uint32_t slots;
    apr_uint32_t stripes; /* a power of two */
    apr_uint32_t per;
} paa_rl_header_t;

/**
 * Take the lock of the stripe that holds key, as paa_rl_hit() does.
 * @param mem a table formatted by paa_rl_init()
 * @param recovered set to 1 when the previous holder had died holding it
 * @return APR_SUCCESS (the lock is held), or the mutex's error (not held)
 */
apr_status_t paa_rl_lock(void *mem, apr_uint64_t key, int *recovered);

/** Release the lock taken by paa_rl_lock() for key. */
void paa_rl_unlock(void *mem, apr_uint64_t key);

/** The mutex of the stripe that holds key, for tests that misuse it. */
pthread_mutex_t *paa_rl_mutex(void *mem, apr_uint64_t key);

#endif /* PAA_RATELIMIT_INT_H */
