/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The typed stores on an in-memory SQLite database, migrated like a real
 * one: every function of store.h, with the refusals that matter (a
 * duplicate, a missing row, a rotation of a revoked or rotated key, a
 * session ended by someone else) beside the cases that work. PostgreSQL
 * runs the same statements in the integration tests. */

#include "paa_test.h"

#include <apr_strings.h>
#include <jansson.h>
#include <string.h>

static paa_db_t *db;

static void store_setup(void)
{
    const char *err = NULL;
    int from = -1, to = -1;

    paa_test_setup();
    ck_assert_msg(paa_db_open(tp, "sqlite3", ":memory:", &db, &err) ==
                      APR_SUCCESS,
                  "%s", err);
    ck_assert_msg(paa_schema_migrate(tp, db, &from, &to, &err) == APR_SUCCESS,
                  "%s", err);
    ck_assert_int_eq(to, PAA_SCHEMA_VERSION);
}

static void store_teardown(void)
{
    paa_db_close(db);
    db = NULL;
    paa_test_teardown();
}

/* A test's own look at a table, for what no store reads back. */
static apr_int64_t scalar(const char *label, const char *sql)
{
    paa_stmt_t st = {label, sql};
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t v = -1;

    ck_assert_int_eq(paa_db_select(tp, db, &st, 0, NULL, &res), APR_SUCCESS);
    while (paa_db_next(tp, db, res, &row)) {
        v = paa_db_int(db, row, 0);
    }
    return v;
}

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
    ck_assert_int_eq(paa_keys_add(tp, db, k, hash_of(id)), APR_SUCCESS);
    return k;
}

static paa_key_t key_get(const char *id)
{
    paa_key_t k;
    int found = 0;
    memset(&k, 0, sizeof(k));
    ck_assert_int_eq(paa_keys_get(tp, db, id, &k, &found), APR_SUCCESS);
    ck_assert_msg(found, "key %s not found", id);
    return k;
}

START_TEST(keys_add_get_by_hash_touch)
{
    paa_key_t k;
    int found = 1;

    key_add("key_a", 100, 0);
    ck_assert_int_eq(paa_keys_by_hash(tp, db, hash_of("key_a"), &k, &found),
                     APR_SUCCESS);
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

    ck_assert_int_eq(paa_keys_by_hash(tp, db, hash_of("nope"), &k, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);
    found = 1;
    ck_assert_int_eq(paa_keys_get(tp, db, "key_missing", &k, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);

    ck_assert_int_eq(key_get("key_a").last_used_at, 0);
    ck_assert_int_eq(paa_keys_touch(tp, db, "key_a", 555), APR_SUCCESS);
    ck_assert_int_eq(key_get("key_a").last_used_at, 555);
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
    ck_assert_int_eq(paa_keys_add(tp, db, &k, hash_of("other")), APR_EGENERAL);
    ck_assert_ptr_nonnull(db->error);
    db->error = NULL;
    k.id = "key_b"; /* a new id, the same hash */
    ck_assert_int_eq(paa_keys_add(tp, db, &k, hash_of("key_a")), APR_EGENERAL);
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
    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_c", 200, "", &nrows),
                     APR_SUCCESS);

    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 3);
    /* oldest first; the same second by id */
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_a");
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 1, paa_key_t).id, "key_b");
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 2, paa_key_t).id, "key_c");

    f.usable_at = 149;
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 2); /* key_c is revoked */
    f.usable_at = 150;                /* refused from its expiry second on */
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_a");

    f.usable_at = 0;
    f.hash = hash_of("key_b");
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).id, "key_b");
    ck_assert_int_eq(APR_ARRAY_IDX(keys, 0, paa_key_t).expires_at, 150);
    f.id = "key_a"; /* both must match */
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 0);
    f.hash = NULL;
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 1);
    f.id = ""; /* an empty id is a value, not "any" */
    ck_assert_int_eq(paa_keys_find(tp, db, &f, &keys), APR_SUCCESS);
    ck_assert_int_eq(keys->nelts, 0);
}
END_TEST

