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
#include "usage.h"

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

/** A key paa_keys_usable found (of it, only id, client, roles and
 * expires_at are read) and its SHA-256 hex, both valid during the call. */
typedef void (*paa_key_fn)(void *baton, const paa_key_t *k, const char *hash);

/**
 * Gives fn each key usable at now (not revoked, not expired), at most
 * limit: all of them when no more are usable, else the most recently used
 * (among those last used at the same time, the first by id; keys never
 * used come last).
 * Read chunk at a time, each chunk's memory freed before the next, so that
 * no statement takes long; *count: how many fn was given.
 */
apr_status_t paa_keys_usable(apr_pool_t *p, paa_db_t *db, apr_int64_t now,
                             int limit, int chunk, paa_key_fn fn, void *baton,
                             int *count);

/** The key with this SHA-256 hex (replaced_by is not looked up). */
apr_status_t paa_keys_by_hash(apr_pool_t *p, paa_db_t *db, const char *hash,
                              paa_key_t *out, int *found);

/** Record a use: last_used_at = at. */
apr_status_t paa_keys_touch(apr_pool_t *p, paa_db_t *db, const char *id,
                            apr_int64_t at);

/* A key's last-used time moves only this much later or more: kept to
 * within 5 minutes, a key in constant use writes its row once every 5
 * minutes rather than at every window (the key.use records keep the
 * exact times). */
#define PAA_LAST_USED_STEP 300

/**
 * Write what paa_usage_take found due (an array of paa_key_use_t), in
 * multi-row statements of 200 uses, all in one transaction on PostgreSQL
 * and each atomic on SQLite (see store_keys.c): last-used times (never
 * moved back, and moved only PAA_LAST_USED_STEP seconds or more) and, for
 * each closed window, one key.use audit record at its first use, with
 * the detail "uses=N last=TIME" (TIME in ISO 8601, UTC).
 */
apr_status_t paa_keys_record_uses(apr_pool_t *p, paa_db_t *db,
                                  const apr_array_header_t *uses);

/**
 * Store a new key under hash, the SHA-256 hex of the whole key. k gives id,
 * prefix, name, client, roles, created_by, created_at, expires_at (0:
 * never) and rotated_from (NULL: none); a duplicate id or hash fails.
 */
apr_status_t paa_keys_add(apr_pool_t *p, paa_db_t *db, const paa_key_t *k,
                          const char *hash);

/** Which keys paa_keys_find returns; NULL and 0 fields do not filter. */
typedef struct {
    const char *id;
    const char *hash;      /* SHA-256 hex of the key */
    apr_int64_t usable_at; /* neither revoked nor expired at this time */
} paa_key_filter_t;

/** The keys that pass every filter set, oldest first (created_at, then
 * id), with replaced_by, as an array of paa_key_t. */
apr_status_t paa_keys_find(apr_pool_t *p, paa_db_t *db,
                           const paa_key_filter_t *f, apr_array_header_t **out);

/** One key by id, with replaced_by. */
apr_status_t paa_keys_get(apr_pool_t *p, paa_db_t *db, const char *id,
                          paa_key_t *out, int *found);

/**
 * Replace next->rotated_from by next, in one transaction: the old key is
 * kept valid until old_until (or its own earlier expiry) and next is added
 * as paa_keys_add does. The old key's state is checked again in the same
 * statement, at next->created_at: *rotated is 0 and nothing changes when it
 * is missing, revoked, expired or already rotated by then.
 */
apr_status_t paa_keys_rotate(apr_pool_t *p, paa_db_t *db, const paa_key_t *next,
                             const char *hash, apr_int64_t old_until,
                             int *rotated);

/** Revoke id at 'at' with reason ("" for none); *nrows 0 when it is
 * missing or already revoked (the first revocation is kept). */
apr_status_t paa_keys_revoke(apr_pool_t *p, paa_db_t *db, const char *id,
                             apr_int64_t at, const char *reason, int *nrows);

