/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* AuthType PAA: an X-API-Key or an "Authorization: Bearer" JWT, looked up
 * in the database unless the cache every child shares has it, which the
 * database's change marker keeps honest (paa_credcache.c): a revoked key,
 * or a deleted or disabled user, is refused by every child within a
 * second; a successful
 * authentication writes nothing: the key's use is counted in memory and
 * written in batches (paa_usage.c). Failures say why in the error log
 * (never the secret) and give the client only what RFC 6750 allows. */

#include "paa_private.h"

#include "apr_strings.h"
#include "apr_thread_mutex.h"

#define PAA_AUDIT_FAIL_RATE 10 /* failure records per second and child */

/* Per-child state; the mutex is created in child_init. */
static apr_thread_mutex_t *child_mutex;
static apr_int64_t fail_window; /* second of the current failure window */
static int fail_count, fail_suppressed;

typedef struct {
    int status;
    const char *reason;       /* for the log */
    const char *detail;       /* for the client */
    const char *bearer_error; /* RFC 6750 error code, or NULL */
    const char *who;          /* key id, prefix or subject, for the log */
    paa_auth_method_e method; /* for the metrics: API key unless set */
    paa_auth_reason_e why;    /* the metrics' reason: set at each fail() */
} paa_failure_t;

paa_req_t *paa_req(request_rec *r)
{
    paa_req_t *ctx = ap_get_module_config(r->request_config, &paa_module);
    if (!ctx) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->enabled = PAA_UNSET;
        ctx->https = PAA_UNSET;
        ap_set_module_config(r->request_config, &paa_module, ctx);
    }
    return ctx;
}

const paa_principal_t *paa_principal(request_rec *r)
{
    while (r) {
        const paa_req_t *ctx =
            ap_get_module_config(r->request_config, &paa_module);
        if (ctx && ctx->principal) {
            return ctx->principal;
        }
        r = r->main ? r->main : r->prev;
    }
    return NULL;
}

static void set_roles(paa_principal_t *pr, const char *text)
{
    pr->roles_text = text ? text : "";
}

void paa_audit(request_rec *r, const char *event, const char *outcome,
               const char *subject, const char *key_id, const char *detail)
{
    paa_db_t *db = paa_db(r);
    paa_audit_t a;

    if (!db) {
        return;
    }
    a.at = apr_time_sec(r->request_time);
    a.event = event;
    a.outcome = outcome;
    a.actor = r->user;
    a.subject = subject;
    a.key_id = key_id;
    a.client_ip = r->useragent_ip;
    a.detail = detail;
    paa_audit_add(r->pool, db, &a);
}

/* An attacker can make failures as fast as the network allows; the audit
 * table must not become the bottleneck, so each child writes at most a few
 * failure records a second and counts the rest into the next one. */
void paa_audit_failure(request_rec *r, const char *event, const char *subject,
                       const char *detail)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    int write = 0, suppressed = 0;

    if (child_mutex && apr_thread_mutex_lock(child_mutex) == APR_SUCCESS) {
        if (now != fail_window) {
            fail_window = now;
            fail_count = 0;
        }
        if (fail_count < PAA_AUDIT_FAIL_RATE) {
            fail_count++;
            write = 1;
            suppressed = fail_suppressed;
            fail_suppressed = 0;
        }
        else {
            fail_suppressed++;
        }
        apr_thread_mutex_unlock(child_mutex);
    }
    if (write) {
        paa_audit(r, event, "failure", subject, NULL,
                  suppressed ? apr_psprintf(r->pool,
                                            "%s (%d earlier failures "
                                            "not recorded)",
                                            detail, suppressed)
                             : detail);
    }
}

static int methods(request_rec *r)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    return d->methods == PAA_UNSET ? PAA_METHOD_APIKEY | PAA_METHOD_JWT
                                   : d->methods;
}

static void challenge(request_rec *r, const char *bearer_error)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    const char *realm = ap_auth_name(r) ? ap_auth_name(r) : "paa";
    const char *bearer;
    int m = methods(r);

    if (m & PAA_METHOD_JWT || d->resource_metadata == 1) {
        bearer = apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm);
        if (bearer_error) {
            bearer =
                apr_psprintf(r->pool, "%s, error=\"%s\"", bearer, bearer_error);
        }
        if (d->resource_metadata == 1) {
            /* MCP clients discover how to authenticate from here. */
            bearer = apr_psprintf(
                r->pool, "%s, resource_metadata=\"%s\"", bearer,
                paa_public_url(r, NULL,
                               "/.well-known/oauth-protected-resource"));
        }
        apr_table_addn(r->err_headers_out, "WWW-Authenticate", bearer);
    }
    if (m & PAA_METHOD_APIKEY) {
        apr_table_addn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool,
                                    "ApiKey realm=\"%s\", header=\"X-API-Key\"",
                                    realm));
    }
}

