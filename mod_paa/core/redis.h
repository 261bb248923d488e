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
 * clock, in one atomic script; the key expires when its window ends.
 * res->recovered is always 0.
 * @param key any bytes (the caller hashes personal data away)
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

#endif /* PAA_REDIS_H */