/** Which keys paa_keys_revoke_all revokes; NULL fields do not filter. */
typedef struct {
    const char *client;               /* exactly this client */
    const char *role;                 /* holding this role */
    const apr_array_header_t *except; /* ids (const char *) left alone */
} paa_key_match_t;

/**
 * Revoke, in one transaction, every key usable at 'at' (neither revoked
 * nor expired) that m matches, with reason ("" for none): all of them or,
 * on a failure, none. *revoked is an array of the paa_key_t revoked, as
 * they were before.
 */
apr_status_t paa_keys_revoke_all(apr_pool_t *p, paa_db_t *db,
                                 const paa_key_match_t *m, apr_int64_t at,
                                 const char *reason,
                                 apr_array_header_t **revoked);

/* ------------------------------------------------------------- changes */

/** The change markers: counters that move, in the same transaction,
 * with any change to a key, a user or a token revocation (credentials;
 * from version 10 a new key or user moves keys_added instead), with the
 * end of an MCP session, and with any change to a persona. */
typedef struct {
    apr_int64_t credentials;
    apr_int64_t mcp_sessions;
    apr_int64_t personas;
    apr_int64_t keys_added; /* 0 before version 10 */
    int found;              /* 1 when the markers of version 8 were there */
    int personas_found;     /* 1 when the personas' (version 9) was there */
} paa_changes_t;

/** Read every marker; fails before schema version 8. */
apr_status_t paa_changes_read(apr_pool_t *p, paa_db_t *db, paa_changes_t *out);

/* --------------------------------------------------------------- users */

typedef struct {
    const char *id;
    const char *username;
    const char *roles;         /* comma-separated, "" when none */
    const char *password_hash; /* only from paa_users_by_name */
    int disabled;
    apr_int64_t created_at;
    apr_int64_t updated_at;
    /* Tokens issued (iat) before this are refused ('paactl user logout');
     * only from paa_users_for_token, else 0. */
    apr_int64_t tokens_not_before;
} paa_user_t;

apr_status_t paa_users_by_id(apr_pool_t *p, paa_db_t *db, const char *id,
                             paa_user_t *out, int *found);

/** A user paa_users_warm found, tokens_not_before included; valid
 * during the call. */
typedef void (*paa_user_fn)(void *baton, const paa_user_t *u);

/** A revoked token's jti paa_users_warm found; valid during the call. */
typedef void (*paa_jti_fn)(void *baton, const char *jti);

/** More jtis revoked alone than this, and paa_users_warm gives no user:
 * a filter of them (authcache.h) would send most tokens to the database
 * anyway. */
#define PAA_USERS_WARM_REVOKED_MAX 10000

/**
 * Gives fn, at most limit, the users a token's lookup would accept unless
 * the token is too old or revoked by its jti alone: enabled, and none of
 * their tokens revoked. Before them, revoked gets every jti whose
 * revocation is not attributed to an existing user (revoked by its jti
 * alone, or its user deleted since): any of those users' tokens could be
 * one of them. Revocations of tokens that expired before expired_before
 * (which no leeway accepts any more) are left out. So a token of a user
 * given here is not revoked, as long as no revocation came since, unless
 * its jti was given to revoked; "" is given too, for a token without one.
 * Read chunk at a time along the primary keys; *count: how many fn was
 * given. An error while reading the jtis, or more than
 * PAA_USERS_WARM_REVOKED_MAX of them, gives fn no user.
 */
apr_status_t paa_users_warm(apr_pool_t *p, paa_db_t *db,
                            apr_int64_t expired_before, int limit, int chunk,
                            paa_jti_fn revoked, paa_user_fn fn, void *baton,
                            int *count);

/**
 * The user a token names, with tokens_not_before, and *revoked = 1 when
 * jti (may be NULL) was revoked ('paactl token revoke'): one query. On a
 * database older than schema version 6 the plain lookup is used, since
 * nothing can have been revoked there.
 */
