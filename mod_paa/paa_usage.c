/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key uses, off the request path. A successful authentication only
 * counts the use in a table in shared memory that all the children of the
 * node share (core/usage.c); one thread per child wakes every
 * PAA_USAGE_FLUSH, and one of them in all the node (paa_usage_take_due)
 * takes and writes, in one batch per database (paa_keys_record_uses), the
 * last-used times of keys first seen since and one key.use record for each
 * (key, client address) window of PAA_USAGE_WINDOW seconds that closed,
 * with its count of uses: a key used by every child is written once, not
 * once per child. A child that exits (graceful stop or restart,
 * MaxConnectionsPerChild, idle reduction) takes and writes every open
 * window before mod_dbd's connections go away, so that a stop loses
 * nothing. Writes that fail are kept by the child that took them and
 * retried with its next batch. The table is made with the configuration,
 * so each generation of children has its own. */

#include "paa_private.h"

#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#define PAA_USAGE_FLUSH  apr_time_from_sec(2)
#define PAA_USAGE_WINDOW 60 /* seconds counted into one key.use record */
/* Open windows, for the node. A stripe three quarters full closes all
 * its windows early (usage.c): at 131,072, 100,000 keys in use filled
 * that far, and their windows closed every flush. */
#define PAA_USAGE_MAX 262144

static paa_usage_t *node_usage; /* the generation's, from post_config */
static paa_usage_t *usage;      /* this child's, while its thread runs */
static apr_thread_t *flusher;
static apr_thread_mutex_t *wake_mutex;
static apr_thread_cond_t *wake_cond;
static int stopping, wake_early;
/* The thread's pools: one per cycle, alternately, so that a batch kept
 * for a retry outlives the cycle that failed to write it. */
static apr_pool_t *cycle_pool[2];
static int cycle;
static apr_array_header_t *retry;

static apr_status_t usage_shm_cleanup(void *unused)
{
    (void)unused;
    node_usage = NULL;
    return APR_SUCCESS;
}

int paa_usage_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    apr_size_t size = paa_usage_size(PAA_USAGE_MAX);
    apr_shm_t *shm;
    apr_status_t rv;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use) {
        return OK;
    }
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS ||
        !(node_usage =
              paa_usage_init(apr_shm_baseaddr_get(shm), PAA_USAGE_MAX, 1))) {
        /* Correct without it: each child counts its own uses. */
        node_usage = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     PAALOGNO(01506) "cannot create %" APR_SIZE_T_FMT
                                     " bytes of shared memory for counting "
                                     "API key uses: each child counts and "
                                     "writes its own",
                     size);
        return OK;
    }
    apr_pool_cleanup_register(pconf, NULL, usage_shm_cleanup,
                              apr_pool_cleanup_null);
    return OK;
}

void paa_usage_key(request_rec *r, const char *key_id)
{
    if (!usage || !key_id) {
        return;
    }
    if (paa_usage_note(usage, r->server, key_id, r->useragent_ip,
                       apr_time_sec(r->request_time)) &&
        apr_thread_mutex_lock(wake_mutex) == APR_SUCCESS) {
        wake_early = 1;
        apr_thread_cond_signal(wake_cond);
        apr_thread_mutex_unlock(wake_mutex);
    }
}

static apr_array_header_t *
copy_uses(apr_pool_t *p, const apr_array_header_t *from, apr_array_header_t *to)
{
    int i;
    for (i = 0; from && i < from->nelts; i++) {
        paa_key_use_t *u = apr_array_push(to);
        *u = APR_ARRAY_IDX(from, i, paa_key_use_t);
        u->key_id = apr_pstrdup(p, u->key_id);
        u->client_ip = apr_pstrdup(p, u->client_ip);
    }
    return to;
}

/* Write the uses of one server's database; 0 when they could not be. */
static int write_uses(apr_pool_t *p, server_rec *s,
                      const apr_array_header_t *uses)
{
    void *handle;
    paa_db_t *db = paa_db_server_open(p, s, &handle);
    apr_status_t rv;

    if (!db) {
        return 0;
    }
    rv = paa_keys_record_uses(p, db, uses);
    paa_db_server_close(s, handle);
    return rv == APR_SUCCESS;
}

/* Each database in its own transaction; what failed is returned. */
static apr_array_header_t *write_all(apr_pool_t *p,
                                     const apr_array_header_t *work)
{
    apr_array_header_t *failed = apr_array_make(p, 1, sizeof(paa_key_use_t));
    apr_array_header_t *mine =
        apr_array_make(p, work->nelts, sizeof(paa_key_use_t));
    char *done = apr_pcalloc(p, work->nelts + 1);
    int i, j;

    for (i = 0; i < work->nelts; i++) {
        const void *owner = APR_ARRAY_IDX(work, i, paa_key_use_t).owner;
        if (done[i]) {
            continue;
        }
        apr_array_clear(mine);
        for (j = i; j < work->nelts; j++) {
            if (APR_ARRAY_IDX(work, j, paa_key_use_t).owner == owner) {
                APR_ARRAY_PUSH(mine, paa_key_use_t) =
                    APR_ARRAY_IDX(work, j, paa_key_use_t);
                done[j] = 1;
            }
        }
        if (!write_uses(p, (server_rec *)owner, mine)) {
            apr_array_cat(failed, mine);
        }
    }
    return failed;
}

