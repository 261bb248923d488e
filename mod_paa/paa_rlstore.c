/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimitStore: where the rate-limit counters live. "shm" (default)
 * is the node's own table (paa_ratelimit.c), exact for one httpd. With
 * several httpd nodes behind a load balancer each would grant the limit
 * once, so a cluster points every node at one Redis (libpaa's redis.c):
 * one atomic script per decision, which holds for the cluster.
 *
 * Connections: one per child, shared by its threads through libpaa's
 * pipe (redis.c): a decision that comes while another thread of the child
 * waits for Redis is queued, and the next round trip carries all that
 * queued meanwhile, pipelined in one write. Under load a round trip then
 * serves many requests: Redis and httpd pay the system calls and wake-ups
 * of one exchange for a batch instead of one each, which on a node that
 * shares its CPUs with Redis is most of what a decision costs.
 *
 * With PAARateLimitStoreLeases On (default Off: every decision is one
 * script), far from a high limit (rls_lease: 65,536 requests or more left
 * in the window), the script also counts a few more for the child, which it
 * then grants from its own memory without a round trip (a lease, redis.h): with
 * limits high enough never to be reached, most requests cost no Redis at all. A
 * lease is counted before it is granted, so the cluster never grants more than
 * the limit; near the limit there is none, and every decision there is exact.
 * What a child does not use of its lease is lost for that window (a 1,024th of
 * the limit at most, and at most 256).
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
#include "apr_hash.h"
#include "apr_strings.h"

#include <pthread.h>

#define RLS_DEFAULT_TIMEOUT_MS 100
/* Leases: at most so many requests a key in one round trip; a table of so
 * many keys per child (a key that finds its slot taken replaces the lease
 * there, whose rest is lost: refused earlier, never granted more); a lease
 * is not used in the last RLS_LEASE_MARGIN of its window, so that the
 * node's clock, a little ahead of Redis's, never spends a count of one
 * window in the next. */
#define RLS_LEASES       4096
#define RLS_LEASE_MARGIN apr_time_from_msec(250)
/* Only for limits of 65,536 a window or more, and only while that many
 * are left: what unused leases can cost a window is a 1,024th of its
 * limit a child holding one, at most 256 requests; below that every
 * decision is Redis's. */
static const paa_redis_lease_t rls_lease = {256, 65536, 1024};
/* Round trips in flight per child: one batches the most (see above). */
#define RLS_CONNS     1
#define RLS_LOG_EVERY apr_time_from_sec(60)

static const paa_redis_url_t *rls_url;
static int rls_closed;
static int rls_timeout_ms;
static paa_redis_pipe_t *rls_pipe;

typedef struct {
    char key[80]; /* "paa:rl:" and 64 hex digits */
    apr_uint32_t limit, window;
    apr_uint32_t left; /* requests this child may still grant itself */
    apr_uint32_t base; /* what Redis said was left beyond the lease */
    apr_time_t until;  /* no use from then on */
    apr_int64_t ends;  /* the window's end on Redis's clock (ms) */
} rls_lease_t;
/* This child's leases: made before the fork (each child has its own
 * copy), used under one mutex held for a lookup or a store. */
static rls_lease_t *rls_leases;
static pthread_mutex_t rls_lease_mutex = PTHREAD_MUTEX_INITIALIZER;
/* apr_time_t of this process's last "Redis unavailable" line. */
static volatile apr_uint64_t rls_logged_at;

static apr_status_t rls_cleanup(void *unused)
{
    paa_redis_pipe_destroy(rls_pipe);
    rls_pipe = NULL;
    rls_url = NULL;
    free(rls_leases);
    rls_leases = NULL;
    return APR_SUCCESS;
}

static rls_lease_t *lease_slot(const char *key)
{
    apr_ssize_t len = APR_HASH_KEY_STRING;
    return &rls_leases[apr_hashfunc_default(key, &len) % RLS_LEASES];
}

/* Grant one request from this child's lease for key: 1 with res filled
 * in, 0 when there is none (or none left). */
static int lease_take(const char *key, apr_uint32_t limit, apr_uint32_t window,
                      apr_time_t now, paa_rl_result_t *res)
{
    rls_lease_t *l;
    int got = 0;

    if (!rls_leases || strlen(key) >= sizeof(l->key)) {
        return 0;
    }
    l = lease_slot(key);
    pthread_mutex_lock(&rls_lease_mutex);
    if (l->left && now < l->until && l->limit == limit && l->window == window &&
        !strcmp(l->key, key)) {
        l->left--;
        memset(res, 0, sizeof(*res));
        res->allowed = 1;
        /* What the cluster has left for the key, as far as this child
         * knows: Redis's count after the lease, and the lease's rest. */
        res->remaining = l->base + l->left;
        res->reset = (apr_uint32_t)apr_time_sec(l->until + RLS_LEASE_MARGIN -
                                                now + apr_time_from_sec(1) - 1);
        got = 1;
    }
    pthread_mutex_unlock(&rls_lease_mutex);
    return got;
}

static void lease_keep(const char *key, apr_uint32_t limit, apr_uint32_t window,
                       apr_time_t now, const paa_rl_result_t *res)
{
    apr_time_t until =
        now + apr_time_from_msec(res->lease_ms) - RLS_LEASE_MARGIN;
    rls_lease_t *l;

    if (!rls_leases || !res->lease || until <= now ||
        strlen(key) >= sizeof(l->key)) {
        return;
    }
    l = lease_slot(key);
    pthread_mutex_lock(&rls_lease_mutex);
    if (l->left && l->limit == limit && l->window == window &&
        l->ends > res->window_ends - 100 && l->ends < res->window_ends + 100 &&
        !strcmp(l->key, key)) {
        /* Threads of this child that asked at once each came back with a
         * lease of the same window (Redis's end for it is the same, to the
         * rounding of its milliseconds): all are counted, all are this
         * child's. Dropping one would waste it, and threads that ask
         * together every time would have the window counted many times
         * faster than it is used. */
        l->left += res->lease;
        l->until = until < l->until ? until : l->until;
    }
    else {
        /* Another window, or another key: the rest of the older lease is
         * dropped (refused earlier, never granted more), and a count of
         * one window is never spent in another. */
        apr_cpystrn(l->key, key, sizeof(l->key));
        l->limit = limit;
        l->window = window;
        l->left = res->lease;
        l->until = until;
        l->ends = res->window_ends;
    }
    l->base = res->remaining;
    pthread_mutex_unlock(&rls_lease_mutex);
}

int paa_rlstore_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    paa_srv_conf *sc = ap_get_module_config(s->module_config, &paa_module);

    rls_url = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use || !sc->rl_store) {
        return OK;
    }
    /* Created unconnected, before the children fork: each child then
     * has its own, and connects on its first decision. */
    rls_pipe = paa_redis_pipe_create(sc->rl_store, RLS_CONNS);
    if (!rls_pipe) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, APR_ENOMEM, s,
                     PAALOGNO(01600) "cannot create the PAARateLimitStore "
                                     "connection");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    free(rls_leases);
    rls_leases = sc->rl_store_leases == 1
                     ? calloc(RLS_LEASES, sizeof(*rls_leases))
                     : NULL;
    rls_url = sc->rl_store;
    rls_closed = sc->rl_store_closed == 1;
    rls_timeout_ms =
        sc->rl_store_timeout ? sc->rl_store_timeout : RLS_DEFAULT_TIMEOUT_MS;
    rls_logged_at = 0;
    apr_pool_cleanup_register(pconf, NULL, rls_cleanup, apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 PAALOGNO(01601) "rate-limit counters in %s (timeout %d ms, "
                                 "leases %s, on failure: %s)",
                 paa_redis_url_redacted(ptemp, rls_url), rls_timeout_ms,
                 rls_leases ? "on" : "off",
                 rls_closed ? "refuse with 503" : "this node's own limits");
    return OK;
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
    const char *why, *hash;
    apr_time_t now;
    apr_status_t rv;
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
    now = apr_time_now();
    if (lease_take(key, (apr_uint32_t)limit, (apr_uint32_t)window, now, res)) {
        return PAA_RLS_DONE;
    }
    rv = paa_redis_pipe_hit(
        rls_pipe, key, (apr_uint32_t)limit, (apr_uint32_t)window,
        rls_leases ? &rls_lease : NULL, rls_timeout_ms, res, r->pool, &why);
    if (rv == APR_SUCCESS) {
        lease_keep(key, (apr_uint32_t)limit, (apr_uint32_t)window, now, res);
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

const char *paa_set_rl_store_leases(cmd_parms *cmd, void *dconf, int flag)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    if (err) {
        return err;
    }
    sc->rl_store_leases = flag ? 1 : 2;
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
