/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl backup and restore: the guide's "Recover: restore from clean
 * backups". A backup holds every key hash, password hash and audit record,
 * so it is created with mode 0600 and never overwrites a file. SQLite is
 * copied online by the store (VACUUM INTO); PostgreSQL by pg_dump of the
 * paa_ tables, whose password goes in the child's PGPASSWORD, never in its
 * argv (which every local user can read in ps). A restore refuses to
 * overwrite a database that holds data unless --force: restoring the
 * wrong file over production is the mistake to prevent. */

#include "paactl.h"

#include <apr_strings.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SQLITE_MAGIC "SQLite format 3"
#define PGDUMP_MAGIC "PGDMP"

static void backup_help(void)
{
    printf("usage: paactl backup FILE\n\n"
           "Write a consistent copy of the database to FILE (mode 0600; an "
           "existing FILE\nis never overwritten) while httpd keeps running. "
           "SQLite: VACUUM INTO.\nPostgreSQL: pg_dump (from PATH) of the paa_ "
           "tables, custom format; the\npassword goes to pg_dump in "
           "PGPASSWORD, never on its command line.\nAudited (backup.create): "
           "'paactl check' reports the age of the last one.\n");
}

static void restore_help(void)
{
    printf(
        "usage: paactl restore FILE [--force]\n\n"
        "Replace the database's contents by a backup made with 'paactl "
        "backup'.\nA database that holds keys, users, personas or audit "
        "records is refused\nunless --force. SQLite: the file is replaced "
        "atomically (owner and mode\nkept) while httpd is stopped (it is "
        "refused while the database is open).\nPostgreSQL: pg_restore --clean "
        "in one transaction. Audited (db.restore,\nin the restored "
        "database).\n\n"
        "  --force   overwrite a database that holds data\n");
}

/* FILE and --force; returns PAACTL_OK, -1 after help, or a usage error. */
static int file_args(const char *cmd, int argc, char **argv, int allow_force,
                     void (*help)(void), const char **file, int *force)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    *force = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'f' && allow_force) {
            *force = 1;
        }
        else if (c == 'h') {
            help();
            return -1;
        }
        else {
            return paactl_usage_error(cmd, "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return paactl_usage_error(cmd, "FILE is missing");
    }
    if (argc - optind > 1) {
        return paactl_usage_error(cmd, "unexpected argument '%s'",
                                  argv[optind + 1]);
    }
    *file = argv[optind];
    return PAACTL_OK;
}

/* Splits PostgreSQL parameters (key=value words, or a URI without a
 * password) into the conninfo without the password, and the password
 * ('quotes' removed). PAACTL_OK, or PAACTL_FAIL for what it cannot split
 * without the password ending up on pg_dump's command line. */
static int pg_split(apr_pool_t *p, const char *params, const char **conninfo,
                    const char **password)
{
    apr_array_header_t *kept = apr_array_make(p, 8, sizeof(const char *));
    char *copy = apr_pstrdup(p, params), *tok, *state;
    const char *unsafe = "PAA_DB_PARAMS for paactl backup/restore must give "
                         "the password as password=VALUE (without spaces), "
                         "so that it can reach pg_dump outside its command "
                         "line; nothing was changed";

    *password = NULL;
    if (!strncmp(params, "postgres", 8)) {
        const char *at = strchr(params, '@'), *colon = strchr(params + 11, ':');
        if ((at && colon && colon < at) || strstr(params, "password=")) {
            return paactl_fail("%s", unsafe);
        }
        *conninfo = params;
        return PAACTL_OK;
    }
    for (tok = apr_strtok(copy, " \t", &state); tok;
         tok = apr_strtok(NULL, " \t", &state)) {
        if (!strncmp(tok, "password=", 9)) {
            char *v = tok + 9;
            apr_size_t n = strlen(v);
            if (*v == '\'') {
                if (n < 2 || v[n - 1] != '\'' || strchr(v, '\\')) {
                    return paactl_fail("%s", unsafe);
                }
                v[n - 1] = '\0';
                v++;
            }
            *password = v;
        }
        else {
            APR_ARRAY_PUSH(kept, const char *) = tok;
        }
    }
    *conninfo = apr_array_pstrcat(p, kept, ' ');
    return PAACTL_OK;
}

