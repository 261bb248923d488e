/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check, the database: the guide's key rotation policy (4.3) over
 * the stored keys, and its database hardening (5.5): the schema version,
 * who can read a SQLite file, and for PostgreSQL an encrypted connection
 * and a role that is neither a superuser nor an owner and holds exactly
 * the privileges mod_paa uses. Everything is read through the stores
 * (paa_keys_find, paa_check_pg_*, paa_audit_query); no SQL lives here. */

#include "check.h"

#include <apr_strings.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

static const check_def_t def_admin = {
    "keys.admin-expiry", "4.3", "admin keys expire (rotate every 90 days)"};
static const check_def_t def_age = {"keys.age", "4.3",
                                    "Rotate keys every 90 days"};
static const check_def_t def_expiring = {"keys.expiring", "4.3",
                                         "no key expires before it is rotated"};
static const check_def_t def_unused = {"keys.unused", "4.3",
                                       "Revoke keys no client uses"};
static const check_def_t *const key_defs[] = {&def_admin, &def_age,
                                              &def_expiring, &def_unused, NULL};

static const check_def_t def_schema = {"db.schema", "5.5",
                                       "the database schema is current"};
static const check_def_t def_file = {"db.file", "5.5",
                                     "the SQLite file's owner and mode"};
static const check_def_t def_ssl = {"db.ssl", "5.5", "Require SSL connections"};
static const check_def_t def_role = {
    "db.role", "5.5", "Create dedicated user: not a superuser or an owner"};
static const check_def_t def_grants = {
    "db.grants", "5.5", "with limited permissions: what mod_paa needs"};
static const check_def_t def_backup = {"db.backup", "5.1",
                                       "Set up database backups"};
static const check_def_t *const db_defs[] = {
    &def_schema, &def_file,   &def_ssl, &def_role,
    &def_grants, &def_backup, NULL};
static const check_def_t *const pg_defs[] = {&def_ssl, &def_role, &def_grants,
                                             NULL};

/* At most three items and a count, so that a result stays one line. */
typedef struct {
    const char *text;
    int n;
    const char *first_id; /* the first key's id, for a fix to copy */
} few_t;

static void few_add(check_t *ck, few_t *l, const char *item)
{
    if (l->n++ < 3) {
        l->text = l->text
                      ? apr_pstrcat(ck->ctl->pool, l->text, ", ", item, NULL)
                      : item;
    }
}

static const char *few_text(check_t *ck, const few_t *l)
{
    return l->n > 3 ? apr_psprintf(ck->ctl->pool, "%s and %d more", l->text,
                                   l->n - 3)
                    : l->text;
}

/* ------------------------------------------------------------------ keys */

static int has_role(check_t *ck, const char *roles, const char *role)
{
    apr_array_header_t *list = paa_split_list(ck->ctl->pool, roles);
    int i;
    for (i = 0; i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), role)) {
            return 1;
        }
    }
    return 0;
}

typedef struct {
    few_t admin, old, expiring, unused;
    int n;
} key_findings_t;

static void few_key(check_t *ck, few_t *l, const paa_key_t *k, const char *item)
{
    if (!l->n) {
        l->first_id = k->id;
    }
    few_add(ck, l, item);
}

/* A fix naming the key when only one is named, else KEY-ID:
 * cmd KEY rest. */
static const char *key_fix(check_t *ck, const few_t *l, const char *cmd,
                           const char *rest)
{
    return apr_pstrcat(ck->ctl->pool, cmd, " ",
                       l->n == 1 ? l->first_id : "KEY-ID", rest, NULL);
}

/* A key in its grace period is on its way out: only the replacement is
 * judged. */
static void judge_key(check_t *ck, const paa_key_t *k, key_findings_t *kf)
{
    apr_pool_t *p = ck->ctl->pool;
    apr_int64_t last = k->last_used_at ? k->last_used_at : k->created_at;

    if (k->replaced_by) {
        return;
    }
    kf->n++;
    if (!k->expires_at && has_role(ck, k->roles, "admin")) {
        few_key(ck, &kf->admin, k, apr_psprintf(p, "%s (%s)", k->id, k->name));
    }
    if (ck->now - k->created_at > ck->key_max_age) {
        few_key(ck, &kf->old, k,
                apr_psprintf(p, "%s (%s, %s old)", k->id, k->name,
                             check_age(ck, ck->now - k->created_at)));
    }
    if (k->expires_at && k->expires_at - ck->now <= ck->expiry_warning) {
        few_key(ck, &kf->expiring, k,
                apr_psprintf(p, "%s (%s, in %s)", k->id, k->name,
                             check_age(ck, k->expires_at - ck->now)));
    }
    if (ck->now - last > ck->key_unused) {
        few_key(ck, &kf->unused, k,
                apr_psprintf(p, "%s (%s, %s)", k->id, k->name,
                             k->last_used_at ? "last used long ago"
                                             : "never used"));
    }
}