apr_status_t paa_users_for_token(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *jti, paa_user_t *out, int *revoked,
                                 int *found);

/**
 * Refuse the tokens of user id (NULL: of every user) issued before
 * not_before, from now on. *nrows: the users changed.
 */
apr_status_t paa_users_logout(apr_pool_t *p, paa_db_t *db, const char *id,
                              apr_int64_t not_before, int *nrows);

/** With the password hash, for a login. */
apr_status_t paa_users_by_name(apr_pool_t *p, paa_db_t *db,
                               const char *username, paa_user_t *out,
                               int *found);

/** Store a new user: every field of u, password_hash included; a
 * duplicate id or username fails. */
apr_status_t paa_users_add(apr_pool_t *p, paa_db_t *db, const paa_user_t *u);

/* The changes below set updated_at = at; *nrows (may be NULL) is 0 when
 * no user has that id. A new password also logs the user out: tokens
 * issued before not_before are refused, as after paa_users_logout. */
apr_status_t paa_users_set_password(apr_pool_t *p, paa_db_t *db, const char *id,
                                    const char *password_hash, apr_int64_t at,
                                    apr_int64_t not_before, int *nrows);

apr_status_t paa_users_set_roles(apr_pool_t *p, paa_db_t *db, const char *id,
                                 const char *roles, apr_int64_t at, int *nrows);

apr_status_t paa_users_set_disabled(apr_pool_t *p, paa_db_t *db, const char *id,
                                    int disabled, apr_int64_t at, int *nrows);

/** Delete a user; audit records about it are kept. */
apr_status_t paa_users_delete(apr_pool_t *p, paa_db_t *db, const char *id,
                              int *nrows);

/** Every user by username, as an array of paa_user_t (no password hash). */
apr_status_t paa_users_list(apr_pool_t *p, paa_db_t *db,
                            apr_array_header_t **out);

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

/** Forget every failure recorded for username (from all clients): an
 * administrator lifting a lockout. *nrows (may be NULL) is how many. */
apr_status_t paa_logins_unlock(apr_pool_t *p, paa_db_t *db,
                               const char *username, int *nrows);

/* ------------------------------------------------------------ personas */

/* paa_persona_t (core/paa.h) is the row: validation and storage share it. */
typedef struct paa_persona_t paa_persona_t;

apr_status_t paa_personas_count(apr_pool_t *p, paa_db_t *db, int *count);

/** One page in id order, as an array of paa_persona_t. */
apr_status_t paa_personas_page(apr_pool_t *p, paa_db_t *db, int limit,
                               int offset, apr_array_header_t **out);

apr_status_t paa_personas_get(apr_pool_t *p, paa_db_t *db, const char *id,
                              paa_persona_t *out, int *found);

/** Insert with created_at = updated_at = now; an existing id fails (the
 * driver reports the unique violation). */
apr_status_t paa_personas_insert(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *persona, apr_int64_t now);

/** Update every field but id and created_at; *nrows 0 when missing. */
apr_status_t paa_personas_update(apr_pool_t *p, paa_db_t *db,
                                 const paa_persona_t *persona, apr_int64_t now,
                                 int *nrows);

apr_status_t paa_personas_delete(apr_pool_t *p, paa_db_t *db, const char *id,
                                 int *nrows);

/** Every persona in id order, as an array of paa_persona_t. */
apr_status_t paa_personas_list_all(apr_pool_t *p, paa_db_t *db,
                                   apr_array_header_t **out);

/** What paa_personas_upsert did with one persona. */
typedef enum {
    PAA_PERSONA_CREATED,
    PAA_PERSONA_UPDATED,
    PAA_PERSONA_SKIPPED /* it exists and replace was not asked for */
} paa_persona_outcome_e;

/**
 * Insert each persona of personas (an array of paa_persona_t), or update
 * it when its id exists and replace is set, all in one transaction: a
 * failure changes nothing. *outcomes is an array of paa_persona_outcome_e,
 * one per persona, in the same order.
 */
