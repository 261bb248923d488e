/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Configuration records, their merge rules and the directive handlers
 * (the startup check that resolves them is paa_startup.c).
 * Every per-directory field has an explicit "unset" state so that merging
 * never mistakes a real value (0, Off) for "not configured". Secrets are
 * resolved in check_config, which runs for "apachectl -t" too: a missing,
 * short or published JWT secret stops httpd before it serves anything. */

#include "paa_private.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_uri.h>

/* A section without any PAA directive: what paa_create_dir_conf makes
 * (static, so its padding is zero, as apr_pcalloc leaves a record's). */
static const paa_dir_conf unconfigured = {
    .enable = PAA_UNSET,
    .methods = PAA_UNSET,
    .cors_credentials = PAA_UNSET,
    .cors_max_age = PAA_UNSET,
    .security_headers = PAA_UNSET,
    .https_only = PAA_UNSET,
    .max_body = -1,
    .rl_limit = PAA_UNSET,
    .tool_limit = PAA_UNSET,
    .resource_metadata = PAA_UNSET,
    .mcp_require_session = PAA_UNSET,
    .forward_authorization = PAA_UNSET,
};

void *paa_create_dir_conf(apr_pool_t *p, char *dir)
{
    return apr_pmemdup(p, &unconfigured, sizeof(unconfigured));
}

void *paa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    paa_dir_conf *base = basev, *add = addv;
    paa_dir_conf *conf;

    /* httpd merges every matching section on every request, most of them
     * (<Directory>, other modules' <Location>) without a PAA directive:
     * merging one of those changes nothing, and no request writes to a
     * record, so the other side serves as it is. A record that compares
     * unequal only for its padding is merged below, to the same effect. */
    if (!memcmp(add, &unconfigured, sizeof(unconfigured))) {
        return base;
    }
    if (!memcmp(base, &unconfigured, sizeof(unconfigured))) {
        return add;
    }
    conf = apr_pcalloc(p, sizeof(*conf));
    conf->enable = add->enable != PAA_UNSET ? add->enable : base->enable;
    conf->methods = add->methods != PAA_UNSET ? add->methods : base->methods;
    conf->cors_origins =
        add->cors_origins ? add->cors_origins : base->cors_origins;
    conf->cors_credentials = add->cors_credentials != PAA_UNSET
                                 ? add->cors_credentials
                                 : base->cors_credentials;
    conf->cors_headers =
        add->cors_headers ? add->cors_headers : base->cors_headers;
    conf->cors_max_age =
        add->cors_max_age != PAA_UNSET ? add->cors_max_age : base->cors_max_age;
    conf->security_headers = add->security_headers != PAA_UNSET
                                 ? add->security_headers
                                 : base->security_headers;
    conf->csp = add->csp ? add->csp : base->csp;
    conf->referrer_policy =
        add->referrer_policy ? add->referrer_policy : base->referrer_policy;
    conf->https_only =
        add->https_only != PAA_UNSET ? add->https_only : base->https_only;
    conf->max_body = add->max_body != -1 ? add->max_body : base->max_body;
    if (add->tool_limit != PAA_UNSET) {
        conf->tool_limit = add->tool_limit;
        conf->tool_window = add->tool_window;
    }
    else {
        conf->tool_limit = base->tool_limit;
        conf->tool_window = base->tool_window;
    }
    conf->resource_metadata = add->resource_metadata != PAA_UNSET
                                  ? add->resource_metadata
                                  : base->resource_metadata;
    conf->mcp_require_session = add->mcp_require_session != PAA_UNSET
                                    ? add->mcp_require_session
                                    : base->mcp_require_session;
    conf->forward_authorization = add->forward_authorization != PAA_UNSET
                                      ? add->forward_authorization
                                      : base->forward_authorization;
    if (add->rl_limit != PAA_UNSET) {
        conf->rl_limit = add->rl_limit;
        conf->rl_window = add->rl_window;
        conf->rl_id = add->rl_id;
    }
    else {
        conf->rl_limit = base->rl_limit;
        conf->rl_window = base->rl_window;
        conf->rl_id = base->rl_id;
    }
    return conf;
}

void *paa_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    paa_srv_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->env = apr_table_make(p, 1);
    conf->jwt_leeway = PAA_UNSET;
    return conf;
}

