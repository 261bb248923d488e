/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl: the operator's tool for the database and secrets mod_paa uses.
 * It reads the same .env file as the module (PAAEnvFile), so there is one
 * source of truth for the database, JWT secret and legacy API keys. */

#include "paactl.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_env.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>

#ifndef PAA_DEFAULT_CONFIG
#define PAA_DEFAULT_CONFIG "/etc/paa/paa.env"
#endif

static const paactl_cmd_t commands[] = {
    {"init", paactl_cmd_init, "create or upgrade the database schema"},
    {"migrate", paactl_cmd_migrate, "upgrade the database schema (as init)"},
    {"keygen", paactl_cmd_keygen, "create an API key (printed once)"},
    {"rotate", paactl_cmd_rotate,
     "replace a key, the old one valid for a grace"},
    {"revoke", paactl_cmd_revoke, "revoke a key now"},
    {"list", paactl_cmd_list, "list API keys"},
    {"show", paactl_cmd_show, "show one API key"},
    {"audit", paactl_cmd_audit, "what a key or user did, newest first"},
    {"secret", paactl_cmd_secret,
     "generate a secret, or set one in the env file"},
    {"user", paactl_cmd_user, "add, change, disable and delete users"},
    {"token", paactl_cmd_token, "issue and inspect JWTs"},
    {"persona", paactl_cmd_persona, "import personas from JSON, list them"},
    {"providers", paactl_cmd_providers, "LLM provider failovers, newest first"},
    {"backup", paactl_cmd_backup, "a consistent copy of the database"},
    {"restore", paactl_cmd_restore, "restore the database from a backup"},
    {"purge", paactl_cmd_purge,
     "delete what is past retention (PAA_RETENTION_*)"},
    {"check", paactl_cmd_check,
     "the guide's production checklist (exit 1 on a FAIL)"},
    {NULL, NULL, NULL}};

static void usage(FILE *out)
{
    const paactl_cmd_t *c;
    fprintf(out,
            "usage: paactl [--config FILE] COMMAND [ARGS]\n"
            "\n"
            "Manage the database and secrets of mod_paa.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE  the env file shared with mod_paa "
            "(PAAEnvFile);\n"
            "                     default $PAA_CONFIG, else %s\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n"
            "\n"
            "commands:\n",
            PAA_DEFAULT_CONFIG);
    for (c = commands; c->name; c++) {
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    }
    fprintf(out, "\nRun 'paactl COMMAND --help' for a command's options; "
                 "see paactl(8).\n");
}

int paactl_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("paactl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return PAACTL_FAIL;
}

int paactl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "paactl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'paactl %s --help' for usage.\n", cmd);
    return PAACTL_USAGE;
}

int paactl_wants_help(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t load_config(paactl_t *ctl)
{
    const char *err = NULL;
    apr_status_t rv;

    if (ctl->env) {
        return APR_SUCCESS;
    }
    rv = paa_env_load(ctl->pool, ctl->config_path, &ctl->env, &err);
    if (rv == APR_EINVAL) {
        paactl_fail("%s", err); /* found but wrong: the line is named */
    }
    else if (rv != APR_SUCCESS) {
        paactl_fail("%s (use --config FILE or set PAA_CONFIG)", err);
    }
    return rv;
}

apr_status_t paactl_db(paactl_t *ctl, paa_db_t **db)
{
    const char *driver, *params, *err = NULL;
    apr_status_t rv;

    if (ctl->db) {
        *db = ctl->db;
        return APR_SUCCESS;
    }
    if ((rv = load_config(ctl)) != APR_SUCCESS) {
        return rv;
    }
    driver = paa_env_get(ctl->env, "PAA_DB_DRIVER");
    params = paa_env_get(ctl->env, "PAA_DB_PARAMS");
    if (!driver || !params) {
        paactl_fail("%s does not set PAA_DB_DRIVER and PAA_DB_PARAMS",
                    ctl->config_path);
        return APR_EINVAL;
    }
    if (!strcmp(driver, "sqlite3") && *params) {
        /* SQLite would create a missing file on open: only init and
         * migrate may, so a typo in a path does not leave an empty
         * database behind. */
        apr_finfo_t fi;
        char *dir = apr_pstrdup(ctl->pool, params), *slash = strrchr(dir, '/');
        if (slash) {
            *(slash == dir ? slash + 1 : slash) = '\0';
            if (apr_stat(&fi, dir, APR_FINFO_TYPE, ctl->pool) != APR_SUCCESS ||
                fi.filetype != APR_DIR) {
                paactl_fail("cannot open sqlite3 database %s: the directory %s "
                            "does not exist (create it, then run paactl init)",
                            params, dir);
                return APR_ENOENT;
            }
        }
        if (!ctl->create_db &&
            apr_stat(&fi, params, APR_FINFO_TYPE, ctl->pool) != APR_SUCCESS) {
            paactl_fail("sqlite3 database %s does not exist (create it with "
                        "paactl init)",
                        params);
            return APR_ENOENT;
        }
    }
    rv = paa_db_open(ctl->pool, driver, params, &ctl->db, &err);
    if (rv != APR_SUCCESS) {
        paactl_fail("%s", err);
        return rv;
    }
    *db = ctl->db;
    return APR_SUCCESS;
}

int paactl_db_error(paa_db_t *db, const char *doing, const char *err)
{
    int missing =
        err && (strstr(err, "no such table") ||
                (strstr(err, "relation") && strstr(err, "does not exist")));
    return paactl_fail("cannot %s in %s database %s: %s%s", doing,
                       db->driver_name, db->label, err ? err : "failed",
                       missing ? " (has 'paactl init' been run?)" : "");
}

const char *paactl_actor(paactl_t *ctl)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name) {
        return apr_pstrcat(ctl->pool, "os:", pw->pw_name, NULL);
    }
    return apr_psprintf(ctl->pool, "os:uid%ld", (long)geteuid());
}

const char *paactl_time(paactl_t *ctl, apr_int64_t unix_seconds)
{
    return paa_iso_time(ctl->pool, unix_seconds);
}

int main(int argc, char **argv)
{
    paactl_t ctl;
    const paactl_cmd_t *c;
    char *env_config = NULL;
    int i, rc;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    memset(&ctl, 0, sizeof(ctl));
    apr_pool_create(&ctl.pool, NULL);
    if (apr_env_get(&env_config, "PAA_CONFIG", ctl.pool) == APR_SUCCESS &&
        env_config && *env_config) {
        ctl.config_path = env_config;
    }
    else {
        ctl.config_path = PAA_DEFAULT_CONFIG;
    }

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return PAACTL_OK;
        }
        else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("paactl %s\n", PAA_VERSION_STRING);
            return PAACTL_OK;
        }
        else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (++i >= argc) {
                fprintf(stderr, "paactl: %s needs a FILE\n", a);
                return PAACTL_USAGE;
            }
            ctl.config_path = argv[i];
        }
        else if (!strncmp(a, "--config=", 9)) {
            if (!a[9]) {
                fprintf(stderr, "paactl: --config= needs a FILE\n");
                return PAACTL_USAGE;
            }
            ctl.config_path = a + 9;
        }
        else {
            fprintf(stderr, "paactl: unknown option %s\n", a);
            usage(stderr);
            return PAACTL_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return PAACTL_USAGE;
    }
    for (c = commands; c->name; c++) {
        if (!strcmp(c->name, argv[i])) {
            break;
        }
    }
    if (!c->name) {
        fprintf(stderr, "paactl: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return PAACTL_USAGE;
    }
    rc = c->run(&ctl, argc - i, argv + i);
    paa_db_close(ctl.db);
    return rc;
}