apr_status_t paa_personas_upsert(apr_pool_t *p, paa_db_t *db,
                                 const apr_array_header_t *personas,
                                 int replace, apr_int64_t now,
                                 apr_array_header_t **outcomes);

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

/** One provider failover: a provider that could not answer a chat. */
typedef struct {
    apr_int64_t id;
    apr_int64_t at;
    const char *failed_provider;
    const char *reason;      /* why it failed; never a key or a body */
    const char *answered_by; /* "" when no provider answered */
    const char *node;        /* PAANodeName of the recording httpd; "" */
} paa_failover_t;

/** @param node the recording node's name (PAANodeName), NULL or "" none */
apr_status_t paa_failovers_add(apr_pool_t *p, paa_db_t *db, apr_int64_t at,
                               const char *failed_provider, const char *reason,
                               const char *answered_by, const char *node);

/** Which failovers paa_failovers_find returns; NULL and 0 do not filter. */
typedef struct {
    const char *provider; /* exactly this failed provider */
    apr_int64_t since;    /* at or after this time */
    int limit;            /* at most this many, at least 1 */
} paa_failover_filter_t;

/** Failovers that pass f, newest first (at, then id), as an array of
 * paa_failover_t. */
apr_status_t paa_failovers_find(apr_pool_t *p, paa_db_t *db,
                                const paa_failover_filter_t *f,
                                apr_array_header_t **out);

/* ------------------------------------------------------ revoked tokens */

/** A revoked JWT, by its jti. */
typedef struct {
    const char *jti;
    const char *user_id;    /* its sub; "" when only the jti was given */
    apr_int64_t expires_at; /* its exp; 0 when unknown (kept for good) */
    apr_int64_t revoked_at;
    const char *reason; /* "" for none */
} paa_revoked_token_t;

/**
 * Revoke t->jti, in one transaction that also drops the revocations of
 * tokens expired before dead_before. *added is 0 when it was revoked
 * already (the first revocation is kept as it was).
 */
apr_status_t paa_tokens_revoke(apr_pool_t *p, paa_db_t *db,
                               const paa_revoked_token_t *t,
                               apr_int64_t dead_before, int *added);

/** The revocation of jti, if any. */
apr_status_t paa_tokens_revoked(apr_pool_t *p, paa_db_t *db, const char *jti,
                                paa_revoked_token_t *out, int *found);

/** The revocations of user_id's tokens (its GDPR export), along the jti:
 * at most limit of those after after ("" or NULL: from the first). */
apr_status_t paa_tokens_revoked_of(apr_pool_t *p, paa_db_t *db,
                                   const char *user_id, const char *after,
                                   int limit, apr_array_header_t **out);

/** Forget the revocations of user_id's tokens (erasure). */
apr_status_t paa_tokens_erase_user(apr_pool_t *p, paa_db_t *db,
                                   const char *user_id, int *nrows);

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
    apr_int64_t id; /* read back only (paa_audit_add ignores it) */
} paa_audit_t;

apr_status_t paa_audit_add(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a);

/** paa_audit_add for paactl: *err carries the failure. */
apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err);

/** Which records paa_audit_query returns; NULL fields do not filter. */
typedef struct {
    const char *key_id;       /* about this key, its rotation included */
    const char *subject;      /* exactly this subject */
    const char *event;        /* exactly this event */
    const char *event_prefix; /* events starting so ("key." for key.*) */
    apr_int64_t since;        /* at or after this time (0: all) */
    int limit;                /* at most this many records, at least 1 */
    const char *client_ip;    /* exactly this client address */
    apr_int64_t until;        /* before this time (0: no bound) */
    int offset;               /* skip this many of the newest first */
} paa_audit_filter_t;

/** Records that pass every filter set, newest first (at, then id), as an
 * array of paa_audit_t (with id; NULL columns read as ""). */