#define MERGE_PTR(f) conf->f = add->f ? add->f : base->f

void *paa_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    paa_srv_conf *base = basev, *add = addv;
    paa_srv_conf *conf = apr_pcalloc(p, sizeof(*conf));
    MERGE_PTR(env_file);
    conf->env = add->env_file ? add->env : base->env;
    MERGE_PTR(jwt_secret_src);
    MERGE_PTR(jwt_prev_src);
    MERGE_PTR(jwt_pubkey_src);
    MERGE_PTR(jwt_alg);
    MERGE_PTR(jwt_issuer);
    MERGE_PTR(jwt_audience);
    MERGE_PTR(api_keys_src);
    MERGE_PTR(trusted_proxies);
    MERGE_PTR(public_url);
    MERGE_PTR(providers);
    conf->chat_deadline =
        add->chat_deadline ? add->chat_deadline : base->chat_deadline;
    conf->breaker_threshold = add->breaker_threshold ? add->breaker_threshold
                                                     : base->breaker_threshold;
    conf->breaker_cooldown =
        add->breaker_cooldown ? add->breaker_cooldown : base->breaker_cooldown;
    conf->session_ttl = add->session_ttl ? add->session_ttl : base->session_ttl;
    conf->history = add->history ? add->history : base->history;
    MERGE_PTR(consent_version);
    MERGE_PTR(node_name);
    MERGE_PTR(idp);
    conf->rl_slots = add->rl_slots ? add->rl_slots : base->rl_slots;
    MERGE_PTR(rl_store);
    conf->rl_store_closed =
        add->rl_store_closed ? add->rl_store_closed : base->rl_store_closed;
    conf->rl_store_timeout =
        add->rl_store_timeout ? add->rl_store_timeout : base->rl_store_timeout;
    conf->rl_store_leases =
        add->rl_store_leases ? add->rl_store_leases : base->rl_store_leases;
    conf->jwt_leeway =
        add->jwt_leeway != PAA_UNSET ? add->jwt_leeway : base->jwt_leeway;
    conf->jwt_ttl = add->jwt_ttl ? add->jwt_ttl : base->jwt_ttl;
    return conf;
}

static paa_srv_conf *srv(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &paa_module);
}

/* A version is compared and stored as given: printable, short, no spaces,
 * so that the one a client sends back can match it exactly. */
static const char *set_consent(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_size_t n = strlen(arg);
    (void)dconf;
    if (n < 1 || n > 64 ||
        strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._-") != n) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": the version must be 1 to 64 of A-Z a-z 0-9 . _ "
                           "-, got ",
                           arg, NULL);
    }
    srv(cmd)->consent_version = arg;
    return NULL;
}

static const char *set_env_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_srv_conf *conf = srv(cmd);
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

/* Secret-valued directives keep their source; it is resolved at startup
 * once the env file (wherever it appears in the config) has been read. */
static const char *set_source(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (err) {
        return err;
    }
    *(const char **)((char *)srv(cmd) + (apr_size_t)cmd->info) = arg;
    return NULL;
}

static const char *set_alg(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!paa_jwt_alg_supported(arg)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                           "' is not supported (HS256, HS384, HS512, RS256, "
                           "RS384, RS512, ES256; never none)",
                           NULL);
    }
    srv(cmd)->jwt_alg = arg;
    return NULL;
}

static const char *set_leeway(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 0 || v > PAA_JWT_MAX_LEEWAY) {
        return apr_psprintf(cmd->pool, "%s: must be 0 to %d seconds",
                            cmd->cmd->name, PAA_JWT_MAX_LEEWAY);
    }
    srv(cmd)->jwt_leeway = (int)v;
    return NULL;
}

static const char *set_ttl(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (paa_duration_parse(arg, &srv(cmd)->jwt_ttl) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                           "' is not a duration (e.g. 24h, 15m)", NULL);
    }
    return NULL;
}

static const char *set_enable(cmd_parms *cmd, void *dconf, int flag)
{
    /* On extends the policy to more responses; Off in .htaccess would take
     * it away from the administrator's locations (see set_policy_flag). */
    if (!flag && ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) {
        return "PAAEnable Off cannot occur within htaccess files";
    }
    ((paa_dir_conf *)dconf)->enable = flag;
    return NULL;
}

