/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The stores paactl administers (keys, users, audit) on an in-memory
 * SQLite database: every function of theirs in store.h, with the refusals
 * that matter (a duplicate, a missing row, a rotation of a revoked or
 * rotated key) beside the cases that work, and statements prepared one by
 * one. test_store_api.c covers the other stores; PostgreSQL runs the same
 * statements in the integration tests. */

#include "store_test.h"

#include <apr_file_io.h>
#include <unistd.h>

/* ---------------------------------------------------------------- keys */

static const char *hash_of(const char *id)
{
    return paa_sha256_hex(tp, id, strlen(id));
}

static paa_key_t *key_add(const char *id, apr_int64_t created,
                          apr_int64_t expires)
{
    paa_key_t *k = apr_pcalloc(tp, sizeof(*k));
    k->id = id;
    k->prefix = "pak_0123";
    k->name = apr_pstrcat(tp, "name-", id, NULL);
    k->client = "";
    k->roles = "admin,ops";
    k->created_by = "os:test";
    k->created_at = created;
    k->expires_at = expires;
    OK(paa_keys_add(tp, db, k, hash_of(id)));
    return k;
}

static paa_key_t key_get(const char *id)
{
    paa_key_t k;
    int found = 0;
    memset(&k, 0, sizeof(k));
    OK(paa_keys_get(tp, db, id, &k, &found));
    ck_assert_msg(found, "key %s not found", id);
    return k;
}

START_TEST(keys_add_get_by_hash_touch)
{
    paa_key_t k;
    int found = 1;

    key_add("key_a", 100, 0);
    OK(paa_keys_by_hash(tp, db, hash_of("key_a"), &k, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(k.id, "key_a");
    ck_assert_str_eq(k.name, "name-key_a");
    ck_assert_str_eq(k.client, "");
    ck_assert_str_eq(k.roles, "admin,ops");
    ck_assert_str_eq(k.created_by, "os:test");
    ck_assert_int_eq(k.created_at, 100);
    ck_assert_int_eq(k.expires_at, 0); /* stored as NULL: never */
    ck_assert_ptr_null(k.revoked_reason);
    ck_assert_ptr_null(k.rotated_from);
    ck_assert_ptr_null(k.replaced_by);

    OK(paa_keys_by_hash(tp, db, hash_of("nope"), &k, &found));
    ck_assert_int_eq(found, 0);
    found = 1;
    OK(paa_keys_get(tp, db, "key_missing", &k, &found));
    ck_assert_int_eq(found, 0);

    ck_assert_int_eq(key_get("key_a").last_used_at, 0);
    OK(paa_keys_touch(tp, db, "key_a", 555));
    ck_assert_int_eq(key_get("key_a").last_used_at, 555);
}
END_TEST

/* What a restart warms its cache with, chunk after chunk: the usable
 * keys, never a revoked or expired one, each once whatever the chunk's
 * size; when more are usable than wanted, the most recently used (ties
 * by id), keys never used last. */
static void collect(void *baton, const paa_key_t *k, const char *hash)
{
    const char **got = baton;
    *got = apr_pstrcat(tp, *got, k->id, " ", NULL);
    ck_assert_str_eq(hash, hash_of(k->id));
    ck_assert_str_eq(k->roles, "admin,ops");
    ck_assert_str_eq(k->client, "");
    ck_assert_int_eq(k->expires_at, strcmp(k->id, "key_c") ? 0 : 900);
}

START_TEST(keys_usable_in_chunks)
{
    static const char *const want[] = {"",
                                       "key_d ",
                                       "key_d key_a ",
                                       "key_d key_a key_b ",
                                       "key_a key_b key_d key_c ",
                                       "key_a key_b key_c key_d key_e ",
                                       "key_a key_b key_c key_d key_e key_h ",
                                       "key_a key_b key_c key_d key_e key_h "};
    int nrows, limit, chunk, count;

    key_add("key_a", 100, 0);
    key_add("key_b", 100, 0);
    key_add("key_c", 100, 900);
    key_add("key_d", 100, 0);
    key_add("key_e", 100, 0); /* never used */
    key_add("key_f", 100, 0);
    key_add("key_g", 100, 150); /* expired at 200 */
    key_add("key_h", 100, 0);   /* never used */
    OK(paa_keys_touch(tp, db, "key_a", 500));
    OK(paa_keys_touch(tp, db, "key_b", 500));
    OK(paa_keys_touch(tp, db, "key_c", 400));
    OK(paa_keys_touch(tp, db, "key_d", 600));
    OK(paa_keys_touch(tp, db, "key_f", 700));
    OK(paa_keys_touch(tp, db, "key_g", 800));
    OK(paa_keys_revoke(tp, db, "key_f", 150, "", &nrows));

    for (limit = 0; limit <= 7; limit++) {
        for (chunk = 1; chunk <= 7; chunk++) {
            const char *got = "";
            OK(paa_keys_usable(tp, db, 200, limit, chunk, collect, &got,
                               &count));
            ck_assert_msg(!strcmp(got, want[limit]),
                          "limit %d, chunks of %d: \"%s\"", limit, chunk, got);
            ck_assert_int_eq(count, (int)strlen(got) / 6);
        }
    }
}
END_TEST

START_TEST(keys_add_refuses_duplicates)
{
    paa_key_t k;

    key_add("key_a", 100, 0);
    memset(&k, 0, sizeof(k));
    k.id = "key_a";
    k.prefix = "p";
    k.name = "n";
    k.created_at = 1;
    FAILS(paa_keys_add(tp, db, &k, hash_of("other")));
    ck_assert_ptr_nonnull(db->error);
    db->error = NULL;
    k.id = "key_b"; /* a new id, the same hash */
    FAILS(paa_keys_add(tp, db, &k, hash_of("key_a")));
    ck_assert_ptr_nonnull(strstr(db->error, "UNIQUE"));
}
END_TEST

START_TEST(keys_find_filters)
{
    paa_key_filter_t f = {NULL, NULL, 0};
    apr_array_header_t *keys;
    int nrows = 0;

    key_add("key_c", 300, 0);
    key_add("key_a", 100, 0);
    key_add("key_b", 100, 150); /* expired at 150 */
    OK(paa_keys_revoke(tp, db, "key_c", 200, "", &nrows));

    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 3);
    /* oldest first; the same second by id */
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_a");
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 1, paa_key_t).id, "key_b");
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 2, paa_key_t).id, "key_c");

    f.usable_at = 149;
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 2); /* key_c is revoked */
    f.usable_at = 150;                /* refused from its expiry second on */
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_a");

    f.usable_at = 0;
    f.hash = hash_of("key_b");
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_b");
    ck_assert_int_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).expires_at, 150);
    f.id = "key_a"; /* both must match */
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 0);
    f.hash = NULL;
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 1);
    f.id = ""; /* an empty id is a value, not "any" */
    OK(paa_keys_find(tp, db, &f, &keys));
    ck_assert_int_eq(keys->nelts, 0);
}
END_TEST

