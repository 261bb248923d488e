/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl secret rotate and secret unset: the incident-response changes of
 * the env file. rotate moves JWT_SECRET to JWT_SECRET_PREVIOUS and puts a
 * fresh one in its place in a single atomic rewrite, so that after a
 * graceful restart tokens already issued keep verifying (mod_paa accepts
 * the previous secret) while new ones are signed with the new secret;
 * unset then removes JWT_SECRET_PREVIOUS to end them, or API_KEYS to end
 * every legacy key. Both rewrite the file as secret set does (temporary
 * file, fsync, rename; mode 0600, owner kept) and audit the change; values
 * are never printed. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void rotate_help(void)
{
    printf(
        "usage: paactl secret rotate JWT_SECRET [--env ENV] [--bytes N] "
        "[--hex]\n\n"
        "Move the current JWT_SECRET to JWT_SECRET_PREVIOUS and generate a "
        "new one\n(as secret set --generate), in one atomic rewrite of the "
        "env file. After a\ngraceful restart new tokens are signed with the "
        "new secret and tokens\nalready issued still verify with the "
        "previous one, until 'paactl secret\nunset JWT_SECRET_PREVIOUS' and "
        "another restart end them. A former\nJWT_SECRET_PREVIOUS is "
        "replaced. Login lockouts in progress are forgotten\n(they are "
        "keyed with the secret).\n\n"
        "  --env ENV   rotate JWT_SECRET_ENV (into JWT_SECRET_PREVIOUS_ENV)\n"
        "  --bytes N   random bytes (24 to 1024, default 32)\n"
        "  --hex       hex instead of base64\n");
}

static void unset_help(void)
{
    printf("usage: paactl secret unset NAME [--env ENV] [--force]\n\n"
           "Remove every definition of NAME from the env file (atomically; "
           "the other\nlines are kept). Unsetting a name that is not there "
           "changes nothing.\nJWT_SECRET itself is refused without --force: "
           "httpd does not start without\nit. Typical uses: "
           "JWT_SECRET_PREVIOUS after a rotation (tokens signed\nwith it are "
           "refused), API_KEYS to disable every legacy key. Reload httpd\n"
           "(apachectl graceful) for the change to apply.\n\n"
           "  --env ENV   remove NAME_ENV instead\n"
           "  --force     allow removing JWT_SECRET\n");
}

typedef struct {
    const char *env;
    long nbytes;
    int hex;
    int force;
} secret_opts_t;

/* The options of rotate (allow_gen) or unset; NAME into *name. Returns
 * PAACTL_OK, -1 after help, or the usage error's status. */
