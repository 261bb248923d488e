/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl user logout: JWTs are self-contained, so a stolen one works until
 * it expires unless something newer says otherwise. That is the user's
 * tokens_not_before, read with the user on every token lookup: raising it
 * refuses every token issued up to now at no cost per request. The first
 * second after the logout is the first a new token may carry (iat has
 * whole seconds, and a token from the same second might predate it). */

#include "paactl.h"

#include <apr_strings.h>
#include <stdio.h>

int paactl_user_logout(paactl_t *ctl, paa_db_t *db, const char *name)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    paa_user_t u;
    int found = 0, n = 0;

    if (name) {
        if (paa_users_by_name(ctl->pool, db, name, &u, &found) != APR_SUCCESS) {
            return paactl_db_error(db, "read users", db->error);
        }
        if (!found) {
            return paactl_fail("there is no user named %s", name);
        }
    }
    if (paa_users_logout(ctl->pool, db, name ? u.id : NULL, now + 1, &n) !=
        APR_SUCCESS) {
        return paactl_db_error(db, "log the user out", db->error);
    }
    paactl_audit_change(
        ctl, db, name ? "user.logout" : "user.logout.all", name ? u.id : NULL,
        NULL,
        name ? apr_psprintf(ctl->pool,
                            "username=%s not_before=%" APR_INT64_T_FMT, name,
                            now + 1)
             : apr_psprintf(ctl->pool, "users=%d not_before=%" APR_INT64_T_FMT,
                            n, now + 1));
    if (name) {
        fprintf(stderr,
                "user %s (%s): every token issued before %s is refused\n", name,
                u.id, paactl_time(ctl, now + 1));
    }
    else {
        fprintf(stderr, "%d user%s: every token issued before %s is refused\n",
                n, n == 1 ? "" : "s", paactl_time(ctl, now + 1));
    }
    return PAACTL_OK;
}
