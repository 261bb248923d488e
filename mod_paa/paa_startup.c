/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The startup check: each server's secret sources are resolved and judged
 * in check_config, which runs for "apachectl -t" too, so that a missing,
 * short or published JWT secret stops httpd before it serves anything.
 * One small resolver per setting; check_server runs them in order. */

#include "paa_private.h"

#include <apr_strings.h>

int paa_in_use;

/* Resolve one secret source, warning about literals in the config. */
static const char *resolve(apr_pool_t *p, server_rec *s, paa_srv_conf *c,
                           const char *directive, const char *src, char **value,
                           apr_size_t *len)
{
    const char *err = NULL;
    int literal = 0;
    if (paa_secret_resolve(p, src, c->env, value, len, &literal, &err) !=
        APR_SUCCESS) {
        return apr_psprintf(p, "%s: %s", directive, err);
    }
    if (literal) {
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, s,
            PAALOGNO(
                00401) "%s holds a literal secret in the httpd configuration; "
                       "prefer env:NAME, file:PATH or exec:PATH",
            directive);
    }
    return NULL;
}

static const char *resolve_env_cors(apr_pool_t *p, paa_srv_conf *c)
{
    const char *list_text = paa_env_get(c->env, "CORS_ORIGIN"), *err = NULL;
    apr_array_header_t *list;
    int i;

    c->env_cors = NULL;
    if (!list_text) {
        return NULL;
    }
    list = paa_split_list(p, list_text);
    c->env_cors = apr_array_make(p, list->nelts, sizeof(paa_origin_t));
    for (i = 0; i < list->nelts; i++) {
        paa_origin_t *o = apr_array_push(c->env_cors);
        if (paa_origin_parse(p, APR_ARRAY_IDX(list, i, const char *), o,
                             &err) != APR_SUCCESS) {
            return apr_pstrcat(p, "CORS_ORIGIN: ", err, NULL);
        }
        paa_cors_any_seen |= o->any;
    }
    return NULL;
}

static const char *resolve_provider_keys(apr_pool_t *p, server_rec *s,
                                         paa_srv_conf *c)
{
    const char *err;
    char *v = NULL;
    apr_size_t len = 0;
    int i;

    for (i = 0; c->providers && i < c->providers->nelts; i++) {
        paa_provider_t *pv = APR_ARRAY_IDX(c->providers, i, paa_provider_t *);
        if (pv->key_src && !pv->key) {
            const char *what =
                apr_pstrcat(p, "PAAProvider ", pv->name, " key", NULL);
            if ((err = resolve(p, s, c, what, pv->key_src, &v, &len))) {
                return err;
            }
            pv->key = v;
        }
    }
    return NULL;
}

/* Non-secret defaults come from the env file, as paactl reads them;
 * directives override them. */
static const char *resolve_jwt_settings(apr_pool_t *p, paa_srv_conf *c)
{
    paa_jwt_config_t envcfg;
    apr_int64_t envttl = 86400;
    const char *err = NULL;

    if (paa_jwt_settings_from_env(p, c->env, &envcfg, &envttl, &err) !=
        APR_SUCCESS) {
        return apr_psprintf(p, "PAAEnvFile %s: %s",
                            c->env_file ? c->env_file : "", err);
    }
    c->jwt.alg = c->jwt_alg ? c->jwt_alg : envcfg.alg;
    c->jwt.issuer = c->jwt_issuer ? c->jwt_issuer : envcfg.issuer;
    c->jwt.audience = c->jwt_audience ? c->jwt_audience : envcfg.audience;
    c->jwt.leeway = c->jwt_leeway != PAA_UNSET ? c->jwt_leeway : envcfg.leeway;
    c->ttl = c->jwt_ttl ? c->jwt_ttl : envttl;
    return NULL;
}

