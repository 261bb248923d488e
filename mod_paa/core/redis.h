/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file redis.h
 * @brief Rate-limit counters in Redis, shared by every node of a cluster.
 */
#ifndef PAA_REDIS_H
#define PAA_REDIS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "ratelimit.h"

/* --------------------------------------------------------------- redis */

/** Where the counters live: redis://[[user]:password@]host[:port][/db]. */
typedef struct {
    const char *host;
    int port;
    int db;
    const char *user;     /* NULL: none (AUTH password alone) */
    const char *password; /* NULL: no AUTH */
} paa_redis_url_t;

/**
 * Parse a redis:// URL.
 * @return APR_SUCCESS, or APR_EINVAL with a message in *err (which never
 * repeats the password)
 */
apr_status_t paa_redis_url_parse(apr_pool_t *p, const char *url,
                                 paa_redis_url_t *out, const char **err);

/** The URL as it may be logged: the password, if any, is replaced. */
const char *paa_redis_url_redacted(apr_pool_t *p, const paa_redis_url_t *u);

/**
 * One connection, used by one thread at a time. Connecting is lazy (the
 * first hit), and after a failure the connection waits before it tries
 * again (a backoff from 50 ms doubling up to 1 s): while Redis is down a
 * hit costs nothing but the answer "unavailable", so a fallback is taken
 * at once instead of one timeout per request.
 */
typedef struct paa_redis_t paa_redis_t;

/**
 * @param timeout_ms how long one hit may wait for Redis, whatever it sends
 * (a new connection's AUTH, SELECT and SCRIPT LOAD, a retry); the
 * socket's timeout may exceed what is left by a millisecond
 * @return a connection (malloc'd, strings copied), NULL without memory
 */
paa_redis_t *paa_redis_create(const paa_redis_url_t *u, int timeout_ms);

void paa_redis_destroy(paa_redis_t *c);

/**
 * Count one request for key in Redis with the semantics of paa_rl_hit():
 * a fixed window that starts with the key's first request, on Redis's
 * clock, in one atomic script. The counter is named key:window (a changed
 * window starts afresh) and expires when its window ends.
 * res->recovered is always 0.
 * @param key a string (the caller hashes personal data away)
 * @param err on failure, why (no secrets), or NULL
 * @return APR_SUCCESS with res filled in; APR_EAGAIN while backing off
 * after a failure; another error when Redis could not be asked or
 * answered badly (the request was then maybe not counted)
 */
apr_status_t paa_redis_rl_hit(paa_redis_t *c, const char *key,
                              apr_uint32_t limit, apr_uint32_t window,
                              paa_rl_result_t *res, const char **err);

/** Redis commands sent by this connection so far (for measurements). */
apr_uint64_t paa_redis_commands(const paa_redis_t *c);

/**
 * Connections shared by the threads of a process, with automatic
 * pipelining: a thread whose decision finds every connection busy queues
 * it, and the next thread to find a connection idle sends everything
 * queued in one write and reads the answers in order (group commit).
 * Each decision is still one atomic script in Redis and gets its own
 * answer; a round trip carries as many as came while the last one was
 * in flight, so one connection serves a process's threads.
 */
typedef struct paa_redis_pipe_t paa_redis_pipe_t;

/** Leases (paa_redis_pipe_hit): at most cap requests, only while from or
 * more are left in the window, and at most 1/share of what is left. */
typedef struct {
    apr_uint32_t cap;
    apr_uint32_t from;
    apr_uint32_t share;
} paa_redis_lease_t;

/**
 * @param conns connections (round trips in flight at once), at least 1
 * @return the pipe (malloc'd; connecting is lazy), NULL without memory
 */
paa_redis_pipe_t *paa_redis_pipe_create(const paa_redis_url_t *u, int conns);

void paa_redis_pipe_destroy(paa_redis_pipe_t *p);

/**
 * paa_redis_rl_hit() through the pipe, safe from any thread. The
 * decision waits at most timeout_ms from now, queued or in flight: a
 * batch waits for Redis only until its earliest deadline, and a queued
 * decision whose deadline passes leaves the queue and fails.
 *
 * lease (NULL: none): while at least lease->from requests are left in
 * the window after this one, the same script also counts up to
 * lease->cap more (at most 1/lease->share of what is left) for the caller
 * to grant itself without asking: res->lease of them, until res->lease_ms
 * from now (the window's end on Redis's clock). Counted before they are
 * granted, a lease never lets a cluster grant more than the limit (as
 * long as fewer than lease->share processes hold one at once); near the
 * limit there is none, so every decision there is exact. What a holder
 * does not use is lost for that window: refused earlier, never granted
 * more.
 * @param pool for *err
 * @return APR_SUCCESS with res filled in; APR_EAGAIN while the
 * connection backs off; APR_TIMEUP when no connection came free in time;
 * another error when Redis could not be asked or answered badly
 */
apr_status_t paa_redis_pipe_hit(paa_redis_pipe_t *p, const char *key,
                                apr_uint32_t limit, apr_uint32_t window,
                                const paa_redis_lease_t *lease, int timeout_ms,
                                paa_rl_result_t *res, apr_pool_t *pool,
                                const char **err);

/** Round trips made and decisions they carried (for measurements). */
void paa_redis_pipe_stats(paa_redis_pipe_t *p, apr_uint64_t *rounds,
                          apr_uint64_t *decisions);

#endif /* PAA_REDIS_H */