START_TEST(keys_revoke_once)
{
    paa_key_t k;
    int nrows = -1;

    key_add("key_a", 100, 0);
    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_a", 200, "lost", &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 1);
    k = key_get("key_a");
    ck_assert_int_eq(k.revoked_at, 200);
    ck_assert_str_eq(k.revoked_reason, "lost");

    /* The first revocation is the one on record. */
    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_a", 300, "again", &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);
    k = key_get("key_a");
    ck_assert_int_eq(k.revoked_at, 200);
    ck_assert_str_eq(k.revoked_reason, "lost");

    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_none", 300, NULL, &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);

    key_add("key_b", 100, 0);
    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_b", 200, NULL, &nrows),
                     APR_SUCCESS);
    ck_assert_ptr_null(key_get("key_b").revoked_reason); /* none given */
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
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_new"), 2000, &rotated),
        APR_SUCCESS);
    ck_assert_int_eq(rotated, 1);
    k = key_get("key_old");
    ck_assert_int_eq(k.expires_at, 2000); /* the grace period */
    ck_assert_str_eq(k.replaced_by, "key_new");
    ck_assert_int_eq(paa_keys_by_hash(tp, db, hash_of("key_new"), &k, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(k.rotated_from, "key_old");
    ck_assert_int_eq(k.expires_at, 0);

    /* A second successor would make "replaced by" ambiguous. */
    n = next_key("key_other", "key_old", 1100);
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_other"), 3000, &rotated),
        APR_SUCCESS);
    ck_assert_int_eq(rotated, 0);
    ck_assert_int_eq(key_get("key_old").expires_at, 2000);
    ck_assert_int_eq(paa_keys_get(tp, db, "key_other", &k, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(keys_rotate_keeps_an_earlier_expiry)
{
    paa_key_t n = next_key("key_new", "key_old", 1000);
    int rotated = 0;

    key_add("key_old", 100, 1500);
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_new"), 2000, &rotated),
        APR_SUCCESS);
    ck_assert_int_eq(rotated, 1);
    ck_assert_int_eq(key_get("key_old").expires_at, 1500);
}
END_TEST

START_TEST(keys_rotate_refuses_revoked_expired_missing)
{
    paa_key_t n;
    int rotated = -1, nrows = 0;

    key_add("key_rev", 100, 0);
    ck_assert_int_eq(paa_keys_revoke(tp, db, "key_rev", 200, "x", &nrows),
                     APR_SUCCESS);
    n = next_key("key_n1", "key_rev", 1000);
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_n1"), 2000, &rotated),
        APR_SUCCESS);
    ck_assert_int_eq(rotated, 0);

    key_add("key_exp", 100, 1000); /* expired at the rotation's second */
    n = next_key("key_n2", "key_exp", 1000);
    rotated = -1;
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_n2"), 2000, &rotated),
        APR_SUCCESS);
    ck_assert_int_eq(rotated, 0);

    n = next_key("key_n3", "key_missing", 1000);
    rotated = -1;
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_n3"), 2000, &rotated),
        APR_SUCCESS);
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
    ck_assert_int_eq(
        paa_keys_rotate(tp, db, &n, hash_of("key_taken"), 2000, &rotated),
        APR_EGENERAL);
    ck_assert_int_eq(rotated, 0);
    ck_assert_ptr_nonnull(db->error);
    ck_assert_int_eq(key_get("key_old").expires_at, 0);
    ck_assert_ptr_null(key_get("key_old").replaced_by);
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
    ck_assert_int_eq(paa_users_add(tp, db, &u), APR_SUCCESS);
}

