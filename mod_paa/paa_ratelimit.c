/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimit: one table of counters in anonymous shared memory with its
 * own lock (libpaa's ratelimit.c), so every child of the server counts
 * together and a window never accepts more than the limit. The key is the
 * principal (user or key id) when the request authenticated, else the
 * client address (mod_remoteip decides what that is behind a proxy). The
 * segment is recreated with the configuration, so a graceful restart starts
 * every window afresh. The lock is held for one table update, never across I/O.
 * It is a robust mutex: a child that dies holding it (killed, crashed) costs a
 * warning, not the server; a lock that cannot be taken at all makes every
 * limited location answer 503 (fail closed) until a restart formats a new
 * table. With PAARateLimitStore redis:// the decision is Redis's instead
 * (paa_rlstore.c), exact across nodes, and this table is the fallback.
 */

#include "paa_private.h"

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_siphash.h"
#include "apr_strings.h"

#define PAA_RL_DEFAULT_SLOTS 16384

static apr_shm_t *rl_shm;
/* 1 once this process has logged that the lock is unusable: every limited
 * request then fails, and one CRIT line per process says why. */
static volatile apr_uint32_t rl_broken_logged;
static unsigned char rl_siphash_key[APR_SIPHASH_KSIZE];

/* Numbers the PAARateLimit directives in configuration order, afresh for
 * each reading of the configuration: nodes with the same configuration
 * then give each rule the same number, and so share its counters in a
 * PAARateLimitStore (config time is single-threaded). */
static int rl_next_id;

int paa_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    paa_ratelimit_used = 0;
    rl_next_id = 0;
    return OK;
}

static apr_status_t rl_cleanup(void *unused)
{
    rl_shm = NULL;
    return APR_SUCCESS;
}

int paa_rl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    paa_srv_conf *sc = ap_get_module_config(s->module_config, &paa_module);
    apr_uint32_t slots;
    apr_status_t rv;

    /* Created even without a PAARateLimit: MCP's tools/call is limited
     * by default, and the table is small. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use) {
        return OK;
    }
    slots = sc->rl_slots ? (apr_uint32_t)sc->rl_slots : PAA_RL_DEFAULT_SLOTS;
    rv = apr_shm_create(&rl_shm, paa_rl_size(slots), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     PAALOGNO(00901) "cannot create %" APR_SIZE_T_FMT
                                     " bytes of shared "
                                     "memory for PAARateLimit",
                     paa_rl_size(slots));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = paa_rl_init(apr_shm_baseaddr_get(rl_shm), slots);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     PAALOGNO(00904) "cannot create the PAARateLimit "
                                     "table's lock (a process-shared "
                                     "robust mutex)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rl_broken_logged = 0;
    if (paa_random_bytes(rl_siphash_key, sizeof(rl_siphash_key)) !=
        APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, rl_cleanup, apr_pool_cleanup_null);
    return OK;
}

static void set_headers(request_rec *r, int limit, const paa_rl_result_t *res)
{
    apr_table_t *h = r->err_headers_out;
    /* apr_ltoa, not a format: this runs on every limited request. */
    apr_table_setn(h, "RateLimit-Limit", apr_itoa(r->pool, limit));
    apr_table_setn(h, "RateLimit-Remaining",
                   apr_ltoa(r->pool, (long)res->remaining));
    apr_table_setn(h, "RateLimit-Reset", apr_ltoa(r->pool, (long)res->reset));
}

