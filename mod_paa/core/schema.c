/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The one schema, for SQLite and PostgreSQL. Times are Unix seconds in
 * BIGINT columns so that both drivers compare them the same way. Audit
 * rows carry ids as plain text with no foreign keys: deleting a user or a
 * key must never delete the record of what it did. */

#include "paa.h"

#include <apr_strings.h>
#include <stdlib.h>

typedef struct {
    int version;
    const char *const *statements;
} paa_migration_t;

/* %ID% is the auto-increment primary key, the only spelling that differs
 * between the two drivers. */
static const char *const schema_v1[] = {
    "CREATE TABLE paa_schema ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " applied_at BIGINT NOT NULL)",

    "CREATE TABLE paa_api_keys ("
    " id VARCHAR(40) NOT NULL PRIMARY KEY,"
    " key_hash CHAR(64) NOT NULL UNIQUE,"
    " prefix VARCHAR(16) NOT NULL,"
    " name VARCHAR(100) NOT NULL,"
    " client VARCHAR(100) NOT NULL DEFAULT '',"
    " roles VARCHAR(500) NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL,"
    " created_by VARCHAR(100) NOT NULL DEFAULT '',"
    " expires_at BIGINT,"
    " revoked_at BIGINT,"
    " revoked_reason VARCHAR(500),"
    " last_used_at BIGINT,"
    " rotated_from VARCHAR(40))",
    "CREATE INDEX paa_api_keys_name ON paa_api_keys (name)",

    "CREATE TABLE paa_users ("
    " id VARCHAR(40) NOT NULL PRIMARY KEY,"
    " username VARCHAR(100) NOT NULL UNIQUE,"
    " password_hash VARCHAR(200) NOT NULL,"
    " roles VARCHAR(500) NOT NULL DEFAULT '',"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL)",

    "CREATE TABLE paa_personas ("
    " id VARCHAR(50) NOT NULL PRIMARY KEY,"
    " name VARCHAR(100) NOT NULL,"
    " description VARCHAR(500) NOT NULL,"
    " extra_instructions TEXT NOT NULL DEFAULT '',"
    " knowledge_category VARCHAR(50) NOT NULL,"
    " temperature DOUBLE PRECISION NOT NULL,"
    " max_tokens INTEGER NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL)",

    "CREATE TABLE paa_audit ("
    " id %ID%,"
    " at BIGINT NOT NULL,"
    " event VARCHAR(64) NOT NULL,"
    " outcome VARCHAR(16) NOT NULL,"
    " actor VARCHAR(200) NOT NULL DEFAULT '',"
    " subject VARCHAR(200) NOT NULL DEFAULT '',"
    " key_id VARCHAR(40) NOT NULL DEFAULT '',"
    " client_ip VARCHAR(64) NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX paa_audit_at ON paa_audit (at)",
    "CREATE INDEX paa_audit_subject ON paa_audit (subject, at)",
    "CREATE INDEX paa_audit_key ON paa_audit (key_id, at)",
    NULL};

/* Version 2: failed logins, shared by every httpd child for the lockout;
 * the successor of a rotated key found by index. */
static const char *const schema_v2[] = {
    "CREATE TABLE paa_login_failures ("
    " id VARCHAR(40) NOT NULL PRIMARY KEY,"
    " username VARCHAR(100) NOT NULL,"
    " client VARCHAR(64) NOT NULL,"
    " at BIGINT NOT NULL)",
    "CREATE INDEX paa_login_failures_key"
    " ON paa_login_failures (username, client, at)",
    "CREATE INDEX paa_login_failures_client ON paa_login_failures (client, at)",
    "CREATE INDEX paa_api_keys_rotated_from ON paa_api_keys (rotated_from)",
    NULL};

/* Version 3: chat sessions and messages (owned by a principal, never
 * shared), and the record of every provider failover. */
