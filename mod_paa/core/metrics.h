/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The metrics table: fixed-size 64-bit counters that every httpd child
 * increments in shared memory, and the Prometheus text exposition (0.0.4)
 * rendered from it. Label values are closed sets (enums below, the route
 * table, the configured provider names): a client can never create a new
 * series, so the exposition stays bounded whatever arrives. */

#ifndef PAA_METRICS_H
#define PAA_METRICS_H

#include <apr_pools.h>
#include <sched.h>

/* Request duration histogram bounds, in microseconds (2 s is the guide's
 * alert threshold, so it must be a bucket edge). */
#define PAA_METRICS_BUCKETS       12
#define PAA_METRICS_ROUTES_MAX    24 /* the API's routes, then "other" */
#define PAA_METRICS_PROVIDERS_MAX 32

typedef enum {
    PAA_AUTH_M_API_KEY = 0,
    PAA_AUTH_M_JWT,
    PAA_AUTH_M_NONE, /* nothing, or an unusable Authorization header */
    PAA_AUTH_M_COUNT
} paa_auth_method_e;

/* Why authentication failed: a fixed set, whatever the log says. */
typedef enum {
    PAA_AUTH_R_NO_CREDENTIALS = 0,
    PAA_AUTH_R_MALFORMED,
    PAA_AUTH_R_UNKNOWN_KEY,
    PAA_AUTH_R_REVOKED,
    PAA_AUTH_R_EXPIRED,
    PAA_AUTH_R_BAD_SIGNATURE,
    PAA_AUTH_R_INVALID_CLAIMS, /* alg, nbf, iat, iss, aud, sub */
    PAA_AUTH_R_UNKNOWN_USER,
    PAA_AUTH_R_DISABLED_USER,
    PAA_AUTH_R_METHOD_NOT_ALLOWED,
    PAA_AUTH_R_AMBIGUOUS,   /* X-API-Key and Authorization both sent */
    PAA_AUTH_R_UNAVAILABLE, /* the database could not be asked */
    PAA_AUTH_R_COUNT,
    PAA_AUTH_OK = -1 /* not a failure: count a success */
} paa_auth_reason_e;

typedef enum {
    PAA_RL_K_REQUESTS = 0, /* PAARateLimit */
    PAA_RL_K_TOOL_CALLS,   /* PAAMcpToolRateLimit */
    PAA_RL_K_CHAT,         /* the chat location's limit, spent by MCP */
    PAA_RL_K_COUNT
} paa_rl_kind_e;

typedef enum {
    PAA_TOOL_ASK_AGENT = 0,
    PAA_TOOL_LIST_PERSONAS,
    PAA_TOOL_SEARCH_KNOWLEDGE,
    PAA_TOOL_UNKNOWN,
    PAA_TOOL_COUNT
} paa_tool_e;

/* A table is PAA_METRICS_SHARDS copies of these counters, each on cache
 * lines of its own, and a request adds to the copy of the CPU it runs on:
 * with one copy, every CPU of a node added to the same few lines on every
 * request, and each add waited for the line to come from the CPU that
 * added last. The exposition sums the copies (paa_metrics_fold). */
#define PAA_METRICS_SHARDS 64 /* a power of two */

/* In shared memory: plain integers, no pointers (children may map it at
 * different addresses). Counters only grow; gauges are stored, in the
 * first copy only (the others keep 0 there, so the sum is the gauge). */
typedef struct {
    apr_uint64_t start_time; /* Unix seconds the table was created */
    apr_uint64_t db_up;      /* gauge: 1 reachable, 0 not */
    apr_uint64_t requests[PAA_METRICS_ROUTES_MAX + 1][5]; /* 1xx..5xx */
    apr_uint64_t duration[PAA_METRICS_BUCKETS + 1];       /* per bucket, +Inf */
    apr_uint64_t duration_us;                             /* sum */
    apr_uint64_t auth_ok[PAA_AUTH_M_COUNT];
    apr_uint64_t auth_fail[PAA_AUTH_M_COUNT][PAA_AUTH_R_COUNT];
    apr_uint64_t ratelimited[PAA_RL_K_COUNT];
    /* decisions PAARateLimitStore could not make: failed open, closed */
    apr_uint64_t rl_store_failures[2];
    apr_uint64_t lockouts;
    apr_uint64_t db_errors;
    apr_uint64_t provider[PAA_METRICS_PROVIDERS_MAX][2];  /* ok, failure */
    apr_uint64_t breaker_open[PAA_METRICS_PROVIDERS_MAX]; /* gauge */
    apr_uint64_t failovers;
    apr_uint64_t mcp_sessions;
    apr_uint64_t tool_calls[PAA_TOOL_COUNT][2]; /* ok, error */
    /* credential cache (per child) lookups, summed over the children:
     * found, not found; shown by the status page, not exposed */
    apr_uint64_t authcache[2];
    /* To a whole number of cache lines, so that each copy starts on one
     * (the table starts on one): a new field takes a word of it. */
    apr_uint64_t spare[1];
} paa_metrics_t;

