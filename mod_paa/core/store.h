/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file store.h
 * @brief The typed stores: one per table family, each owning its SQL and
 * its row mapping (store_<family>.c). The module and paactl call the same
 * functions; no column index appears outside the store files.
 *
 * Conventions: pool first, database second, out-parameters last; the
 * return value is APR_SUCCESS or APR_EGENERAL with db->error set (and
 * reported through db->log). Lookups say whether a row was found in
 * *found. Times are Unix seconds, 0 for "never".
 */
#ifndef PAA_STORE_H
#define PAA_STORE_H

#include "db.h"

#include <jansson.h>

/* ---------------------------------------------------------------- keys */

typedef struct {
    const char *id;
    const char *prefix;
    const char *name;
    const char *client;         /* "" when none */
    const char *roles;          /* comma-separated, "" when none */
    const char *created_by;     /* "" when unknown */
    const char *revoked_reason; /* NULL when none */
    const char *rotated_from;   /* NULL unless made by a rotation */
    const char *replaced_by;    /* newest key rotated from this one */
    apr_int64_t created_at;
    apr_int64_t expires_at;
    apr_int64_t revoked_at;
    apr_int64_t last_used_at;
} paa_key_t;

/** The key with this SHA-256 hex (replaced_by is not looked up). */
apr_status_t paa_keys_by_hash(apr_pool_t *p, paa_db_t *db, const char *hash,
                              paa_key_t *out, int *found);

/** Record a use: last_used_at = at. */
apr_status_t paa_keys_touch(apr_pool_t *p, paa_db_t *db, const char *id,
                            apr_int64_t at);

/* --------------------------------------------------------------- users */

typedef struct {
    const char *id;
    const char *username;
    const char *roles;         /* comma-separated, "" when none */
    const char *password_hash; /* only from paa_users_by_name */
    int disabled;
    apr_int64_t created_at;
    apr_int64_t updated_at;
} paa_user_t;

apr_status_t paa_users_by_id(apr_pool_t *p, paa_db_t *db, const char *id,
                             paa_user_t *out, int *found);

/** With the password hash, for a login. */
apr_status_t paa_users_by_name(apr_pool_t *p, paa_db_t *db,
                               const char *username, paa_user_t *out,
                               int *found);

/* ------------------------------------------------------ login attempts */

/** Record a login attempt (counted as a failure until cleared). */
apr_status_t paa_logins_add(apr_pool_t *p, paa_db_t *db, const char *id,
                            const char *username, const char *client,
                            apr_int64_t at);

/** Forget one attempt (a refused one must not extend a lockout). */
apr_status_t paa_logins_forget(apr_pool_t *p, paa_db_t *db, const char *id);

/** Attempts for username from client after since, and the oldest's time
 * (now when none). */
apr_status_t paa_logins_count(apr_pool_t *p, paa_db_t *db, const char *username,
                              const char *client, apr_int64_t since, int *count,
                              apr_int64_t *oldest);

/** Attempts from client, all usernames, after since. */
apr_status_t paa_logins_count_client(apr_pool_t *p, paa_db_t *db,
                                     const char *client, apr_int64_t since,
                                     int *count);

/** Drop client's attempts at or before 'before' (outside the window). */
apr_status_t paa_logins_expire(apr_pool_t *p, paa_db_t *db, const char *client,
                               apr_int64_t before);

/** A successful login clears username's failures from client. */
apr_status_t paa_logins_clear(apr_pool_t *p, paa_db_t *db, const char *username,
                              const char *client);

/* ------------------------------------------------------------ personas */

/* paa_persona_t (core/paa.h) is the row: validation and storage share it. */
typedef struct paa_persona_t paa_persona_t;

apr_status_t paa_personas_count(apr_pool_t *p, paa_db_t *db, int *count);

/** One page in id order, as an array of paa_persona_t. */
apr_status_t paa_personas_page(apr_pool_t *p, paa_db_t *db, int limit,
                               int offset, apr_array_header_t **out);

apr_status_t paa_personas_get(apr_pool_t *p, paa_db_t *db, const char *id,
                              paa_persona_t *out, int *found);

/** Insert with created_at = updated_at = now; *nrows 0 when it exists
 * (a unique violation is reported as an error by the driver). */
apr_status_t paa_personas_insert(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *persona, apr_int64_t now);

/** Update every field but id and created_at; *nrows 0 when missing. */
apr_status_t paa_personas_update(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *persona, apr_int64_t now,
                                 int *nrows);

apr_status_t paa_personas_delete(apr_pool_t *p, paa_db_t *db, const char *id,
                                 int *nrows);

/* ---------------------------------------------------------------- chat */

typedef struct {
    const char *id;
    const char *principal; /* the owner: nobody else may use it */
    const char *agent_id;
    apr_int64_t created_at;
    apr_int64_t expires_at;
} paa_chat_session_t;

apr_status_t paa_chat_session_get(apr_pool_t *p, paa_db_t *db, const char *id,
                                  paa_chat_session_t *out, int *found);

apr_status_t paa_chat_session_add(apr_pool_t *p, paa_db_t *db,
                                  const paa_chat_session_t *s);

/** The last limit messages of a session, oldest first, as a JSON array
 * of {role, content} (new reference). */
apr_status_t paa_chat_history(apr_pool_t *p, paa_db_t *db, const char *session,
                              int limit, json_t **out);

apr_status_t paa_chat_message_add(apr_pool_t *p, paa_db_t *db,
                                  const char *session, const char *role,
                                  const char *content, apr_int64_t at);

/* ---------------------------------------------------------------- mcp */

typedef struct {
    const char *id;
    const char *principal;
    const char *protocol_version;
    apr_int64_t created_at;
} paa_mcp_session_t;

/** A session created after 'since' (older ones have expired). */
apr_status_t paa_mcp_session_get(apr_pool_t *p, paa_db_t *db, const char *id,
                                 apr_int64_t since, paa_mcp_session_t *out,
                                 int *found);

apr_status_t paa_mcp_session_add(apr_pool_t *p, paa_db_t *db,
                                 const paa_mcp_session_t *s);

/** End id if principal owns it; *nrows 0 otherwise. */
apr_status_t paa_mcp_session_end(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *principal, int *nrows);

/* ----------------------------------------------------------- failovers */

apr_status_t paa_failovers_add(apr_pool_t *p, paa_db_t *db, apr_int64_t at,
                               const char *failed_provider, const char *reason,
                               const char *answered_by);

/* --------------------------------------------------------------- audit */

/** One audit record; empty strings (or NULL) for what does not apply. */
typedef struct {
    const char *event;   /* "key.create", "auth.failure", ... */
    const char *outcome; /* "success" or "failure" */
    const char *actor;   /* who acted: principal id, or "os:USER" */
    const char *subject; /* whom it concerns: user or principal id */
    const char *key_id;  /* never the key itself */
    const char *client_ip;
    const char *detail;
    apr_int64_t at; /* 0: now */
} paa_audit_t;

apr_status_t paa_audit_add(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a);

/** paa_audit_add for paactl: *err carries the failure. */
apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err);

#endif /* PAA_STORE_H */