static const char *const schema_v3[] = {
    "CREATE TABLE paa_chat_sessions ("
    " id VARCHAR(40) NOT NULL PRIMARY KEY,"
    " principal VARCHAR(100) NOT NULL,"
    " agent_id VARCHAR(50) NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL)",
    "CREATE INDEX paa_chat_sessions_principal"
    " ON paa_chat_sessions (principal)",
    "CREATE TABLE paa_chat_messages ("
    " id %ID%,"
    " session_id VARCHAR(40) NOT NULL,"
    " role VARCHAR(16) NOT NULL,"
    " content TEXT NOT NULL,"
    " at BIGINT NOT NULL)",
    "CREATE INDEX paa_chat_messages_session"
    " ON paa_chat_messages (session_id, id)",
    "CREATE TABLE paa_failovers ("
    " id %ID%,"
    " at BIGINT NOT NULL,"
    " failed_provider VARCHAR(100) NOT NULL,"
    " reason VARCHAR(200) NOT NULL,"
    " answered_by VARCHAR(100) NOT NULL DEFAULT '')",
    "CREATE INDEX paa_failovers_at ON paa_failovers (at)",
    NULL};

/* Version 4: MCP sessions, known to every httpd child, bound to the
 * principal that initialised them. */
static const char *const schema_v4[] = {
    "CREATE TABLE paa_mcp_sessions ("
    " id VARCHAR(64) NOT NULL PRIMARY KEY,"
    " principal VARCHAR(100) NOT NULL,"
    " protocol_version VARCHAR(16) NOT NULL,"
    " created_at BIGINT NOT NULL)",
    NULL};

/* Version 5: which version of the data-processing terms each principal
 * accepted, and when (PAAConsentRequired): the proof of consent. */
static const char *const schema_v5[] = {"CREATE TABLE paa_consents ("
                                        " principal VARCHAR(100) NOT NULL,"
                                        " version VARCHAR(64) NOT NULL,"
                                        " accepted_at BIGINT NOT NULL,"
                                        " PRIMARY KEY (principal, version))",
                                        NULL};

/* Version 6: JWT revocation. Per user, tokens issued before a logout;
 * per token, its jti until the token would have expired anyway (0:
 * unknown, kept; user_id '' when only the jti was given). */
static const char *const schema_v6[] = {
    "ALTER TABLE paa_users ADD COLUMN tokens_not_before BIGINT NOT NULL"
    " DEFAULT 0",
    "CREATE TABLE paa_revoked_tokens ("
    " jti VARCHAR(128) NOT NULL PRIMARY KEY,"
    " user_id VARCHAR(40) NOT NULL DEFAULT '',"
    " expires_at BIGINT NOT NULL DEFAULT 0,"
    " revoked_at BIGINT NOT NULL,"
    " reason VARCHAR(500) NOT NULL DEFAULT '')",
    "CREATE INDEX paa_revoked_tokens_user ON paa_revoked_tokens (user_id)",
    NULL};

/* Version 7: the node (PAANodeName) that recorded a failover: with several
 * httpd nodes on one database, which one's path to the provider failed. */
static const char *const schema_v7[] = {
    "ALTER TABLE paa_failovers ADD COLUMN node VARCHAR(100) NOT NULL"
    " DEFAULT ''",
    NULL};

/* Version 8: the change markers of the credential caches. Triggers move
 * the counter in the same transaction as any change to a key, a user or a
 * token revocation, whoever writes it (httpd, paactl, SQL by hand), so
 * that httpd's shared cache can ask one tiny row instead of every key. A
 * last-used time is not a change. Statements that start with a driver's
 * name run on that driver only. */
#define PAA_KEY_COLUMNS_CHANGED                                                \
    "id, key_hash, prefix, name, client, roles, created_at, created_by,"       \
    " expires_at, revoked_at, revoked_reason, rotated_from"
#define PAA_BUMP                                                               \
    "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'credentials'"
#define PAA_BUMP_MCP                                                           \
    "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'mcp_sessions'"
