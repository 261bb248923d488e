/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimitStore: where the rate-limit counters live. "shm" (default)
 * is the node's own table (paa_ratelimit.c), exact for one httpd. With
 * several httpd nodes behind a load balancer each would grant the limit
 * once, so a cluster points every node at one Redis (libpaa's redis.c):
 * one atomic script per decision, exact for the cluster.
 *
 * Connections: a child keeps the ones its threads have used on a free
 * list (a thread takes one for one decision and gives it back), so a
 * child holds at most as many as it has threads busy at once, and a
 * connection is never shared by two threads at a time.
 *
 * Redis unreachable, slow (past PAARateLimitStoreTimeout) or answering
 * nonsense: PAARateLimitStoreFailure open (default) decides with the
 * node's shared-memory table instead, so the node keeps its own limits
 * (a cluster of N nodes then grants up to N times the limit until Redis is
 * back); closed answers 503. Either way a request waits for Redis at most
 * the timeout, and after a failure each connection backs off (redis.c) so
 * that the next requests do not wait at all. */

#include "paa_private.h"

#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#define RLS_FREE_MAX           256
#define RLS_DEFAULT_TIMEOUT_MS 100
#define RLS_LOG_EVERY          apr_time_from_sec(60)

static const paa_redis_url_t *rls_url;
static int rls_closed;
static int rls_timeout_ms;
static apr_thread_mutex_t *rls_mutex;
static paa_redis_t *rls_free[RLS_FREE_MAX];
static int rls_nfree;
/* apr_time_t of this process's last "Redis unavailable" line. */
static volatile apr_uint64_t rls_logged_at;

static apr_status_t rls_cleanup(void *unused)
{
    while (rls_nfree > 0) {
        paa_redis_destroy(rls_free[--rls_nfree]);
    }
    rls_url = NULL;
    rls_mutex = NULL;
    return APR_SUCCESS;
}

int paa_rlstore_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    paa_srv_conf *sc = ap_get_module_config(s->module_config, &paa_module);
    apr_status_t rv;

    rls_url = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use || !sc->rl_store) {
        return OK;
    }
    rv = apr_thread_mutex_create(&rls_mutex, APR_THREAD_MUTEX_DEFAULT, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     PAALOGNO(01600) "cannot create the PAARateLimitStore "
                                     "connection list's mutex");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rls_url = sc->rl_store;
    rls_closed = sc->rl_store_closed == 1;
    rls_timeout_ms =
        sc->rl_store_timeout ? sc->rl_store_timeout : RLS_DEFAULT_TIMEOUT_MS;
    rls_logged_at = 0;
    apr_pool_cleanup_register(pconf, NULL, rls_cleanup, apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 PAALOGNO(01601) "rate-limit counters in %s (timeout %d ms, "
                                 "on failure: %s)",
                 paa_redis_url_redacted(ptemp, rls_url), rls_timeout_ms,
                 rls_closed ? "refuse with 503" : "this node's own limits");
    return OK;
}

static paa_redis_t *rls_take(void)
{
    paa_redis_t *c = NULL;

    apr_thread_mutex_lock(rls_mutex);
    if (rls_nfree > 0) {
        c = rls_free[--rls_nfree];
    }
    apr_thread_mutex_unlock(rls_mutex);
    return c ? c : paa_redis_create(rls_url, rls_timeout_ms);
}

static void rls_give(paa_redis_t *c)
{
    apr_thread_mutex_lock(rls_mutex);
    if (rls_nfree < RLS_FREE_MAX) {
        rls_free[rls_nfree++] = c;
        c = NULL;
    }
    apr_thread_mutex_unlock(rls_mutex);
    paa_redis_destroy(c);
}

/* At most one line a minute per process: while Redis is down every
 * limited request fails over, and the metric counts them all. */
static void rls_log_failure(request_rec *r, const char *why)
{
    apr_uint64_t last = apr_atomic_read64(&rls_logged_at);
    apr_uint64_t now = (apr_uint64_t)apr_time_now();

    if (now - last < (apr_uint64_t)RLS_LOG_EVERY ||
        apr_atomic_cas64(&rls_logged_at, now, last) != last) {
        return;
    }
    /* why says what failed; rv is APR's generic code, noise in a log. */
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PAALOGNO(01602) "rate-limit store %s unavailable (%s): "
                                  "%s (logged at most once a minute)",
                  paa_redis_url_redacted(r->pool, rls_url),
                  why ? why : "no reason given",
                  rls_closed ? "limited requests answer 503"
                             : "this node's own limits apply");
}

paa_rls_e paa_rlstore_hit(request_rec *r, const char *who, int limit,
                          int window, paa_rl_result_t *res)
{
    paa_srv_conf *sc;
    paa_redis_t *c;
    const char *why = "out of memory", *hash;
    apr_status_t rv = APR_ENOMEM;
    char *key;

    if (!rls_url) {
        return PAA_RLS_SHM;
    }
    /* Personal data (user names, addresses) stays out of Redis: an HMAC
     * under the JWT key, which every node of a cluster shares (a plain
     * hash of an IPv4 address is reversed by trying them all). */
    sc = ap_get_module_config(r->server->module_config, &paa_module);
    hash = sc->jwt.key ? paa_hmac_sha256_hex(r->pool, sc->jwt.key,
                                             sc->jwt.key_len, who, strlen(who))
                       : NULL;
    key = apr_pstrcat(r->pool, "paa:rl:",
                      hash ? hash : paa_sha256_hex(r->pool, who, strlen(who)),
                      NULL);
    c = rls_take();
    if (c) {
        rv = paa_redis_rl_hit(c, key, (apr_uint32_t)limit, (apr_uint32_t)window,
                              res, &why);
        if (rv != APR_SUCCESS) {
            why = apr_pstrdup(r->pool, why ? why : "unknown");
        }
        rls_give(c);
    }
    if (rv == APR_SUCCESS) {
        return PAA_RLS_DONE;
    }
    rls_log_failure(r, why);
    paa_metrics_add(paa_metrics, rl_store_failures[rls_closed ? 1 : 0], 1);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                  PAALOGNO(01603) "rate-limit store unavailable: %s", why);
    return rls_closed ? PAA_RLS_REFUSE : PAA_RLS_SHM;
}

/* ---------------------------------------------------------- directives */

const char *paa_set_rl_store(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    paa_redis_url_t *u;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "shm")) {
        sc->rl_store = NULL;
        return NULL;
    }
    u = apr_pcalloc(cmd->pool, sizeof(*u));
    if (paa_redis_url_parse(cmd->pool, arg, u, &err) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": shm or redis://: ", err, NULL);
    }
    sc->rl_store = u;
    return NULL;
}

const char *paa_set_rl_store_failure(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (strcasecmp(arg, "open") && strcasecmp(arg, "closed")) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expects open or closed", NULL);
    }
    sc->rl_store_closed = strcasecmp(arg, "closed") ? 2 : 1;
    return NULL;
}

const char *paa_set_rl_store_timeout(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long ms = strtol(arg, &end, 10);

    if (err) {
        return err;
    }
    if (!strcmp(end, "ms")) {
        end += 2;
    }
    if (end == arg || *end || ms < 1 || ms > 10000) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expects 1 to 10000 milliseconds (e.g. 100ms)",
                           NULL);
    }
    sc->rl_store_timeout = (int)ms;
    return NULL;
}
