/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_paa: authentication, policy and the agent API inside httpd.
 * This file declares the module and registers every hook, grouped by the
 * phase it runs in, so that what happens to a request, and in which
 * order, reads top to bottom here. Each concern lives in its own paa_*.c
 * file; the API handlers are in api/. */

#include "paa_private.h"

#include "mod_auth.h"
#include "mod_status.h"

static const char *const paa_dbd[] = {"mod_dbd.c", NULL};

static void paa_register_hooks(apr_pool_t *p)
{
    /* ---------------------------------------------------------- startup */

    /* Forget the previous generation's counters (graceful restart) and
     * register our Mutex types, so that the Mutex directive steers them. */
    ap_hook_pre_config(paa_config_pre, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(paa_rl_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(paa_provider_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(paa_jwks_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Access-log items as JSON values (LogFormat paa_json), before any
     * LogFormat is read. */
    ap_hook_pre_config(paa_log_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Resolve secrets and refuse weak ones; runs for "apachectl -t" too. */
    ap_hook_check_config(paa_config_check, NULL, NULL, APR_HOOK_MIDDLE);
    /* Cross-server checks (CORS with credentials). */
    ap_hook_post_config(paa_config_post, NULL, NULL, APR_HOOK_MIDDLE);
    /* Find mod_dbd; nothing is registered with it. */
    ap_hook_post_config(paa_dbd_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Shared memory: the rate-limit table, the providers' breakers. */
    ap_hook_post_config(paa_rl_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* PAARateLimitStore: counters in Redis (connections made per child). */
    ap_hook_post_config(paa_rlstore_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(paa_provider_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(paa_jwks_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* The metrics table (counters shared by every child). */
    ap_hook_post_config(paa_metrics_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* The credential cache shared by every child. */
    ap_hook_post_config(paa_credcache_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* The API key uses every child counts, in one table. */
    ap_hook_post_config(paa_usage_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Per child, before mod_dbd connects: a HOME libpq can search. */
    ap_hook_child_init(paa_child_home, NULL, paa_dbd, APR_HOOK_REALLY_FIRST);
    /* Per child: reattach the breaker mutex; the failure audit's mutex. */
    ap_hook_child_init(paa_provider_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(paa_authn_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(paa_jwks_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Per child: the thread that writes API key uses in batches. */
    ap_hook_child_init(paa_usage_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Per child, once mod_dbd is ready: the first of a generation warms
     * the credential cache. */
    ap_hook_child_init(paa_credcache_child_init, paa_dbd, NULL,
                       APR_HOOK_MIDDLE);

    /* ---------------------------------------------------------- request */

    /* 1. Before anything can believe them: drop inbound X-PAA-* headers. */
    ap_hook_post_read_request(paa_strip_identity, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    /* 2. Location known, no credentials checked yet: security headers,
     *    HTTPS-only, CORS (a preflight is answered here), body size. */
    ap_hook_header_parser(paa_policy_check, NULL, NULL, APR_HOOK_MIDDLE);
    /* 3. AuthType PAA: an API key or a Bearer JWT. */
    ap_hook_check_authn(paa_authn_check, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /*    ... and the WWW-Authenticate challenges of a 401. */
    ap_hook_note_auth_failure(paa_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    /* 4. "Require paa-role ...", combined by mod_authz_core. */
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "paa-role",
                              AUTHZ_PROVIDER_VERSION, &paa_role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    /*    "Require paa-scope ..." for external tokens (RFC 6750 3.1). */
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "paa-scope",
                              AUTHZ_PROVIDER_VERSION, &paa_scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    /* 5. An internal redirect that httpd let through on its predecessor's
     *    authentication carries that identity again ... */
    ap_hook_fixups(paa_identity_redirect, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /*    Authenticated: PAARateLimit counts the principal first ... */
    ap_hook_fixups(paa_rl_check, NULL, NULL, APR_HOOK_FIRST);
    /*    ... and responses for a principal are not cached. */
    ap_hook_fixups(paa_policy_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    /* 6. Our security headers replace a proxied backend's copies. */
    paa_headers_filter_handle = ap_register_output_filter(
        PAA_HEADERS_FILTER, paa_headers_filter, NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_insert_filter(paa_policy_insert_filter, NULL, NULL,
                          APR_HOOK_MIDDLE);
    /* 7. The paa-api handler: one route table (api/api.c). */
    ap_hook_handler(paa_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /*    ... and paa-metrics: the counters as Prometheus text. */
    ap_hook_handler(paa_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* 8. Any error in a mod_paa location becomes RFC 9457 problem+json. */
    paa_problem_filter_handle =
        ap_register_output_filter(PAA_PROBLEM_FILTER, paa_problem_type_filter,
                                  NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(paa_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    /* 9. Logged: count the request (route, status class, duration). */
    ap_hook_log_transaction(paa_metrics_log, NULL, NULL, APR_HOOK_MIDDLE);

    /* ------------------------------------------------------ server-status */

    /* mod_status (when loaded): /server-status gets a mod_paa section. */
    APR_OPTIONAL_HOOK(ap, status_hook, paa_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA paa_module = {
    STANDARD20_MODULE_STUFF,
    paa_create_dir_conf, /* per-directory config creator */
    paa_merge_dir_conf,  /* dir config merger */
    paa_create_srv_conf, /* server config creator */
    paa_merge_srv_conf,  /* server config merger */
    paa_cmds,            /* command table */
    paa_register_hooks,  /* register hooks */
    AP_MODULE_FLAG_NONE  /* flags */
};
