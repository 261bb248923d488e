/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file db.h
 * @brief One database connection as the stores see it, in httpd and in
 * paactl alike.
 *
 * Inside httpd the connection is mod_dbd's (paa_dbd.c wraps the acquired
 * ap_dbd_t); in paactl and the unit tests it is opened with paa_db_open.
 * Either way each store prepares its statements lazily, on the connection
 * that runs them, and only the first time: nothing is registered with
 * mod_dbd, so servers that do not use mod_paa never see our SQL.
 */
#ifndef PAA_DB_H
#define PAA_DB_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_dbd.h>

/** The schema version this build creates and expects. */
#define PAA_SCHEMA_VERSION 11
/* The version that added JWT revocation (paa_revoked_tokens). */
#define PAA_SCHEMA_TOKEN_REVOCATION 6

typedef struct paa_db_t paa_db_t;

/** How a failed statement is reported (the module logs it with its
 * request; paactl reads db->error instead). */
typedef void (*paa_db_log_fn)(void *ctx, const char *label, const char *msg);

struct paa_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_pool_t *pool;        /* as long-lived as the connection */
    apr_hash_t *prepared;    /* label -> apr_dbd_prepared_t *, per connection */
    const char *driver_name; /* "sqlite3" or "pgsql" */
    const char *params;      /* never printed: may hold a password */
    const char *label;       /* safe to print: file or host/dbname */
    int pgsql;
    const char *error; /* the last failure's first line, for messages */
    paa_db_log_fn log;
    void *log_ctx;
};

/**
 * A statement a store owns. The label names it on the connection (a
 * PostgreSQL prepared statement name) and must be unique and start with
 * "paa_"; the SQL must prepare on sqlite3 and pgsql alike, with %d or %lld
 * for integers because pgsql types %s as varchar. An optional filter is
 * "(%s IS NULL OR col = %s)" given NULL to switch it off: sqlite3 binds
 * every argument as text, so a flag such as "%d = 0" would never hold.
 */
typedef struct {
    const char *label;
    const char *sql;
} paa_stmt_t;

/**
 * Open a database through apr_dbd.
 * @param driver "sqlite3" or "pgsql"
 * @param params the DBDParams string
 */
apr_status_t paa_db_open(apr_pool_t *p, const char *driver, const char *params,
                         paa_db_t **db, const char **err);

/**
 * Wrap a connection opened by someone else (mod_dbd). prepared must live
 * as long as the connection: mod_dbd's per-connection table does.
 */
paa_db_t *paa_db_wrap(apr_pool_t *p, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle, apr_pool_t *conn_pool,
                      apr_hash_t *prepared);

void paa_db_close(paa_db_t *db);

/** Run one statement without results; *err carries the driver message. */
apr_status_t paa_db_exec(apr_pool_t *p, paa_db_t *db, const char *sql,
                         const char **err);

/**
 * Run a store's statement that returns rows (all rows must be read with
 * paa_db_next). Failures are in db->error and reported through db->log.
 */
apr_status_t paa_db_select(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                           int nargs, const char **args,
                           apr_dbd_results_t **res);

/** Run a store's statement without rows; nrows may be NULL. */
apr_status_t paa_db_run(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                        int nargs, const char **args, int *nrows);

/** The next row of res into *row: 1, or 0 when there are no more. */
int paa_db_next(apr_pool_t *p, paa_db_t *db, apr_dbd_results_t *res,
                apr_dbd_row_t **row);

/** Column n copied into p; NULL for SQL NULL (and for pgsql's "" NULL). */
const char *paa_db_str(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row, int n);

/** Column n as text, "" for NULL: for NOT NULL DEFAULT '' columns. */
const char *paa_db_text(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row, int n);

/** Column n as an integer; 0 for NULL. */
apr_int64_t paa_db_int(paa_db_t *db, apr_dbd_row_t *row, int n);

/** Unix seconds as a statement argument. */
const char *paa_db_i64(apr_pool_t *p, apr_int64_t v);

/** A row of a walk in chunks: read it (into p, cleared after its chunk)
 * and return its key, which the next chunk starts after. */
typedef const char *(*paa_db_row_fn)(apr_pool_t *p, paa_db_t *db,
                                     apr_dbd_row_t *row, void *baton);
/**
 * Walk a statement's rows in chunks along a unique key ("WHERE key > %s
 * ORDER BY key LIMIT %d"), so that no statement holds the database long
 * and each chunk's memory is freed before the next is read. args are the
 * statement's, of which args[after] (the key the chunk starts after, ""
 * first) and args[size] (the chunk's size) are set here. At most limit
 * rows go to fn; *count is increased by their number.
 */
apr_status_t paa_db_chunks(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                           int nargs, const char **args, int after, int size,
                           int limit, int chunk, paa_db_row_fn fn, void *baton,
                           int *count);
/** Run several statements as one transaction: fn's failure, or a failed
 * commit, rolls everything back. */
apr_status_t paa_db_transaction(apr_pool_t *p, paa_db_t *db,
                                apr_status_t (*fn)(apr_pool_t *p, paa_db_t *db,
                                                   void *baton),
                                void *baton);

/**
 * A database label safe for messages: the SQLite file, or host/dbname for
 * PostgreSQL with any password removed.
 */
const char *paa_db_label(apr_pool_t *p, const char *driver, const char *params);

/* -------------------------------------------------------------- schema */

/** Read the schema version (0 when the schema has not been created). */
apr_status_t paa_schema_version(apr_pool_t *p, paa_db_t *db, int *version,
                                const char **err);

/**
 * Create or upgrade the schema to PAA_SCHEMA_VERSION inside one
 * transaction: a failure leaves the database as it was.
 * @param from the version found before (0: none)
 * @param to the version after
 */
apr_status_t paa_schema_migrate(apr_pool_t *p, paa_db_t *db, int *from, int *to,
                                const char **err);

/** The version a running server sees, through a prepared statement (an
 * error when the schema does not exist). */
apr_status_t paa_schema_current(apr_pool_t *p, paa_db_t *db, int *version);

/** SQLite only: the main database file (NULL for an in-memory one). */
apr_status_t paa_db_sqlite_file(apr_pool_t *p, paa_db_t *db, const char **file);

#endif /* PAA_DB_H */