int paa_ratelimit_take(request_rec *r, int rule, int limit, int window,
                       const char *what)
{
    const char *who;
    apr_uint64_t key;
    paa_rl_result_t res;
    apr_status_t rv;

    if (!rl_shm) {
        /* Fail closed: a limit that cannot be enforced is not skipped. */
        return paa_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "rate limiting is unavailable");
    }
    who = r->user ? apr_pstrcat(r->pool, apr_itoa(r->pool, rule),
                                "|u:", r->user, NULL)
                  : apr_pstrcat(r->pool, apr_itoa(r->pool, rule),
                                "|ip:", r->useragent_ip, NULL);
    key = apr_siphash24(who, strlen(who), rl_siphash_key);

    switch (paa_rlstore_hit(r, who, limit, window, &res)) {
    case PAA_RLS_DONE:
        rv = APR_SUCCESS;
        break;
    case PAA_RLS_REFUSE: /* PAARateLimitStoreFailure closed */
        return paa_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "rate limiting is unavailable");
    default:
        rv = paa_rl_hit(apr_shm_baseaddr_get(rl_shm), key,
                        (apr_uint32_t)apr_time_sec(r->request_time),
                        (apr_uint32_t)limit, (apr_uint32_t)window, &res);
    }
    if (rv != APR_SUCCESS) {
        /* Fail closed, as without a table. Only a new table helps, and a
         * graceful restart makes one. */
        if (apr_atomic_cas32(&rl_broken_logged, 1, 0) == 0) {
            ap_log_rerror(APLOG_MARK, APLOG_CRIT, rv, r,
                          PAALOGNO(00905) "a lock of the PAARateLimit "
                                          "table is unusable: the clients "
                                          "counted under it get 503 from "
                                          "rate-limited locations until "
                                          "httpd is restarted (graceful "
                                          "is enough)");
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                          PAALOGNO(00906) "rate limit lock unusable, 503");
        }
        return paa_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "rate limiting is unavailable");
    }
    if (res.recovered) {
        /* A child died (killed, crashed) in its critical section; the
         * table is usable as it left it (core/ratelimit.c says why). */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      PAALOGNO(00907) "a process died holding the "
                                      "PAARateLimit table's lock; taken "
                                      "over, counting goes on");
    }
    set_headers(r, limit, &res);
    if (res.allowed) {
        return OK;
    }
    paa_metrics_add(
        paa_metrics,
        ratelimited[rule == 0                        ? PAA_RL_K_TOOL_CALLS
                    : !strcmp(what, "chat requests") ? PAA_RL_K_CHAT
                                                     : PAA_RL_K_REQUESTS],
        1);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%u", res.reset ? res.reset : 1));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  PAALOGNO(00903) "rate limit of %d %s per %d s exceeded by %s",
                  limit, what, window, r->user ? r->user : r->useragent_ip);
    if (res.first_refusal) {
        /* One record per client and window: a flood writes one row. */
        paa_audit(r, "ratelimit.exceeded", "failure",
                  r->user ? r->user : r->useragent_ip, NULL,
                  apr_psprintf(r->pool, "%d %s per %d s at %s", limit, what,
                               window, r->uri));
    }
    return paa_error(r, HTTP_TOO_MANY_REQUESTS,
                     "too many requests; see Retry-After");
}

int paa_ratelimit_request(request_rec *r)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    paa_req_t *ctx;

    if (r->main || r->prev || d->rl_limit <= 0) {
        return OK; /* count each client request once */
    }
    ctx = paa_req(r);
    if (ctx->rl_rule != d->rl_id + 1) {
        ctx->rl_status = paa_ratelimit_take(r, d->rl_id, d->rl_limit,
                                            d->rl_window, "requests");
        ctx->rl_rule = d->rl_id + 1;
    }
    return ctx->rl_status;
}

int paa_rl_check(request_rec *r)
{
    int rc = paa_ratelimit_request(r);
    return rc == OK ? DECLINED : rc;
}

/* ---------------------------------------------------------- directives */

int paa_ratelimit_used;

/* "N WINDOW" or "Off" (*limit 0), shared by the rate-limit directives. */
static const char *parse_limit(cmd_parms *cmd, const char *limit,
                               const char *window, int *n_out, int *w_out)
{
    /* .htaccess is read per request: a counter defined there would start
     * afresh each time (and the static state below is config-time only). */
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);

    if (err) {
        return err;
    }
    if (paa_ratelimit_spec_parse(limit, window, n_out, w_out, &err) !=
        APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    if (*n_out > 0) {
        paa_ratelimit_used = 1;
    }
    return NULL;
}

const char *paa_set_rate_limit(cmd_parms *cmd, void *dconf, const char *limit,
                               const char *window)
{
    paa_dir_conf *d = dconf;
    const char *err =
        parse_limit(cmd, limit, window, &d->rl_limit, &d->rl_window);
    if (!err && d->rl_limit) {
        d->rl_id = ++rl_next_id;
    }
    return err;
}

const char *paa_set_tool_limit(cmd_parms *cmd, void *dconf, const char *limit,
                               const char *window)
{
    paa_dir_conf *d = dconf;
    return parse_limit(cmd, limit, window, &d->tool_limit, &d->tool_window);
}

const char *paa_set_rl_slots(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    long n = strtol(arg, &end, 10);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    if (*end || n < 64 || n > 16 * 1024 * 1024) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expects 64 to 16777216 entries", NULL);
    }
    ((paa_srv_conf *)ap_get_module_config(cmd->server->module_config,
                                          &paa_module))
        ->rl_slots = (int)n;
    return NULL;
}

int paa_ratelimit_usage(apr_uint32_t *used, apr_uint32_t *total)
{
    if (!rl_shm) {
        return 0;
    }
    return paa_rl_usage(apr_shm_baseaddr_get(rl_shm),
                        (apr_uint32_t)apr_time_sec(apr_time_now()), used,
                        total) == APR_SUCCESS;
}
