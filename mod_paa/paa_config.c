/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Configuration records and directive handlers. Every per-directory field
 * has an explicit "unset" state so that merging never mistakes a real
 * value (0, Off) for "not configured". */

#include "paa_private.h"

#include <apr_strings.h>

void *paa_create_dir_conf(apr_pool_t *p, char *dir)
{
    paa_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->enable = PAA_UNSET;
    return conf;
}

void *paa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    paa_dir_conf *base = basev, *add = addv;
    paa_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->enable = add->enable != PAA_UNSET ? add->enable : base->enable;
    return conf;
}

void *paa_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    paa_srv_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->env = apr_table_make(p, 1);
    return conf;
}

void *paa_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    paa_srv_conf *base = basev, *add = addv;
    paa_srv_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->env_file = add->env_file ? add->env_file : base->env_file;
    conf->env = add->env_file ? add->env : base->env;
    return conf;
}

static const char *set_env_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_srv_conf *conf =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *err = NULL;

    if (!path) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": invalid path ", arg,
                           NULL);
    }
    /* Read now, as root, at startup: the file is mode 0600 and children
     * run as an unprivileged user. */
    if (paa_env_load(cmd->pool, path, &conf->env, &err) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    conf->env_file = path;
    return NULL;
}

static const char *set_enable(cmd_parms *cmd, void *dconf, int flag)
{
    ((paa_dir_conf *)dconf)->enable = flag;
    return NULL;
}

const command_rec paa_cmds[] = {
    AP_INIT_TAKE1("PAAEnvFile", set_env_file, NULL, RSRC_CONF,
                  "A .env-style file (JWT_SECRET, API_KEYS, ...) shared with "
                  "paactl"),
    AP_INIT_FLAG("PAAEnable", set_enable, NULL, OR_AUTHCFG | ACCESS_CONF,
                 "On: apply mod_paa's error format and policy here even "
                 "without AuthType PAA or the paa-api handler"),
    {NULL}};