int paa_note_auth_failure(request_rec *r, const char *type)
{
    if (strcasecmp(type, PAA_AUTH_TYPE)) {
        return DECLINED;
    }
    /* mod_authz_core asks for credentials that were never sent: a plain
     * challenge, without an RFC 6750 error code. */
    challenge(r, NULL);
    return OK;
}

static int fail(request_rec *r, const paa_failure_t *f)
{
    /* Failures spend the client address's budget of a limited location:
     * otherwise bad credentials could be tried, and logged, without end. */
    if (!r->user && f->status != HTTP_SERVICE_UNAVAILABLE &&
        paa_ratelimit_request(r) == HTTP_TOO_MANY_REQUESTS) {
        return HTTP_TOO_MANY_REQUESTS;
    }
    paa_metrics_auth(r, f->method, f->why);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PAALOGNO(00501) "%s: authentication failure for \"%s\": %s",
                  f->who ? f->who : "-", r->uri, f->reason);
    if (f->status == HTTP_UNAUTHORIZED || f->status == HTTP_BAD_REQUEST) {
        challenge(r, f->bearer_error);
    }
    if (f->status != HTTP_SERVICE_UNAVAILABLE) {
        paa_audit_failure(r, "auth.failure", f->who, f->reason);
    }
    return paa_error(r, f->status, f->detail);
}

/* No credentials at all is what every browser, crawler and scanner sends
 * first, and how a client learns that it must authenticate: routine
 * (mod_auth_basic does not log it either), so info, and no audit record,
 * or a scan would fill the audit table. It still spends the address's
 * rate-limit budget. Credentials that were sent and failed go to fail():
 * an error, and audited. */
static int no_credentials(request_rec *r)
{
    if (paa_ratelimit_request(r) == HTTP_TOO_MANY_REQUESTS) {
        return HTTP_TOO_MANY_REQUESTS;
    }
    paa_metrics_auth(r, PAA_AUTH_M_NONE, PAA_AUTH_R_NO_CREDENTIALS);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  PAALOGNO(00503) "no credentials for \"%s\"", r->uri);
    challenge(r, NULL);
    return paa_error(r, HTTP_UNAUTHORIZED, "authentication is required");
}

static void from_cache(request_rec *r, const paa_cached_principal_t *c,
                       paa_principal_t *pr)
{
    /* One copy holds every string, for the cost of one of six. */
    const paa_cached_principal_t *k = apr_pmemdup(r->pool, c, sizeof(*c));

    pr->method = k->method;
    pr->id = k->id;
    pr->key_id = *k->key_id ? k->key_id : NULL;
    pr->username = *k->username ? k->username : NULL;
    pr->client = k->client;
    set_roles(pr, k->roles);
}

/* The guide's API_KEYS: every configured legacy key is compared, in
 * constant time, against the hash: equal lengths, and no early exit that
 * would time a match. 1 with the principal when one matches. */
static int legacy_key(request_rec *r, const char *hash, paa_principal_t *pr)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    int i, legacy = 0;

    for (i = 0; sc->legacy_hashes && i < sc->legacy_hashes->nelts; i++) {
        int match = paa_secret_equal(
            hash, 64, APR_ARRAY_IDX(sc->legacy_hashes, i, const char *), 64);
        /* Position, not a hash prefix: an id must not help guess a key. */
        legacy = match ? i + 1 : legacy;
    }
    if (!legacy) {
        return 0;
    }
    pr->method = "api-key";
    pr->key_id = apr_psprintf(r->pool, "legacy:%d", legacy);
    pr->id = pr->key_id;
    set_roles(pr, "");
    pr->client = "";
    return 1;
}