apr_status_t paa_audit_query(apr_pool_t *p, paa_db_t *db,
                             const paa_audit_filter_t *f,
                             apr_array_header_t **out);

/** How many records pass f's filters, whatever its limit and offset: the
 * total of a paged listing. */
apr_status_t paa_audit_count(apr_pool_t *p, paa_db_t *db,
                             const paa_audit_filter_t *f, apr_int64_t *total);

/* -------------------------------------------------------------- backup */

/** SQLite only: a consistent copy of the database into path, which must
 * not exist or be empty (VACUUM INTO; httpd may keep writing meanwhile). */
apr_status_t paa_backup_sqlite(apr_pool_t *p, paa_db_t *db, const char *path);

/** The rows of the durable tables (keys, users, personas, audit): 0 for a
 * database a restore may fill without --force. */
apr_status_t paa_backup_rows(apr_pool_t *p, paa_db_t *db, apr_int64_t *n);

/* ---------------------------------------------------------------- gdpr */

/* What one principal has stored, read in pages so that an
 * export never holds a whole history: each call returns at most limit
 * rows after the last one seen (after: "" or 0 for the first page). */

typedef struct {
    apr_int64_t id;
    const char *role;
    const char *content;
    apr_int64_t at;
} paa_chat_message_t;

/** principal's chat sessions by id, as an array of paa_chat_session_t. */
apr_status_t paa_gdpr_chat_sessions(apr_pool_t *p, paa_db_t *db,
                                    const char *principal, const char *after,
                                    int limit, apr_array_header_t **out);

/** One session's messages by id, as an array of paa_chat_message_t. */
apr_status_t paa_gdpr_chat_messages(apr_pool_t *p, paa_db_t *db,
                                    const char *session, apr_int64_t after,
                                    int limit, apr_array_header_t **out);

/** principal's MCP sessions by id, as an array of paa_mcp_session_t. */
apr_status_t paa_gdpr_mcp_sessions(apr_pool_t *p, paa_db_t *db,
                                   const char *principal, const char *after,
                                   int limit, apr_array_header_t **out);

/** Audit records whose subject or actor is who, by id, as an array of
 * paa_audit_t. */
apr_status_t paa_gdpr_audit(apr_pool_t *p, paa_db_t *db, const char *who,
                            apr_int64_t after, int limit,
                            apr_array_header_t **out);

/** One accepted version of the data-processing terms. */
typedef struct {
    const char *version;
    apr_int64_t accepted_at;
} paa_consent_t;

/** Record that principal accepted version at 'at'; accepting it again
 * keeps the first time (*added, may be NULL, is then 0). */
apr_status_t paa_consent_accept(apr_pool_t *p, paa_db_t *db,
                                const char *principal, const char *version,
                                apr_int64_t at, int *added);

/** Whether principal accepted version, and when. */
apr_status_t paa_consent_get(apr_pool_t *p, paa_db_t *db, const char *principal,
                             const char *version, apr_int64_t *accepted_at,
                             int *found);

/** Every version principal accepted, oldest first, as an array of
 * paa_consent_t (a handful: not paged). */
apr_status_t paa_gdpr_consents(apr_pool_t *p, paa_db_t *db,
                               const char *principal, apr_array_header_t **out);

/** What paa_gdpr_erase changed (rows). */
typedef struct {
    int messages, sessions, mcp_sessions, consents, audit, user;
} paa_gdpr_erased_t;

/**
 * Erase principal id in one transaction: its chat sessions and messages,
 * MCP sessions and consent records are deleted, the user row with that id (if
 * any) is deleted, and audit records keep their place with subject and actor id
 * replaced by pseudonym; then record (may be NULL) is added. Erasing what
 * is gone already changes nothing but adds record. pseudonym NULL is a
 * deletion (paactl user del): audit records keep naming id.
 */
apr_status_t paa_gdpr_erase(apr_pool_t *p, paa_db_t *db, const char *id,
                            const char *pseudonym, const paa_audit_t *record,
                            paa_gdpr_erased_t *erased);