/* Runs argv[0] (from PATH) with PGPASSWORD set in the child only and
 * umask 077; the exit status, or -1 when it could not run. */
static int pg_run(const char *const *argv, const char *password)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        umask(077);
        if (password) {
            setenv("PGPASSWORD", password, 1);
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "paactl: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* FILE created empty with mode 0600, so that no other user can open the
 * backup while it is written; an existing file is refused. */
static int create_private(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return paactl_fail("cannot create %s: %s%s", file, strerror(errno),
                           errno == EEXIST ? " (a backup never overwrites a "
                                             "file; choose a new name)"
                                           : "");
    }
    close(fd);
    return PAACTL_OK;
}

int paactl_cmd_backup(paactl_t *ctl, int argc, char **argv)
{
    const char *file, *conninfo, *password;
    paa_db_t *db;
    struct stat st;
    int rc, force;

    rc = file_args("backup", argc, argv, 0, backup_help, &file, &force);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if ((rc = create_private(file)) != PAACTL_OK) {
        return rc;
    }
    if (!db->pgsql) {
        if (paa_backup_sqlite(ctl->pool, db, file) != APR_SUCCESS) {
            unlink(file);
            return paactl_db_error(db, "back up the database", db->error);
        }
    }
    else {
        const char *args[] = {"pg_dump",
                              "--format=custom",
                              "--no-owner",
                              "--no-privileges",
                              "--table=paa_*",
                              NULL,
                              NULL,
                              NULL};
        if (pg_split(ctl->pool, db->params, &conninfo, &password) !=
            PAACTL_OK) {
            unlink(file);
            return PAACTL_FAIL;
        }
        args[5] = apr_pstrcat(ctl->pool, "--file=", file, NULL);
        args[6] = apr_pstrcat(ctl->pool, "--dbname=", conninfo, NULL);
        if ((rc = pg_run(args, password)) != 0) {
            unlink(file);
            return paactl_fail("pg_dump failed (exit status %d); no backup "
                               "was made",
                               rc);
        }
    }
    if (stat(file, &st) != 0 || st.st_size == 0) {
        unlink(file);
        return paactl_fail("the backup %s is empty; it was removed", file);
    }
    paactl_audit_change(ctl, db, "backup.create", NULL, NULL,
                        apr_psprintf(ctl->pool, "file=%s driver=%s bytes=%lld",
                                     file, db->driver_name,
                                     (long long)st.st_size));
    fprintf(stderr, "backed up %s database %s to %s (%lld bytes, mode 0600)\n",
            db->driver_name, db->label, file, (long long)st.st_size);
    return PAACTL_OK;
}

/* The backup's first bytes say which database made it. */
static int backup_kind(const char *file, const char *want)
{
    char head[16] = {0};
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return paactl_fail("cannot read %s: %s", file, strerror(errno));
    }
    n = read(fd, head, sizeof(head) - 1);
    close(fd);
    if (n < (ssize_t)strlen(want) || memcmp(head, want, strlen(want))) {
        return paactl_fail("%s is not a %s backup made by paactl backup for "
                           "this database driver; nothing was changed",
                           file,
                           !strcmp(want, SQLITE_MAGIC) ? "SQLite" : "pg_dump");
    }
    return PAACTL_OK;
}

/* Copies file next to target (same owner and mode as target), then renames
 * it over target: readers see the old database or the new one, whole. */
static int sqlite_replace(paactl_t *ctl, const char *file, const char *target)
{
    char *tmp = apr_pstrcat(ctl->pool, target, ".restore.XXXXXX", NULL);
    char buf[65536];
    struct stat st;
    int in, out;
    ssize_t n;

    if (stat(target, &st) != 0) {
        return paactl_fail("cannot stat %s: %s", target, strerror(errno));
    }
    if ((in = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
        return paactl_fail("cannot read %s: %s", file, strerror(errno));
    }
    if ((out = mkstemp(tmp)) < 0) {
        close(in);
        return paactl_fail("cannot write next to %s: %s", target,
                           strerror(errno));
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    }
    close(in);
    if (n < 0 || fchmod(out, st.st_mode & 07777) != 0 ||
        ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
         fchown(out, st.st_uid, st.st_gid) != 0) ||
        fsync(out) != 0 || close(out) != 0 || rename(tmp, target) != 0) {
        int e = errno;
        unlink(tmp);
        return paactl_fail("cannot replace %s: %s; it was left unchanged",
                           target, strerror(e));
    }
    return PAACTL_OK;
}

