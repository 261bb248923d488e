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
    if (pr && paa_roles_match(pr->roles, want)) {
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