static int opts_parse(const char *cmd, int argc, char **argv, int allow_gen,
                      void (*help)(void), secret_opts_t *o, const char **name)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"bytes", required_argument, NULL, 'b'},
        {"hex", no_argument, NULL, 'x'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *end;
    int c;

    memset(o, 0, sizeof(*o));
    o->nbytes = 32;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((c == 'b' || c == 'x') && !allow_gen) {
            return paactl_usage_error(cmd, "--bytes and --hex are options of "
                                           "secret rotate");
        }
        if (c == 'f' && allow_gen) {
            return paactl_usage_error(cmd, "--force is an option of secret "
                                           "unset");
        }
        switch (c) {
        case 'e':
            o->env = optarg;
            break;
        case 'b':
            o->nbytes = strtol(optarg, &end, 10);
            /* 24 bytes are 32 base64 characters, the JWT minimum. */
            if (*end || end == optarg || o->nbytes < 24 || o->nbytes > 1024) {
                return paactl_usage_error(cmd, "--bytes must be 24 to 1024");
            }
            break;
        case 'x':
            o->hex = 1;
            break;
        case 'f':
            o->force = 1;
            break;
        case 'h':
            help();
            return -1;
        default:
            return paactl_usage_error(cmd, "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return paactl_usage_error(cmd, "NAME is missing");
    }
    if (argc - optind > 1) {
        return paactl_usage_error(cmd, "unexpected argument '%s'",
                                  argv[optind + 1]);
    }
    *name = argv[optind];
    return PAACTL_OK;
}

/* Writes text over f's file, reports and audits; wipes text and f->old. */
static int rewrite(paactl_t *ctl, paactl_env_file_t *f, char *text,
                   apr_size_t len, const char *event, const char *var,
                   const char *detail)
{
    int rc = paactl_env_replace(ctl, f->path, text, len, &f->st, f->exists);

    paa_wipe(f->old, f->oldlen);
    if (rc == PAACTL_OK) {
        paactl_env_mode_report(f);
        paactl_secret_audit(ctl, text, len, event, var, f->path, detail);
    }
    paa_wipe(text, len);
    return rc;
}

/* What was done and what is left to do: reload httpd, and later drop the
 * previous secret. */
static void rotate_report(paactl_t *ctl, const paactl_env_file_t *f,
                          const secret_opts_t *o, const char *var,
                          const char *prev_var, int had_prev)
{
    const char *penv, *pvar = NULL;

    fprintf(stderr,
            "rotated %s in %s: the old value is now %s (the values are not "
            "shown)\n",
            var, f->path, prev_var);
    if (had_prev) {
        fprintf(stderr,
                "the former %s was dropped: tokens signed with it are "
                "refused after the reload\n",
                prev_var);
    }
    /* mod_paa reads JWT_SECRET_ENV when PAA_ENV=ENV is set. */
    penv = apr_table_get(f->env, "PAA_ENV");
    if (!o->env && penv && *penv &&
        paactl_secret_var(ctl, "secret rotate", "JWT_SECRET", penv, &pvar) ==
            PAACTL_OK) {
        fprintf(stderr,
                "note: %s sets PAA_ENV=%s, so mod_paa reads %s when it is "
                "set; rotate that one with --env %s\n",
                f->path, penv, pvar, penv);
    }
    fprintf(stderr,
            "reload httpd (apachectl graceful); once the tokens signed with "
            "the old\nsecret should end: paactl secret unset "
            "JWT_SECRET_PREVIOUS%s%s\n",
            o->env ? " --env " : "", o->env ? o->env : "");
}

int paactl_secret_rotate(paactl_t *ctl, int argc, char **argv)
{
    const char *cmd = "secret rotate", *name, *var, *prev_var, *cur;
    const char *weak = NULL;
    paactl_env_file_t f;
    secret_opts_t o;
    char *fresh, *text, *text2;
    apr_size_t len = 0, len2 = 0;
    int rc, replaced = 0, had_prev;

    rc = opts_parse(cmd, argc, argv, 1, rotate_help, &o, &name);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    /* Only the JWT secret has a "previous" that mod_paa still accepts;
     * other secrets are replaced with secret set. */
    if (strcmp(name, "JWT_SECRET")) {
        return paactl_usage_error(cmd, "only JWT_SECRET can be rotated (use "
                                       "'secret set NAME --generate' for "
                                       "other secrets)");
    }
    if ((rc = paactl_secret_var(ctl, cmd, name, o.env, &var)) != PAACTL_OK ||
        (rc = paactl_secret_var(ctl, cmd, "JWT_SECRET_PREVIOUS", o.env,
                                &prev_var)) != PAACTL_OK) {
        return rc;
    }
    if ((rc = paactl_env_file_load(ctl, &f)) != PAACTL_OK) {
        return rc;
    }
    cur = apr_table_get(f.env, var);
    /* The current secret becomes one httpd must accept at startup. */
    if (!cur || !*cur ||
        (weak = paa_secret_weakness(ctl->pool, cur, strlen(cur))) != NULL) {
        paa_wipe(f.old, f.oldlen);
        return paactl_fail("%s has no acceptable %s to keep as %s%s%s; "
                           "nothing was changed (set one with: paactl secret "
                           "set %s --generate)",
                           f.path, var, prev_var, cur && *cur ? ": " : "",
                           cur && *cur ? weak : "", var);
    }
    had_prev = apr_table_get(f.env, prev_var) != NULL;
    if (!(fresh = paactl_secret_random(ctl, (apr_size_t)o.nbytes, o.hex))) {
        paa_wipe(f.old, f.oldlen);
        return paactl_fail("the random number generator failed; nothing was "
                           "changed");
    }
    text = paactl_env_assign(ctl->pool, f.old, f.oldlen, prev_var, cur,
                             strlen(cur), &len, &replaced);
    text2 = paactl_env_assign(ctl->pool, text, len, var, fresh, strlen(fresh),
                              &len2, &replaced);
    paa_wipe(text, len);
    paa_wipe(fresh, strlen(fresh));
    rc = rewrite(ctl, &f, text2, len2, "secret.rotate", var,
                 apr_psprintf(ctl->pool, "previous=%s%s", prev_var,
                              had_prev ? " (replaced)" : ""));
    if (rc == PAACTL_OK) {
        rotate_report(ctl, &f, &o, var, prev_var, had_prev);
    }
    return rc;
}

int paactl_secret_unset(paactl_t *ctl, int argc, char **argv)
{
    const char *cmd = "secret unset", *name, *var;
    paactl_env_file_t f;
    secret_opts_t o;
    char *text;
    apr_size_t len = 0;
    int rc, removed = 0;

    rc = opts_parse(cmd, argc, argv, 0, unset_help, &o, &name);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = paactl_secret_var(ctl, cmd, name, o.env, &var)) != PAACTL_OK) {
        return rc;
    }
    /* Without its JWT secret httpd refuses to start: that is an outage,
     * not containment, unless asked for. */
    if (!strcmp(name, "JWT_SECRET") && !o.force) {
        return paactl_usage_error(cmd,
                                  "httpd does not start without %s; to end "
                                  "every token, use 'paactl secret rotate "
                                  "JWT_SECRET' then unset "
                                  "JWT_SECRET_PREVIOUS (or --force)",
                                  var);
    }
    if ((rc = paactl_env_file_load(ctl, &f)) != PAACTL_OK) {
        return rc;
    }
    text = paactl_env_remove(ctl->pool, f.old, f.oldlen, var, &len, &removed);
    if (!removed) {
        paa_wipe(f.old, f.oldlen);
        paa_wipe(text, len);
        fprintf(stderr, "%s is not set in %s; nothing changed\n", var, f.path);
        return PAACTL_OK;
    }
    rc = rewrite(ctl, &f, text, len, "secret.unset", var,
                 apr_psprintf(ctl->pool, "removed=%d", removed));
    if (rc == PAACTL_OK) {
        fprintf(stderr,
                "removed %s from %s%s\nreload httpd (apachectl graceful) for "
                "mod_paa to stop using it\n",
                var, f.path,
                removed > 1 ? apr_psprintf(ctl->pool, " (%d lines)", removed)
                            : "");
    }
    return rc;
}
