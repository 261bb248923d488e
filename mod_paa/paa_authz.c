/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* "Require paa-role ROLE..." (any of them): the guide's @Roles('admin') as
 * an authz provider, so <RequireAll>, <RequireAny> and <Limit> compose it
 * and mod_authz_core decides between 401 and 403. Roles come from the
 * principal mod_paa authenticated; another module's REMOTE_USER has none. */

#include "paa_private.h"

#include "mod_auth.h"
#include "apr_strings.h"

static const char *role_parse(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    apr_array_header_t *roles =
        apr_array_make(cmd->pool, 2, sizeof(const char *));
    const char *w;

    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        const char *bad = paa_role_invalid(w);
        if (bad) {
            return apr_psprintf(cmd->pool, "Require paa-role %s: %s", w, bad);
        }
        APR_ARRAY_PUSH(roles, const char *) = w;
    }
    if (!roles->nelts) {
        return "Require paa-role needs at least one role";
    }
    *parsed = roles;
    return NULL;
}

static authz_status role_check(request_rec *r, const char *line,
                               const void *parsed)
{
    const apr_array_header_t *want = parsed;
    const paa_principal_t *pr;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    pr = paa_principal(r);
    if (pr && paa_roles_intersect(r->pool, pr->roles_text, want)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(
        APLOG_MARK, APLOG_INFO, 0, r,
        PAALOGNO(00601) "%s (roles: %s) lacks a role required by 'Require "
                        "paa-role %s' for %s",
        r->user, pr && *pr->roles_text ? pr->roles_text : "none", line, r->uri);
    paa_error(r, HTTP_FORBIDDEN, "this requires a role you do not have");
    return AUTHZ_DENIED;
}

const authz_provider paa_role_provider = {role_check, role_parse};

/* "Require paa-scope SCOPE...": every scope named must be in the token's
 * scope claim (RFC 6750 3.1: 403 insufficient_scope, and the scope the
 * client should ask its authorization server for). API keys and our own
 * tokens carry no scopes. */
static const char *scope_parse(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    apr_array_header_t *scopes =
        apr_array_make(cmd->pool, 2, sizeof(const char *));
    const char *w, *c;

    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        for (c = w; *c; c++) {
            /* RFC 6749 3.3 scope-token characters, and no quote. */
            if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') {
                return apr_psprintf(cmd->pool,
                                    "Require paa-scope %s: not a scope", w);
            }
        }
        APR_ARRAY_PUSH(scopes, const char *) = w;
    }
    if (!scopes->nelts) {
        return "Require paa-scope needs at least one scope";
    }
    *parsed = scopes;
    return NULL;
}

static int has_scope(const apr_array_header_t *have, const char *want)
{
    int i;
    for (i = 0; have && i < have->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(have, i, const char *), want)) {
            return 1;
        }
    }
    return 0;
}

static authz_status scope_check(request_rec *r, const char *line,
                                const void *parsed)
{
    const apr_array_header_t *want = parsed;
    const paa_principal_t *pr;
    int i, missing = 0;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    pr = paa_principal(r);
    for (i = 0; i < want->nelts; i++) {
        missing |=
            !pr || !has_scope(pr->scopes, APR_ARRAY_IDX(want, i, const char *));
    }
    if (!missing) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  PAALOGNO(01710) "%s lacks a scope required by 'Require "
                                  "paa-scope %s' for %s",
                  r->user, line, r->uri);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool,
                                "Bearer realm=\"%s\", "
                                "error=\"insufficient_scope\", scope=\"%s\"",
                                ap_auth_name(r) ? ap_auth_name(r) : "paa",
                                apr_array_pstrcat(r->pool, want, ' ')));
    paa_error(r, HTTP_FORBIDDEN, "the access token lacks a required scope");
    return AUTHZ_DENIED;
}

const authz_provider paa_scope_provider = {scope_check, scope_parse};