START_TEST(keys_revoke_once)
{
    paa_key_t k;
    int nrows = -1;

    key_add("key_a", 100, 0);
    OK(paa_keys_revoke(tp, db, "key_a", 200, "lost", &nrows));
    ck_assert_int_eq(nrows, 1);
    k = key_get("key_a");
    ck_assert_int_eq(k.revoked_at, 200);
    ck_assert_str_eq(k.revoked_reason, "lost");

    /* The first revocation is the one on record. */
    OK(paa_keys_revoke(tp, db, "key_a", 300, "again", &nrows));
    ck_assert_int_eq(nrows, 0);
    k = key_get("key_a");
    ck_assert_int_eq(k.revoked_at, 200);
    ck_assert_str_eq(k.revoked_reason, "lost");

    OK(paa_keys_revoke(tp, db, "key_none", 300, NULL, &nrows));
    ck_assert_int_eq(nrows, 0);

    key_add("key_b", 100, 0);
    OK(paa_keys_revoke(tp, db, "key_b", 200, NULL, &nrows));
    ck_assert_ptr_null(key_get("key_b").revoked_reason); /* none given */
}
END_TEST

static paa_key_t *key_for(const char *id, const char *client, const char *roles)
{
    paa_key_t *k = key_add(id, 100, 0);
    paa_stmt_t st = {apr_pstrcat(tp, "set_", id, NULL),
                     apr_psprintf(tp,
                                  "UPDATE paa_api_keys SET client = '%s',"
                                  " roles = '%s' WHERE id = '%s'",
                                  client, roles, id)};
    OK(paa_db_run(tp, db, &st, 0, NULL, NULL));
    return k;
}