static int authn_apikey(request_rec *r, const char *key, paa_principal_t *pr)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    paa_failure_t f = {.status = HTTP_UNAUTHORIZED,
                       .detail = "the API key is not valid",
                       .method = PAA_AUTH_M_API_KEY};
    apr_size_t len = strlen(key);
    unsigned char digest[32];
    const char *hash;
    paa_cached_principal_t cached;
    paa_db_t *db;
    paa_key_t k;
    int found = 0;
    unsigned char slot[32];
    apr_uint32_t epoch, unknown_epoch;
    paa_authcache_t *cc = paa_credcache_of(r->server);

    if (!(methods(r) & PAA_METHOD_APIKEY)) {
        f.why = PAA_AUTH_R_METHOD_NOT_ALLOWED;
        f.reason = "API keys are not accepted at this location";
        f.detail = "API keys are not accepted here";
        return fail(r, &f);
    }
    paa_sha256(key, len, digest);
    if (sc->legacy_hashes && sc->legacy_hashes->nelts &&
        legacy_key(r, paa_hex(r->pool, digest, sizeof(digest)), pr)) {
        return OK;
    }
    /* Only well-formed keys are ever cached, known or unknown: a hit needs
     * no other check, and a malformed key misses and is refused below. */
    paa_credcache_slot(r->server, digest, slot);
    paa_credcache_refresh(r);
    switch (paa_authcache_get(cc, slot, r->request_time, &cached)) {
    case PAA_AUTHCACHE_HIT:
        /* A key's entry only: a token's or a user's slot is the SHA-256 of
         * something else, but what a key is must not rest on that alone. */
        if (strcmp(cached.method, "api-key")) {
            break;
        }
        paa_metrics_add(paa_metrics, authcache[0], 1);
        from_cache(r, &cached, pr);
        paa_usage_key(r, pr->key_id);
        return OK;
    case PAA_AUTHCACHE_UNKNOWN:
        paa_metrics_add(paa_metrics, authcache[0], 1);
        f.who = apr_pstrndup(r->pool, key, PAA_APIKEY_SHOWN);
        f.why = PAA_AUTH_R_UNKNOWN_KEY;
        f.reason = "unknown API key";
        return fail(r, &f);
    case PAA_AUTHCACHE_MISS:
        break;
    }
    if (!paa_apikey_well_formed(key)) {
        f.why = PAA_AUTH_R_MALFORMED;
        f.reason = apr_psprintf(r->pool,
                                "malformed API key (%" APR_SIZE_T_FMT
                                " characters; expected pak_ and 64 hex)",
                                len);
        return fail(r, &f);
    }
    f.who = apr_pstrndup(r->pool, key, PAA_APIKEY_SHOWN);
    hash = paa_hex(r->pool, digest, sizeof(digest));
    paa_metrics_add(paa_metrics, authcache[1], 1);
    /* Read before the lookup: a change meanwhile makes this entry stale. */
    epoch = paa_authcache_epoch(cc);
    unknown_epoch = paa_authcache_epoch_of(cc, PAA_CACHE_KEYS_ADDED);
    if (!(db = paa_db(r)) ||
        paa_keys_by_hash(r->pool, db, hash, &k, &found) != APR_SUCCESS) {
        f.status = HTTP_SERVICE_UNAVAILABLE;
        f.why = PAA_AUTH_R_UNAVAILABLE;
        f.reason = "the key database is unavailable";
        f.detail = "authentication is temporarily unavailable";
        return fail(r, &f);
    }
    if (!found) {
        paa_authcache_put_unknown(cc, slot, unknown_epoch, r->request_time);
        f.why = PAA_AUTH_R_UNKNOWN_KEY;
        f.reason = "unknown API key";
        return fail(r, &f);
    }
    f.who = k.id;
    if (k.revoked_at) {
        f.why = PAA_AUTH_R_REVOKED;
        f.reason = "revoked API key";
        return fail(r, &f);
    }
    if (k.expires_at &&
        k.expires_at <= (apr_int64_t)apr_time_sec(r->request_time)) {
        f.why = PAA_AUTH_R_EXPIRED;
        f.reason = "expired API key";
        return fail(r, &f);
    }
    pr->method = "api-key";
    pr->id = k.id;
    pr->key_id = k.id;
    pr->client = k.client;
    set_roles(pr, k.roles);
    paa_authcache_put(cc, slot, epoch, r->request_time,
                      k.expires_at ? apr_time_from_sec(k.expires_at) : 0,
                      pr->method, pr->id, pr->key_id, NULL, pr->client,
                      pr->roles_text);
    paa_usage_key(r, k.id);
    return OK;
}

/* Effective roles: the user's current roles, narrowed to the token's when
 * the token names some (a token can drop privileges, never add them). */
