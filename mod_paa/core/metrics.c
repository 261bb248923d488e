/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The metrics table's arithmetic and its Prometheus text exposition.
 * httpd-free so that the format is unit-tested (tests/unit/test_metrics.c)
 * and the module only maps the table into shared memory. */

#include "metrics.h"
#include "jwt.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <string.h>

/* Upper bounds in microseconds; the exposition prints them in seconds. */
static const apr_int64_t bucket_us[PAA_METRICS_BUCKETS] = {
    5000,   10000,   25000,   50000,   100000,   250000,
    500000, 1000000, 2000000, 5000000, 10000000, 30000000};
static const char *const bucket_le[PAA_METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5",   "1",    "2",     "5",    "10",  "30"};

static const char *const method_names[PAA_AUTH_M_COUNT] = {"api_key", "jwt",
                                                           "none"};
static const char *const reason_names[PAA_AUTH_R_COUNT] = {
    "no_credentials", "malformed",          "unknown_key",    "revoked",
    "expired",        "bad_signature",      "invalid_claims", "unknown_user",
    "disabled_user",  "method_not_allowed", "ambiguous",      "unavailable"};
static const char *const rl_names[PAA_RL_K_COUNT] = {"requests", "tool_calls",
                                                     "chat"};
static const char *const tool_names[PAA_TOOL_COUNT] = {
    "ask_agent", "list_personas", "search_knowledge", "unknown"};

int paa_metrics_bucket(apr_int64_t usec)
{
    int i;
    for (i = 0; i < PAA_METRICS_BUCKETS && usec > bucket_us[i]; i++) {
    }
    return i;
}

unsigned paa_metrics_copy_mask = PAA_METRICS_SHARDS - 1;

apr_size_t paa_metrics_size(void)
{
    return sizeof(paa_metrics_t) * PAA_METRICS_SHARDS + 64;
}

paa_metrics_t *paa_metrics_init(void *mem)
{
    paa_metrics_t *m = (paa_metrics_t *)APR_ALIGN((apr_uintptr_t)mem, 64);
    memset(m, 0, sizeof(paa_metrics_t) * PAA_METRICS_SHARDS);
    return m;
}

void paa_metrics_fold(const paa_metrics_t *m, paa_metrics_t *out)
{
    /* Every field is a 64-bit counter or gauge (spare[] stays 0): a copy
     * is an array of them. */
    const apr_size_t words = sizeof(paa_metrics_t) / sizeof(apr_uint64_t);
    const apr_uint64_t *in = (const apr_uint64_t *)m;
    apr_uint64_t *sum = (apr_uint64_t *)out;
    apr_size_t i, s;

    memset(out, 0, sizeof(*out));
    for (s = 0; s < PAA_METRICS_SHARDS; s++, in += words) {
        for (i = 0; i < words; i++) {
            sum[i] += __atomic_load_n(&in[i], __ATOMIC_RELAXED);
        }
    }
}

void paa_metrics_request(paa_metrics_t *m, int route, int status,
                         apr_int64_t usec)
{
    int cls = status / 100 - 1;

    if (!m) {
        return;
    }
    if (route < 0 || route > PAA_METRICS_ROUTES_MAX) {
        route = PAA_METRICS_ROUTES_MAX;
    }
    cls = cls < 0 ? 0 : cls > 4 ? 4 : cls;
    usec = usec < 0 ? 0 : usec;
    m += paa_metrics_shard(); /* once for the three */
    __atomic_fetch_add(&m->requests[route][cls], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->duration[paa_metrics_bucket(usec)], 1,
                       __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->duration_us, (apr_uint64_t)usec, __ATOMIC_RELAXED);
}

paa_auth_reason_e paa_metrics_jwt_reason(int jwt_result)
{
    switch (jwt_result) {
    case PAA_JWT_EXPIRED:
        return PAA_AUTH_R_EXPIRED;
    case PAA_JWT_MALFORMED:
        return PAA_AUTH_R_MALFORMED;
    case PAA_JWT_BAD_SIGNATURE:
        return PAA_AUTH_R_BAD_SIGNATURE;
    default:
        return PAA_AUTH_R_INVALID_CLAIMS; /* alg, exp, nbf, iat, iss, aud */
    }
}

const char *paa_metrics_auth_method_name(paa_auth_method_e m)
{
    return m < PAA_AUTH_M_COUNT ? method_names[m] : "none";
}

const char *paa_metrics_auth_reason_name(paa_auth_reason_e r)
{
    return r < PAA_AUTH_R_COUNT ? reason_names[r] : "unknown";
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *out;
} buf_t;

static void put(buf_t *b, const char *s)
{
    APR_ARRAY_PUSH(b->out, const char *) = s;
}

static void head(buf_t *b, const char *name, const char *type, const char *help)
{
    put(b, apr_psprintf(b->p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type));
}

/* A label value as the format wants it: backslash, quote and newline
 * escaped. Our values are closed sets, but provider names come from the
 * configuration. */
static const char *esc(apr_pool_t *p, const char *v)
{
    char *out = apr_palloc(p, 2 * strlen(v) + 1), *o = out;
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') {
            *o++ = '\\';
            *o++ = *v;
        }
        else if (*v == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *v;
        }
    }
    *o = '\0';
    return out;
}

