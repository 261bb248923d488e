/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Chat completions from the configured providers, in order, with failover
 * and a circuit breaker per provider that every child shares (shared
 * memory and a global mutex, like the rate limiter). A provider is skipped
 * while its breaker is open; after the cool-down one request probes it.
 * Each attempt gets the smaller of the provider's timeout and what is left
 * of the request's deadline, so a worker thread is never held longer than
 * PAAChatDeadline. Details of failures go to the error log (never a
 * provider key) and to the failover record; the client only learns that no
 * provider answered. */

#include "paa_private.h"

#include "util_mutex.h"
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include <curl/curl.h>

#define PAA_BREAKER_MUTEX       "paa-breaker"
#define PAA_PROVIDER_TIMEOUT    apr_time_from_sec(30)
#define PAA_CHAT_DEADLINE       apr_time_from_sec(60)
#define PAA_BREAKER_THRESHOLD   3
#define PAA_BREAKER_COOLDOWN    apr_time_from_sec(30)
#define PAA_PROVIDER_MAX_ANSWER (4 * 1024 * 1024)

int paa_provider_count;
static apr_shm_t *breaker_shm;
static apr_global_mutex_t *breaker_mutex;
/* PAANodeName or the host name, set at post_config, for failover records. */
static const char *node_name;

/* PAAProvider NAME URL MODEL [key=SOURCE] [timeout=DURATION] */
static paa_srv_conf *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &paa_module);
}

/* The chat directives beside PAAProvider: deadline, session lifetime,
 * history, breaker. */
const char *paa_set_chat_duration(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_srv_conf *c = srv_conf(cmd);
    apr_int64_t secs;
    if (paa_duration_parse(arg, &secs) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                           "' is not a duration (e.g. 60s, 24h)", NULL);
    }
    switch ((long)cmd->info) {
    case 0:
        if (secs > 600) {
            return "PAAChatDeadline: at most 10m";
        }
        c->chat_deadline = apr_time_from_sec(secs);
        break;
    case 1:
        c->session_ttl = secs;
        break;
    }
    return NULL;
}

const char *paa_set_breaker(cmd_parms *cmd, void *dconf, const char *n,
                            const char *cooldown)
{
    paa_srv_conf *c = srv_conf(cmd);
    char *end;
    long v = strtol(n, &end, 10);
    apr_int64_t secs;
    if (*end || v < 1 || v > 1000) {
        return "PAAProviderBreaker: the failure count must be 1 to 1000";
    }
    if (paa_duration_parse(cooldown, &secs) != APR_SUCCESS || secs > 86400) {
        return "PAAProviderBreaker: the cool-down must be a duration up to 1d";
    }
    c->breaker_threshold = (int)v;
    c->breaker_cooldown = apr_time_from_sec(secs);
    return NULL;
}

const char *paa_set_history(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 200) {
        return "PAAChatHistory: 1 to 200 messages";
    }
    srv_conf(cmd)->history = (int)v;
    return NULL;
}

const char *paa_provider_directive(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[])
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    paa_provider_t *pv;
    const char *c;
    int i;

    if (argc < 3) {
        return "PAAProvider NAME URL MODEL [key=SOURCE] [timeout=30s]";
    }
    pv = apr_pcalloc(cmd->pool, sizeof(*pv));
    pv->name = argv[0];
    pv->base_url = argv[1];
    pv->model = argv[2];
    pv->timeout = PAA_PROVIDER_TIMEOUT;
    if (strlen(pv->name) > 64) {
        return "PAAProvider: a name may be at most 64 characters";
    }
    for (c = pv->name; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._-", *c)) {
            return "PAAProvider: a name may only contain letters, digits and "
                   ". _ -";
        }
    }
    if (strncmp(pv->base_url, "http://", 7) &&
        strncmp(pv->base_url, "https://", 8)) {
        return apr_pstrcat(cmd->pool, "PAAProvider ", pv->name,
                           ": the base URL must be http:// or https://", NULL);
    }
    for (i = 3; i < argc; i++) {
        if (!strncmp(argv[i], "key=", 4)) {
            pv->key_src = argv[i] + 4;
        }
        else if (!strncmp(argv[i], "timeout=", 8)) {
            apr_int64_t secs;
            if (paa_duration_parse(argv[i] + 8, &secs) != APR_SUCCESS ||
                secs > 600) {
                return apr_pstrcat(cmd->pool, "PAAProvider ", pv->name,
                                   ": timeout must be a duration up to 10m",
                                   NULL);
            }
            pv->timeout = apr_time_from_sec(secs);
        }
        else {
            return apr_pstrcat(cmd->pool, "PAAProvider ", pv->name,
                               ": unknown option '", argv[i],
                               "' (key=SOURCE, timeout=DURATION)", NULL);
        }
    }
    pv->slot = paa_provider_count++;
    if (!sc->providers) {
        sc->providers = apr_array_make(cmd->pool, 2, sizeof(pv));
    }
    APR_ARRAY_PUSH(sc->providers, paa_provider_t *) = pv;
    return NULL;
}