static const char *ids_of(apr_array_header_t *keys)
{
    apr_array_header_t *ids = apr_array_make(tp, 4, sizeof(const char *));
    int i;
    for (i = 0; i < keys->nelts; i++) {
        APR_ARRAY_PUSH(ids, const char *) =
            APR_ARRAY_IDX(keys, i, paa_key_t).id;
    }
    return apr_array_pstrcat(tp, ids, ' ');
}

START_TEST(keys_revoke_all_filters)
{
    paa_key_match_t m = {NULL, NULL, NULL};
    apr_array_header_t *except = apr_array_make(tp, 2, sizeof(const char *));
    apr_array_header_t *out;
    int nrows = 0;

    key_for("key_a", "ci", "admin,ops");
    key_for("key_b", "ci", "reader");
    key_for("key_c", "web", "reader,admin");
    key_for("key_d", "web", "reader");
    key_for("key_e", "ci", "admin");
    key_add("key_x", 100, 150); /* expired: nothing to revoke */
    OK(paa_keys_revoke(tp, db, "key_e", 120, "earlier", &nrows));

    m.client = "ci"; /* and role admin: key_a only (key_e is revoked) */
    m.role = "admin";
    OK(paa_keys_revoke_all(tp, db, &m, 200, "breach", &out));
    ck_assert_str_eq(ids_of(out), "key_a");
    ck_assert_str_eq(key_get("key_a").revoked_reason, "breach");
    ck_assert_int_eq(key_get("key_e").revoked_at, 120); /* kept */
    ck_assert_str_eq(key_get("key_e").revoked_reason, "earlier");

    m.client = NULL; /* a role is matched whole, not as a substring */
    m.role = "read";
    OK(paa_keys_revoke_all(tp, db, &m, 200, "breach", &out));
    ck_assert_int_eq(out->nelts, 0);

    m.role = NULL; /* every usable key but the exceptions */
    APR_ARRAY_PUSH(except, const char *) = "key_c";
    m.except = except;
    OK(paa_keys_revoke_all(tp, db, &m, 300, "all", &out));
    ck_assert_str_eq(ids_of(out), "key_b key_d");
    ck_assert_int_eq(key_get("key_b").revoked_at, 300);
    ck_assert_int_eq(key_get("key_c").revoked_at, 0);
    ck_assert_int_eq(key_get("key_x").revoked_at, 0);
}
END_TEST

START_TEST(keys_revoke_all_failure_changes_nothing)
{
    paa_key_match_t m = {NULL, NULL, NULL};
    paa_stmt_t trigger = {
        "refuse_z", "CREATE TRIGGER refuse_z BEFORE UPDATE ON paa_api_keys"
                    " WHEN NEW.id = 'key_z' BEGIN SELECT RAISE(ABORT, 'no');"
                    " END"};
    apr_array_header_t *out;

    key_add("key_a", 100, 0);
    key_add("key_z", 100, 0);
    OK(paa_db_run(tp, db, &trigger, 0, NULL, NULL));
    /* key_a is revoked first, then key_z fails: key_a must be restored. */
    FAILS(paa_keys_revoke_all(tp, db, &m, 200, "x", &out));
    ck_assert_int_eq(out->nelts, 0);
    ck_assert_int_eq(key_get("key_a").revoked_at, 0);
}
END_TEST

static paa_key_t next_key(const char *id, const char *from, apr_int64_t now)
{
    paa_key_t n;
    memset(&n, 0, sizeof(n));
    n.id = id;
    n.prefix = "pak_9999";
    n.name = "rotated";
    n.roles = "ops";
    n.created_by = "os:test";
    n.created_at = now;
    n.rotated_from = from;
    return n;
}