static const char *effective_roles(apr_pool_t *p, const char *user_roles,
                                   const apr_array_header_t *token_roles)
{
    apr_array_header_t *have = paa_split_list(p, user_roles);
    const char *out = "";
    int i, j;

    for (i = 0; i < have->nelts; i++) {
        const char *role = APR_ARRAY_IDX(have, i, const char *);
        int keep = token_roles == NULL;
        for (j = 0; !keep && j < token_roles->nelts; j++) {
            keep = !strcmp(role, APR_ARRAY_IDX(token_roles, j, const char *));
        }
        if (keep) {
            out = *out ? apr_pstrcat(p, out, ",", role, NULL) : role;
        }
    }
    return out;
}

/* The user a token names, from the entry the restart's warm put
 * (paa_users_warm: enabled, and no token of theirs revoked), when the
 * token is not one of those revoked by jti alone either (the warm's
 * filter, for the epoch read before): then it is not revoked, as long as
 * no revocation came since, which ends the entry's epoch. 0: ask the
 * database. */
static int warmed_user(request_rec *r, paa_authcache_t *cc, apr_uint32_t epoch,
                       const paa_jwt_claims_t *claims, paa_user_t *u)
{
    unsigned char slot[32];
    paa_cached_principal_t c;

    if (!claims->sub || !paa_authcache_revoked_not(cc, epoch, claims->jti)) {
        return 0;
    }
    paa_credcache_user_slot(r->server, claims->sub, slot);
    if (paa_authcache_get(cc, slot, r->request_time, &c) != PAA_AUTHCACHE_HIT ||
        strcmp(c.method, "user") || strcmp(c.id, claims->sub)) {
        return 0;
    }
    memset(u, 0, sizeof(*u));
    u->id = apr_pstrdup(r->pool, c.id);
    u->username = apr_pstrdup(r->pool, c.username);
    u->roles = apr_pstrdup(r->pool, c.roles);
    u->tokens_not_before = apr_atoi64(c.key_id);
    return 1;
}

/* An external principal's entry (paa_idp.c), told apart by its method:
 * its scopes are in the client field, "s:" and the scopes separated by a
 * space, or "" when the token had none. */
#define PAA_METHOD_EXTERNAL "jwt-ext"

/* Kept only when it comes back the same: every field whole in an entry,
 * and each scope one word again when split. Under keys_added's epoch:
 * with PAAJWTUsers either, a user added with the token's sub makes it
 * theirs, and a new row moves only that marker. */
static void put_external(request_rec *r, paa_authcache_t *cc,
                         const unsigned char *slot, apr_uint32_t epoch,
                         apr_time_t not_after, const paa_principal_t *pr)
{
    paa_cached_principal_t fits;
    const char *scopes = "";
    int i;

    if (pr->scopes) {
        for (i = 0; i < pr->scopes->nelts; i++) {
            const char *sc = APR_ARRAY_IDX(pr->scopes, i, const char *);
            if (!*sc || strchr(sc, ' ')) {
                return;
            }
        }
        scopes = apr_pstrcat(
            r->pool, "s:", apr_array_pstrcat(r->pool, pr->scopes, ' '), NULL);
    }
    if (strlen(pr->id) >= sizeof(fits.id) ||
        strlen(pr->roles_text) >= sizeof(fits.roles) ||
        strlen(scopes) >= sizeof(fits.client)) {
        return;
    }
    paa_authcache_put_principal(cc, PAA_CACHE_KEYS_ADDED, slot, epoch,
                                r->request_time, not_after, PAA_METHOD_EXTERNAL,
                                pr->id, NULL, NULL, scopes, pr->roles_text);
}

static void external_from_cache(request_rec *r, const paa_cached_principal_t *c,
                                paa_principal_t *pr)
{
    from_cache(r, c, pr);
    pr->method = "jwt";
    pr->external = 1;
    pr->client = NULL;
    pr->scopes = NULL;
    if (!strncmp(c->client, "s:", 2)) {
        char *rest = apr_pstrdup(r->pool, c->client + 2), *last, *w;
        pr->scopes = apr_array_make(r->pool, 4, sizeof(const char *));
        for (w = apr_strtok(rest, " ", &last); w;
             w = apr_strtok(NULL, " ", &last)) {
            APR_ARRAY_PUSH(pr->scopes, const char *) = w;
        }
    }
}

