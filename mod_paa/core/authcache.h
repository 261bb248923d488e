/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file authcache.h
 * @brief Credentials verified recently, remembered in memory shared by
 * every httpd process.
 */
#ifndef PAA_AUTHCACHE_H
#define PAA_AUTHCACHE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ----------------------------------------------------------- authcache */

/**
 * A verified credential (or a key known not to exist) as remembered, so
 * that a client sending the same key or token costs no database lookup at
 * all. What keeps it right is the database's change marker (a counter
 * that triggers move whenever a key, a user or a token revocation
 * changes): one request every PAA_AUTHCACHE_CHECK asks for it, any change
 * drops every entry (a new epoch), and an entry is only used while the
 * marker was read less than PAA_AUTHCACHE_MAXAGE ago, so a revocation,
 * disable or role change reaches every process within MAXAGE plus one
 * lookup, below the one second the security model promises. Without a
 * marker (a database not yet migrated, or unreachable) an entry lives
 * PAA_AUTHCACHE_TTL, as a per-process cache did before.
 */
#define PAA_AUTHCACHE_TTL     apr_time_from_msec(500)
#define PAA_AUTHCACHE_CHECK   apr_time_from_msec(250)
#define PAA_AUTHCACHE_MAXAGE  apr_time_from_msec(700)
#define PAA_AUTHCACHE_BACKOFF apr_time_from_sec(5)

typedef struct {
    char method[8]; /* "api-key" or "jwt" */
    char id[48];
    char key_id[48];
    char username[104];
    char client[104];
    char roles[504];
} paa_cached_principal_t;

typedef struct paa_authcache_t paa_authcache_t;

/** What an entry stands for; each has its own marker and epoch, so that
 * an MCP session ending does not drop every key. */
typedef enum {
    PAA_CACHE_CREDENTIALS = 0, /* keys, users, token revocations */
    PAA_CACHE_MCP_SESSIONS,
    PAA_CACHE_PERSONAS, /* answers of GET /api/personas (api/personas.c) */
    /* What a new key or user can change: that a key is unknown. Its epoch
     * moves with credentials' too; paa_authcache_put_unknown's entries
     * follow it, so a new key does not drop the keys in use. */
    PAA_CACHE_KEYS_ADDED,
    PAA_CACHE_DOMAINS
} paa_cache_domain_e;

/** What paa_authcache_get found. */
typedef enum {
    PAA_AUTHCACHE_MISS = 0,
    PAA_AUTHCACHE_HIT,    /* *out is the principal */
    PAA_AUTHCACHE_UNKNOWN /* looked up recently: no such key */
} paa_authcache_e;

/** Bytes of memory for a cache of about entries credentials, with sets
 * sets of change markers. */
apr_size_t paa_authcache_size(int entries, int sets);

/**
 * Make zero-filled memory at mem (shared memory created before the
 * processes fork, paa_authcache_size(entries, sets) long) an empty cache,
 * and return a view of it (allocated from p) under marker set 0; NULL
 * when entries is too small. The table starts at mem's first 64-byte
 * boundary. Lock-free: every slot is a sequence lock.
 */
paa_authcache_t *paa_authcache_init(apr_pool_t *p, void *mem, int entries,
                                    int sets);

/**
 * The same table under marker set set (0 to sets - 1; NULL beyond): its
 * own epochs, readings and checks, for what one database's markers
 * govern. Entries put through a view are found through the same set only
 * when their digest says so (they are bound to a server), and are kept
 * right by that set's readings.
 */
paa_authcache_t *paa_authcache_set(apr_pool_t *p, const paa_authcache_t *c,
                                   int set);

/** The same in memory allocated from p (one process). */
apr_status_t paa_authcache_create(apr_pool_t *p, int entries, int sets,
                                  paa_authcache_t **out);

/** The epoch to tag a lookup with: read it before asking the database. */
apr_uint32_t paa_authcache_epoch(paa_authcache_t *c);
apr_uint32_t paa_authcache_epoch_of(paa_authcache_t *c,
                                    paa_cache_domain_e domain);