static const char *const schema_v8[] = {
    "CREATE TABLE paa_changes ("
    " name VARCHAR(32) NOT NULL PRIMARY KEY,"
    " serial BIGINT NOT NULL)",
    /* A random start: another database (a restored backup of someone
     * else's) is unlikely to show the same number. */
    "sqlite3:INSERT INTO paa_changes (name, serial)"
    " VALUES ('credentials', abs(random() % 1000000000000))",
    "pgsql:INSERT INTO paa_changes (name, serial)"
    " VALUES ('credentials', floor(random() * 1000000000000)::bigint)",
    /* MCP sessions: only an end matters (a new one was never cached). */
    "INSERT INTO paa_changes (name, serial) VALUES ('mcp_sessions', 1)",
    "sqlite3:CREATE TRIGGER paa_mcp_sessions_deleted AFTER DELETE"
    " ON paa_mcp_sessions BEGIN " PAA_BUMP_MCP "; END",
    "sqlite3:CREATE TRIGGER paa_mcp_sessions_changed AFTER UPDATE"
    " ON paa_mcp_sessions BEGIN " PAA_BUMP_MCP "; END",
    "pgsql:CREATE FUNCTION paa_mcp_sessions_changed() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN " PAA_BUMP_MCP "; RETURN NULL; END $$",
    "pgsql:CREATE TRIGGER paa_mcp_sessions_changed AFTER DELETE OR UPDATE"
    " ON paa_mcp_sessions FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_mcp_sessions_changed()",
    "sqlite3:CREATE TRIGGER paa_keys_added AFTER INSERT ON paa_api_keys"
    " BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_keys_deleted AFTER DELETE ON paa_api_keys"
    " BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_keys_changed AFTER UPDATE "
    "OF " PAA_KEY_COLUMNS_CHANGED " ON paa_api_keys BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_users_changed AFTER UPDATE ON paa_users"
    " BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_users_deleted AFTER DELETE ON paa_users"
    " BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_users_added AFTER INSERT ON paa_users"
    " BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_tokens_added AFTER INSERT"
    " ON paa_revoked_tokens BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_tokens_deleted AFTER DELETE"
    " ON paa_revoked_tokens BEGIN " PAA_BUMP "; END",
    "sqlite3:CREATE TRIGGER paa_tokens_changed AFTER UPDATE"
    " ON paa_revoked_tokens BEGIN " PAA_BUMP "; END",
    "pgsql:CREATE FUNCTION paa_credentials_changed() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN " PAA_BUMP "; RETURN NULL; END $$",
    "pgsql:CREATE TRIGGER paa_keys_changed AFTER INSERT OR DELETE OR UPDATE"
    " OF " PAA_KEY_COLUMNS_CHANGED " ON paa_api_keys FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_users_changed AFTER INSERT OR DELETE OR UPDATE"
    " ON paa_users FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_tokens_changed AFTER INSERT OR DELETE OR UPDATE"
    " ON paa_revoked_tokens FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    NULL};

/* Version 9: the personas' change marker, so that httpd can remember
 * its answers to GET /api/personas for as long as no persona changed,
 * whoever changed it. TRUNCATE too on PostgreSQL: it fires no DELETE
 * trigger. Its own random start, for the same reason as credentials'. */
#define PAA_BUMP_PERSONAS                                                      \
    "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'personas'"
static const char *const schema_v9[] = {
    "sqlite3:INSERT INTO paa_changes (name, serial)"
    " VALUES ('personas', abs(random() % 1000000000000))",
    "pgsql:INSERT INTO paa_changes (name, serial)"
    " VALUES ('personas', floor(random() * 1000000000000)::bigint)",
    "sqlite3:CREATE TRIGGER paa_personas_added AFTER INSERT ON paa_personas"
    " BEGIN " PAA_BUMP_PERSONAS "; END",
    "sqlite3:CREATE TRIGGER paa_personas_changed AFTER UPDATE ON paa_personas"
    " BEGIN " PAA_BUMP_PERSONAS "; END",
    "sqlite3:CREATE TRIGGER paa_personas_deleted AFTER DELETE ON paa_personas"
    " BEGIN " PAA_BUMP_PERSONAS "; END",
    "pgsql:CREATE FUNCTION paa_personas_changed() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN " PAA_BUMP_PERSONAS "; RETURN NULL; END $$",
    "pgsql:CREATE TRIGGER paa_personas_changed AFTER INSERT OR DELETE OR UPDATE"
    " OR TRUNCATE ON paa_personas FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_personas_changed()",
    NULL};

/* Version 10: a new key or user moves a marker of its own. A new row can
 * only make a credential known that was not, so httpd then drops what it
 * remembers as unknown and keeps the keys in use, instead of dropping all
 * (creating keys all day emptied the cache each time). A change to a row,
 * a deletion and any token revocation still move 'credentials'. */
#define PAA_BUMP_ADDED                                                         \
    "UPDATE paa_changes SET serial = serial + 1 WHERE name = 'keys_added'"
static const char *const schema_v10[] = {
    "INSERT INTO paa_changes (name, serial) VALUES ('keys_added', 1)",
    "sqlite3:DROP TRIGGER paa_keys_added",
    "sqlite3:CREATE TRIGGER paa_keys_added AFTER INSERT ON paa_api_keys"
    " BEGIN " PAA_BUMP_ADDED "; END",
    "sqlite3:DROP TRIGGER paa_users_added",
    "sqlite3:CREATE TRIGGER paa_users_added AFTER INSERT ON paa_users"
    " BEGIN " PAA_BUMP_ADDED "; END",
    "pgsql:CREATE FUNCTION paa_keys_added() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN " PAA_BUMP_ADDED "; RETURN NULL; END $$",
    "pgsql:DROP TRIGGER paa_keys_changed ON paa_api_keys",
    "pgsql:CREATE TRIGGER paa_keys_changed AFTER DELETE OR UPDATE"
    " OF " PAA_KEY_COLUMNS_CHANGED " ON paa_api_keys FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_keys_added AFTER INSERT ON paa_api_keys"
    " FOR EACH STATEMENT EXECUTE FUNCTION paa_keys_added()",
    "pgsql:DROP TRIGGER paa_users_changed ON paa_users",
    "pgsql:CREATE TRIGGER paa_users_changed AFTER DELETE OR UPDATE"
    " ON paa_users FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_users_added AFTER INSERT ON paa_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION paa_keys_added()",
    NULL};

/* Version 11: what changes a row without an UPDATE or DELETE trigger
 * firing. SQLite's INSERT OR REPLACE (and REPLACE) deletes the row it
 * replaces without DELETE triggers (recursive_triggers is off), so only
 * keys_added moved and a disabled user, a changed role or key stayed
 * cached: a replacing insert now moves 'credentials' first (any insert
 * into paa_revoked_tokens already does). PostgreSQL's TRUNCATE fires no
 * DELETE trigger either. */
#define PAA_BUMP_IF_REPLACED(table, cond)                                      \
    "sqlite3:CREATE TRIGGER " table "_replaced BEFORE INSERT ON " table        \
    " WHEN EXISTS (SELECT 1 FROM " table " o WHERE " cond ")"                  \
    " BEGIN " PAA_BUMP "; END"
static const char *const schema_v11[] = {
    PAA_BUMP_IF_REPLACED("paa_api_keys",
                         "o.id = NEW.id OR o.key_hash = NEW.key_hash"),
    PAA_BUMP_IF_REPLACED("paa_users",
                         "o.id = NEW.id OR o.username = NEW.username"),
    "pgsql:CREATE TRIGGER paa_keys_truncated AFTER TRUNCATE ON paa_api_keys"
    " FOR EACH STATEMENT EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_users_truncated AFTER TRUNCATE ON paa_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION paa_credentials_changed()",
    "pgsql:CREATE TRIGGER paa_tokens_truncated AFTER TRUNCATE"
    " ON paa_revoked_tokens FOR EACH STATEMENT"
    " EXECUTE FUNCTION paa_credentials_changed()",
    NULL};

static const paa_migration_t migrations[] = {
    {1, schema_v1}, {2, schema_v2},   {3, schema_v3},   {4, schema_v4},
    {5, schema_v5}, {6, schema_v6},   {7, schema_v7},   {8, schema_v8},
    {9, schema_v9}, {10, schema_v10}, {11, schema_v11}, {0, NULL}};

/* The statement as this driver runs it; NULL when it is another's. */
static const char *driver_sql(apr_pool_t *p, const paa_db_t *db,
                              const char *sql)
{
    const char *at, *id;
    apr_size_t n = strlen(db->driver_name);

    if (!strncmp(sql, "sqlite3:", 8) || !strncmp(sql, "pgsql:", 6)) {
        if (strncmp(sql, db->driver_name, n) || sql[n] != ':') {
            return NULL;
        }
        sql += n + 1;
    }
    if (!(at = strstr(sql, "%ID%"))) {
        return sql;
    }
    id = strcmp(db->driver_name, "pgsql") ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                          : "BIGSERIAL PRIMARY KEY";
    return apr_pstrcat(p, apr_pstrmemdup(p, sql, at - sql), id, at + 4, NULL);
}

/* First column of the first row; all rows are read so the driver can
 * release its cursor, and random access makes pgsql report errors. */
static apr_status_t select_int(apr_pool_t *p, paa_db_t *db, const char *sql,
                               int *value, const char **err)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, first = 1;

    *value = 0;
    rv = apr_dbd_select(db->driver, p, db->handle, &res, sql, 1);
    if (rv != 0) {
        const char *m = apr_dbd_error(db->driver, db->handle, rv);
        *err = apr_pstrdup(p, m ? m : "query failed");
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        if (first) {
            const char *v = apr_dbd_get_entry(db->driver, row, 0);
            *value = v ? atoi(v) : 0;
            first = 0;
        }
    }
    return APR_SUCCESS;
}

