/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The credential cache every child shares (core/authcache.c), in
 * anonymous shared memory created with the configuration, so a restart,
 * graceful included, starts it empty. What keeps it honest is the
 * database's change marker: one request in all the children, every
 * PAA_AUTHCACHE_CHECK, reads that one row on its own connection before it
 * goes on (and so does a request that finds the last reading too old,
 * after a quiet moment: one small query instead of a credential lookup);
 * the cost does not grow with the number of keys or users. The same
 * reading serves the personas' marker, which the pages of GET
 * /api/personas cached by each child follow (api/personas.c). */

#include "paa_private.h"

#include "apr_shm.h"

/* About 32 MB of address space, resident as far as it is used: room for
 * 100,000 keys and tokens with few collisions. */
#define PAA_CREDCACHE_ENTRIES 131072

paa_authcache_t *paa_credcache;
static apr_shm_t *credcache_shm;
static int marker_warned; /* per process: the marker cannot be read */

/* After the cache in the same segment: the start of the newest reading
 * that found the personas' marker (schema version 9). The authcache's own
 * time of confirmation says nothing about that row, which a database of
 * version 8 lacks. */
typedef struct {
    apr_int64_t personas_verified;
} marker_times_t;
static marker_times_t *marker_times;

static apr_status_t credcache_cleanup(void *unused)
{
    (void)unused;
    paa_credcache = NULL;
    marker_times = NULL;
    credcache_shm = NULL;
    return APR_SUCCESS;
}

int paa_credcache_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apr_size_t cache =
        APR_ALIGN_DEFAULT(paa_authcache_size(PAA_CREDCACHE_ENTRIES));
    apr_size_t size = cache + sizeof(marker_times_t);
    apr_status_t rv;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use) {
        return OK;
    }
    rv = apr_shm_create(&credcache_shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        /* Correct without it, only slower: every request asks. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     PAALOGNO(01510) "cannot create %" APR_SIZE_T_FMT
                                     " bytes of shared memory for the "
                                     "credential cache: every request will "
                                     "ask the database",
                     size);
        return OK;
    }
    paa_credcache = paa_authcache_init(apr_shm_baseaddr_get(credcache_shm),
                                       PAA_CREDCACHE_ENTRIES);
    if (paa_credcache) {
        marker_times =
            (marker_times_t *)((char *)apr_shm_baseaddr_get(credcache_shm) +
                               cache);
    }
    apr_pool_cleanup_register(pconf, NULL, credcache_cleanup,
                              apr_pool_cleanup_null);
    return OK;
}

void paa_credcache_refresh(request_rec *r)
{
    apr_time_t started;
    apr_int64_t serial[PAA_CACHE_DOMAINS];
    paa_changes_t ch;
    paa_db_log_fn log;
    paa_db_t *db;
    apr_status_t rv;

    started = apr_time_now();
    if ((!paa_authcache_check_due(paa_credcache, started) &&
         !paa_authcache_stale(paa_credcache, started)) ||
        !(db = paa_db(r))) {
        return;
    }
    /* Before 'paactl migrate' the table is missing: that is no database
     * error (and no reason to say the database is down), but a cache
     * that falls back to short lives. */
    log = db->log;
    db->log = NULL;
    started = apr_time_now();
    rv = paa_changes_read(r->pool, db, &ch);
    db->log = log;
    if (rv == APR_SUCCESS && ch.found) {
        serial[PAA_CACHE_CREDENTIALS] = ch.credentials;
        serial[PAA_CACHE_MCP_SESSIONS] = ch.mcp_sessions;
        /* Without the personas' row (version 8) nothing of theirs is
         * used (paa_credcache_personas_fresh): the serial does not
         * matter. */
        serial[PAA_CACHE_PERSONAS] = ch.personas_found ? ch.personas : 0;
        paa_authcache_checked(paa_credcache, started, serial);
        if (ch.personas_found) {
            /* After the epoch moved: a reader that sees this time sees
             * the epoch it confirms. */
            apr_int64_t v = __atomic_load_n(&marker_times->personas_verified,
                                            __ATOMIC_SEQ_CST);
            while (v < started &&
                   !__atomic_compare_exchange_n(
                       &marker_times->personas_verified, &v, started, 0,
                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            }
        }
        marker_warned = 0;
        return;
    }
    paa_authcache_check_failed(paa_credcache, apr_time_now());
    if (!marker_warned) {
        marker_warned = 1;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      PAALOGNO(01511) "the credentials' change marker cannot "
                                      "be read (%s): verified credentials are "
                                      "remembered for 500 ms only (paactl "
                                      "migrate adds the marker)",
                      rv == APR_SUCCESS ? "a row is missing" : db->error);
    }
}

int paa_credcache_personas_fresh(apr_uint32_t epoch, apr_time_t now)
{
    apr_int64_t verified;

    if (!paa_credcache) {
        return 0;
    }
    /* As a credential (authcache.c, fresh()), verified is read before the
     * epoch; unlike one, no short life without a marker: a request that
     * follows a change through the API finds it, in any process. */
    verified =
        __atomic_load_n(&marker_times->personas_verified, __ATOMIC_SEQ_CST);
    return epoch == paa_authcache_epoch_of(paa_credcache, PAA_CACHE_PERSONAS) &&
           now - verified <= PAA_AUTHCACHE_MAXAGE;
}