static const char *resolve_hmac_secrets(apr_pool_t *p, server_rec *s,
                                        paa_srv_conf *c)
{
    const char *src, *err, *weak;
    char *v = NULL;
    apr_size_t len = 0;

    src = c->jwt_secret_src ? c->jwt_secret_src : "env:JWT_SECRET";
    if ((err = resolve(p, s, c, "PAAJWTSecret", src, &v, &len))) {
        return err;
    }
    if ((weak = paa_secret_weakness(p, v, len))) {
        return apr_psprintf(p,
                            "PAAJWTSecret (%s): the JWT secret is "
                            "unacceptable: %s. Generate one with: "
                            "paactl secret gen",
                            c->jwt_secret_src ? "directive" : "JWT_SECRET",
                            weak);
    }
    c->jwt.key = v;
    c->jwt.key_len = len;
    if (!c->jwt_prev_src && !paa_env_get(c->env, "JWT_SECRET_PREVIOUS")) {
        return NULL;
    }
    src = c->jwt_prev_src ? c->jwt_prev_src : "env:JWT_SECRET_PREVIOUS";
    if ((err = resolve(p, s, c, "PAAJWTPreviousSecret", src, &v, &len))) {
        return err;
    }
    if ((weak = paa_secret_weakness(p, v, len))) {
        return apr_psprintf(p, "PAAJWTPreviousSecret: unacceptable: %s", weak);
    }
    c->jwt.prev_key = v;
    c->jwt.prev_key_len = len;
    return NULL;
}

static const char *resolve_public_key(apr_pool_t *p, server_rec *s,
                                      paa_srv_conf *c)
{
    const char *err;
    char *v = NULL;
    apr_size_t len = 0;

    if (!c->jwt_pubkey_src) {
        return apr_psprintf(p,
                            "PAAJWTAlgorithm %s needs PAAJWTPublicKey "
                            "(a PEM public key: file:/path/key.pem)",
                            c->jwt.alg);
    }
    if ((err = resolve(p, s, c, "PAAJWTPublicKey", c->jwt_pubkey_src, &v,
                       &len))) {
        return err;
    }
    if (!strstr(v, "-----BEGIN PUBLIC KEY-----")) {
        return "PAAJWTPublicKey: not a PEM public key "
               "(-----BEGIN PUBLIC KEY-----)";
    }
    c->jwt.key = v;
    c->jwt.key_len = len;
    return NULL;
}

/* The guide's API_KEYS list: only their hashes are kept. */
static const char *resolve_legacy_keys(apr_pool_t *p, server_rec *s,
                                       paa_srv_conf *c)
{
    const char *src = c->api_keys_src ? c->api_keys_src : "env:API_KEYS";
    const char *err;
    apr_array_header_t *keys;
    char *v = NULL;
    apr_size_t len = 0;
    int i;

    if (!c->api_keys_src && !paa_env_get(c->env, "API_KEYS")) {
        return NULL;
    }
    if ((err = resolve(p, s, c, "PAAAPIKeys", src, &v, &len))) {
        return err;
    }
    keys = paa_split_list(p, v);
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);
        const char *published = paa_apikey_guide_example(k);
        if (published) {
            /* Named by the guide's value, which is public: the key itself
             * is never put in a log line. */
            paa_wipe(v, len);
            return apr_psprintf(p,
                                "PAAAPIKeys: a key in API_KEYS is the "
                                "security guide's example %s, which anyone "
                                "can send; remove it and give clients keys "
                                "from: paactl keygen",
                                published);
        }
        if (strlen(k) < 16) {
            return "PAAAPIKeys: a key in API_KEYS is shorter than 16 "
                   "characters (generate keys with: paactl keygen)";
        }
        APR_ARRAY_PUSH(c->legacy_hashes, const char *) =
            paa_sha256_hex(p, k, strlen(k));
    }
    paa_wipe(v, len);
    return NULL;
}

/* Resolved secrets live in the configuration pool; when a restart or
 * shutdown clears it, they are overwritten rather than left in memory
 * that the next allocation (or a core dump) could show. */
static apr_status_t wipe_secrets(void *data)
{
    paa_srv_conf *c = data;
    int i;

    if (c->jwt.key && paa_jwt_alg_is_hmac(c->jwt.alg)) {
        paa_wipe((char *)c->jwt.key, c->jwt.key_len);
    }
    if (c->jwt.prev_key) {
        paa_wipe((char *)c->jwt.prev_key, c->jwt.prev_key_len);
    }
    for (i = 0; c->providers && i < c->providers->nelts; i++) {
        paa_provider_t *pv = APR_ARRAY_IDX(c->providers, i, paa_provider_t *);
        if (pv->key) {
            paa_wipe((char *)pv->key, strlen(pv->key));
        }
    }
    return APR_SUCCESS;
}