static void sample(buf_t *b, const char *name, const char *labels,
                   apr_uint64_t v)
{
    put(b, apr_psprintf(b->p, "%s%s%s%s %" APR_UINT64_T_FMT "\n", name,
                        labels ? "{" : "", labels ? labels : "",
                        labels ? "}" : "", v));
}

static void requests(buf_t *b, const paa_metrics_t *m,
                     const paa_metrics_labels_t *l)
{
    int route, cls;
    apr_uint64_t cum = 0;

    head(b, "paa_http_requests_total", "counter",
         "Requests served, by mod_paa route and status class.");
    for (route = 0; route <= l->nroutes && route <= PAA_METRICS_ROUTES_MAX;
         route++) {
        int slot = route < l->nroutes ? route : PAA_METRICS_ROUTES_MAX;
        const char *name = route < l->nroutes ? l->routes[route] : "other";
        for (cls = 0; cls < 5; cls++) {
            sample(b, "paa_http_requests_total",
                   apr_psprintf(b->p, "route=\"%s\",code=\"%dxx\"",
                                esc(b->p, name), cls + 1),
                   LOAD(m->requests[slot][cls]));
        }
    }
    head(b, "paa_http_request_duration_seconds", "histogram",
         "Time from the request line to the logged response.");
    for (cls = 0; cls <= PAA_METRICS_BUCKETS; cls++) {
        cum += LOAD(m->duration[cls]);
        sample(
            b, "paa_http_request_duration_seconds_bucket",
            apr_psprintf(b->p, "le=\"%s\"",
                         cls < PAA_METRICS_BUCKETS ? bucket_le[cls] : "+Inf"),
            cum);
    }
    put(b, apr_psprintf(b->p,
                        "paa_http_request_duration_seconds_sum %.6f\n"
                        "paa_http_request_duration_seconds_count "
                        "%" APR_UINT64_T_FMT "\n",
                        (double)LOAD(m->duration_us) / 1e6, cum));
}

static void auth(buf_t *b, const paa_metrics_t *m)
{
    int i, j;

    head(b, "paa_auth_success_total", "counter",
         "Successful authentications, by method.");
    for (i = 0; i < PAA_AUTH_M_NONE; i++) {
        sample(b, "paa_auth_success_total",
               apr_psprintf(b->p, "method=\"%s\"", method_names[i]),
               LOAD(m->auth_ok[i]));
    }
    head(b, "paa_auth_failures_total", "counter",
         "Refused authentications, by method and reason.");
    for (i = 0; i < PAA_AUTH_M_COUNT; i++) {
        for (j = 0; j < PAA_AUTH_R_COUNT; j++) {
            sample(b, "paa_auth_failures_total",
                   apr_psprintf(b->p, "method=\"%s\",reason=\"%s\"",
                                method_names[i], reason_names[j]),
                   LOAD(m->auth_fail[i][j]));
        }
    }
    head(b, "paa_login_lockouts_total", "counter",
         "Logins refused because the name or address is locked out.");
    sample(b, "paa_login_lockouts_total", NULL, LOAD(m->lockouts));
    head(b, "paa_ratelimit_rejections_total", "counter",
         "Requests refused with 429, by kind of limit.");
    for (i = 0; i < PAA_RL_K_COUNT; i++) {
        sample(b, "paa_ratelimit_rejections_total",
               apr_psprintf(b->p, "kind=\"%s\"", rl_names[i]),
               LOAD(m->ratelimited[i]));
    }
    head(b, "paa_ratelimit_store_failures_total", "counter",
         "Rate-limit decisions the store (Redis) could not make, by what "
         "was done instead: this node's own limits (open) or 503 (closed).");
    sample(b, "paa_ratelimit_store_failures_total", "action=\"open\"",
           LOAD(m->rl_store_failures[0]));
    sample(b, "paa_ratelimit_store_failures_total", "action=\"closed\"",
           LOAD(m->rl_store_failures[1]));
}

