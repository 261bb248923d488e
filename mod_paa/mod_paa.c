/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_paa: authentication, policy and the agent API inside httpd.
 * This file only declares the module and registers hooks; each concern
 * lives in its own paa_*.c file. */

#include "paa_private.h"

static void paa_register_hooks(apr_pool_t *p)
{
    paa_config_register_hooks(p);
    ap_hook_post_config(paa_dbd_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    paa_policy_register_hooks(p);
    paa_ratelimit_register_hooks(p);
    paa_provider_register_hooks(p);
    paa_authn_register_hooks(p);
    paa_authz_register_hooks(p);
    ap_hook_handler(paa_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    paa_errors_register_hooks(p);
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
