/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file authcache.h
 * @brief Credentials verified a moment ago, remembered per process.
 */
#ifndef PAA_AUTHCACHE_H
#define PAA_AUTHCACHE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ----------------------------------------------------------- authcache */

/**
 * A verified credential as remembered for a moment, so that a client
 * sending the same key or token many times a second costs one database
 * lookup per PAA_AUTHCACHE_TTL instead of one per request. The TTL is what
 * bounds how long a revoked key, or a deleted or disabled user, can still
 * pass: keep it below the one second the security model promises.
 */
#define PAA_AUTHCACHE_TTL apr_time_from_msec(500)

typedef struct {
    char method[8]; /* "api-key" or "jwt" */
    char id[48];
    char key_id[48];
    char username[104];
    char client[104];
    char roles[504];
} paa_cached_principal_t;

typedef struct paa_authcache_t paa_authcache_t;

/** A direct-mapped cache of slots entries, thread-safe. */
apr_status_t paa_authcache_create(apr_pool_t *p, int slots,
                                  paa_authcache_t **out);

/**
 * @param digest SHA-256 of the credential
 * @return 1 and *out filled when a live entry matches
 */
int paa_authcache_get(paa_authcache_t *c, const unsigned char *digest,
                      apr_time_t now, paa_cached_principal_t *out);

/**
 * Remember a principal until now + PAA_AUTHCACHE_TTL or not_after,
 * whichever is first (not_after: the credential's own expiry, 0 = none).
 * Fields that do not fit are not cached at all.
 */
void paa_authcache_put(paa_authcache_t *c, const unsigned char *digest,
                       apr_time_t now, apr_time_t not_after, const char *method,
                       const char *id, const char *key_id, const char *username,
                       const char *client, const char *roles);

#endif /* PAA_AUTHCACHE_H */