static const char *set_methods(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_dir_conf *d = dconf;
    if (d->methods == PAA_UNSET) {
        d->methods = 0;
    }
    if (!strcasecmp(arg, "apikey") || !strcasecmp(arg, "api-key")) {
        d->methods |= PAA_METHOD_APIKEY;
    }
    else if (!strcasecmp(arg, "jwt")) {
        d->methods |= PAA_METHOD_JWT;
    }
    else {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": unknown method '", arg,
                           "' (apikey, jwt)", NULL);
    }
    return NULL;
}

static int has_any_origin(const apr_array_header_t *a)
{
    int i;
    for (i = 0; a && i < a->nelts; i++) {
        if (APR_ARRAY_IDX(a, i, paa_origin_t).any) {
            return 1;
        }
    }
    return 0;
}

/* Across sections the combination can only be seen once all of the
 * configuration is read: these are checked in paa_config_check. */
int paa_cors_any_seen, paa_cors_credentials_seen;

static const char *credentials_with_any(cmd_parms *cmd)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name,
                       ": a wildcard origin (*) together with "
                       "PAACorsCredentials On would let any site act with "
                       "the user's credentials; list the origins instead",
                       NULL);
}

static const char *set_cors_origin(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_dir_conf *d = dconf;
    paa_origin_t o;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);

    if (err) {
        return err;
    }
    if (paa_origin_parse(cmd->pool, arg, &o, &err) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    if (!d->cors_origins) {
        d->cors_origins = apr_array_make(cmd->pool, 4, sizeof(paa_origin_t));
    }
    APR_ARRAY_PUSH(d->cors_origins, paa_origin_t) = o;
    paa_cors_any_seen |= o.any;
    if (o.any && d->cors_credentials == 1) {
        return credentials_with_any(cmd);
    }
    return NULL;
}

static const char *set_cors_credentials(cmd_parms *cmd, void *dconf, int flag)
{
    paa_dir_conf *d = dconf;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (err) {
        return err;
    }
    d->cors_credentials = flag;
    paa_cors_credentials_seen |= flag;
    if (flag && has_any_origin(d->cors_origins)) {
        return credentials_with_any(cmd);
    }
    return NULL;
}

static const char *set_cors_header(cmd_parms *cmd, void *dconf, const char *arg)
{
    paa_dir_conf *d = dconf;
    const char *c, *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (err) {
        return err;
    }
    for (c = arg; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_') {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                               "' is not a header name", NULL);
        }
    }
    if (!d->cors_headers) {
        d->cors_headers = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(d->cors_headers, const char *) = arg;
    return NULL;
}

/* A policy directive, refused in .htaccess (see set_policy_flag). */
static const char *set_cors_max_age(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (err) {
        return err;
    }
    if (*end || v < 0 || v > 86400 * 365) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expects a number of seconds", NULL);
    }
    *(int *)((char *)dconf + (apr_size_t)cmd->info) = (int)v;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_off_t v;
    char *end;
    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || *end || v < 1) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expects a number of bytes", NULL);
    }
    ((paa_dir_conf *)dconf)->max_body = v;
    return NULL;
}

static const char *set_dir_flag(cmd_parms *cmd, void *dconf, int flag)
{
    *(int *)((char *)dconf + (apr_size_t)cmd->info) = flag;
    return NULL;
}

/* The directives that can weaken the policy (security headers, HTTPS-only,
 * CSP, CORS) belong to the server's administrator: AllowOverride
 * AuthConfig lets a .htaccess author set up authentication, not switch off
 * the headers or widen CORS. .htaccess is also read per request, in
 * threads, where the startup-time CORS checks (cors_any_seen) cannot run. */
static const char *set_policy_flag(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    return err ? err : set_dir_flag(cmd, dconf, flag);
}

static const char *set_policy_string(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    return err ? err : ap_set_string_slot(cmd, dconf, arg);
}

/* scheme://host[:port] and nothing else: it is the start of every URL
 * the server hands out about itself. */