static apr_int64_t count_uses(const apr_array_header_t *a, int *records)
{
    apr_int64_t n = 0;
    int i;
    *records = 0;
    for (i = 0; i < a->nelts; i++) {
        const paa_key_use_t *u = &APR_ARRAY_IDX(a, i, paa_key_use_t);
        if (u->record) {
            n += u->uses;
            (*records)++;
        }
    }
    return n;
}

/* early: the table is filling up; last: this child is leaving. */
static void flush(server_rec *s, int last, int early)
{
    apr_pool_t *p = cycle_pool[cycle];
    apr_array_header_t *work, *failed;
    apr_int64_t dropped = 0, now = apr_time_sec(apr_time_now());
    int records;

    cycle ^= 1;
    apr_pool_clear(p);
    work = copy_uses(p, retry, apr_array_make(p, 16, sizeof(paa_key_use_t)));
    if (last || early ||
        paa_usage_take_due(usage, now, (int)apr_time_sec(PAA_USAGE_FLUSH))) {
        apr_array_cat(work, paa_usage_take(usage, p, now, PAA_USAGE_WINDOW,
                                           last, &dropped));
    }
    if (dropped) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     PAALOGNO(01502) "%" APR_INT64_T_FMT " API key uses were "
                                     "not counted: more than %d keys and "
                                     "addresses in use at once",
                     dropped, PAA_USAGE_MAX);
    }
    retry = NULL;
    if (!work->nelts) {
        return;
    }
    failed = write_all(p, work);
    if (!failed->nelts) {
        return;
    }
    if (last || failed->nelts > PAA_USAGE_MAX) {
        apr_int64_t n = count_uses(failed, &records);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     PAALOGNO(01503) "%d key.use records (%" APR_INT64_T_FMT
                                     " uses) and last-used times could not "
                                     "be written and are given up",
                     records, n);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 PAALOGNO(01504) "%d last-used times and key.use records "
                                 "could not be written: retried in %d s",
                 failed->nelts, (int)apr_time_sec(PAA_USAGE_FLUSH));
    retry = failed; /* in p, which the next cycle does not clear */
}

static void *APR_THREAD_FUNC flush_thread(apr_thread_t *t, void *data)
{
    server_rec *s = data;
    int last = 0, early;

    while (!last) {
        apr_thread_mutex_lock(wake_mutex);
        if (!stopping && !wake_early) {
            apr_thread_cond_timedwait(wake_cond, wake_mutex, PAA_USAGE_FLUSH);
        }
        last = stopping;
        early = wake_early;
        wake_early = 0;
        apr_thread_mutex_unlock(wake_mutex);
        flush(s, last, early);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup: it runs before the child pool's subpools, mod_dbd's
 * connections among them, are destroyed. */
static apr_status_t stop_flusher(void *unused)
{
    apr_status_t ignored;
    (void)unused;
    if (!flusher) {
        return APR_SUCCESS;
    }
    apr_thread_mutex_lock(wake_mutex);
    stopping = 1;
    apr_thread_cond_signal(wake_cond);
    apr_thread_mutex_unlock(wake_mutex);
    apr_thread_join(&ignored, flusher);
    flusher = NULL;
    usage = NULL;
    return APR_SUCCESS;
}

static apr_status_t thread_pools(apr_pool_t *p)
{
    apr_allocator_t *a;
    apr_status_t rv;
    int i;

    for (i = 0; i < 2; i++) {
        /* Used by the thread alone: no mutex, but not the child pool's
         * allocator, which other threads use. */
        if ((rv = apr_allocator_create(&a)) != APR_SUCCESS ||
            (rv = apr_pool_create_ex(&cycle_pool[i], p, NULL, a)) !=
                APR_SUCCESS) {
            return rv;
        }
        apr_allocator_owner_set(a, cycle_pool[i]);
    }
    return APR_SUCCESS;
}

void paa_usage_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    usage = NULL;
    flusher = NULL;
    stopping = wake_early = 0;
    retry = NULL;
    if (!paa_in_use) {
        return;
    }
    if (node_usage) {
        usage = node_usage;
    }
    else if ((rv = paa_usage_create(p, PAA_USAGE_MAX, &usage)) != APR_SUCCESS) {
        usage = NULL;
    }
    if (!usage || (rv = thread_pools(p)) != APR_SUCCESS ||
        (rv = apr_thread_mutex_create(&wake_mutex, APR_THREAD_MUTEX_DEFAULT,
                                      p)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&wake_cond, p)) != APR_SUCCESS ||
        (rv = apr_thread_create(&flusher, NULL, flush_thread, s, p)) !=
            APR_SUCCESS) {
        usage = NULL;
        flusher = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     PAALOGNO(01505) "cannot start the thread that writes "
                                     "API key uses: last-used times and "
                                     "key.use records will not be written");
        return;
    }
    apr_pool_pre_cleanup_register(p, NULL, stop_flusher);
}