static void key_results(check_t *ck, const key_findings_t *kf)
{
    if (kf->admin.n) {
        check_add(ck, &def_admin, CHECK_FAIL,
                  key_fix(ck, &kf->admin, "paactl rotate",
                          " --expires 90d (the old key ends after the grace)"),
                  "%d admin key(s) never expire: %s", kf->admin.n,
                  few_text(ck, &kf->admin));
    }
    else if (!kf->n) {
        check_add(ck, &def_admin, CHECK_PASS, NULL, "no active API key");
    }
    else {
        check_add(ck, &def_admin, CHECK_PASS, NULL,
                  "%d active key(s): every admin key has an expiry", kf->n);
    }
    if (kf->old.n) {
        check_add(
            ck, &def_age, CHECK_WARN,
            key_fix(ck, &kf->old, "paactl rotate", " --grace 7d --expires 90d"),
            "%d key(s) older than %s: %s", kf->old.n,
            check_age(ck, ck->key_max_age), few_text(ck, &kf->old));
    }
    else {
        check_add(ck, &def_age, CHECK_PASS, NULL,
                  "no active key is older than %s",
                  check_age(ck, ck->key_max_age));
    }
    if (kf->expiring.n) {
        check_add(ck, &def_expiring, CHECK_WARN,
                  key_fix(ck, &kf->expiring, "paactl rotate",
                          " before it expires, and hand the new key to its "
                          "client"),
                  "%d key(s) expire within %s: %s", kf->expiring.n,
                  check_age(ck, ck->expiry_warning),
                  few_text(ck, &kf->expiring));
    }
    else {
        check_add(ck, &def_expiring, CHECK_PASS, NULL,
                  "no active key expires within %s",
                  check_age(ck, ck->expiry_warning));
    }
    if (kf->unused.n) {
        check_add(ck, &def_unused, CHECK_WARN,
                  key_fix(ck, &kf->unused, "paactl revoke",
                          " --reason unused, unless a client still needs it"),
                  "%d key(s) not used for %s: %s", kf->unused.n,
                  check_age(ck, ck->key_unused), few_text(ck, &kf->unused));
    }
    else {
        check_add(ck, &def_unused, CHECK_PASS, NULL,
                  "every active key was used (or created) within %s",
                  check_age(ck, ck->key_unused));
    }
}

void check_keys(check_t *ck)
{
    paa_key_filter_t f = {NULL, NULL, ck->now};
    apr_array_header_t *keys;
    key_findings_t kf;
    paa_db_t *db = check_db(ck);
    int i;

    if (!db) {
        check_skip_all(
            ck, key_defs,
            apr_pstrcat(ck->ctl->pool, "no database: ", ck->db_error, NULL));
        return;
    }
    if (paa_keys_find(ck->ctl->pool, db, &f, &keys) != APR_SUCCESS) {
        check_skip_all(ck, key_defs,
                       apr_pstrcat(ck->ctl->pool, "cannot read the API keys: ",
                                   db->error, NULL));
        return;
    }
    memset(&kf, 0, sizeof(kf));
    for (i = 0; i < keys->nelts; i++) {
        judge_key(ck, &APR_ARRAY_IDX(keys, i, paa_key_t), &kf);
    }
    key_results(ck, &kf);
}

/* -------------------------------------------------------------- database */

static void db_schema(check_t *ck, paa_db_t *db)
{
    const char *err = NULL;
    int v = 0;

    if (paa_schema_version(ck->ctl->pool, db, &v, &err) != APR_SUCCESS) {
        check_add(ck, &def_schema, CHECK_FAIL,
                  "give the role USAGE on the schema and SELECT on paa_schema",
                  "cannot read the schema version of %s database %s: %s",
                  db->driver_name, db->label, err);
    }
    else if (v == 0) {
        check_add(ck, &def_schema, CHECK_FAIL, "paactl init",
                  "%s database %s has no mod_paa schema", db->driver_name,
                  db->label);
    }
    else if (v < PAA_SCHEMA_VERSION) {
        check_add(ck, &def_schema, CHECK_FAIL,
                  "paactl migrate (as the schema's owner)",
                  "schema version %d in %s; this mod_paa needs %d", v,
                  db->label, PAA_SCHEMA_VERSION);
    }
    else if (v > PAA_SCHEMA_VERSION) {
        check_add(ck, &def_schema, CHECK_FAIL, "upgrade paactl and mod_paa",
                  "schema version %d in %s is newer than this paactl's %d", v,
                  db->label, PAA_SCHEMA_VERSION);
    }
    else {
        check_add(ck, &def_schema, CHECK_PASS, NULL,
                  "schema version %d (current) in %s database %s", v,
                  db->driver_name, db->label);
    }
}