_Static_assert(sizeof(paa_metrics_t) % 64 == 0,
               "paa_metrics_t: resize spare[] to a multiple of 64 bytes");

/* Which copy a CPU adds to: its number under this mask. All ones but for
 * a test that needs every add in one copy (0). */
extern unsigned paa_metrics_copy_mask;

/** The copy the calling thread adds to: its CPU's. */
static inline unsigned paa_metrics_shard(void)
{
    int cpu = sched_getcpu(); /* glibc reads it from rseq: no system call */
    return cpu < 0 ? 0 : (unsigned)cpu & paa_metrics_copy_mask;
}

/* Lock-free: a relaxed atomic add is exact across processes sharing the
 * page, and costs one locked instruction on the request path, on a line
 * that other CPUs seldom touch. A thread moved to another CPU between the
 * two steps adds to the copy it chose: still counted once. */
#define paa_metrics_add(m, field, n)                                           \
    do {                                                                       \
        if (m) {                                                               \
            __atomic_fetch_add(&(m)[paa_metrics_shard()].field,                \
                               (apr_uint64_t)(n), __ATOMIC_RELAXED);           \
        }                                                                      \
    } while (0)
#define paa_metrics_set(m, field, v)                                           \
    do {                                                                       \
        if (m) {                                                               \
            __atomic_store_n(&(m)->field, (apr_uint64_t)(v),                   \
                             __ATOMIC_RELAXED);                                \
        }                                                                      \
    } while (0)

/** Bytes of memory a table needs (every copy, and room to start it on a
 * cache line). */
apr_size_t paa_metrics_size(void);

/** Make a table, all counters 0, in mem of paa_metrics_size() bytes
 * (shared by the processes that count, if several do).
 * @return the table, at mem's first 64-byte boundary */
paa_metrics_t *paa_metrics_init(void *mem);

/** Sum a table's copies into out (relaxed atomic loads: each counter is
 * exact, the set of them one moment's give or take requests in flight). */
void paa_metrics_fold(const paa_metrics_t *m, paa_metrics_t *out);

/** Count one request: its status and duration under a route index
 * (nroutes or more: "other"). m is a table from paa_metrics_init(), as
 * for every function and macro here that takes one. */
void paa_metrics_request(paa_metrics_t *m, int route, int status,
                         apr_int64_t usec);

/** The bucket a duration falls in (PAA_METRICS_BUCKETS: +Inf). */
int paa_metrics_bucket(apr_int64_t usec);

/** The reason label of a refused JWT (jwt.h's results). */
paa_auth_reason_e paa_metrics_jwt_reason(int jwt_result);

/** Label values, for callers that log or test them. */
const char *paa_metrics_auth_method_name(paa_auth_method_e m);
const char *paa_metrics_auth_reason_name(paa_auth_reason_e r);

/** What the exposition needs beside the table. */
typedef struct {
    const char *version;       /* build info */
    const char *const *routes; /* route labels, nroutes of them */
    int nroutes;
    const char *const *providers; /* provider names by slot */
    int nproviders;
} paa_metrics_labels_t;

/**
 * Render the table as Prometheus text exposition format 0.0.4.
 * @param p pool for the result
 * @param m the table (its copies summed with paa_metrics_fold)
 * @param labels route and provider names, version
 * @return the text, NUL-terminated
 */
char *paa_metrics_render(apr_pool_t *p, const paa_metrics_t *m,
                         const paa_metrics_labels_t *labels);

#endif /* PAA_METRICS_H */