static const char *set_public_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_uri_t u;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme ||
        (strcasecmp(u.scheme, "https") && strcasecmp(u.scheme, "http")) ||
        !u.hostname || !*u.hostname || u.user || u.query || u.fragment ||
        (u.path && *u.path && strcmp(u.path, "/"))) {
        return apr_psprintf(cmd->pool,
                            "PAAPublicURL %s: expected scheme://host[:port] "
                            "(http or https, no path)",
                            arg);
    }
    srv(cmd)->public_url = apr_pstrndup(
        cmd->pool, arg, strlen(arg) - (arg[strlen(arg) - 1] == '/' ? 1 : 0));
    return NULL;
}

static const char *set_trusted_proxy(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    paa_srv_conf *c = srv(cmd);
    apr_ipsubnet_t *sub;
    char *ip = apr_pstrdup(cmd->pool, arg), *mask = strchr(ip, '/');
    if (mask) {
        *mask++ = '\0';
    }
    if (apr_ipsubnet_create(&sub, ip, mask, cmd->pool) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                           "' is not an address or network", NULL);
    }
    if (!c->trusted_proxies) {
        c->trusted_proxies = apr_array_make(cmd->pool, 2, sizeof(sub));
    }
    APR_ARRAY_PUSH(c->trusted_proxies, apr_ipsubnet_t *) = sub;
    return NULL;
}

#define SRC_CMD(name, field, help)                                             \
    AP_INIT_TAKE1(name, set_source, (void *)APR_OFFSETOF(paa_srv_conf, field), \
                  RSRC_CONF, help)