/* A token an identity provider's key set verified stands as long as that
 * set does: its entry is bound to the set's generation, so that once the
 * set moves (a key retired) the token is verified again. */
static void bind_generation(unsigned char *digest, apr_uint32_t gen)
{
    unsigned char in[36];
    memcpy(in, digest, 32);
    in[32] = (unsigned char)(gen >> 24);
    in[33] = (unsigned char)(gen >> 16);
    in[34] = (unsigned char)(gen >> 8);
    in[35] = (unsigned char)gen;
    paa_sha256((const char *)in, sizeof(in), digest);
}

static int authn_jwt(request_rec *r, const char *token, paa_principal_t *pr)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    paa_failure_t f = {.status = HTTP_UNAUTHORIZED,
                       .detail = "the access token is not valid",
                       .bearer_error = "invalid_token",
                       .method = PAA_AUTH_M_JWT};
    paa_jwt_claims_t claims;
    paa_jwt_result_e result;
    paa_db_t *db;
    paa_user_t u;
    int found = 0, revoked = 0;
    unsigned char digest[32];
    paa_cached_principal_t cached;
    apr_uint32_t epoch, added_epoch, gen = 0, verified_gen = 0;
    paa_authcache_t *cc = paa_credcache_of(r->server);
    int idp = sc->idp && sc->idp->slot >= 0;

    if (!(methods(r) & PAA_METHOD_JWT)) {
        f.why = PAA_AUTH_R_METHOD_NOT_ALLOWED;
        f.reason = "bearer tokens are not accepted at this location";
        f.detail = "bearer tokens are not accepted here";
        return fail(r, &f);
    }
    if (!sc->jwt.key && !idp) {
        f.why = PAA_AUTH_R_METHOD_NOT_ALLOWED;
        f.reason = "JWT authentication is not configured on this server "
                   "(PAAJWTSecret or PAAEnvFile)";
        return fail(r, &f);
    }
    paa_sha256(token, strlen(token), digest);
    if (idp) {
        gen = paa_jwks_generation(r);
        bind_generation(digest, gen);
    }
    paa_credcache_slot(r->server, digest, digest);
    paa_credcache_refresh(r);
    if (paa_authcache_get(cc, digest, r->request_time, &cached) ==
        PAA_AUTHCACHE_HIT) {
        if (!strcmp(cached.method, "jwt")) {
            paa_metrics_add(paa_metrics, authcache[0], 1);
            from_cache(r, &cached, pr);
            return OK;
        }
        if (!strcmp(cached.method, PAA_METHOD_EXTERNAL)) {
            paa_metrics_add(paa_metrics, authcache[0], 1);
            external_from_cache(r, &cached, pr);
            return OK;
        }
    }
    paa_metrics_add(paa_metrics, authcache[1], 1);
    /* Read before any lookup: a change meanwhile makes the entry stale. */
    epoch = paa_authcache_epoch(cc);
    added_epoch = paa_authcache_epoch_of(cc, PAA_CACHE_KEYS_ADDED);
    result = idp ? paa_jwks_verify_token(r, token, &claims, &verified_gen)
                 : paa_jwt_verify(r->pool, &sc->jwt, token,
                                  apr_time_sec(r->request_time), &claims);
    if (result != PAA_JWT_OK) {
        f.reason = apr_pstrcat(
            r->pool, "token refused: ", paa_jwt_result_str(result), NULL);
        if (result == PAA_JWT_EXPIRED) {
            f.detail = "the access token has expired";
        }
        f.why = paa_metrics_jwt_reason(result);
        return fail(r, &f);
    }
    f.who = claims.sub;
    if (paa_idp_is_external(r, &claims) == 1) {
        f.who = claims.principal;
        f.why = PAA_AUTH_R_INVALID_CLAIMS;
        if ((f.reason = paa_idp_principal(r, &claims, pr))) {
            return fail(r, &f);
        }
        if (verified_gen == gen) {
            put_external(r, cc, digest, added_epoch,
                         apr_time_from_sec(claims.exp + sc->jwt.leeway), pr);
        }
        return OK;
    }
    if (warmed_user(r, cc, epoch, &claims, &u)) {
        found = 1;
    }
    else if (!(db = paa_db(r)) ||
             paa_users_for_token(r->pool, db, claims.sub, claims.jti, &u,
                                 &revoked, &found) != APR_SUCCESS) {
        f.status = HTTP_SERVICE_UNAVAILABLE;
        f.why = PAA_AUTH_R_UNAVAILABLE;
        f.reason = "the user database is unavailable";
        f.detail = "authentication is temporarily unavailable";
        f.bearer_error = NULL;
        return fail(r, &f);
    }
    if (!found) {
        f.why = PAA_AUTH_R_UNKNOWN_USER;
        f.reason = "token for a user that does not exist (deleted?)";
        return fail(r, &f);
    }
    if (u.disabled) {
        f.why = PAA_AUTH_R_DISABLED_USER;
        f.reason = "token for a disabled user";
        return fail(r, &f);
    }
    /* iat is 0 when absent: such a token cannot prove it is newer. */
    if (revoked || claims.iat < u.tokens_not_before) {
        f.why = PAA_AUTH_R_REVOKED;
        f.reason = revoked ? "token revoked (paactl token revoke)"
                           : "token issued before the user's logout "
                             "(paactl user logout)";
        f.detail = "the access token has been revoked";
        return fail(r, &f);
    }
    pr->method = "jwt";
    pr->id = u.id;
    pr->username = u.username;
    set_roles(pr, effective_roles(r->pool, u.roles, claims.roles));
    if (verified_gen == gen) {
        paa_authcache_put(cc, digest, epoch, r->request_time,
                          apr_time_from_sec(claims.exp + sc->jwt.leeway),
                          pr->method, pr->id, NULL, pr->username, NULL,
                          pr->roles_text);
    }
    return OK;
}

