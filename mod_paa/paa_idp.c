/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Tokens from an external identity provider (Keycloak, Auth0, Entra ID,
 * any OpenID provider): where its keys come from (PAAJWTJWKS, or the
 * issuer's OpenID configuration), and who a token names when its subject
 * is not one of our users (PAAJWTUsers external|either): the principal
 * claim, and mod_paa roles from the provider's roles claim through the
 * optional PAAJWTRoleMap. Such principals exist only for the life of
 * their token: mod_paa cannot revoke them, so their lifetime is capped
 * (PAAJWTMaxLifetime) and revocation is the provider's job. */

#include "paa_private.h"

#include "apr_strings.h"
#include "apr_lib.h"

#define PAA_IDP_MAX_LIFETIME 86400 /* seconds, unless configured */
#define PAA_PRINCIPAL_MAX    256

typedef struct {
    const char *from;
    const char *to;
} role_pair_t;

static paa_idp_conf *idp_of(cmd_parms *cmd)
{
    paa_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &paa_module);
    if (!sc->idp) {
        sc->idp = apr_pcalloc(cmd->pool, sizeof(*sc->idp));
        sc->idp->users = PAA_UNSET;
        sc->idp->slot = -1;
    }
    return sc->idp;
}

static const char *set_users(cmd_parms *cmd, paa_idp_conf *idp, const char *arg)
{
    if (!strcasecmp(arg, "local")) {
        idp->users = PAA_USERS_LOCAL;
    }
    else if (!strcasecmp(arg, "external")) {
        idp->users = PAA_USERS_EXTERNAL;
    }
    else if (!strcasecmp(arg, "either")) {
        idp->users = PAA_USERS_EITHER;
    }
    else {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                           "' is not local, external or either", NULL);
    }
    return NULL;
}

/* PAAJWTJWKS, PAAJWTUsers, PAAJWTPrincipalClaim, PAAJWTRolesClaim,
 * PAAJWTMaxLifetime */
const char *paa_idp_set(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *name = cmd->cmd->name, *bad;
    paa_idp_conf *idp = idp_of(cmd);

    if (!strcasecmp(name, "PAAJWTJWKS")) {
        if ((bad = paa_jwks_url_invalid(arg))) {
            return apr_pstrcat(cmd->pool, name, " ", arg, ": ", bad, NULL);
        }
        idp->jwks_url = arg;
    }
    else if (!strcasecmp(name, "PAAJWTUsers")) {
        return set_users(cmd, idp, arg);
    }
    else if (!strcasecmp(name, "PAAJWTPrincipalClaim")) {
        idp->principal_claim = arg;
    }
    else if (!strcasecmp(name, "PAAJWTRolesClaim")) {
        idp->roles_claim = arg;
    }
    else if (paa_duration_parse(arg, &idp->max_lifetime) != APR_SUCCESS ||
             idp->max_lifetime <= 0) {
        return apr_pstrcat(cmd->pool, name, ": '", arg,
                           "' is not a duration (e.g. 1h, 15m)", NULL);
    }
    return NULL;
}

const char *paa_idp_set_refresh(cmd_parms *cmd, void *dconf, const char *max,
                                const char *min)
{
    paa_idp_conf *idp = idp_of(cmd);
    apr_int64_t a = 0, b = 10;

    if (paa_duration_parse(max, &a) != APR_SUCCESS || a < 1 ||
        (min && (paa_duration_parse(min, &b) != APR_SUCCESS || b < 1)) ||
        b > a) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": durations MAX [MIN] with MIN <= MAX "
                           "(e.g. 1h 10s)",
                           NULL);
    }
    idp->refresh = apr_time_from_sec(a);
    idp->min_interval = apr_time_from_sec(b);
    return NULL;
}

const char *paa_idp_set_role_map(cmd_parms *cmd, void *dconf, const char *from,
                                 const char *to)
{
    paa_idp_conf *idp = idp_of(cmd);
    const char *bad = paa_role_invalid(to);
    role_pair_t *pair;

    if (bad) {
        return apr_psprintf(cmd->pool, "%s %s %s: %s", cmd->cmd->name, from, to,
                            bad);
    }
    if (!idp->role_map) {
        idp->role_map = apr_table_make(cmd->pool, 4);
    }
    pair = apr_palloc(cmd->pool, sizeof(*pair));
    pair->from = from;
    pair->to = to;
    apr_table_addn(idp->role_map, from, (const char *)pair);
    return NULL;
}

/* Without PAAJWTJWKS and PAAJWTPublicKey, an RS/ES issuer is looked up
 * with OpenID discovery. */
static paa_idp_conf *discovered(apr_pool_t *p, paa_srv_conf *c)
{
    if (!c->idp && !paa_jwt_alg_is_hmac(c->jwt.alg) && !c->jwt_pubkey_src &&
        c->jwt.issuer) {
        c->idp = apr_pcalloc(p, sizeof(*c->idp));
        c->idp->users = PAA_UNSET;
        c->idp->slot = -1;
    }
    return c->idp;
}