static const char *owner_name(check_t *ck, uid_t uid)
{
    struct passwd *pw = getpwuid(uid);
    return pw ? apr_pstrdup(ck->ctl->pool, pw->pw_name)
              : apr_psprintf(ck->ctl->pool, "uid %ld", (long)uid);
}

/* The file holds key hashes, bcrypt hashes and the audit trail; SQLite
 * writes its -wal and -shm files beside it, so the directory matters too. */
static void db_file(check_t *ck, paa_db_t *db)
{
    apr_pool_t *p = ck->ctl->pool;
    const char *file = NULL, *dir, *slash;
    struct stat st, ds;
    unsigned mode, dmode;

    if (db->pgsql) {
        check_add(ck, &def_file, CHECK_SKIP, NULL,
                  "PostgreSQL: its server guards the files (see db.role)");
        return;
    }
    if (paa_db_sqlite_file(p, db, &file) != APR_SUCCESS || !file || !*file) {
        file = db->params;
    }
    slash = strrchr(file, '/');
    dir = slash ? apr_pstrmemdup(p, file, (apr_size_t)(slash - file)) : ".";
    if (!*dir) {
        dir = "/";
    }
    if (stat(file, &st) != 0 || stat(dir, &ds) != 0) {
        check_add(ck, &def_file, CHECK_FAIL, "check PAA_DB_PARAMS",
                  "cannot stat %s: %s", file, strerror(errno));
        return;
    }
    mode = (unsigned)(st.st_mode & 07777);
    dmode = (unsigned)(ds.st_mode & 07777);
    if (mode & 0007) {
        check_add(ck, &def_file, CHECK_FAIL,
                  apr_psprintf(p, "chmod 600 %s", file),
                  "%s has mode %04o: every local user can read the key and "
                  "password hashes and the audit trail",
                  file, mode);
    }
    else if (dmode & 0002) {
        check_add(ck, &def_file, CHECK_FAIL,
                  apr_psprintf(p, "chmod 700 %s", dir),
                  "its directory %s is world-writable (mode %04o): anyone "
                  "can replace the database",
                  dir, dmode);
    }
    else if (mode & 0020) {
        struct group *gr = getgrgid(st.st_gid);
        check_add(ck, &def_file, CHECK_WARN,
                  apr_psprintf(p, "chmod 600 %s", file),
                  "group %s can write %s (mode %04o)", gr ? gr->gr_name : "?",
                  file, mode);
    }
    else if (st.st_uid == 0) {
        check_add(ck, &def_file, CHECK_WARN,
                  apr_psprintf(p, "chown www-data %s (the httpd User)", file),
                  "%s belongs to root: httpd's children cannot write it", file);
    }
    else {
        check_add(ck, &def_file, CHECK_PASS, NULL,
                  "%s: owner %s, mode %04o; directory mode %04o", file,
                  owner_name(ck, st.st_uid), mode, dmode);
    }
}

/* sslmode from a key=value connection string or a URI's query. */
static const char *sslmode(check_t *ck, const char *params)
{
    const char *m = params ? strstr(params, "sslmode=") : NULL;
    apr_size_t n;
    if (!m) {
        return NULL;
    }
    m += 8;
    n = strcspn(m, " \t&'\"");
    return apr_pstrmemdup(ck->ctl->pool, m, n);
}

static void db_ssl(check_t *ck, paa_db_t *db, const paa_pg_role_t *r)
{
    const char *mode = sslmode(ck, paa_env_get(ck->env, "PAA_DB_PARAMS"));
    const char *fix = "ssl = on in postgresql.conf, and sslmode=verify-full "
                      "sslrootcert=CA-FILE in PAA_DB_PARAMS (README: TLS to "
                      "PostgreSQL)";

    if (r->local) {
        check_add(ck, &def_ssl, CHECK_PASS, NULL,
                  "%s over a Unix socket: nothing crosses the network",
                  db->label);
    }
    else if (!r->ssl) {
        check_add(ck, &def_ssl, CHECK_FAIL, fix,
                  "the connection to %s is not encrypted (sslmode=%s)",
                  db->label, mode ? mode : "prefer, the default");
    }
    else if (!mode || !strcmp(mode, "prefer") || !strcmp(mode, "allow")) {
        check_add(ck, &def_ssl, CHECK_WARN, fix,
                  "encrypted now, but sslmode=%s falls back to plain text "
                  "when TLS is refused, which an attacker on the path can do",
                  mode ? mode : "prefer (the default)");
    }
    else {
        check_add(ck, &def_ssl, CHECK_PASS, NULL, "TLS to %s (sslmode=%s)",
                  db->label, mode);
    }
}