int paa_provider_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    paa_provider_count = 0;
    return ap_mutex_register(pconf, PAA_BREAKER_MUTEX, NULL, APR_LOCK_DEFAULT,
                             0);
}

static apr_status_t breaker_cleanup(void *unused)
{
    breaker_shm = NULL;
    breaker_mutex = NULL;
    return APR_SUCCESS;
}

int paa_provider_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    apr_size_t size;
    apr_status_t rv;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    node_name =
        ((paa_srv_conf *)ap_get_module_config(s->module_config, &paa_module))
            ->node_name;
    if (!node_name) {
        char host[APRMAXHOSTLEN + 1];
        node_name = apr_gethostname(host, sizeof(host), pconf) == APR_SUCCESS
                        ? apr_pstrdup(pconf, host)
                        : "";
    }
    if (!paa_provider_count) {
        return OK; /* no provider, no libcurl: nothing to disturb */
    }
    /* Before any thread exists; children inherit it. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = ap_global_mutex_create(&breaker_mutex, NULL, PAA_BREAKER_MUTEX, NULL,
                                s, pconf, 0);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    size = sizeof(paa_breaker_t) * (apr_size_t)paa_provider_count;
    rv = apr_shm_create(&breaker_shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, rv, s,
            PAALOGNO(
                01001) "cannot create shared memory for the provider circuit "
                       "breakers");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(apr_shm_baseaddr_get(breaker_shm), 0, size);
    apr_pool_cleanup_register(pconf, NULL, breaker_cleanup,
                              apr_pool_cleanup_null);
    return OK;
}

void paa_provider_child_init(apr_pool_t *p, server_rec *s)
{
    if (breaker_mutex &&
        apr_global_mutex_child_init(&breaker_mutex,
                                    apr_global_mutex_lockfile(breaker_mutex),
                                    p) != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            PAALOGNO(
                01002) "cannot attach the circuit-breaker mutex; providers "
                       "will be called without a breaker");
        breaker_mutex = NULL;
    }
}

static paa_breaker_t *breaker(const paa_provider_t *pv)
{
    return breaker_shm
               ? (paa_breaker_t *)apr_shm_baseaddr_get(breaker_shm) + pv->slot
               : NULL;
}

static paa_breaker_e breaker_check(const paa_provider_t *pv, apr_time_t now)
{
    paa_breaker_e state = PAA_BREAKER_CLOSED;
    paa_breaker_t *b = breaker(pv);
    if (b && breaker_mutex &&
        apr_global_mutex_lock(breaker_mutex) == APR_SUCCESS) {
        state = paa_breaker_check(b, now, pv->timeout);
        apr_global_mutex_unlock(breaker_mutex);
    }
    return state;
}

const char *paa_provider_breaker_state(const paa_provider_t *pv)
{
    paa_breaker_t *b = breaker(pv), copy;
    apr_time_t now = apr_time_now();

    /* Copied under the lock (three fields that change together), not
     * through paa_breaker_check(), which would start a probe. */
    if (!b || !breaker_mutex ||
        apr_global_mutex_lock(breaker_mutex) != APR_SUCCESS) {
        return "unknown";
    }
    copy = *b;
    apr_global_mutex_unlock(breaker_mutex);
    if (copy.open_until == 0) {
        return "closed";
    }
    return now < copy.open_until ? "open" : "half-open";
}

