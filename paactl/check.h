/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check: what its files share. cmd_check.c parses the options and
 * prints the results; each area adds its results in order: the env file
 * (cmd_check_env.c), the httpd configuration's secret sources
 * (cmd_check_conf.c), keys and the database (cmd_check_db.c), and the
 * running server over HTTP (cmd_check_live.c) and TLS (cmd_check_tls.c).
 * Every check only reads: nothing is written to the env file, the database
 * or the server. */

#ifndef PAACTL_CHECK_H
#define PAACTL_CHECK_H

#include "paactl.h"

typedef enum { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_SKIP } check_status_e;

/** One line of the checklist: a stable id for scripts and the tests, and
 * the item of the security guide it stands for. */
typedef struct {
    const char *id;    /* "env.jwt-secret" */
    const char *guide; /* the guide's section, "5.1" */
    const char *item;  /* what is checked, in the guide's words if it has */
} check_def_t;

typedef struct {
    const check_def_t *def;
    check_status_e status;
    const char *reason; /* what was found */
    const char *fix;    /* what to do; NULL for PASS and SKIP */
} check_result_t;

typedef struct {
    paactl_t *ctl;
    apr_array_header_t *results; /* check_result_t, in the order run */
    apr_int64_t now;

    /* thresholds in seconds (the guide's rotation policy by default) */
    apr_int64_t key_max_age;
    apr_int64_t expiry_warning; /* keys and the TLS certificate */
    apr_int64_t key_unused;
    apr_int64_t backup_max_age;

    const char *httpd_conf; /* --httpd-conf, or NULL */
    const char *url;        /* --url, or NULL: offline checks only */
    const char *http_url;   /* --http-url: where plain HTTP is served */
    const char *cacert;     /* --cacert: the CA the certificate must chain to */
    int live_only;

    /* what the env file gave, for the later checks */
    apr_table_t *env;      /* NULL when it could not be read */
    const char *env_error; /* why not */
    apr_int64_t env_mtime; /* when the env file last changed */
    paa_db_t *db;          /* opened on first use, NULL when it failed */
    const char *db_error;  /* why it could not be opened */
    int db_tried;

    /* the live checks' HTTPS endpoint ("https://host:port"), found from
     * --url or from where plain HTTP redirects; NULL when there is none */
    const char *https_base;
} check_t;

/**
 * Add a result. fix is the one-line remedy for WARN and FAIL (ignored for
 * PASS and SKIP); the reason is formatted from fmt.
 */
void check_add(check_t *ck, const check_def_t *d, check_status_e status,
               const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Every check of defs (NULL-terminated) as SKIP with one reason. */
void check_skip_all(check_t *ck, const check_def_t *const *defs,
                    const char *reason);

/** A duration for people: "3 days", "5 hours", "40 seconds". */
const char *check_age(check_t *ck, apr_int64_t seconds);

/** The database named by the env file, opened once, read-only in effect
 * (a missing SQLite file is not created); NULL with ck->db_error set. */
paa_db_t *check_db(check_t *ck);

/* the areas, in the order they run */
void check_env(check_t *ck);
void check_conf(check_t *ck);
void check_keys(check_t *ck);
void check_database(check_t *ck);
void check_live(check_t *ck);

/**
 * The TLS checks of the https endpoint host:port (cmd_check_tls.c): TLS
 * 1.0 and 1.1 refused, TLS 1.2 or later accepted, and its certificate.
 */
void check_tls(check_t *ck, const char *host, const char *port);

#endif /* PAACTL_CHECK_H */
