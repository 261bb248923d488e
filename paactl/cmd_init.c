/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl init / migrate: create or upgrade the schema. Idempotent, so
 * install scripts and the quick start can run it every time. */

#include "paactl.h"

#include <apr_strings.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite would create a missing database file with the mode the umask
 * leaves (0644 under the usual 022) and, when paactl runs as root (package
 * scripts, sudo), owned by root: httpd's children could not write it and
 * every local user could read the key hashes and the audit trail. So the
 * file is created here first, empty (SQLite takes an empty file as a new
 * database), with mode 0600 whatever the umask and, as root, owned by the
 * owner of its directory: /var/lib/paa belongs to www-data. An existing
 * file is left alone; a missing directory is reported by paactl_db. */
static int sqlite_create(paactl_t *ctl)
{
    apr_table_t *env;
    const char *driver, *params, *err = NULL, *step;
    struct stat dir;
    int fd, e;

    if (paa_env_load(ctl->pool, ctl->config_path, &env, &err) != APR_SUCCESS) {
        return PAACTL_OK; /* paactl_db reports it */
    }
    driver = paa_env_get(env, "PAA_DB_DRIVER");
    params = paa_env_get(env, "PAA_DB_PARAMS");
    if (!driver || strcmp(driver, "sqlite3") || !params || !*params ||
        *params == ':' || !strncmp(params, "file:", 5)) {
        return PAACTL_OK;
    }
    fd = open(params, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              S_IRUSR | S_IWUSR);
    if (fd < 0) {
        return PAACTL_OK; /* it exists, or SQLite will say why not */
    }
    step = "cannot set its mode to 0600";
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
        goto fail;
    }
    if (geteuid() == 0 &&
        stat(dirname(apr_pstrdup(ctl->pool, params)), &dir) == 0) {
        step = "cannot give it to the owner of its directory";
        if (dir.st_uid != 0 && fchown(fd, dir.st_uid, dir.st_gid) != 0) {
            goto fail;
        }
        if (dir.st_uid == 0) {
            fprintf(stderr,
                    "paactl: note: %s belongs to root, as its directory "
                    "does: httpd's children cannot write it until it is "
                    "given to their user (chown www-data)\n",
                    params);
        }
    }
    close(fd);
    return PAACTL_OK;
fail:
    e = errno;
    close(fd);
    unlink(params);
    return paactl_fail("cannot create sqlite3 database %s: %s: %s", params,
                       step, strerror(e));
}

static int run_migrate(paactl_t *ctl, int argc, char **argv, const char *name)
{
    paa_db_t *db;
    const char *err = NULL;
    int from = 0, to = 0;

    if (paactl_wants_help(argc, argv)) {
        printf("usage: paactl %s\n\n"
               "Create the mod_paa schema in the configured database, or "
               "upgrade it\nto version %d. Safe to run again: an up-to-date "
               "schema is left alone.\n",
               name, PAA_SCHEMA_VERSION);
        return PAACTL_OK;
    }
    if (argc > 1) {
        return paactl_usage_error(name, "unexpected argument '%s'", argv[1]);
    }
    ctl->create_db = 1;
    if (sqlite_create(ctl) != PAACTL_OK || paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_schema_migrate(ctl->pool, db, &from, &to, &err) != APR_SUCCESS) {
        return paactl_fail("%s database %s: schema upgrade failed, nothing "
                           "was changed: %s",
                           db->driver_name, db->label, err);
    }
    if (from == to) {
        printf("schema is up to date (version %d) in %s database %s\n", to,
               db->driver_name, db->label);
    }
    else if (from == 0) {
        printf("created schema version %d in %s database %s\n", to,
               db->driver_name, db->label);
    }
    else {
        printf("upgraded schema from version %d to %d in %s database %s\n",
               from, to, db->driver_name, db->label);
    }
    return PAACTL_OK;
}

int paactl_cmd_init(paactl_t *ctl, int argc, char **argv)
{
    return run_migrate(ctl, argc, argv, "init");
}

int paactl_cmd_migrate(paactl_t *ctl, int argc, char **argv)
{
    return run_migrate(ctl, argc, argv, "migrate");
}