/**
 * @param digest SHA-256 of the credential (bound to its server)
 */
paa_authcache_e paa_authcache_get(paa_authcache_t *c,
                                  const unsigned char *digest, apr_time_t now,
                                  paa_cached_principal_t *out);

/**
 * Remember a principal found by a lookup that started in epoch, until its
 * epoch ends or not_after (the credential's own expiry, 0 = none). Fields
 * that do not fit are not cached at all. 1 when it was stored.
 */
int paa_authcache_put(paa_authcache_t *c, const unsigned char *digest,
                      apr_uint32_t epoch, apr_time_t now, apr_time_t not_after,
                      const char *method, const char *id, const char *key_id,
                      const char *username, const char *client,
                      const char *roles);

/** paa_authcache_put under another domain's epoch (read before the
 * lookup): PAA_CACHE_KEYS_ADDED for what a new user could end too. */
int paa_authcache_put_principal(paa_authcache_t *c, paa_cache_domain_e domain,
                                const unsigned char *digest, apr_uint32_t epoch,
                                apr_time_t now, apr_time_t not_after,
                                const char *method, const char *id,
                                const char *key_id, const char *username,
                                const char *client, const char *roles);

/** paa_authcache_put for another domain: an entry of that domain is
 * found by paa_authcache_get with method as written. */
void paa_authcache_put_in(paa_authcache_t *c, paa_cache_domain_e domain,
                          const unsigned char *digest, apr_uint32_t epoch,
                          apr_time_t now, apr_time_t not_after,
                          const char *method, const char *id);

/** Remember that no key has this digest; it never displaces a principal.
 * epoch: paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), read before the
 * lookup. */
void paa_authcache_put_unknown(paa_authcache_t *c, const unsigned char *digest,
                               apr_uint32_t epoch, apr_time_t now);

/**
 * The warm's record of the tokens revoked by their jti alone (or of a
 * user deleted since), which a warmed user's entry cannot speak for: add
 * each jti, then call done with the epoch the users are put under. Once
 * per set: a filter is never emptied.
 */
void paa_authcache_revoked_add(paa_authcache_t *c, const char *jti);
void paa_authcache_revoked_done(paa_authcache_t *c, apr_uint32_t epoch);

/** 1 when jti (NULL: a token without one, looked up as "") was certainly
 * not among the jtis added before done(epoch); 0 when it may have been,
 * or when no warm recorded them for epoch: then the database is to be
 * asked. */
int paa_authcache_revoked_not(paa_authcache_t *c, apr_uint32_t epoch,
                              const char *jti);

/** 1 for the first caller only, in all the processes sharing c: the one
 * to fill a new cache with what was in use before a restart. */
int paa_authcache_claim_warm(paa_authcache_t *c);

/** 1 when the caller is to read the change marker now (one caller in
 * all processes per PAA_AUTHCACHE_CHECK). */
int paa_authcache_check_due(paa_authcache_t *c, apr_time_t now);

/** This process changed what a marker stands for: the next request, in
 * any process, reads the markers. */
void paa_authcache_check_soon(paa_authcache_t *c);

/** 1 when the marker was last confirmed so long ago (after a quiet
 * moment, or while the one due reading is under way) that entries are
 * about to be, or are, too old to use: the caller had better read the
 * marker itself than ask the database for the credential. 0 while no
 * marker can be read. */
int paa_authcache_stale(paa_authcache_t *c, apr_time_t now);

/** The markers read by a query that started at started were serial[],
 * one per domain. */
void paa_authcache_checked(paa_authcache_t *c, apr_time_t started,
                           const apr_int64_t *serial);

/** The marker could not be read: ask again after PAA_AUTHCACHE_BACKOFF. */
void paa_authcache_check_failed(paa_authcache_t *c, apr_time_t now);

#endif /* PAA_AUTHCACHE_H */