apr_status_t paa_schema_version(apr_pool_t *p, paa_db_t *db, int *version,
                                const char **err)
{
    int exists = 0;
    const char *probe = strcmp(db->driver_name, "pgsql")
                            ? "SELECT count(*) FROM sqlite_master"
                              " WHERE type = 'table' AND name = 'paa_schema'"
                            : "SELECT count(*) FROM information_schema.tables"
                              " WHERE table_name = 'paa_schema'"
                              " AND table_schema = current_schema()";
    apr_status_t rv = select_int(p, db, probe, &exists, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!exists) {
        *version = 0;
        return APR_SUCCESS;
    }
    return select_int(p, db, "SELECT max(version) FROM paa_schema", version,
                      err);
}

apr_status_t paa_schema_migrate(apr_pool_t *p, paa_db_t *db, int *from, int *to,
                                const char **err)
{
    apr_dbd_transaction_t *txn = NULL;
    const paa_migration_t *m;
    apr_status_t rv;
    int current;

    rv = paa_schema_version(p, db, &current, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *from = *to = current;
    if (current > PAA_SCHEMA_VERSION) {
        *err = apr_psprintf(p,
                            "database schema version %d is newer than this "
                            "paactl supports (%d): upgrade mod_paa",
                            current, PAA_SCHEMA_VERSION);
        return APR_EINVAL;
    }
    if (!strcmp(db->driver_name, "sqlite3")) {
        /* Write-ahead logging lets httpd's readers go on while paactl or a
         * request writes; the setting is stored in the database file. */
        int ignored;
        rv = select_int(p, db, "PRAGMA journal_mode = WAL", &ignored, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (current == PAA_SCHEMA_VERSION) {
        return APR_SUCCESS;
    }
    if (apr_dbd_transaction_start(db->driver, p, db->handle, &txn) != 0) {
        const char *e = apr_dbd_error(db->driver, db->handle, -1);
        *err = apr_pstrdup(p, e ? e : "cannot start a transaction");
        return APR_EGENERAL;
    }
    for (m = migrations; m->version && rv == APR_SUCCESS; m++) {
        const char *const *s;
        if (m->version <= current) {
            continue;
        }
        for (s = m->statements; *s && rv == APR_SUCCESS; s++) {
            const char *sql = driver_sql(p, db, *s);
            rv = sql ? paa_db_exec(p, db, sql, err) : APR_SUCCESS;
        }
        if (rv == APR_SUCCESS) {
            rv = paa_db_exec(
                p, db,
                apr_psprintf(p,
                             "INSERT INTO paa_schema (version, "
                             "applied_at) VALUES (%d, %" APR_TIME_T_FMT ")",
                             m->version, apr_time_sec(apr_time_now())),
                err);
        }
    }
    if (rv != APR_SUCCESS) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    if (apr_dbd_transaction_end(db->driver, p, txn) != 0 && rv == APR_SUCCESS) {
        *err = "the schema transaction failed to commit";
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        *to = PAA_SCHEMA_VERSION;
    }
    return rv;
}

static const paa_stmt_t current = {"paa_schema_version",
                                   "SELECT max(version) FROM paa_schema"};

apr_status_t paa_schema_current(apr_pool_t *p, paa_db_t *db, int *version)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *version = 0;
    if (paa_db_select(p, db, &current, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        *version = (int)paa_db_int(db, row, 0);
    }
    return APR_SUCCESS;
}

apr_status_t paa_db_sqlite_file(apr_pool_t *p, paa_db_t *db, const char **file)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv;

    *file = NULL;
    /* Not prepared: apr_dbd_sqlite3 cannot run a PRAGMA statement twice
     * ("not an error"). */
    rv = apr_dbd_select(db->driver, p, db->handle, &res, "PRAGMA database_list",
                        1);
    if (rv != 0) {
        db->error = apr_dbd_error(db->driver, db->handle, rv);
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        const char *name = paa_db_str(p, db, row, 1);
        if (name && !strcmp(name, "main")) {
            *file = paa_db_str(p, db, row, 2);
        }
    }
    return APR_SUCCESS;
}
