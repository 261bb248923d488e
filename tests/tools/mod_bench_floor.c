/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_bench_floor: the least an httpd module can do for tests/bench's
 * key-1 and policy scenarios, so that scale.sh can say what httpd itself
 * charges for them on the machine it runs on, in the same run.
 *
 * AuthType BenchFloor authenticates the one key of BenchFloorKey: the
 * X-API-Key header's SHA-256 (keys are only ever stored hashed) compared
 * with the configured key's in constant time, with libpaa's own hash and
 * comparison; r->user is set and mod_authz_user's Require valid-user
 * decides. No database, cache, use counting, identity export or log.
 *
 * BenchFloorHeaders adds, with fixed values, the response headers
 * mod_paa sends for an authenticated request: "key" the security headers
 * and Cache-Control (key-1's location), "policy" CORS for an allowed
 * Origin and RateLimit-* as well, the remaining count from one atomic
 * counter per process: what httpd charges for setting, checking and
 * writing them. The values are mod_paa's defaults, copied: scale.sh
 * checks that both servers send the same headers with the same values
 * (but the counts, dates and validators).
 *
 * Only for benchmarks: it is built by make check and never installed. */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include "apr_atomic.h"
#include "apr_strings.h"

#include "core/paa.h"

module AP_MODULE_DECLARE_DATA bench_floor_module;

#define FLOOR_AUTH_TYPE "BenchFloor"

enum { FLOOR_UNSET = -1, FLOOR_NONE, FLOOR_KEY, FLOOR_POLICY };

typedef struct {
    int headers;
} floor_dir_conf;

static unsigned char floor_digest[32];
static int floor_have_key;
static apr_uint32_t floor_hits;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    floor_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->headers = FLOOR_UNSET;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    floor_dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    c->headers = add->headers != FLOOR_UNSET ? add->headers : base->headers;
    return c;
}

static const char *set_key(cmd_parms *cmd, void *unused, const char *key)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    paa_sha256(key, strlen(key), floor_digest);
    floor_have_key = 1;
    return NULL;
}

static const char *set_headers(cmd_parms *cmd, void *dconf, const char *arg)
{
    floor_dir_conf *c = dconf;
    if (!strcasecmp(arg, "key")) {
        c->headers = FLOOR_KEY;
    }
    else if (!strcasecmp(arg, "policy")) {
        c->headers = FLOOR_POLICY;
    }
    else if (!strcasecmp(arg, "none")) {
        c->headers = FLOOR_NONE;
    }
    else {
        return "BenchFloorHeaders: none, key or policy";
    }
    return NULL;
}

static int check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r), *key;
    unsigned char digest[32];

    if (!type || strcasecmp(type, FLOOR_AUTH_TYPE)) {
        return DECLINED;
    }
    key = apr_table_get(r->headers_in, "X-API-Key");
    if (!key || !floor_have_key) {
        return HTTP_UNAUTHORIZED;
    }
    paa_sha256(key, strlen(key), digest);
    if (!paa_digest_equal(digest, floor_digest)) {
        return HTTP_UNAUTHORIZED;
    }
    r->user = "bench-floor";
    return OK;
}

/* After authentication, as mod_paa's rate limit and Cache-Control are. */
static int fixups(request_rec *r)
{
    floor_dir_conf *c =
        ap_get_module_config(r->per_dir_config, &bench_floor_module);
    apr_table_t *h = r->err_headers_out;
    const char *origin;
    apr_uint32_t n;

    if (r->main || c->headers <= FLOOR_NONE) {
        return DECLINED;
    }
    apr_table_setn(h, "Content-Security-Policy",
                   "default-src 'none'; frame-ancestors 'none'");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    if (r->user) {
        apr_table_setn(h, "Cache-Control", "no-store");
    }
    if (c->headers != FLOOR_POLICY) {
        return DECLINED;
    }
    apr_table_mergen(h, "Vary", "Origin");
    if ((origin = apr_table_get(r->headers_in, "Origin"))) {
        apr_table_setn(h, "Access-Control-Allow-Origin", origin);
        apr_table_setn(h, "Access-Control-Expose-Headers",
                       "RateLimit-Limit, RateLimit-Remaining, "
                       "RateLimit-Reset, Retry-After, Mcp-Session-Id, "
                       "WWW-Authenticate");
    }
    n = apr_atomic_inc32(&floor_hits);
    apr_table_setn(h, "RateLimit-Limit", "100000000");
    apr_table_setn(h, "RateLimit-Remaining",
                   apr_ltoa(r->pool, 100000000L - (long)(n % 100000000)));
    apr_table_setn(h, "RateLimit-Reset", "60");
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_MIDDLE);
}

static const command_rec cmds[] = {
    AP_INIT_TAKE1("BenchFloorKey", set_key, NULL, RSRC_CONF,
                  "the one API key AuthType BenchFloor accepts"),
    AP_INIT_TAKE1("BenchFloorHeaders", set_headers, NULL, OR_AUTHCFG,
                  "none, key or policy: the response headers of mod_paa's "
                  "location for that scenario"),
    {NULL}};

AP_DECLARE_MODULE(bench_floor) = {STANDARD20_MODULE_STUFF,
                                  create_dir_conf,
                                  merge_dir_conf,
                                  NULL,
                                  NULL,
                                  cmds,
                                  register_hooks,
                                  AP_MODULE_FLAG_NONE};
