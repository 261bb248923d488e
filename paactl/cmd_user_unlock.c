/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl user unlock: lift a login lockout before its window ends (the
 * owner proved who they are some other way, or the "attack" was a script
 * with an old password). The lockout table never holds the name, only
 * paa_login_name_ref of it under the JWT secret, so the refs are computed
 * here from the env file's secrets, as the module computes them: under
 * JWT_SECRET, and under JWT_SECRET_PREVIOUS too, for a server not yet
 * restarted since paactl secret rotate. Kept apart from cmd_user.c, which
 * only dispatches to it. */

#include "paactl.h"

#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

/* Deletes the failures recorded under secret's ref of name; *cleared
 * grows by their number. */
static int unlock_under(paactl_t *ctl, paa_db_t *db, const char *secret,
                        const char *name, int *cleared)
{
    const char *ref;
    int n = 0;

    ref = paa_login_name_ref(ctl->pool, secret, strlen(secret), name);
    if (paa_logins_unlock(ctl->pool, db, ref, &n) != APR_SUCCESS) {
        return paactl_db_error(db, "clear the login failures", db->error);
    }
    *cleared += n;
    return PAACTL_OK;
}

int paactl_user_unlock(paactl_t *ctl, paa_db_t *db, const char *name)
{
    const char *secret = paa_env_get(ctl->env, "JWT_SECRET");
    const char *prev = paa_env_get(ctl->env, "JWT_SECRET_PREVIOUS");
    paa_user_t u;
    int found = 0, cleared = 0, rc;

    if (!secret || !*secret) {
        return paactl_fail("%s has no JWT_SECRET: the lockout is recorded "
                           "under a hash keyed with it, so it cannot be "
                           "found (it ends by itself after 15 minutes)",
                           ctl->config_path);
    }
    if ((rc = unlock_under(ctl, db, secret, name, &cleared)) != PAACTL_OK) {
        return rc;
    }
    if (prev && *prev &&
        (rc = unlock_under(ctl, db, prev, name, &cleared)) != PAACTL_OK) {
        return rc;
    }
    /* A name that is no account can be locked out too (guesses count
     * whether it exists or not), so it is not an error here. */
    if (paa_users_by_name(ctl->pool, db, name, &u, &found) != APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }
    paactl_audit_change(
        ctl, db, "user.unlock", found ? u.id : NULL, NULL,
        apr_psprintf(ctl->pool, "username=%s cleared=%d", name, cleared));
    fprintf(stderr, "user %s%s%s%s: %d recorded login failure%s cleared\n",
            name, found ? " (" : "", found ? u.id : "", found ? ")" : "",
            cleared, cleared == 1 ? "" : "s");
    if (!found) {
        fprintf(stderr, "note: there is no user named %s\n", name);
    }
    return PAACTL_OK;
}