int paa_authn_check(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const char *key, *authz, *token;
    const paa_principal_t *known;
    paa_principal_t *pr;
    paa_failure_t f = {.status = HTTP_UNAUTHORIZED,
                       .detail = "authentication is required",
                       .method = PAA_AUTH_M_NONE};
    int rc;

    if (!type || strcasecmp(type, PAA_AUTH_TYPE)) {
        return DECLINED;
    }
    /* Subrequests and internal redirects reuse the verdict. */
    if ((r->main || r->prev) && (known = paa_principal(r)) &&
        (methods(r) &
         (strcmp(known->method, "jwt") ? PAA_METHOD_APIKEY : PAA_METHOD_JWT))) {
        paa_identity_export(r, known);
        return OK;
    }
    key = apr_table_get(r->headers_in, "X-API-Key");
    authz = apr_table_get(r->headers_in, "Authorization");
    if (key && authz) {
        f.status = HTTP_BAD_REQUEST;
        f.why = PAA_AUTH_R_AMBIGUOUS;
        f.reason = "both X-API-Key and Authorization were sent";
        f.detail = "send one credential: X-API-Key or Authorization";
        f.bearer_error = "invalid_request";
        return fail(r, &f);
    }
    pr = apr_pcalloc(r->pool, sizeof(*pr));
    if (key) {
        rc = authn_apikey(r, key, pr);
    }
    else if (authz) {
        switch (paa_parse_authorization(authz, &token)) {
        case PAA_AUTHZ_OTHER:
            /* Another scheme (Basic, ...): no bearer credentials at all. */
            f.why = PAA_AUTH_R_NO_CREDENTIALS;
            f.reason = "no bearer token in the Authorization header";
            return fail(r, &f);
        case PAA_AUTHZ_MALFORMED:
            f.status = HTTP_BAD_REQUEST;
            f.why = PAA_AUTH_R_MALFORMED;
            f.reason = "malformed Bearer credentials";
            f.detail = "the Authorization header is malformed";
            f.bearer_error = "invalid_request";
            return fail(r, &f);
        case PAA_AUTHZ_BEARER:
            break;
        }
        rc = authn_jwt(r, token, pr);
    }
    else {
        return no_credentials(r);
    }
    if (rc != OK) {
        return rc;
    }
    paa_metrics_auth(
        r, strcmp(pr->method, "jwt") ? PAA_AUTH_M_API_KEY : PAA_AUTH_M_JWT,
        PAA_AUTH_OK);
    paa_req(r)->principal = pr;
    paa_identity_export(r, pr);
    return OK;
}

void paa_authn_child_init(apr_pool_t *p, server_rec *s)
{
    if (apr_thread_mutex_create(&child_mutex, APR_THREAD_MUTEX_DEFAULT, p) !=
        APR_SUCCESS) {
        child_mutex = NULL;
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            PAALOGNO(00502) "cannot create a mutex: authentication failures "
                            "will not be audited");
    }
}