const char *paa_idp_check(apr_pool_t *p, paa_srv_conf *c)
{
    paa_idp_conf *idp;
    const char *bad;

    if (c->idp && !c->jwt_alg && paa_jwt_alg_is_hmac(c->jwt.alg)) {
        c->jwt.alg = "RS256"; /* what providers sign with by default */
    }
    if (!(idp = discovered(p, c))) {
        return NULL;
    }
    if (idp->owner && idp->owner != c) {
        /* A virtual host inheriting the settings with its own issuer or
         * algorithm: its own key set, never one parsed for another. */
        c->idp = idp = apr_pmemdup(p, idp, sizeof(*idp));
        idp->slot = -1;
        idp->discover = 0;
    }
    idp->owner = c;
    if (!idp->jwks_url && !c->jwt_pubkey_src) {
        if (!c->jwt.issuer) {
            return "an identity provider needs PAAJWTJWKS, PAAJWTPublicKey, "
                   "or PAAJWTIssuer "
                   "for OpenID discovery";
        }
        if ((bad = paa_jwks_url_invalid(c->jwt.issuer)) ||
            !strncmp(c->jwt.issuer, "file:", 5)) {
            return apr_psprintf(p,
                                "PAAJWTIssuer %s: discovery needs an "
                                "https:// issuer (%s)",
                                c->jwt.issuer, bad ? bad : "file:");
        }
        idp->discover = 1;
    }
    if (idp->jwks_url || idp->discover) {
        if (paa_jwt_alg_is_hmac(c->jwt.alg)) {
            return apr_psprintf(p,
                                "PAAJWTAlgorithm %s: a key set serves "
                                "RS256, RS384, RS512 or ES256 only",
                                c->jwt.alg);
        }
        if (!c->jwt.issuer || !c->jwt.audience) {
            return "an identity provider's tokens need PAAJWTIssuer and "
                   "PAAJWTAudience (this resource's identifier): otherwise "
                   "a token it issued for another service would be accepted";
        }
        if (idp->slot < 0) {
            idp->slot = paa_jwks_slots++;
        }
    }
    c->jwt.max_lifetime =
        idp->max_lifetime ? idp->max_lifetime : PAA_IDP_MAX_LIFETIME;
    c->jwt.principal_claim = idp->principal_claim;
    c->jwt.roles_claim = idp->roles_claim;
    return NULL;
}

int paa_idp_is_external(request_rec *r, const paa_jwt_claims_t *claims)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    int users = sc->idp ? sc->idp->users : PAA_UNSET;
    paa_db_t *db;
    paa_user_t u;
    int found = 0;

    if (users == PAA_USERS_EXTERNAL) {
        return 1;
    }
    if (users != PAA_USERS_EITHER) {
        return 0;
    }
    if (!(db = paa_db(r)) ||
        paa_users_by_id(r->pool, db, claims->sub, &u, &found) != APR_SUCCESS) {
        return -1;
    }
    return !found;
}

typedef struct {
    apr_pool_t *p;
    const char *out;
} roles_acc_t;

static void add_role(roles_acc_t *acc, const char *role)
{
    apr_array_header_t *have;
    int i;
    if (paa_role_invalid(role)) {
        return; /* a provider's group name need not be a role of ours */
    }
    have = paa_split_list(acc->p, acc->out);
    for (i = 0; i < have->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(have, i, const char *), role)) {
            return;
        }
    }
    acc->out =
        *acc->out ? apr_pstrcat(acc->p, acc->out, ",", role, NULL) : role;
}

static int map_one(void *data, const char *key, const char *value)
{
    add_role(data, ((const role_pair_t *)value)->to);
    return 1;
}

/* The provider's roles as mod_paa roles: through the map when there is
 * one (unmapped roles are dropped), else those that are valid role names
 * as they are. */
static const char *map_roles(apr_pool_t *p, const paa_idp_conf *idp,
                             const apr_array_header_t *ext)
{
    roles_acc_t acc = {p, ""};
    int i;

    for (i = 0; ext && i < ext->nelts; i++) {
        const char *role = APR_ARRAY_IDX(ext, i, const char *);
        if (idp->role_map) {
            apr_table_do(map_one, &acc, idp->role_map, role, NULL);
        }
        else {
            add_role(&acc, role);
        }
    }
    return acc.out;
}

const char *paa_idp_principal(request_rec *r, const paa_jwt_claims_t *claims,
                              paa_principal_t *pr)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    const char *id = claims->principal, *c;

    if (!id || strlen(id) > PAA_PRINCIPAL_MAX) {
        return "the principal claim is missing or longer than 256 bytes";
    }
    if (!strncmp(id, "usr_", 4) || !strncmp(id, "key_", 4) ||
        !strncmp(id, "legacy:", 7)) {
        /* Chats, consent and erasure are keyed by REMOTE_USER: a name a
         * provider's user may choose (preferred_username) must never be
         * one of our users' or keys' ids. */
        return "the principal claim looks like a local user or key id";
    }
    for (c = id; *c; c++) {
        if (apr_iscntrl(*c)) {
            /* It becomes REMOTE_USER, a header and a log field. */
            return "the principal claim contains control characters";
        }
    }
    pr->method = "jwt";
    pr->id = id;
    pr->external = 1;
    pr->scopes = claims->scopes;
    pr->roles_text = map_roles(r->pool, sc->idp, claims->ext_roles);
    return NULL;
}