static void breaker_record(request_rec *r, const paa_provider_t *pv, int ok)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    paa_breaker_t *b = breaker(pv);
    /* The metrics table has room for the first PAA_METRICS_PROVIDERS_MAX
     * providers; later ones are served but not counted. */
    int counted = pv->slot < PAA_METRICS_PROVIDERS_MAX;
    if (b && breaker_mutex &&
        apr_global_mutex_lock(breaker_mutex) == APR_SUCCESS) {
        paa_breaker_record(
            b, ok, apr_time_now(),
            sc->breaker_threshold ? (apr_uint32_t)sc->breaker_threshold
                                  : PAA_BREAKER_THRESHOLD,
            sc->breaker_cooldown ? sc->breaker_cooldown : PAA_BREAKER_COOLDOWN);
        /* Read under the lock: the gauge follows the breaker's own word
         * (open until a probe succeeds). */
        if (counted) {
            paa_metrics_set(paa_metrics, breaker_open[pv->slot],
                            b->open_until != 0);
        }
        apr_global_mutex_unlock(breaker_mutex);
    }
    if (counted) {
        paa_metrics_add(paa_metrics, provider[pv->slot][ok ? 0 : 1], 1);
    }
}

typedef struct {
    char *buf;
    apr_size_t len;
    int overflow;
    apr_pool_t *pool;
    apr_size_t cap;
} answer_buf_t;

/* Grows by doubling, with realloc: the request pool lives as long as the
 * (possibly long) chat request and would keep every outgrown copy. The
 * buffer is freed as soon as the answer is parsed (call_one). */
static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    answer_buf_t *a = ud;
    size_t bytes = size * n;
    if (a->len + bytes > PAA_PROVIDER_MAX_ANSWER) {
        a->overflow = 1;
        return 0; /* aborts the transfer */
    }
    if (a->len + bytes + 1 > a->cap) {
        apr_size_t cap = a->cap ? a->cap : 16384;
        char *grown;
        while (cap < a->len + bytes + 1) {
            cap *= 2;
        }
        if (!(grown = realloc(a->buf, cap))) {
            a->overflow = 1;
            return 0;
        }
        a->buf = grown;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, data, bytes);
    a->len += bytes;
    return bytes;
}

/* The request to one provider: only its URL, no redirects, no other
 * protocols, TLS verified, bounded by budget. */
static struct curl_slist *set_options(request_rec *r, CURL *curl,
                                      const paa_provider_t *pv,
                                      const char *body,
                                      apr_interval_time_t budget,
                                      answer_buf_t *a, char *errbuf)
{
    struct curl_slist *headers = NULL;
    /* Whole milliseconds, rounded up: libcurl reads 0 as "no timeout", and
     * a provider tried just before the deadline may get less than 1 ms. */
    long timeout_ms = budget > 0 ? (long)((budget + 999) / 1000) : 1;

    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    if (pv->key) {
        headers = curl_slist_append(
            headers,
            apr_pstrcat(r->pool, "Authorization: Bearer ", pv->key, NULL));
    }
    curl_easy_setopt(
        curl, CURLOPT_URL,
        apr_pstrcat(r->pool, pv->base_url,
                    pv->base_url[strlen(pv->base_url) - 1] == '/' ? "" : "/",
                    "chat/completions", NULL));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    /* Threads: no signals; the deadline is the timeout. */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    /* Only the configured URL: no redirects, no other protocols; TLS
     * peers and host names are verified (libcurl's defaults, made
     * explicit). */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    return headers;
}

/* What one attempt's outcome means: 1 with the answer, else 0 with a
 * reason and whether another provider may help. */
static int judge(request_rec *r, CURLcode cc, long status,
                 const answer_buf_t *a, const char *errbuf,
                 paa_chat_result_t *out, const char **reason, int *retry)
{
    int ok = 0;

    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *reason = "timeout";
    }
    else if (cc != CURLE_OK) {
        *reason = a->overflow
                      ? "answer too large"
                      : apr_psprintf(r->pool, "connection error: %s",
                                     *errbuf ? errbuf : curl_easy_strerror(cc));
    }
    else if (status == 401 || status == 403) {
        *reason = apr_psprintf(r->pool, "HTTP %ld (provider refused our key)",
                               status);
    }
    else if (status == 408 || status == 429 || status >= 500) {
        *reason = apr_psprintf(r->pool, "HTTP %ld", status);
    }
    else if (status < 200 || status > 299) {
        /* Our request was wrong: another provider would refuse it too. */
        *reason = apr_psprintf(r->pool, "HTTP %ld", status);
        *retry = 0;
    }
    else if (!a->buf) {
        *reason = "an empty answer";
    }
    else if (paa_llm_parse(r->pool, a->buf, a->len, &out->answer,
                           &out->model) != APR_SUCCESS) {
        *reason = "the answer is not a chat completion";
    }
    else {
        ok = 1;
    }
    return ok;
}