START_TEST(keys_rotate)
{
    paa_key_t n = next_key("key_new", "key_old", 1000), k;
    int rotated = -1, found = 0;

    key_add("key_old", 100, 5000);
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_new"), 2000, &rotated));
    ck_assert_int_eq(rotated, 1);
    k = key_get("key_old");
    ck_assert_int_eq(k.expires_at, 2000); /* the grace period */
    ck_assert_str_eq(k.replaced_by, "key_new");
    OK(paa_keys_by_hash(tp, db, hash_of("key_new"), &k, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(k.rotated_from, "key_old");
    ck_assert_int_eq(k.expires_at, 0);

    /* A second successor would make "replaced by" ambiguous. */
    n = next_key("key_other", "key_old", 1100);
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_other"), 3000, &rotated));
    ck_assert_int_eq(rotated, 0);
    ck_assert_int_eq(key_get("key_old").expires_at, 2000);
    OK(paa_keys_get(tp, db, "key_other", &k, &found));
    ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(keys_rotate_keeps_an_earlier_expiry)
{
    paa_key_t n = next_key("key_new", "key_old", 1000);
    int rotated = 0;

    key_add("key_old", 100, 1500);
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_new"), 2000, &rotated));
    ck_assert_int_eq(rotated, 1);
    ck_assert_int_eq(key_get("key_old").expires_at, 1500);
}
END_TEST

START_TEST(keys_rotate_refuses_revoked_expired_missing)
{
    paa_key_t n;
    int rotated = -1, nrows = 0;

    key_add("key_rev", 100, 0);
    OK(paa_keys_revoke(tp, db, "key_rev", 200, "x", &nrows));
    n = next_key("key_n1", "key_rev", 1000);
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_n1"), 2000, &rotated));
    ck_assert_int_eq(rotated, 0);

    key_add("key_exp", 100, 1000); /* expired at the rotation's second */
    n = next_key("key_n2", "key_exp", 1000);
    rotated = -1;
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_n2"), 2000, &rotated));
    ck_assert_int_eq(rotated, 0);

    n = next_key("key_n3", "key_missing", 1000);
    rotated = -1;
    OK(paa_keys_rotate(tp, db, &n, hash_of("key_n3"), 2000, &rotated));
    ck_assert_int_eq(rotated, 0);
    ck_assert_int_eq(scalar("t_keys", "SELECT count(*) FROM paa_api_keys"), 2);
}
END_TEST

START_TEST(keys_rotate_failure_changes_nothing)
{
    paa_key_t n = next_key("key_new", "key_old", 1000);
    int rotated = -1;

    key_add("key_old", 100, 0);
    key_add("key_taken", 100, 0);
    /* The successor's insert fails (its hash is taken) after the old key's
     * expiry was set: the transaction must undo that too. */
    FAILS(paa_keys_rotate(tp, db, &n, hash_of("key_taken"), 2000, &rotated));
    ck_assert_int_eq(rotated, 0);
    ck_assert_ptr_nonnull(db->error);
    ck_assert_int_eq(key_get("key_old").expires_at, 0);
    ck_assert_ptr_null(key_get("key_old").replaced_by);
}
END_TEST

START_TEST(backup_sqlite_copy_and_rows)
{
    const char *dir = NULL, *path, *err = NULL;
    apr_int64_t n = -1;
    paa_db_t *copy;
    paa_key_t k;
    int found = 0;

    OK(paa_backup_rows(tp, db, &n));
    ck_assert_int_eq(n, 0); /* a fresh schema: nothing to lose */
    key_add("key_a", 100, 0);
    OK(paa_backup_rows(tp, db, &n));
    ck_assert_int_eq(n, 1);

    ck_assert_int_eq(apr_temp_dir_get(&dir, tp), APR_SUCCESS);
    path = apr_psprintf(tp, "%s/paa-backup-%d.db", dir, (int)getpid());
    unlink(path);
    OK(paa_backup_sqlite(tp, db, path));
    /* The copy is a database with the same rows. */
    ck_assert_int_eq(paa_db_open(tp, "sqlite3", path, &copy, &err),
                     APR_SUCCESS);
    OK(paa_keys_by_hash(tp, copy, hash_of("key_a"), &k, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(k.id, "key_a");
    paa_db_close(copy);
    /* VACUUM INTO never overwrites a database. */
    FAILS(paa_backup_sqlite(tp, db, path));
    unlink(path);
}
END_TEST

/* --------------------------------------------------------------- users */

static void user_add(const char *id, const char *name, const char *roles)
{
    paa_user_t u;
    memset(&u, 0, sizeof(u));
    u.id = id;
    u.username = name;
    u.roles = roles;
    u.password_hash = apr_pstrcat(tp, "$2b$hash-of-", name, NULL);
    u.created_at = u.updated_at = 100;
    OK(paa_users_add(tp, db, &u));
}

START_TEST(users_add_lookup_list)
{
    apr_array_header_t *all;
    paa_user_t u;
    int found = 0;

    user_add("usr_b", "bob", "");
    user_add("usr_a", "alice", "admin");
    OK(paa_users_by_name(tp, db, "alice", &u, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(u.id, "usr_a");
    ck_assert_str_eq(u.roles, "admin");
    ck_assert_str_eq(u.password_hash, "$2b$hash-of-alice");
    ck_assert_int_eq(u.disabled, 0);
    OK(paa_users_by_id(tp, db, "usr_b", &u, &found));
    ck_assert_str_eq(u.username, "bob");
    ck_assert_ptr_null(u.password_hash); /* only where it is checked */
    OK(paa_users_by_name(tp, db, "carol", &u, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_users_by_id(tp, db, "usr_x", &u, &found));
    ck_assert_int_eq(found, 0);

    memset(&u, 0, sizeof(u));
    u.id = "usr_c";
    u.username = "alice";
    u.password_hash = "x";
    FAILS(paa_users_add(tp, db, &u));

    OK(paa_users_list(tp, db, &all));
    ck_assert_int_eq(all->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(all, 0, paa_user_t).username, "alice");
    ck_assert_str_eq(APR_ARRAY_IDX(all, 1, paa_user_t).username, "bob");
    ck_assert_ptr_null(APR_ARRAY_IDX(all, 0, paa_user_t).password_hash);
}
END_TEST

START_TEST(users_changes)
{
    paa_user_t u;
    int found = 0, revoked = -1, nrows = -1;

    user_add("usr_a", "alice", "admin");
    OK(paa_users_set_password(tp, db, "usr_a", "$2b$new", 200, 201, &nrows));
    ck_assert_int_eq(nrows, 1);
    OK(paa_users_for_token(tp, db, "usr_a", "", &u, &revoked, &found));
    ck_assert_int_eq(u.tokens_not_before, 201);
    OK(paa_users_set_roles(tp, db, "usr_a", "ops,dev", 300, &nrows));
    OK(paa_users_set_disabled(tp, db, "usr_a", 1, 400, NULL));
    OK(paa_users_by_name(tp, db, "alice", &u, &found));
    ck_assert_str_eq(u.password_hash, "$2b$new");
    ck_assert_str_eq(u.roles, "ops,dev");
    ck_assert_int_eq(u.disabled, 1);
    ck_assert_int_eq(u.created_at, 100);
    ck_assert_int_eq(u.updated_at, 400);
    OK(paa_users_set_disabled(tp, db, "usr_a", 0, 500, NULL));
    OK(paa_users_by_id(tp, db, "usr_a", &u, &found));
    ck_assert_int_eq(u.disabled, 0);

    nrows = -1;
    OK(paa_users_set_password(tp, db, "usr_x", "h", 1, 2, &nrows));
    ck_assert_int_eq(nrows, 0);
    OK(paa_users_set_roles(tp, db, "usr_x", "", 1, &nrows));
    ck_assert_int_eq(nrows, 0);
    OK(paa_users_set_disabled(tp, db, "usr_x", 1, 1, &nrows));
    ck_assert_int_eq(nrows, 0);

    OK(paa_users_delete(tp, db, "usr_a", &nrows));
    ck_assert_int_eq(nrows, 1);
    OK(paa_users_by_id(tp, db, "usr_a", &u, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_users_delete(tp, db, "usr_a", &nrows));
    ck_assert_int_eq(nrows, 0);
}
END_TEST

/* --------------------------------------------------------------- audit */

static void audit(apr_int64_t at, const char *event, const char *subject,
                  const char *key_id, const char *detail)
{
    paa_audit_t a;
    memset(&a, 0, sizeof(a));
    a.at = at;
    a.event = event;
    a.outcome = "success";
    a.actor = "os:test";
    a.subject = subject;
    a.key_id = key_id;
    a.detail = detail;
    OK(paa_audit_add(tp, db, &a));
}

static apr_array_header_t *query(const paa_audit_filter_t *f)
{
    apr_array_header_t *rows = NULL;
    OK(paa_audit_query(tp, db, f, &rows));
    return rows;
}

#define EVENT(rows, i) APR_ARRAY_IDX(rows, i, paa_audit_t).event

START_TEST(audit_add_and_query)
{
    paa_audit_filter_t f = {NULL, NULL, NULL, NULL, 0, 100, NULL, 0, 0};
    apr_array_header_t *rows;
    apr_int64_t now = apr_time_sec(apr_time_now());

    audit(100, "key.create", "svc", "key_1", "roles= client=");
    audit(150, "auth.failure", "alice", NULL, NULL);
    audit(200, "key.rotate", "svc", "key_2", "rotated_from=key_1 grace=24h");
    audit(300, "key.revoke", "svc", "key_1", "reason=");
    audit(300, "keyXuse", "svc", "key_3", NULL); /* '.' is no wildcard */
    audit(0, "user.add", "usr_a", NULL, NULL);   /* 0: now */

    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 6);
    ck_assert_str_eq(EVENT(rows, 0), "user.add");
    ck_assert_int_ge(APR_ARRAY_IDX(rows, 0, paa_audit_t).at, now);
    /* The same second: the later record first. */
    ck_assert_str_eq(EVENT(rows, 1), "keyXuse");
    ck_assert_str_eq(EVENT(rows, 2), "key.revoke");
    ck_assert_int_gt(APR_ARRAY_IDX(rows, 1, paa_audit_t).id,
                     APR_ARRAY_IDX(rows, 2, paa_audit_t).id);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 5, paa_audit_t).client_ip, "");
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 4, paa_audit_t).key_id, "");

    f.key_id = "key_1"; /* its rotation is recorded under key_2 */
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 3);
    ck_assert_str_eq(EVENT(rows, 0), "key.revoke");
    ck_assert_str_eq(EVENT(rows, 1), "key.rotate");
    ck_assert_str_eq(EVENT(rows, 2), "key.create");
    f.key_id = "key_2";
    ck_assert_int_eq(query(&f)->nelts, 1);

    f.key_id = NULL;
    f.subject = "alice";
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 1);
    ck_assert_str_eq(EVENT(rows, 0), "auth.failure");
    f.subject = ""; /* a value: no record has an empty subject */
    ck_assert_int_eq(query(&f)->nelts, 0);

    f.subject = NULL;
    f.event = "key.revoke";
    ck_assert_int_eq(query(&f)->nelts, 1);
    f.event = NULL;
    f.event_prefix = "key.";
    ck_assert_int_eq(query(&f)->nelts, 3);

    f.since = 200; /* at or after */
    ck_assert_int_eq(query(&f)->nelts, 2);
    f.event_prefix = NULL;
    f.limit = 2;
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 2);
    ck_assert_str_eq(EVENT(rows, 0), "user.add");
}
END_TEST

/* What the audit API pages through: a client address, a half-open time
 * window, an offset, and a count that agrees with the pages. */
START_TEST(audit_window_client_paging_count)
{
    paa_audit_filter_t f;
    apr_array_header_t *rows;
    apr_int64_t total = -1;
    paa_audit_t a;
    int i;

    memset(&a, 0, sizeof(a));
    a.outcome = "failure";
    for (i = 0; i < 7; i++) {
        a.at = 1000 + 10 * i; /* 1000 .. 1060 */
        a.event = i % 2 ? "auth.failure" : "key.use";
        a.client_ip = i < 3 ? "192.0.2.1" : "2001:db8::1";
        a.subject = apr_psprintf(tp, "s%d", i);
        OK(paa_audit_add(tp, db, &a));
    }
    memset(&f, 0, sizeof(f));
    f.limit = 100;
    OK(paa_audit_count(tp, db, &f, &total));
    ck_assert_int_eq(total, 7);

    f.client_ip = "192.0.2.1";
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_audit_t).subject, "s2");
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_audit_t).client_ip,
                     "192.0.2.1");
    OK(paa_audit_count(tp, db, &f, &total));
    ck_assert_int_eq(total, 3);
    f.client_ip = "192.0.2.10"; /* exact, not a prefix */
    ck_assert_int_eq(query(&f)->nelts, 0);

    /* since is inclusive, until exclusive: windows tile without overlap */
    f.client_ip = NULL;
    f.since = 1010;
    f.until = 1040;
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 3);
    ck_assert_int_eq(APR_ARRAY_IDX(rows, 0, paa_audit_t).at, 1030);
    ck_assert_int_eq(APR_ARRAY_IDX(rows, 2, paa_audit_t).at, 1010);
    f.since = 1040;
    f.until = 0; /* no upper bound */
    ck_assert_int_eq(query(&f)->nelts, 3);

    /* Pages of 3, newest first; the count ignores limit and offset. */
    f.since = 0;
    f.limit = 3;
    for (i = 0; i < 3; i++) {
        f.offset = 3 * i;
        rows = query(&f);
        ck_assert_int_eq(rows->nelts, i < 2 ? 3 : 1);
        ck_assert_int_eq(APR_ARRAY_IDX(rows, 0, paa_audit_t).at, 1060 - 30 * i);
        OK(paa_audit_count(tp, db, &f, &total));
        ck_assert_int_eq(total, 7);
    }
    f.offset = 7;
    ck_assert_int_eq(query(&f)->nelts, 0);

    /* Every filter together, in the count as in the query. */
    f.offset = 0;
    f.limit = 100;
    f.event = "auth.failure";
    f.client_ip = "2001:db8::1";
    f.since = 1030;
    f.until = 1060;
    rows = query(&f);
    ck_assert_int_eq(rows->nelts, 2); /* s3 and s5 */
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_audit_t).subject, "s5");
    OK(paa_audit_count(tp, db, &f, &total));
    ck_assert_int_eq(total, 2);
}
END_TEST