static void db_role(check_t *ck, const paa_pg_role_t *r)
{
    const char *fix = "run paactl init as the owner, and connect httpd as a "
                      "role with only the grants of the README's PostgreSQL "
                      "section";

    if (r->superuser) {
        check_add(ck, &def_role, CHECK_FAIL, fix,
                  "role %s is a superuser: no grant restricts it", r->role);
    }
    else if (r->owns_database || r->owns_schema || r->owned_objects) {
        check_add(ck, &def_role, CHECK_FAIL, fix,
                  "role %s owns %s: an owner can alter and drop what it owns, "
                  "whatever the grants",
                  r->role,
                  r->owns_database ? "the database"
                  : r->owns_schema
                      ? apr_psprintf(ck->ctl->pool, "schema %s", r->schema)
                      : apr_psprintf(ck->ctl->pool, "%d paa_ table(s)",
                                     r->owned_objects));
    }
    else {
        check_add(ck, &def_role, CHECK_PASS, NULL,
                  "role %s: not a superuser, owns neither the database, "
                  "schema %s nor its tables",
                  r->role, r->schema);
    }
}

/* What mod_paa uses: SELECT, INSERT, UPDATE and DELETE on its tables
 * (SELECT alone on paa_schema, which only migrations write) and USAGE on
 * the sequences behind its BIGSERIAL ids. Without USAGE every insert into
 * paa_audit, paa_chat_messages and paa_failovers fails. Privileges that
 * let a role remove data wholesale or hook into it (TRUNCATE, TRIGGER,
 * REFERENCES) and CREATE on the schema are more than it needs. */
static void grant_gaps(check_t *ck, const paa_pg_grant_t *g, few_t *missing,
                       few_t *extra, int *nseq)
{
    apr_pool_t *p = ck->ctl->pool;
    const char *lack = NULL, *more = NULL;
    int schema_table = !strcmp(g->name, "paa_schema");

    if (g->sequence) {
        ++*nseq;
        if (!g->usage) {
            few_add(ck, missing, apr_pstrcat(p, "USAGE on ", g->name, NULL));
        }
        return;
    }
#define GAP(list, cond, priv)                                                  \
    if (cond) {                                                                \
        list = list ? apr_pstrcat(p, list, ", " priv, NULL) : priv;            \
    }
    GAP(lack, !g->select, "SELECT")
    GAP(lack, !schema_table && !g->insert, "INSERT")
    GAP(lack, !schema_table && !g->update, "UPDATE")
    GAP(lack, !schema_table && !g->del, "DELETE")
    GAP(more, g->truncate, "TRUNCATE")
    GAP(more, g->references, "REFERENCES")
    GAP(more, g->trigger, "TRIGGER")
#undef GAP
    if (lack) {
        few_add(ck, missing, apr_pstrcat(p, lack, " on ", g->name, NULL));
    }
    if (more) {
        few_add(ck, extra, apr_pstrcat(p, more, " on ", g->name, NULL));
    }
}

