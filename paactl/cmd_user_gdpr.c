/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl user export | erase | del: what an administrator does for a
 * data-subject request, with the same store functions and the same export
 * document as GET /api/me/export and DELETE /api/me. The pseudonym that
 * replaces an erased user in the audit trail is keyed with the env file's
 * JWT secret, the one httpd uses, so that both name an erased user alike. */

#include "paactl.h"

#include <apr_strings.h>
#include <stdio.h>

static apr_status_t to_stdout(void *ctx, const char *buf, apr_size_t len)
{
    (void)ctx;
    return fwrite(buf, 1, len, stdout) == len ? APR_SUCCESS : APR_EGENERAL;
}

static int need_user(paactl_t *ctl, paa_db_t *db, const char *name,
                     paa_user_t *u)
{
    int found = 0;
    if (paa_users_by_name(ctl->pool, db, name, u, &found) != APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }
    if (!found) {
        return paactl_fail("no user named %s", name);
    }
    return PAACTL_OK;
}

int paactl_user_export(paactl_t *ctl, paa_db_t *db, const char *name)
{
    paa_export_t who;
    paa_user_t u;
    int rc;

    if ((rc = need_user(ctl, db, name, &u)) != PAACTL_OK) {
        return rc;
    }
    who.pool = ctl->pool;
    who.id = u.id;
    who.method = "admin";
    who.now = apr_time_sec(apr_time_now());
    if (paa_gdpr_export(db, &who, to_stdout, NULL) != APR_SUCCESS ||
        fflush(stdout) != 0) {
        return paactl_fail("the export of user %s failed (%s); the output "
                           "is incomplete",
                           name, db->error ? db->error : "cannot write");
    }
    paactl_audit_change(ctl, db, "user.export", u.id, NULL, NULL);
    return PAACTL_OK;
}

/* pseudonym NULL: a deletion, the audit trail keeping the user's id. */
static int remove_user(paactl_t *ctl, paa_db_t *db, const paa_user_t *u,
                       const char *pseudonym, paa_gdpr_erased_t *e)
{
    paa_audit_t rec;

    memset(&rec, 0, sizeof(rec));
    rec.event = pseudonym ? "user.erase" : "user.delete";
    rec.outcome = "success";
    rec.actor = paactl_actor(ctl);
    rec.subject = pseudonym ? pseudonym : u->id;
    /* An erased user's name must not stay in the record of its erasure. */
    rec.detail = pseudonym ? "erased by an administrator"
                           : apr_psprintf(ctl->pool, "username=%s roles=%s",
                                          u->username, u->roles);
    if (paa_gdpr_erase(ctl->pool, db, u->id, pseudonym, &rec, e) !=
        APR_SUCCESS) {
        return paactl_fail("cannot %s user %s: %s; nothing was changed",
                           pseudonym ? "erase" : "delete", u->username,
                           db->error);
    }
    return PAACTL_OK;
}

int paactl_user_erase(paactl_t *ctl, paa_db_t *db, const char *name)
{
    paa_jwt_config_t cfg;
    paa_gdpr_erased_t e;
    const char *err = NULL, *pseudonym;
    apr_int64_t ttl = 0;
    paa_user_t u;
    int rc;

    if ((rc = need_user(ctl, db, name, &u)) != PAACTL_OK) {
        return rc;
    }
    if (paa_jwt_config_from_env(ctl->pool, ctl->env, &cfg, &ttl, &err) !=
        APR_SUCCESS) {
        return paactl_fail("%s: %s", ctl->config_path, err);
    }
    if (!paa_jwt_alg_is_hmac(cfg.alg) || !cfg.key ||
        !(pseudonym = paa_pseudonym(ctl->pool, cfg.key, cfg.key_len, u.id))) {
        return paactl_fail("%s: erasure needs JWT_SECRET (an HMAC "
                           "JWT_ALGORITHM): the audit pseudonym is keyed "
                           "with it",
                           ctl->config_path);
    }
    if ((rc = remove_user(ctl, db, &u, pseudonym, &e)) != PAACTL_OK) {
        return rc;
    }
    fprintf(stderr,
            "erased user %s (%s): %d chat sessions, %d messages, %d MCP "
            "sessions; %d audit records kept as %s\n",
            paactl_printable(ctl, u.username), u.id, e.sessions, e.messages,
            e.mcp_sessions, e.audit, pseudonym);
    return PAACTL_OK;
}

int paactl_user_del(paactl_t *ctl, paa_db_t *db, const char *name)
{
    paa_gdpr_erased_t e;
    paa_user_t u;
    int rc;

    if ((rc = need_user(ctl, db, name, &u)) != PAACTL_OK ||
        (rc = remove_user(ctl, db, &u, NULL, &e)) != PAACTL_OK) {
        return rc;
    }
    fprintf(stderr,
            "deleted user %s (%s) with %d chat sessions, %d messages and %d "
            "MCP sessions; its audit records are kept (paactl user erase "
            "also pseudonymises them)\n",
            paactl_printable(ctl, u.username), u.id, e.sessions, e.messages,
            e.mcp_sessions);
    return PAACTL_OK;
}