/* ------------------------------------------------- prepared statements */

typedef struct {
    const char *label;
    const char *msg;
} logged_t;

static void log_to(void *ctx, const char *label, const char *msg)
{
    logged_t *l = ctx;
    l->label = apr_pstrdup(tp, label);
    l->msg = apr_pstrdup(tp, msg);
}

START_TEST(statements_prepare_lazily_one_by_one)
{
    paa_mcp_session_t s = {"mcp_1", "usr_a", "2025-06-18", 1000}, got;
    paa_persona_t pp;
    logged_t logged = {NULL, NULL};
    const char *err = NULL;
    int found = -1, version = 0;

    db->log = log_to;
    db->log_ctx = &logged;
    /* As when a migration that adds the table is still pending. */
    OK(paa_db_exec(tp, db, "DROP TABLE paa_mcp_sessions", &err));
    FAILS(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found));
    ck_assert_int_eq(found, 0);
    ck_assert_ptr_nonnull(strstr(db->error, "paa_mcp_sessions"));
    ck_assert_str_eq(logged.label, "paa_mcp_session_get");
    ck_assert_str_eq(logged.msg, db->error);
    FAILS(paa_mcp_session_add(tp, db, &s));

    /* Everything else keeps working. */
    OK(paa_personas_get(tp, db, "a", &pp, &found));
    ck_assert_int_eq(found, 0);
    key_add("key_a", 1, 0);
    ck_assert_int_eq(key_get("key_a").created_at, 1);
    OK(paa_schema_current(tp, db, &version));
    ck_assert_int_eq(version, PAA_SCHEMA_VERSION);

    /* A failed statement is not kept: once the table exists it prepares. */
    OK(paa_db_exec(tp, db,
                   "CREATE TABLE paa_mcp_sessions (id TEXT,"
                   " principal TEXT, protocol_version TEXT,"
                   " created_at BIGINT)",
                   &err));
    OK(paa_mcp_session_add(tp, db, &s));
    OK(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found));
    ck_assert_int_eq(found, 1);
}
END_TEST

