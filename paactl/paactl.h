/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#ifndef PAACTL_H
#define PAACTL_H

#include "core/paa.h"

/* Exit statuses, documented in paactl(8). */
#define PAACTL_OK    0
#define PAACTL_FAIL  1
#define PAACTL_USAGE 2

typedef struct {
    apr_pool_t *pool;
    const char *config_path; /* the env file */
    apr_table_t *env;        /* its variables */
    paa_db_t *db;            /* opened on first use */
    int create_db;           /* init/migrate may create a SQLite file */
} paactl_t;

typedef struct {
    const char *name;
    int (*run)(paactl_t *ctl, int argc, char **argv);
    const char *summary;
} paactl_cmd_t;

/* paactl.c: helpers shared by the commands */
int paactl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int paactl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int paactl_wants_help(int argc, char **argv);
apr_status_t paactl_db(paactl_t *ctl, paa_db_t **db);
/**
 * Report a failed database operation ("cannot DOING in DRIVER database
 * LABEL: ERR"), adding the advice to run paactl init when the error says
 * a table is missing. Returns PAACTL_FAIL.
 */
int paactl_db_error(paa_db_t *db, const char *doing, const char *err);

/** "os:USER": who runs paactl, for audit records. */
const char *paactl_actor(paactl_t *ctl);
/** An ISO 8601 UTC time for people and JSON. */
const char *paactl_time(paactl_t *ctl, apr_int64_t unix_seconds);

/* one file per command family */
int paactl_cmd_init(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_migrate(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_keygen(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_rotate(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_revoke(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_list(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_show(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_audit(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_secret(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_user(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_token(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_persona(paactl_t *ctl, int argc, char **argv);

#endif /* PAACTL_H */