/** Who an export is about, and the pool it may use. */
typedef struct {
    apr_pool_t *pool;
    const char *id;     /* the principal: a user id or an API key id */
    const char *method; /* "jwt", "api-key" or "admin" (paactl) */
    apr_int64_t now;
} paa_export_t;

/** Receives the export document piece by piece; non-success stops it. */
typedef apr_status_t (*paa_export_write_fn)(void *ctx, const char *buf,
                                            apr_size_t len);

/**
 * Write everything stored about who->id as one JSON document (export.c):
 * the user row (no password hash) or the API key's metadata, chat sessions
 * with their messages, MCP sessions, consents, and the audit records whose
 * subject or
 * actor it is (the other party shown only as "another principal"). Rows
 * are read in pages: memory does not grow with the history. APR_EGENERAL
 * before anything was written when the database fails at once; a later
 * failure returns an error after a partial (invalid) document.
 */
apr_status_t paa_gdpr_export(paa_db_t *db, const paa_export_t *who,
                             paa_export_write_fn write, void *ctx);

/* ----------------------------------------------------------- retention */

/** The kinds of data a purge deletes past retention, in purge order. */
enum {
    PAA_PURGE_MESSAGES, /* chat messages */
    PAA_PURGE_SESSIONS, /* chat sessions (expired ones too) */
    PAA_PURGE_MCP,      /* MCP sessions */
    PAA_PURGE_AUDIT,    /* audit records */
    PAA_PURGE_FAILOVERS,
    PAA_PURGE_LOGINS, /* failed login attempts (client addresses) */
    PAA_PURGE_KINDS
};

/** Each kind's name for messages ("chat messages", ...). */
extern const char *const paa_purge_kind_names[PAA_PURGE_KINDS];

/** What a purge keeps: rows of kind k older than before[k] go (0: kept
 * forever); chat sessions expired at now go whatever their age. */
typedef struct {
    apr_int64_t before[PAA_PURGE_KINDS];
    apr_int64_t now;
} paa_retention_t;

/**
 * Delete what keep says is past retention, in one transaction, then add
 * record (may be NULL) with the counts as its detail;
 * counts[PAA_PURGE_KINDS] receives the rows deleted
 * per kind (a chat session's messages count as messages). dry_run counts
 * the same rows and changes nothing.
 */
apr_status_t paa_retention_purge(apr_pool_t *p, paa_db_t *db,
                                 const paa_retention_t *keep, int dry_run,
                                 const paa_audit_t *record, int *counts);

/* --------------------------------------------------------------- check */

/* PostgreSQL only (store_check.c): what paactl check asks about the role
 * and the connection it uses. */

/** The connection's role and session. */
typedef struct {
    const char *role;   /* current_user */
    const char *schema; /* current_schema() */
    int superuser;
    int owns_database; /* the role owns it, or is a member of its owner */
    int owns_schema;   /* likewise for the current schema */
    int owned_objects; /* paa_ tables and sequences it owns (likewise) */
    int schema_create; /* may create objects in the schema */
    int ssl;           /* this connection is encrypted */
    int local;         /* over a Unix socket (no client address) */
} paa_pg_role_t;

apr_status_t paa_check_pg_role(apr_pool_t *p, paa_db_t *db, paa_pg_role_t *out,
                               int *found);

/** The role's privileges on one paa_ table or sequence (1 when held). */
typedef struct {
    const char *name;
    int sequence; /* a sequence: only usage is read */
    int usage;
    int select, insert, update, del, truncate, references, trigger;
} paa_pg_grant_t;

/** Every paa_ table and sequence of the current schema, by name, as an
 * array of paa_pg_grant_t. */
apr_status_t paa_check_pg_grants(apr_pool_t *p, paa_db_t *db,
                                 apr_array_header_t **out);

#endif /* PAA_STORE_H */