/* SQLite: the file is replaced while nobody has the database open. */
static int restore_sqlite(paactl_t *ctl, paa_db_t *db, const char *file)
{
    /* The database is in WAL mode: its -wal file exists while any process
     * has it open, and a file renamed under a live WAL would be corrupted
     * by it. Closed here, it remains only if httpd (or another paactl) has
     * the database open. */
    paa_db_close(db);
    ctl->db = NULL;
    if (access(apr_pstrcat(ctl->pool, db->params, "-wal", NULL), F_OK) == 0 ||
        access(apr_pstrcat(ctl->pool, db->params, "-journal", NULL), F_OK) ==
            0) {
        return paactl_fail("%s is in use (httpd running?): stop httpd, "
                           "restore, then start it; nothing was changed",
                           db->params);
    }
    return sqlite_replace(ctl, file, db->params);
}

/* PostgreSQL: pg_restore in one transaction, the password in its
 * environment. */
static int restore_pgsql(paactl_t *ctl, paa_db_t *db, const char *file)
{
    const char *conninfo, *password;
    const char *args[] = {"pg_restore",
                          "--clean",
                          "--if-exists",
                          "--no-owner",
                          "--no-privileges",
                          "--single-transaction",
                          "--exit-on-error",
                          NULL,
                          NULL,
                          NULL};
    int rc;

    if (pg_split(ctl->pool, db->params, &conninfo, &password) != PAACTL_OK) {
        return PAACTL_FAIL;
    }
    args[7] = apr_pstrcat(ctl->pool, "--dbname=", conninfo, NULL);
    args[8] = file;
    if ((rc = pg_run(args, password)) != 0) {
        return paactl_fail("pg_restore failed (exit status %d); the "
                           "database was left as it was (one transaction)",
                           rc);
    }
    paa_db_close(db);
    ctl->db = NULL;
    return PAACTL_OK;
}

/* As paactl migrate: an older backup gets the current schema, and SQLite
 * its WAL mode back; the record goes into the restored database, which is
 * the one that lives on. */
static int restore_finish(paactl_t *ctl, const char *file, int forced)
{
    const char *err = NULL;
    paa_db_t *db;
    int from = 0, to = 0;

    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_schema_migrate(ctl->pool, db, &from, &to, &err) != APR_SUCCESS) {
        return paactl_fail("restored, but the schema could not be "
                           "upgraded: %s; run paactl migrate",
                           err);
    }
    if (from != to) {
        fprintf(stderr, "upgraded the restored schema from version %d to %d\n",
                from, to);
    }
    paactl_audit_change(ctl, db, "db.restore", NULL, NULL,
                        apr_psprintf(ctl->pool, "file=%s driver=%s%s", file,
                                     db->driver_name, forced ? " forced" : ""));
    fprintf(stderr, "restored %s database %s from %s\n", db->driver_name,
            db->label, file);
    return PAACTL_OK;
}

int paactl_cmd_restore(paactl_t *ctl, int argc, char **argv)
{
    const char *file;
    apr_int64_t rows = 0;
    paa_db_t *db;
    int rc, force;

    rc = file_args("restore", argc, argv, 1, restore_help, &file, &force);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    rc = backup_kind(file, db->pgsql ? PGDUMP_MAGIC : SQLITE_MAGIC);
    if (rc != PAACTL_OK) {
        return rc;
    }
    /* No schema yet counts as empty: a new server restored from a backup
     * needs no paactl init first. */
    if (paa_backup_rows(ctl->pool, db, &rows) == APR_SUCCESS && rows > 0 &&
        !force) {
        return paactl_fail("%s database %s holds %lld keys, users, personas "
                           "and audit records; restore over it with --force "
                           "(back it up first); nothing was changed",
                           db->driver_name, db->label, (long long)rows);
    }
    rc = db->pgsql ? restore_pgsql(ctl, db, file)
                   : restore_sqlite(ctl, db, file);
    return rc != PAACTL_OK ? rc : restore_finish(ctl, file, rows > 0);
}