START_TEST(audit_write_reports_the_error)
{
    paa_audit_t a;
    const char *err = NULL;

    memset(&a, 0, sizeof(a));
    a.event = "x";
    OK(paa_audit_write(tp, db, &a, &err));
    OK(paa_db_exec(tp, db, "DROP TABLE paa_audit", &err));
    err = NULL;
    /* Already prepared on this connection: the failure is at the step. */
    FAILS(paa_audit_write(tp, db, &a, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, db->error);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, keys_add_get_by_hash_touch);
    tcase_add_test(tc, keys_usable_in_chunks);
    tcase_add_test(tc, keys_add_refuses_duplicates);
    tcase_add_test(tc, keys_find_filters);
    tcase_add_test(tc, keys_revoke_once);
    tcase_add_test(tc, keys_revoke_all_filters);
    tcase_add_test(tc, keys_revoke_all_failure_changes_nothing);
    tcase_add_test(tc, keys_rotate);
    tcase_add_test(tc, keys_rotate_keeps_an_earlier_expiry);
    tcase_add_test(tc, keys_rotate_refuses_revoked_expired_missing);
    tcase_add_test(tc, keys_rotate_failure_changes_nothing);
    tcase_add_test(tc, backup_sqlite_copy_and_rows);
    tcase_add_test(tc, users_add_lookup_list);
    tcase_add_test(tc, users_changes);
    tcase_add_test(tc, audit_add_and_query);
    tcase_add_test(tc, audit_window_client_paging_count);
    tcase_add_test(tc, statements_prepare_lazily_one_by_one);
    tcase_add_test(tc, audit_write_reports_the_error);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_suite)