/* One attempt. Returns 1 with the answer, else 0 with a reason (for the
 * log and the failover record) and whether another provider may help. */
static int call_one(request_rec *r, const paa_provider_t *pv, const char *body,
                    apr_interval_time_t budget, paa_chat_result_t *out,
                    const char **reason, int *retry)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *headers;
    answer_buf_t a = {NULL, 0, 0, r->pool, 0};
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode cc;
    int ok;

    *retry = 1;
    if (!curl) {
        *reason = "cannot create an HTTP client";
        return 0;
    }
    headers = set_options(r, curl, pv, body, budget, &a, errbuf);
    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    ok = judge(r, cc, status, &a, errbuf, out, reason, retry);
    free(a.buf); /* what is kept was copied into r->pool */
    return ok;
}

static void record_failover(request_rec *r, const char *failed,
                            const char *reason, const char *answered_by)
{
    paa_db_t *db = paa_db(r);
    if (db) {
        paa_failovers_add(r->pool, db, apr_time_sec(apr_time_now()), failed,
                          reason, answered_by, node_name);
    }
}

/* Names fit the failover record's column and read as one word in a
 * table: 1 to 100 of letters, digits and . _ : - */
const char *paa_set_node_name(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_size_t n = strlen(arg);

    if (err) {
        return err;
    }
    if (n < 1 || n > 100 ||
        strspn(arg, "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._:-") != n) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": 1 to 100 letters, digits, '.', '_', ':' or '-'",
                           NULL);
    }
    sc->node_name = arg;
    return NULL;
}

void paa_provider_chat(request_rec *r, const paa_persona_t *persona,
                       json_t *history, const char *question,
                       paa_chat_result_t *out)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_time_t deadline =
        r->request_time +
        (sc->chat_deadline ? sc->chat_deadline : PAA_CHAT_DEADLINE);
    apr_array_header_t *failed =
        apr_array_make(r->pool, 2, sizeof(const char *) * 2);
    int i, j, timed_out = 0;

    memset(out, 0, sizeof(*out));
    out->status = HTTP_BAD_GATEWAY;
    for (i = 0; sc->providers && i < sc->providers->nelts; i++) {
        const paa_provider_t *pv =
            APR_ARRAY_IDX(sc->providers, i, paa_provider_t *);
        apr_time_t now = apr_time_now();
        apr_interval_time_t budget = deadline - now;
        const char *reason = NULL, **f;
        int retry = 1;
        paa_breaker_e state;

        if (budget <= 0) {
            timed_out = 1;
            break;
        }
        state = breaker_check(pv, now);
        if (state == PAA_BREAKER_OPEN) {
            ap_log_rerror(
                APLOG_MARK, APLOG_INFO, 0, r,
                PAALOGNO(
                    01003) "provider %s skipped: its circuit breaker is open",
                pv->name);
            continue;
        }
        if (call_one(
                r, pv,
                paa_llm_request(r->pool, pv->model, persona, history, question),
                budget < pv->timeout ? budget : pv->timeout, out, &reason,
                &retry)) {
            breaker_record(r, pv, 1);
            out->status = HTTP_OK;
            out->provider = pv->name;
            if (!out->model) {
                out->model = pv->model;
            }
            break;
        }
        breaker_record(r, pv, 0);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      PAALOGNO(01004) "provider %s failed%s: %s", pv->name,
                      state == PAA_BREAKER_PROBE ? " its half-open probe" : "",
                      reason);
        f = apr_array_push(failed);
        f[0] = pv->name;
        f[1] = reason;
        if (!retry) {
            break;
        }
        if (apr_time_now() >= deadline) {
            timed_out = 1;
            break;
        }
    }
    if (failed->nelts && out->status == HTTP_OK) {
        paa_metrics_add(paa_metrics, failovers, 1);
    }
    for (j = 0; j < failed->nelts; j++) {
        const char **f = &((const char **)failed->elts)[2 * j];
        record_failover(r, f[0], f[1], out->provider);
    }
    if (out->status != HTTP_OK) {
        if (timed_out) {
            out->status = HTTP_GATEWAY_TIME_OUT;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(01005) "no provider answered (%d failed%s)",
                      failed->nelts, timed_out ? ", deadline reached" : "");
    }
}