static void db_grants(check_t *ck, paa_db_t *db, const paa_pg_role_t *r)
{
    apr_pool_t *p = ck->ctl->pool;
    apr_array_header_t *grants;
    few_t missing = {NULL, 0, NULL}, extra = {NULL, 0, NULL};
    int i, nseq = 0;

    if (r->superuser || r->owns_database || r->owns_schema ||
        r->owned_objects) {
        check_add(ck, &def_grants, CHECK_SKIP, NULL,
                  "grants do not restrict a superuser or an owner (db.role)");
        return;
    }
    if (paa_check_pg_grants(p, db, &grants) != APR_SUCCESS) {
        check_add(ck, &def_grants, CHECK_FAIL, "see the README's grants",
                  "cannot read role %s's privileges: %s", r->role, db->error);
        return;
    }
    for (i = 0; i < grants->nelts; i++) {
        grant_gaps(ck, &APR_ARRAY_IDX(grants, i, paa_pg_grant_t), &missing,
                   &extra, &nseq);
    }
    if (r->schema_create) {
        few_add(ck, &extra,
                apr_pstrcat(p, "CREATE on schema ", r->schema, NULL));
    }
    if (!grants->nelts) {
        check_add(ck, &def_grants, CHECK_FAIL, "paactl init, as the owner",
                  "no paa_ table in schema %s", r->schema);
    }
    else if (missing.n) {
        check_add(ck, &def_grants, CHECK_FAIL,
                  apr_psprintf(p,
                               "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL "
                               "TABLES IN SCHEMA %s TO %s; GRANT USAGE ON ALL "
                               "SEQUENCES IN SCHEMA %s TO %s",
                               r->schema, r->role, r->schema, r->role),
                  "role %s lacks %s, which mod_paa needs (without sequence "
                  "USAGE no audit record can be written)",
                  r->role, few_text(ck, &missing));
    }
    else if (extra.n) {
        check_add(ck, &def_grants, CHECK_WARN,
                  apr_psprintf(p,
                               "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL "
                               "TABLES IN SCHEMA %s FROM %s; REVOKE CREATE "
                               "ON SCHEMA %s FROM %s",
                               r->schema, r->role, r->schema, r->role),
                  "role %s holds more than mod_paa needs: %s", r->role,
                  few_text(ck, &extra));
    }
    else {
        check_add(ck, &def_grants, CHECK_PASS, NULL,
                  "role %s holds what mod_paa needs and no more: SELECT, "
                  "INSERT, UPDATE, DELETE on %d tables, USAGE on %d sequences",
                  r->role, grants->nelts - nseq, nseq);
    }
}

static void db_pg(check_t *ck, paa_db_t *db)
{
    paa_pg_role_t r;
    apr_status_t rv;
    int found = 0;

    if (!db->pgsql) {
        check_skip_all(ck, pg_defs,
                       "SQLite: a local file, no network connection or role");
        return;
    }
    memset(&r, 0, sizeof(r));
    rv = paa_check_pg_role(ck->ctl->pool, db, &r, &found);
    if (rv != APR_SUCCESS || !found) {
        /* No row: current_schema() is NULL when the role may use no
         * schema of its search_path (USAGE is missing). */
        const char *why =
            rv != APR_SUCCESS
                ? db->error
                : "no schema in the role's search_path that it may use";
        check_add(ck, &def_ssl, CHECK_SKIP, NULL, "%s", why);
        check_add(ck, &def_role, CHECK_FAIL,
                  "GRANT USAGE ON SCHEMA public TO the role",
                  "cannot read the connection's role: %s", why);
        check_add(ck, &def_grants, CHECK_SKIP, NULL, "%s", why);
        return;
    }
    db_ssl(ck, db, &r);
    db_role(ck, &r);
    db_grants(ck, db, &r);
}

/* paactl backup records each backup as the audit event backup.create (a
 * restore is db.restore, not a backup). Without one the item says so
 * rather than guess from files it cannot know about. */
static void db_backup(check_t *ck, paa_db_t *db)
{
    paa_audit_filter_t f;
    apr_array_header_t *rows;
    apr_int64_t age;

    memset(&f, 0, sizeof(f));
    f.event_prefix = "backup.";
    f.limit = 1;
    if (paa_audit_query(ck->ctl->pool, db, &f, &rows) != APR_SUCCESS) {
        check_add(ck, &def_backup, CHECK_SKIP, NULL,
                  "cannot read the audit records: %s", db->error);
        return;
    }
    if (!rows->nelts) {
        check_add(ck, &def_backup, CHECK_SKIP, NULL,
                  "no paactl backup recorded");
        return;
    }
    age = ck->now - APR_ARRAY_IDX(rows, 0, paa_audit_t).at;
    if (age > ck->backup_max_age) {
        check_add(ck, &def_backup, CHECK_WARN,
                  "schedule backups (cron) at least as often as "
                  "--backup-max-age",
                  "the last backup was %s ago", check_age(ck, age));
        return;
    }
    check_add(ck, &def_backup, CHECK_PASS, NULL, "the last backup was %s ago",
              check_age(ck, age));
}

void check_database(check_t *ck)
{
    paa_db_t *db = check_db(ck);

    if (!ck->env) {
        check_skip_all(ck, db_defs, ck->db_error);
        return;
    }
    if (!db) {
        check_add(ck, &def_schema, CHECK_FAIL,
                  "check PAA_DB_DRIVER and PAA_DB_PARAMS, then paactl init",
                  "cannot open the database: %s", ck->db_error);
        check_skip_all(ck, db_defs + 1, "the database could not be opened");
        return;
    }
    db_schema(ck, db);
    db_file(ck, db);
    db_pg(ck, db);
    db_backup(ck, db);
}
