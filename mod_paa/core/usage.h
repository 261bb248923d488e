/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file usage.h
 * @brief API key uses counted in memory and written in batches.
 *
 * A successful authentication must not write to the database: it notes
 * the use here, in a table all the processes of a node share (one
 * compare-and-swap for a key already counted this second, else a probe
 * under one of many mutexes), and every few seconds one background thread
 * of one process takes what is due and writes it in one batch
 * (paa_keys_record_uses). Uses are counted per key and client address over
 * a window; when the window closes the count becomes one key.use audit
 * record for the node, so no use is lost, however many there were.
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

/** Bytes for a table of at most max (key, address) windows open at once. */
apr_size_t paa_usage_size(int max);

/**
 * Make mem (paa_usage_size(max) zero-filled bytes) an empty table; shared:
 * mem is memory shared by processes (made before they fork), and its
 * mutexes are process-shared and robust. The table starts at mem's first
 * 64-byte boundary. NULL on failure.
 */
paa_usage_t *paa_usage_init(void *mem, int max, int shared);

/** The same in memory allocated from p (one process). */
apr_status_t paa_usage_create(apr_pool_t *p, int max, paa_usage_t **out);

/**
 * Count one use at now (seconds); thread- and process-safe. Returns 1 when
 * the table is filling up and should be taken early, as far as a use that
 * took its stripe's lock can tell (one counted without the lock, in a
 * window already open, adds no window and returns 0); a use that finds no
 * room is only counted in the dropped total (paa_usage_take reports it).
 */
int paa_usage_note(paa_usage_t *u, const void *owner, const char *key_id,
                   const char *client_ip, apr_int64_t now);

/**
 * What is due at now, as an array of paa_key_use_t allocated in p: a
 * last-used time for every window opened since the previous take, and a
 * record (with its last-used time, when later than the one written) for
 * every window at least window seconds old (every window when all is set: a
 * process leaving, or a part of the table filling up). What is
 * taken is taken once, whoever takes it. *dropped (may be NULL) gets the
 * uses not counted since the last take.
 */
apr_array_header_t *paa_usage_take(paa_usage_t *u, apr_pool_t *p,
                                   apr_int64_t now, int window, int all,
                                   apr_int64_t *dropped);

/** 1 for one caller in all the processes per interval seconds: the one to
 * take and write the table's due uses. */
int paa_usage_take_due(paa_usage_t *u, apr_int64_t now, int interval);

/** How many (key, address) windows are open. */
int paa_usage_open(paa_usage_t *u);

#endif /* PAA_USAGE_H */