const command_rec paa_cmds[] = {
    AP_INIT_TAKE1("PAAEnvFile", set_env_file, NULL, RSRC_CONF,
                  "A .env-style file (JWT_SECRET, API_KEYS, ...) shared with "
                  "paactl"),
    SRC_CMD("PAAJWTSecret", jwt_secret_src,
            "HMAC secret: env:NAME, file:PATH, exec:PATH ARGS "
            "(default env:JWT_SECRET)"),
    SRC_CMD("PAAJWTPreviousSecret", jwt_prev_src,
            "previous HMAC secret, still accepted while rotating "
            "(default env:JWT_SECRET_PREVIOUS)"),
    SRC_CMD("PAAJWTPublicKey", jwt_pubkey_src,
            "PEM public key for RS*/ES256: file:PATH, env:NAME, exec:..."),
    SRC_CMD("PAAAPIKeys", api_keys_src,
            "legacy comma-separated API keys (default env:API_KEYS)"),
    AP_INIT_TAKE1("PAAJWTAlgorithm", set_alg, NULL, RSRC_CONF,
                  "the one JWT algorithm accepted (default HS256)"),
    /* Server-level strings: set_source writes the server record (the stock
     * ap_set_string_slot would write the per-directory one). */
    AP_INIT_TAKE1("PAAJWTIssuer", set_source,
                  (void *)APR_OFFSETOF(paa_srv_conf, jwt_issuer), RSRC_CONF,
                  "required iss claim (default JWT_ISSUER)"),
    AP_INIT_TAKE1("PAAJWTAudience", set_source,
                  (void *)APR_OFFSETOF(paa_srv_conf, jwt_audience), RSRC_CONF,
                  "required aud claim (default JWT_AUDIENCE)"),
    AP_INIT_TAKE1("PAAJWTLeeway", set_leeway, NULL, RSRC_CONF,
                  "clock skew allowed for exp/nbf/iat, 0-300 s (default 30)"),
    AP_INIT_TAKE1("PAAJWTExpiresIn", set_ttl, NULL, RSRC_CONF,
                  "lifetime of tokens issued at login (default "
                  "JWT_EXPIRES_IN, else 24h)"),
    /* An external identity provider (paa_idp.c). */
    AP_INIT_TAKE1("PAAJWTJWKS", paa_idp_set, NULL, RSRC_CONF,
                  "the provider's key set: https://..., or file:PATH"),
    AP_INIT_TAKE12("PAAJWTJWKSRefresh", paa_idp_set_refresh, NULL, RSRC_CONF,
                   "key set refresh MAX [MIN between fetches] (1h 10s)"),
    AP_INIT_TAKE1("PAAJWTUsers", paa_idp_set, NULL, RSRC_CONF,
                  "whose tokens: local, external or either (local)"),
    AP_INIT_TAKE1("PAAJWTPrincipalClaim", paa_idp_set, NULL, RSRC_CONF,
                  "claim naming an external principal (sub)"),
    AP_INIT_TAKE1("PAAJWTRolesClaim", paa_idp_set, NULL, RSRC_CONF,
                  "claim with an external principal's roles (a path)"),
    AP_INIT_TAKE2("PAAJWTRoleMap", paa_idp_set_role_map, NULL, RSRC_CONF,
                  "a provider role and the mod_paa role it grants"),
    AP_INIT_TAKE1("PAAJWTMaxLifetime", paa_idp_set, NULL, RSRC_CONF,
                  "longest exp - iat accepted from the provider (24h)"),
    AP_INIT_FLAG("PAAEnable", set_enable, NULL, OR_AUTHCFG | ACCESS_CONF,
                 "On: apply mod_paa's error format and policy here even "
                 "without AuthType PAA or the paa-api handler"),
    AP_INIT_ITERATE("PAACorsOrigin", set_cors_origin, NULL,
                    OR_AUTHCFG | ACCESS_CONF,
                    "allowed origins: https://app.example.com, "
                    "https://*.example.com (default: CORS_ORIGIN)"),
    AP_INIT_FLAG("PAACorsCredentials", set_cors_credentials, NULL,
                 OR_AUTHCFG | ACCESS_CONF,
                 "send Access-Control-Allow-Credentials (default Off)"),
    AP_INIT_ITERATE("PAACorsAllowHeaders", set_cors_header, NULL,
                    OR_AUTHCFG | ACCESS_CONF,
                    "request headers allowed besides Content-Type, "
                    "Authorization and X-API-Key"),
    AP_INIT_TAKE1("PAACorsMaxAge", set_cors_max_age,
                  (void *)APR_OFFSETOF(paa_dir_conf, cors_max_age),
                  OR_AUTHCFG | ACCESS_CONF,
                  "seconds a preflight may be cached (default 600)"),
    AP_INIT_FLAG("PAASecurityHeaders", set_policy_flag,
                 (void *)APR_OFFSETOF(paa_dir_conf, security_headers),
                 OR_AUTHCFG | ACCESS_CONF,
                 "CSP, X-Frame-Options, nosniff, Referrer-Policy, HSTS "
                 "(default On where mod_paa is enabled)"),
    AP_INIT_TAKE1("PAAContentSecurityPolicy", set_policy_string,
                  (void *)APR_OFFSETOF(paa_dir_conf, csp),
                  OR_AUTHCFG | ACCESS_CONF, "the Content-Security-Policy"),
    AP_INIT_TAKE1("PAAReferrerPolicy", set_policy_string,
                  (void *)APR_OFFSETOF(paa_dir_conf, referrer_policy),
                  OR_AUTHCFG | ACCESS_CONF,
                  "the Referrer-Policy (default no-referrer)"),
    AP_INIT_FLAG("PAAHTTPSOnly", set_policy_flag,
                 (void *)APR_OFFSETOF(paa_dir_conf, https_only),
                 OR_AUTHCFG | ACCESS_CONF,
                 "redirect GET/HEAD to https, refuse other plain-HTTP "
                 "requests"),
    AP_INIT_TAKE1("PAAPublicURL", set_public_url, NULL, RSRC_CONF,
                  "scheme://host[:port] clients use to reach this server, "
                  "for the URLs it hands out (default: ServerName)"),
    AP_INIT_FLAG("PAAForwardAuthorization", set_dir_flag,
                 (void *)APR_OFFSETOF(paa_dir_conf, forward_authorization),
                 ACCESS_CONF,
                 "On: a proxied backend still receives the caller's "
                 "Authorization header (default Off)"),
    AP_INIT_ITERATE("PAATrustedProxy", set_trusted_proxy, NULL, RSRC_CONF,
                    "proxies whose X-Forwarded-Proto is believed "
                    "(addresses or networks)"),
    AP_INIT_TAKE1("PAAMaxBodySize", set_max_body, NULL,
                  OR_AUTHCFG | ACCESS_CONF,
                  "largest JSON request body in bytes (default 1048576)"),
    AP_INIT_TAKE12("PAARateLimit", paa_set_rate_limit, NULL,
                   OR_AUTHCFG | ACCESS_CONF,
                   "requests per window per principal, e.g. 100 60s; Off"),
    AP_INIT_TAKE12("PAAMcpToolRateLimit", paa_set_tool_limit, NULL,
                   OR_AUTHCFG | ACCESS_CONF,
                   "MCP tools/call per principal, e.g. 30 60s (default); Off"),
    AP_INIT_FLAG("PAAResourceMetadata", set_dir_flag,
                 (void *)APR_OFFSETOF(paa_dir_conf, resource_metadata),
                 OR_AUTHCFG | ACCESS_CONF,
                 "401 challenges point at /.well-known/oauth-protected-"
                 "resource (RFC 9728)"),
    AP_INIT_FLAG("PAAMcpRequireSession", set_dir_flag,
                 (void *)APR_OFFSETOF(paa_dir_conf, mcp_require_session),
                 OR_AUTHCFG | ACCESS_CONF,
                 "On: MCP requests must name a session from initialize "
                 "(default Off: requests without one are served "
                 "statelessly)"),
    AP_INIT_TAKE1("PAARateLimitSlots", paa_set_rl_slots, NULL, RSRC_CONF,
                  "entries in the shared rate-limit table (default 16384)"),
    AP_INIT_TAKE1("PAARateLimitStore", paa_set_rl_store, NULL, RSRC_CONF,
                  "shm (default) or redis://[[user]:password@]host[:port]"
                  "[/db]: counters shared by every node"),
    AP_INIT_TAKE1("PAARateLimitStoreFailure", paa_set_rl_store_failure, NULL,
                  RSRC_CONF,
                  "open (default: this node's own limits) or closed (503) "
                  "while the store is unreachable"),
    AP_INIT_TAKE1("PAARateLimitStoreTimeout", paa_set_rl_store_timeout, NULL,
                  RSRC_CONF, "bound of a store connect or command, e.g. 100ms"),
    AP_INIT_FLAG("PAARateLimitStoreLeases", paa_set_rl_store_leases, NULL,
                 RSRC_CONF,
                 "On: far from limits of 65536 a window or more, a child "
                 "grants up to 256 requests counted in advance (default "
                 "Off: every decision in Redis)"),
    AP_INIT_FLAG("PAAMetrics", paa_set_metrics, NULL, RSRC_CONF,
                 "Off: no metrics table, nothing counted, paa-metrics is "
                 "503 (default On)"),
    AP_INIT_TAKE_ARGV("PAAProvider", paa_provider_directive, NULL, RSRC_CONF,
                      "NAME URL MODEL [key=SOURCE] [timeout=30s]: an "
                      "OpenAI-compatible provider, tried in order"),
    AP_INIT_TAKE1("PAAChatDeadline", paa_set_chat_duration, (void *)0,
                  RSRC_CONF,
                  "the most time one chat request may take (default 60s)"),
    AP_INIT_TAKE1("PAAChatSessionTTL", paa_set_chat_duration, (void *)1,
                  RSRC_CONF, "how long a chat session lives (default 24h)"),
    AP_INIT_TAKE1("PAAConsentRequired", set_consent, NULL, RSRC_CONF,
                  "VERSION: users must accept these data-processing terms "
                  "(POST /api/me/consent) before chat and MCP tool calls"),
    AP_INIT_TAKE1("PAAChatHistory", paa_set_history, NULL, RSRC_CONF,
                  "earlier messages sent to the model (default 20)"),
    AP_INIT_TAKE1("PAANodeName", paa_set_node_name, NULL, RSRC_CONF,
                  "this node's name in the failover record (default: the "
                  "host name)"),
    AP_INIT_TAKE2("PAAProviderBreaker", paa_set_breaker, NULL, RSRC_CONF,
                  "consecutive failures that open a provider's circuit "
                  "breaker, and the cool-down (default 3 30s)"),
    AP_INIT_ITERATE("PAAAuthMethods", set_methods, NULL,
                    OR_AUTHCFG | ACCESS_CONF,
                    "credentials AuthType PAA accepts here: apikey jwt "
                    "(default both)"),
    {NULL}};

/* Directive-time state of the previous generation (graceful restart). */
int paa_config_pre(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    paa_cors_any_seen = paa_cors_credentials_seen = 0;
    paa_metrics_enabled = 1; /* a restart without PAAMetrics Off */
    return OK;
}