static void backends(buf_t *b, const paa_metrics_t *m,
                     const paa_metrics_labels_t *l)
{
    int i, n = l->nproviders < PAA_METRICS_PROVIDERS_MAX
                   ? l->nproviders
                   : PAA_METRICS_PROVIDERS_MAX;

    head(b, "paa_db_errors_total", "counter",
         "Failed database statements and connections.");
    sample(b, "paa_db_errors_total", NULL, LOAD(m->db_errors));
    head(b, "paa_db_up", "gauge",
         "1 when the last database use succeeded, 0 when it failed.");
    sample(b, "paa_db_up", NULL, LOAD(m->db_up));
    head(b, "paa_provider_requests_total", "counter",
         "Requests to LLM providers, by provider and outcome.");
    for (i = 0; i < n; i++) {
        const char *name = esc(b->p, l->providers[i] ? l->providers[i] : "");
        sample(b, "paa_provider_requests_total",
               apr_psprintf(b->p, "provider=\"%s\",outcome=\"success\"", name),
               LOAD(m->provider[i][0]));
        sample(b, "paa_provider_requests_total",
               apr_psprintf(b->p, "provider=\"%s\",outcome=\"failure\"", name),
               LOAD(m->provider[i][1]));
    }
    head(b, "paa_provider_breaker_open", "gauge",
         "1 while a provider's circuit breaker is open.");
    for (i = 0; i < n; i++) {
        sample(b, "paa_provider_breaker_open",
               apr_psprintf(b->p, "provider=\"%s\"",
                            esc(b->p, l->providers[i] ? l->providers[i] : "")),
               LOAD(m->breaker_open[i]));
    }
    head(b, "paa_provider_failovers_total", "counter",
         "Chat requests answered by another provider than the first.");
    sample(b, "paa_provider_failovers_total", NULL, LOAD(m->failovers));
    head(b, "paa_mcp_sessions_created_total", "counter",
         "MCP sessions created by initialize.");
    sample(b, "paa_mcp_sessions_created_total", NULL, LOAD(m->mcp_sessions));
    head(b, "paa_mcp_tool_calls_total", "counter",
         "MCP tools/call requests, by tool and outcome.");
    for (i = 0; i < PAA_TOOL_COUNT; i++) {
        sample(b, "paa_mcp_tool_calls_total",
               apr_psprintf(b->p, "tool=\"%s\",outcome=\"ok\"", tool_names[i]),
               LOAD(m->tool_calls[i][0]));
        sample(
            b, "paa_mcp_tool_calls_total",
            apr_psprintf(b->p, "tool=\"%s\",outcome=\"error\"", tool_names[i]),
            LOAD(m->tool_calls[i][1]));
    }
}

char *paa_metrics_render(apr_pool_t *p, const paa_metrics_t *table,
                         const paa_metrics_labels_t *l)
{
    paa_metrics_t *m = apr_palloc(p, sizeof(*m));
    buf_t b;

    paa_metrics_fold(table, m);

    b.p = p;
    b.out = apr_array_make(p, 256, sizeof(const char *));
    head(&b, "paa_build_info", "gauge", "mod_paa's version, as a label.");
    sample(&b, "paa_build_info",
           apr_psprintf(p, "version=\"%s\"", esc(p, l->version)), 1);
    /* A restart recreates the table: this tells Prometheus the counters
     * were reset, as process_start_time_seconds does for a process. */
    head(&b, "paa_start_time_seconds", "gauge",
         "Unix time the counters were created (reset by every restart).");
    sample(&b, "paa_start_time_seconds", NULL, LOAD(m->start_time));
    requests(&b, m, l);
    auth(&b, m);
    backends(&b, m, l);
    return apr_array_pstrcat(p, b.out, '\0');
}
