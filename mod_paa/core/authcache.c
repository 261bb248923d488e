/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Per-process memory of credentials verified a moment ago. Only successes
 * are kept, for at most PAA_AUTHCACHE_TTL, so revocation still reaches
 * every process within a second; failures always ask the database. The
 * table is direct-mapped (a colliding credential just replaces the slot),
 * so its size is fixed and a flood of distinct keys cannot grow it. */

#include "paa.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

typedef struct {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    apr_time_t valid_until; /* 0: empty */
    paa_cached_principal_t principal;
} slot_t;

struct paa_authcache_t {
    apr_thread_mutex_t *mutex;
    slot_t *slots;
    unsigned int nslots;
};

apr_status_t paa_authcache_create(apr_pool_t *p, int slots,
                                  paa_authcache_t **out)
{
    paa_authcache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;

    if (slots < 1) {
        return APR_EINVAL;
    }
    rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->nslots = (unsigned int)slots;
    c->slots = apr_pcalloc(p, sizeof(slot_t) * c->nslots);
    *out = c;
    return APR_SUCCESS;
}

static slot_t *slot_for(paa_authcache_t *c, const unsigned char *digest)
{
    unsigned int h = (unsigned int)digest[0] | (unsigned int)digest[1] << 8 |
                     (unsigned int)digest[2] << 16 |
                     (unsigned int)digest[3] << 24;
    return &c->slots[h % c->nslots];
}

int paa_authcache_get(paa_authcache_t *c, const unsigned char *digest,
                      apr_time_t now, paa_cached_principal_t *out)
{
    slot_t *s;
    int hit = 0;

    if (!c || apr_thread_mutex_lock(c->mutex) != APR_SUCCESS) {
        return 0;
    }
    s = slot_for(c, digest);
    /* The digest is of a secret: compare it in constant time. */
    if (s->valid_until > now &&
        CRYPTO_memcmp(s->digest, digest, SHA256_DIGEST_LENGTH) == 0) {
        *out = s->principal;
        hit = 1;
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

static int fits(char *dst, apr_size_t size, const char *src)
{
    apr_size_t n = src ? strlen(src) : 0;
    if (n >= size) {
        return 0;
    }
    memcpy(dst, src ? src : "", n + 1);
    return 1;
}

void paa_authcache_put(paa_authcache_t *c, const unsigned char *digest,
                       apr_time_t now, apr_time_t not_after, const char *method,
                       const char *id, const char *key_id, const char *username,
                       const char *client, const char *roles)
{
    paa_cached_principal_t pr;
    apr_time_t until = now + PAA_AUTHCACHE_TTL;
    slot_t *s;

    if (!c) {
        return;
    }
    if (not_after && not_after < until) {
        until = not_after;
    }
    if (until <= now || !fits(pr.method, sizeof(pr.method), method) ||
        !fits(pr.id, sizeof(pr.id), id) ||
        !fits(pr.key_id, sizeof(pr.key_id), key_id) ||
        !fits(pr.username, sizeof(pr.username), username) ||
        !fits(pr.client, sizeof(pr.client), client) ||
        !fits(pr.roles, sizeof(pr.roles), roles)) {
        return;
    }
    if (apr_thread_mutex_lock(c->mutex) != APR_SUCCESS) {
        return;
    }
    s = slot_for(c, digest);
    memcpy(s->digest, digest, SHA256_DIGEST_LENGTH);
    s->valid_until = until;
    s->principal = pr;
    apr_thread_mutex_unlock(c->mutex);
}