static const char *check_server(apr_pool_t *p, server_rec *s, paa_srv_conf *c)
{
    const char *err;

    apr_pool_cleanup_register(p, c, wipe_secrets, apr_pool_cleanup_null);

    c->configured = c->env_file || c->jwt_secret_src || c->jwt_pubkey_src ||
                    c->api_keys_src || c->jwt_alg || c->idp;
    memset(&c->jwt, 0, sizeof(c->jwt));
    c->legacy_hashes = apr_array_make(p, 2, sizeof(const char *));
    if ((err = resolve_env_cors(p, c)) ||
        (err = resolve_provider_keys(p, s, c))) {
        return err;
    }
    if (!c->configured) {
        return NULL;
    }
    if ((err = resolve_jwt_settings(p, c))) {
        return err;
    }
    if ((err = paa_idp_check(p, c))) {
        return err;
    }
    err = paa_jwt_alg_is_hmac(c->jwt.alg) ? resolve_hmac_secrets(p, s, c)
          : c->idp && c->idp->slot >= 0   ? NULL /* keys come later */
                                          : resolve_public_key(p, s, c);
    return err ? err : resolve_legacy_keys(p, s, c);
}

static int same_settings(const paa_srv_conf *a, const paa_srv_conf *b)
{
    return a->env == b->env && a->jwt_secret_src == b->jwt_secret_src &&
           a->jwt_prev_src == b->jwt_prev_src &&
           a->jwt_pubkey_src == b->jwt_pubkey_src &&
           a->api_keys_src == b->api_keys_src && a->jwt_alg == b->jwt_alg &&
           a->jwt_issuer == b->jwt_issuer &&
           a->jwt_audience == b->jwt_audience &&
           a->jwt_leeway == b->jwt_leeway && a->jwt_ttl == b->jwt_ttl &&
           a->providers == b->providers && a->idp == b->idp;
}

/* Whether this configuration uses mod_paa at all: a PAA directive,
 * AuthType PAA, or the paa-api handler anywhere in the tree. Where it does
 * not, loading the module must leave no trace: no shared memory, no
 * libcurl, no log line. */
static int directive_uses_paa(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";
    if (!strncasecmp(d->directive, "PAA", 3)) {
        return 1;
    }
    if (!strcasecmp(d->directive, "AuthType")) {
        return !strcasecmp(ap_getword_conf(p, &args), PAA_AUTH_TYPE);
    }
    if (!strcasecmp(d->directive, "SetHandler") ||
        !strcasecmp(d->directive, "AddHandler")) {
        return ap_strstr_c(args, PAA_HANDLER) != NULL ||
               ap_strstr_c(args, PAA_METRICS_HANDLER) != NULL;
    }
    return 0;
}

static int tree_uses_paa(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (directive_uses_paa(p, d) || tree_uses_paa(p, d->first_child)) {
            return 1;
        }
    }
    return 0;
}

int paa_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s)
{
    server_rec *vs;
    paa_srv_conf *main_conf =
        ap_get_module_config(s->module_config, &paa_module);

    paa_in_use = tree_uses_paa(ptemp, ap_conftree);
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        const char *err;
        if (vs != s && same_settings(c, main_conf)) {
            /* A vhost without mod_paa directives of its own: reuse what
             * the main server resolved instead of running exec: again. */
            c->configured = main_conf->configured;
            c->jwt = main_conf->jwt;
            c->idp = main_conf->idp;
            c->ttl = main_conf->ttl;
            c->legacy_hashes = main_conf->legacy_hashes;
            c->env_cors = main_conf->env_cors;
            continue;
        }
        if ((err = check_server(pconf, vs, c))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs,
                         PAALOGNO(00403) "mod_paa: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR; /* a status is a misnomer */
        }
    }
    if (paa_cors_any_seen && paa_cors_credentials_seen) {
        ap_log_error(
            APLOG_MARK, APLOG_EMERG, 0, s,
            PAALOGNO(
                00404) "mod_paa: PAACorsCredentials On is configured and so is "
                       "a "
                       "wildcard origin (* in PAACorsOrigin or CORS_ORIGIN): "
                       "any "
                       "site could act with a user's credentials. List the "
                       "origins instead.");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* check_config runs before the error log is open; say it again there. */
int paa_config_post(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    server_rec *vs;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        if (c->legacy_hashes && c->legacy_hashes->nelts &&
            (vs == s ||
             c->legacy_hashes != ((paa_srv_conf *)ap_get_module_config(
                                      s->module_config, &paa_module))
                                     ->legacy_hashes)) {
            ap_log_error(
                APLOG_MARK, APLOG_WARNING, 0, vs,
                PAALOGNO(
                    00402) "%d legacy API key(s) from API_KEYS are accepted; "
                           "move them to the database with 'paactl keygen' "
                           "so they can be rotated and revoked",
                c->legacy_hashes->nelts);
        }
    }
    return OK;
}
