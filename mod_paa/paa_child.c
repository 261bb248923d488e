/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The children's HOME. httpd started by root (from a shell, sudo, CI)
 * hands root's HOME to children that have already become User (www-data).
 * libpq looks in $HOME/.postgresql/ for a client certificate and key,
 * root.crt and root.crl whenever it sets up TLS, and treats a missing file
 * as "none" but a refused stat() (EACCES) as a failed connection: with
 * sslmode=require or verify-full every request that needed the database
 * answered 503, and with the default sslmode=prefer libpq quietly fell back
 * to plain text. paactl, run by root, could read HOME and worked. So, before
 * mod_dbd opens its connections, a HOME the child cannot search is replaced
 * by the child user's own home, which is what libpq uses when HOME is unset
 * and where that user's own ~/.postgresql/ belongs. */

#include "paa_private.h"

#include <apr_strings.h>

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

/* Debian's name for "no home" (policy 9.2.3): it must never exist, so
 * libpq finds no files there and goes on without them. */
#define PAA_NO_HOME "/nonexistent"

/* 1 when libpq, as this process, can look into DIR/.postgresql/: the
 * directories can be searched, or one is missing (libpq accepts ENOENT and
 * ENOTDIR as "no file"). Searching is all a stat() needs. */
static int home_usable(apr_pool_t *p, const char *dir)
{
    const char *sub;
    if (access(dir, X_OK) != 0) {
        return errno == ENOENT || errno == ENOTDIR;
    }
    sub = apr_pstrcat(p, dir, "/.postgresql", NULL);
    if (access(sub, X_OK) != 0) {
        return errno == ENOENT || errno == ENOTDIR;
    }
    return 1;
}

void paa_child_home(apr_pool_t *p, server_rec *s)
{
    const char *home = getenv("HOME"), *repl = PAA_NO_HOME;
    struct passwd *pw;

    /* Unset or empty: libpq asks the password database itself. */
    if (!paa_in_use || !home || !*home || home_usable(p, home)) {
        return;
    }
    home = apr_pstrdup(p, home); /* setenv may free the old string */
    /* child_init runs before the worker threads exist: getpwuid's static
     * buffer and setenv cannot race with anything yet. */
    pw = getpwuid(getuid());
    if (pw && pw->pw_dir && *pw->pw_dir && home_usable(p, pw->pw_dir)) {
        repl = apr_pstrdup(p, pw->pw_dir);
    }
    if (setenv("HOME", repl, 1) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, s,
                     PAALOGNO(01101) "cannot set HOME to %s for libpq", repl);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 PAALOGNO(01102) "HOME %s cannot be searched by uid %ld; "
                                 "HOME is now %s (libpq reads "
                                 "~/.postgresql/ there)",
                 home, (long)getuid(), repl);
}
