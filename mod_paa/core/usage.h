/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file usage.h
 * @brief API key uses counted in memory and written in batches.
 *
 * A successful authentication must not write to the database: it notes
 * the use here (a hash update under a mutex), and one background thread
 * per process takes what is due every few seconds and writes it in one
 * transaction (paa_keys_record_uses). Uses are counted per key and client
 * address over a window; when the window closes the count becomes one
 * key.use audit record, so no use is lost, however many there were.
 */
#ifndef PAA_USAGE_H
#define PAA_USAGE_H

#include <apr_pools.h>
#include <apr_tables.h>

/** What to write for one key and client address. */
typedef struct {
    const void *owner; /* whose database: the server it was used on */
    const char *key_id;
    const char *client_ip; /* "" when unknown */
    apr_int64_t first;     /* first and last use in the window (seconds) */
    apr_int64_t last;
    apr_int64_t uses;     /* how many in the window */
    apr_int64_t touch_at; /* last_used_at to write; 0: nothing to write */
    int record;           /* 1: the window closed: one key.use record */
} paa_key_use_t;

typedef struct paa_usage_t paa_usage_t;

/**
 * An empty table for at most max distinct (key, address) pairs between
 * two takes, and as many open windows; thread-safe for noting.
 */
apr_status_t paa_usage_create(apr_pool_t *p, int max, paa_usage_t **out);

/**
 * Count one use at now (seconds); touch: this use is to write the key's
 * last-used time at the next take (processes sharing a node share that
 * duty, see paa_authcache_claim_touch). Returns 1 when the table is
 * filling up and should be taken early; a use that finds it over twice
 * max is only counted in the dropped total (paa_usage_take reports it).
 */
int paa_usage_note(paa_usage_t *u, const void *owner, const char *key_id,
                   const char *client_ip, apr_int64_t now, int touch);

/**
 * What is due at now, as an array of paa_key_use_t allocated in p: a
 * last-used time for every pair noted with touch since the previous take,
 * and a record (with its last-used time, when later than the one
 * written) for every window at least window seconds old (every window when
 * all is set: at exit, or when too many are open). One taker at a time.
 * *dropped (may be NULL) gets the uses not counted since the last take.
 */
apr_array_header_t *paa_usage_take(paa_usage_t *u, apr_pool_t *p,
                                   apr_int64_t now, int window, int all,
                                   apr_int64_t *dropped);

/** How many (key, address) windows are open. */
int paa_usage_open(paa_usage_t *u);

#endif /* PAA_USAGE_H */