START_TEST(users_add_lookup_list)
{
    apr_array_header_t *all;
    paa_user_t u;
    int found = 0;

    user_add("usr_b", "bob", "");
    user_add("usr_a", "alice", "admin");
    ck_assert_int_eq(paa_users_by_name(tp, db, "alice", &u, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(u.id, "usr_a");
    ck_assert_str_eq(u.roles, "admin");
    ck_assert_str_eq(u.password_hash, "$2b$hash-of-alice");
    ck_assert_int_eq(u.disabled, 0);
    ck_assert_int_eq(paa_users_by_id(tp, db, "usr_b", &u, &found), APR_SUCCESS);
    ck_assert_str_eq(u.username, "bob");
    ck_assert_ptr_null(u.password_hash); /* only where it is checked */
    ck_assert_int_eq(paa_users_by_name(tp, db, "carol", &u, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(paa_users_by_id(tp, db, "usr_x", &u, &found), APR_SUCCESS);
    ck_assert_int_eq(found, 0);

    memset(&u, 0, sizeof(u));
    u.id = "usr_c";
    u.username = "alice";
    u.password_hash = "x";
    ck_assert_int_eq(paa_users_add(tp, db, &u), APR_EGENERAL);

    ck_assert_int_eq(paa_users_list(tp, db, &all), APR_SUCCESS);
    ck_assert_int_eq(all->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(all, 0, paa_user_t).username, "alice");
    ck_assert_str_eq(APR_ARRAY_IDX(all, 1, paa_user_t).username, "bob");
    ck_assert_ptr_null(APR_ARRAY_IDX(all, 0, paa_user_t).password_hash);
}
END_TEST

START_TEST(users_changes)
{
    paa_user_t u;
    int found = 0, nrows = -1;

    user_add("usr_a", "alice", "admin");
    ck_assert_int_eq(
        paa_users_set_password(tp, db, "usr_a", "$2b$new", 200, &nrows),
        APR_SUCCESS);
    ck_assert_int_eq(nrows, 1);
    ck_assert_int_eq(
        paa_users_set_roles(tp, db, "usr_a", "ops,dev", 300, &nrows),
        APR_SUCCESS);
    ck_assert_int_eq(paa_users_set_disabled(tp, db, "usr_a", 1, 400, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_users_by_name(tp, db, "alice", &u, &found),
                     APR_SUCCESS);
    ck_assert_str_eq(u.password_hash, "$2b$new");
    ck_assert_str_eq(u.roles, "ops,dev");
    ck_assert_int_eq(u.disabled, 1);
    ck_assert_int_eq(u.created_at, 100);
    ck_assert_int_eq(u.updated_at, 400);
    ck_assert_int_eq(paa_users_set_disabled(tp, db, "usr_a", 0, 500, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_users_by_id(tp, db, "usr_a", &u, &found), APR_SUCCESS);
    ck_assert_int_eq(u.disabled, 0);

    nrows = -1;
    ck_assert_int_eq(paa_users_set_password(tp, db, "usr_x", "h", 1, &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);
    ck_assert_int_eq(paa_users_set_roles(tp, db, "usr_x", "", 1, &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);
    ck_assert_int_eq(paa_users_set_disabled(tp, db, "usr_x", 1, 1, &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);

    ck_assert_int_eq(paa_users_delete(tp, db, "usr_a", &nrows), APR_SUCCESS);
    ck_assert_int_eq(nrows, 1);
    ck_assert_int_eq(paa_users_by_id(tp, db, "usr_a", &u, &found), APR_SUCCESS);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(paa_users_delete(tp, db, "usr_a", &nrows), APR_SUCCESS);
    ck_assert_int_eq(nrows, 0);
}
END_TEST

/* ------------------------------------------------------ login attempts */

START_TEST(logins_counts_and_windows)
{
    const char *c = "192.0.2.1";
    apr_int64_t oldest = 9999;
    int n = -1;

    ck_assert_int_eq(paa_logins_add(tp, db, "l1", "alice", c, 100),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_logins_add(tp, db, "l2", "alice", c, 200),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_logins_add(tp, db, "l3", "alice", c, 300),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_logins_add(tp, db, "l4", "bob", c, 250), APR_SUCCESS);
    ck_assert_int_eq(paa_logins_add(tp, db, "l5", "alice", "192.0.2.9", 250),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_logins_add(tp, db, "l1", "x", c, 1), APR_EGENERAL);

    /* The window is open at its start: "after since". */
    ck_assert_int_eq(paa_logins_count(tp, db, "alice", c, 100, &n, &oldest),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(oldest, 200);
    ck_assert_int_eq(paa_logins_count(tp, db, "alice", c, 0, &n, &oldest),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(oldest, 100);
    oldest = 9999; /* none: the caller's "now" is left alone */
    ck_assert_int_eq(paa_logins_count(tp, db, "carol", c, 0, &n, &oldest),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(oldest, 9999);

    ck_assert_int_eq(paa_logins_count_client(tp, db, c, 150, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 3); /* l2, l3 and bob's l4 */

    ck_assert_int_eq(paa_logins_forget(tp, db, "l3"), APR_SUCCESS);
    ck_assert_int_eq(paa_logins_count(tp, db, "alice", c, 0, &n, &oldest),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 2);

    ck_assert_int_eq(paa_logins_expire(tp, db, c, 200), APR_SUCCESS);
    ck_assert_int_eq(paa_logins_count_client(tp, db, c, 0, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 1); /* only bob's, at 250 */
    ck_assert_int_eq(paa_logins_count_client(tp, db, "192.0.2.9", 0, &n),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 1); /* another client's window is its own */

    ck_assert_int_eq(paa_logins_clear(tp, db, "bob", c), APR_SUCCESS);
    ck_assert_int_eq(paa_logins_count_client(tp, db, c, 0, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(
        paa_logins_count(tp, db, "alice", "192.0.2.9", 0, &n, &oldest),
        APR_SUCCESS);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* ------------------------------------------------------------ personas */

static paa_persona_t persona(const char *id, const char *name)
{
    paa_persona_t pp;
    memset(&pp, 0, sizeof(pp));
    pp.id = id;
    pp.name = name;
    pp.description = "d";
    pp.knowledge_category = "general";
    pp.temperature = 0.7;
    pp.max_tokens = 500;
    return pp;
}

static paa_persona_t persona_get(const char *id, int *found)
{
    paa_persona_t pp;
    memset(&pp, 0, sizeof(pp));
    ck_assert_int_eq(paa_personas_get(tp, db, id, &pp, found), APR_SUCCESS);
    return pp;
}

START_TEST(personas_crud)
{
    paa_persona_t a = persona("a", "Ann"), b = persona("b", "Ben"), got;
    apr_array_header_t *rows;
    int n = -1, found = 0;

    ck_assert_int_eq(paa_personas_insert(tp, db, &b, 100), APR_SUCCESS);
    ck_assert_int_eq(paa_personas_insert(tp, db, &a, 100), APR_SUCCESS);
    ck_assert_int_eq(paa_personas_insert(tp, db, &a, 100), APR_EGENERAL);
    ck_assert_int_eq(paa_personas_count(tp, db, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 2);

    got = persona_get("a", &found);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(got.name, "Ann");
    ck_assert_str_eq(got.extra_instructions, ""); /* NULL is stored as "" */
    ck_assert_double_eq_tol(got.temperature, 0.7, 1e-9);
    ck_assert_int_eq(got.max_tokens, 500);
    ck_assert_int_eq(got.created_at, 100);
    persona_get("zz", &found);
    ck_assert_int_eq(found, 0);

    ck_assert_int_eq(paa_personas_page(tp, db, 1, 1, &rows), APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_persona_t).id, "b");
    ck_assert_int_eq(paa_personas_list_all(tp, db, &rows), APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_persona_t).id, "a");

    a.name = "Anna";
    a.temperature = 0;
    ck_assert_int_eq(paa_personas_update(tp, db, &a, 200, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 1);
    got = persona_get("a", &found);
    ck_assert_str_eq(got.name, "Anna");
    ck_assert_double_eq(got.temperature, 0);
    ck_assert_int_eq(got.created_at, 100);
    ck_assert_int_eq(got.updated_at, 200);
    got = persona("zz", "Zed");
    ck_assert_int_eq(paa_personas_update(tp, db, &got, 200, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 0);

    ck_assert_int_eq(paa_personas_delete(tp, db, "a", &n), APR_SUCCESS);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(paa_personas_delete(tp, db, "a", &n), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
}
END_TEST

static apr_array_header_t *personas_of(int n, const paa_persona_t *list)
{
    apr_array_header_t *a = apr_array_make(tp, n, sizeof(paa_persona_t));
    int i;
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, paa_persona_t) = list[i];
    }
    return a;
}

#define OUTCOME(a, i) APR_ARRAY_IDX(a, i, paa_persona_outcome_e)

START_TEST(personas_upsert)
{
    paa_persona_t a = persona("a", "Ann");
    paa_persona_t two[2] = {persona("a", "Ann 2"), persona("c", "Cy")};
    paa_persona_t bad[2] = {persona("d", "Di"), persona("e", NULL)};
    apr_array_header_t *out;
    int found = 0, n = 0;

    ck_assert_int_eq(paa_personas_insert(tp, db, &a, 100), APR_SUCCESS);
    two[0].temperature = 1.5;

    ck_assert_int_eq(
        paa_personas_upsert(tp, db, personas_of(2, two), 0, 200, &out),
        APR_SUCCESS);
    ck_assert_int_eq(out->nelts, 2);
    ck_assert_int_eq(OUTCOME(out, 0), PAA_PERSONA_SKIPPED);
    ck_assert_int_eq(OUTCOME(out, 1), PAA_PERSONA_CREATED);
    ck_assert_str_eq(persona_get("a", &found).name, "Ann");

    ck_assert_int_eq(
        paa_personas_upsert(tp, db, personas_of(2, two), 1, 300, &out),
        APR_SUCCESS);
    ck_assert_int_eq(OUTCOME(out, 0), PAA_PERSONA_UPDATED);
    ck_assert_int_eq(OUTCOME(out, 1), PAA_PERSONA_UPDATED);
    ck_assert_str_eq(persona_get("a", &found).name, "Ann 2");
    ck_assert_double_eq_tol(persona_get("a", &found).temperature, 1.5, 1e-9);
    ck_assert_int_eq(persona_get("a", &found).created_at, 100);
    ck_assert_int_eq(persona_get("c", &found).updated_at, 300);

    /* The second persona cannot be stored (no name): the first is undone. */
    ck_assert_int_eq(
        paa_personas_upsert(tp, db, personas_of(2, bad), 1, 400, &out),
        APR_EGENERAL);
    ck_assert_ptr_nonnull(db->error);
    persona_get("d", &found);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(paa_personas_count(tp, db, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 2);
}
END_TEST

/* ---------------------------------------------------------------- chat */

START_TEST(chat_sessions_and_history)
{
    paa_chat_session_t s = {"cs_1", "usr_a", "a", 100, 200}, got;
    json_t *h = NULL;
    int found = 0, i;

    ck_assert_int_eq(paa_chat_session_add(tp, db, &s), APR_SUCCESS);
    ck_assert_int_eq(paa_chat_session_add(tp, db, &s), APR_EGENERAL);
    ck_assert_int_eq(paa_chat_session_get(tp, db, "cs_1", &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(got.principal, "usr_a");
    ck_assert_str_eq(got.agent_id, "a");
    ck_assert_int_eq(got.created_at, 100);
    ck_assert_int_eq(got.expires_at, 200);
    ck_assert_int_eq(paa_chat_session_get(tp, db, "cs_x", &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);

    for (i = 1; i <= 5; i++) {
        ck_assert_int_eq(paa_chat_message_add(tp, db, "cs_1",
                                              i % 2 ? "user" : "assistant",
                                              apr_itoa(tp, i), 100),
                         APR_SUCCESS); /* one second: order by insertion */
    }
    ck_assert_int_eq(paa_chat_history(tp, db, "cs_1", 3, &h), APR_SUCCESS);
    ck_assert_int_eq(json_array_size(h), 3);
    /* The last three, oldest first, as the model reads them. */
    for (i = 0; i < 3; i++) {
        json_t *m = json_array_get(h, (size_t)i);
        ck_assert_str_eq(json_string_value(json_object_get(m, "content")),
                         apr_itoa(tp, i + 3));
    }
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(h, 0), "role")),
        "user");
    json_decref(h);
    ck_assert_int_eq(paa_chat_history(tp, db, "cs_x", 3, &h), APR_SUCCESS);
    ck_assert_int_eq(json_array_size(h), 0);
    json_decref(h);
}
END_TEST

/* ---------------------------------------------------------------- mcp */

START_TEST(mcp_sessions_owned_and_expiring)
{
    paa_mcp_session_t s = {"mcp_1", "usr_a", "2025-06-18", 1000}, got;
    int found = 0, nrows = -1;

    ck_assert_int_eq(paa_mcp_session_add(tp, db, &s), APR_SUCCESS);
    ck_assert_int_eq(paa_mcp_session_add(tp, db, &s), APR_EGENERAL);
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 999, &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(got.principal, "usr_a");
    ck_assert_str_eq(got.protocol_version, "2025-06-18");
    ck_assert_int_eq(got.created_at, 1000);
    /* Created at 'since' is already too old. */
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 1000, &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);

    ck_assert_int_eq(paa_mcp_session_end(tp, db, "mcp_1", "usr_b", &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 0); /* not the owner */
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(paa_mcp_session_end(tp, db, "mcp_1", "usr_a", &nrows),
                     APR_SUCCESS);
    ck_assert_int_eq(nrows, 1);
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 0);
}
END_TEST

/* ----------------------------------------------------------- failovers */

START_TEST(failovers_add_truncates_reason)
{
    char reason[301];

    memset(reason, 'r', 300);
    reason[300] = '\0';
    ck_assert_int_eq(paa_failovers_add(tp, db, 100, "primary", reason, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(
        paa_failovers_add(tp, db, 101, "primary", "timeout", "backup"),
        APR_SUCCESS);
    ck_assert_int_eq(scalar("t_fo_n", "SELECT count(*) FROM paa_failovers"), 2);
    ck_assert_int_eq(
        scalar("t_fo_len", "SELECT max(length(reason)) FROM paa_failovers"),
        200);
    ck_assert_int_eq(scalar("t_fo_none", "SELECT count(*) FROM paa_failovers"
                                         " WHERE answered_by = ''"),
                     1);
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
    ck_assert_int_eq(paa_audit_add(tp, db, &a), APR_SUCCESS);
}

static apr_array_header_t *query(const paa_audit_filter_t *f)
{
    apr_array_header_t *rows = NULL;
    ck_assert_int_eq(paa_audit_query(tp, db, f, &rows), APR_SUCCESS);
    return rows;
}

#define EVENT(rows, i) APR_ARRAY_IDX(rows, i, paa_audit_t).event

START_TEST(audit_add_and_query)
{
    paa_audit_filter_t f = {NULL, NULL, NULL, NULL, 0, 100};
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
    paa_persona_t a = persona("a", "Ann");
    logged_t logged = {NULL, NULL};
    const char *err = NULL;
    int found = -1, version = 0;

    db->log = log_to;
    db->log_ctx = &logged;
    /* As when a migration that adds the table is still pending. */
    ck_assert_int_eq(paa_db_exec(tp, db, "DROP TABLE paa_mcp_sessions", &err),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found),
                     APR_EGENERAL);
    ck_assert_int_eq(found, 0);
    ck_assert_ptr_nonnull(strstr(db->error, "paa_mcp_sessions"));
    ck_assert_str_eq(logged.label, "paa_mcp_session_get");
    ck_assert_str_eq(logged.msg, db->error);
    ck_assert_int_eq(paa_mcp_session_add(tp, db, &s), APR_EGENERAL);

    /* Everything else keeps working. */
    ck_assert_int_eq(paa_personas_insert(tp, db, &a, 1), APR_SUCCESS);
    persona_get("a", &found);
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(paa_schema_current(tp, db, &version), APR_SUCCESS);
    ck_assert_int_eq(version, PAA_SCHEMA_VERSION);

    /* A failed statement is not kept: once the table exists it prepares. */
    ck_assert_int_eq(paa_db_exec(tp, db,
                                 "CREATE TABLE paa_mcp_sessions (id TEXT,"
                                 " principal TEXT, protocol_version TEXT,"
                                 " created_at BIGINT)",
                                 &err),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_mcp_session_add(tp, db, &s), APR_SUCCESS);
    ck_assert_int_eq(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found),
                     APR_SUCCESS);
    ck_assert_int_eq(found, 1);
}
END_TEST

START_TEST(audit_write_reports_the_error)
{
    paa_audit_t a;
    const char *err = NULL;

    memset(&a, 0, sizeof(a));
    a.event = "x";
    ck_assert_int_eq(paa_audit_write(tp, db, &a, &err), APR_SUCCESS);
    ck_assert_int_eq(paa_db_exec(tp, db, "DROP TABLE paa_audit", &err),
                     APR_SUCCESS);
    err = NULL;
    /* Already prepared on this connection: the failure is at the step. */
    ck_assert_int_eq(paa_audit_write(tp, db, &a, &err), APR_EGENERAL);
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
    tcase_add_test(tc, keys_add_refuses_duplicates);
    tcase_add_test(tc, keys_find_filters);
    tcase_add_test(tc, keys_revoke_once);
    tcase_add_test(tc, keys_rotate);
    tcase_add_test(tc, keys_rotate_keeps_an_earlier_expiry);
    tcase_add_test(tc, keys_rotate_refuses_revoked_expired_missing);
    tcase_add_test(tc, keys_rotate_failure_changes_nothing);
    tcase_add_test(tc, users_add_lookup_list);
    tcase_add_test(tc, users_changes);
    tcase_add_test(tc, logins_counts_and_windows);
    tcase_add_test(tc, personas_crud);
    tcase_add_test(tc, personas_upsert);
    tcase_add_test(tc, chat_sessions_and_history);
    tcase_add_test(tc, mcp_sessions_owned_and_expiring);
    tcase_add_test(tc, failovers_add_truncates_reason);
    tcase_add_test(tc, audit_add_and_query);
    tcase_add_test(tc, statements_prepare_lazily_one_by_one);
    tcase_add_test(tc, audit_write_reports_the_error);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_suite)
