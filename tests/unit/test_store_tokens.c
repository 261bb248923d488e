/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* JWT revocation in the stores: the token lookup reads the user's logout
 * time and the jti's revocation in one query; revocations are kept once,
 * drop those of expired tokens, go with an erased user; and a database not
 * yet migrated to them still serves tokens, but only that. */

#include "store_test.h"

static void user_add(const char *id, const char *name)
{
    paa_user_t u;
    memset(&u, 0, sizeof(u));
    u.id = id;
    u.username = name;
    u.roles = "";
    u.password_hash = "$2b$hash";
    u.created_at = u.updated_at = 100;
    OK(paa_users_add(tp, db, &u));
}

static void revoke_jti(const char *jti, const char *user, apr_int64_t exp,
                       apr_int64_t at, int want_added)
{
    paa_revoked_token_t t = {jti, user, exp, at, "why"};
    int added = -1;
    OK(paa_tokens_revoke(tp, db, &t, at - 300, &added));
    ck_assert_int_eq(added, want_added);
}

START_TEST(for_token_reads_revocation_and_logout)
{
    paa_user_t u;
    int found = -1, revoked = -1, n = -1;

    user_add("usr_a", "alice");
    user_add("usr_b", "bob");
    OK(paa_users_for_token(tp, db, "usr_a", "jti_1", &u, &revoked, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(revoked, 0);
    ck_assert_str_eq(u.username, "alice");
    ck_assert_int_eq(u.tokens_not_before, 0);

    revoke_jti("jti_1", "usr_a", 5000, 1000, 1);
    OK(paa_users_for_token(tp, db, "usr_a", "jti_1", &u, &revoked, &found));
    ck_assert_int_eq(revoked, 1);
    OK(paa_users_for_token(tp, db, "usr_a", "jti_2", &u, &revoked, &found));
    ck_assert_int_eq(revoked, 0);
    OK(paa_users_for_token(tp, db, "usr_a", NULL, &u, &revoked, &found));
    ck_assert_int_eq(revoked, 0);
    OK(paa_users_for_token(tp, db, "usr_x", "jti_1", &u, &revoked, &found));
    ck_assert_int_eq(found, 0);

    OK(paa_users_logout(tp, db, "usr_a", 2001, &n));
    ck_assert_int_eq(n, 1);
    OK(paa_users_for_token(tp, db, "usr_a", "jti_2", &u, &revoked, &found));
    ck_assert_int_eq(u.tokens_not_before, 2001);
    ck_assert_int_eq(u.updated_at, 2001);
    OK(paa_users_for_token(tp, db, "usr_b", "jti_2", &u, &revoked, &found));
    ck_assert_int_eq(u.tokens_not_before, 0);
    OK(paa_users_logout(tp, db, "usr_x", 2001, &n));
    ck_assert_int_eq(n, 0);
    OK(paa_users_logout(tp, db, NULL, 3001, &n));
    ck_assert_int_eq(n, 2);
    OK(paa_users_for_token(tp, db, "usr_b", "jti_2", &u, &revoked, &found));
    ck_assert_int_eq(u.tokens_not_before, 3001);
    /* Never back: a clock behind must not let older tokens in again. */
    OK(paa_users_logout(tp, db, "usr_b", 2500, &n));
    OK(paa_users_set_password(tp, db, "usr_b", "$2b$h", 2500, 2500, &n));
    ck_assert_int_eq(n, 1);
    OK(paa_users_for_token(tp, db, "usr_b", "jti_2", &u, &revoked, &found));
    ck_assert_int_eq(u.tokens_not_before, 3001);
    /* The plain lookups do not carry it (their columns predate it). */
    OK(paa_users_by_id(tp, db, "usr_b", &u, &found));
    ck_assert_int_eq(u.tokens_not_before, 0);
}
END_TEST

/* What a restart warms for tokens: enabled users none of whose tokens
 * is revoked, with their logout time, each once whatever the chunk's
 * size, at most limit; before them ("!jti"), every jti whose revocation
 * is no known user's, each once. */
static void collect_user(void *baton, const paa_user_t *u)
{
    const char **got = baton;
    *got = apr_psprintf(tp, "%s%s:%" APR_INT64_T_FMT " ", *got, u->id,
                        u->tokens_not_before);
    ck_assert_str_eq(u->roles, "");
}

static void collect_jti(void *baton, const char *jti)
{
    const char **got = baton;
    ck_assert_msg(!strchr(*got, ':'), "jti %s given after a user", jti);
    *got = apr_psprintf(tp, "%s!%s ", *got, jti);
}

/* Thousands are read: not collected. */
static void ignore_jti(void *baton, const char *jti)
{
    (void)baton;
    (void)jti;
}

static const char *warm_users_at(apr_int64_t expired_before, int limit,
                                 int chunk)
{
    const char *got = "", *c;
    int count = -1, n = 0;
    OK(paa_users_warm(tp, db, expired_before, limit, chunk, collect_jti,
                      collect_user, &got, &count));
    for (c = got; *c; c++) {
        n += *c == ':';
    }
    ck_assert_int_eq(count, n);
    return got;
}

static const char *warm_users(int limit, int chunk)
{
    return warm_users_at(1000, limit, chunk);
}

START_TEST(warm_gives_the_users_whose_tokens_stand)
{
    static const char *const want[] = {"", "! usr_a:0 ", "! usr_a:0 usr_d:70 ",
                                       "! usr_a:0 usr_d:70 "};
    int n = -1, limit, chunk;

    user_add("usr_a", "alice");
    user_add("usr_b", "bob");
    user_add("usr_c", "carol");
    user_add("usr_d", "dave");
    revoke_jti("jti_b", "usr_b", 5000, 1000, 1);
    OK(paa_users_set_disabled(tp, db, "usr_c", 1, 100, &n));
    OK(paa_users_logout(tp, db, "usr_d", 70, &n));
    for (limit = 0; limit <= 3; limit++) {
        for (chunk = 1; chunk <= 3; chunk++) {
            ck_assert_msg(!strcmp(warm_users(limit, chunk), want[limit]),
                          "limit %d, chunks of %d: \"%s\"", limit, chunk,
                          warm_users(limit, chunk));
        }
    }
    /* A revoked token that expired no longer keeps its user out. */
    ck_assert_str_eq(warm_users_at(6000, 10, 2), "! usr_a:0 usr_b:0 usr_d:70 ");
    /* A deleted user's revoked token, or a jti revoked alone, could be
     * anyone's token while it lives: its jti comes first, and the users
     * still come (the cache refuses that jti a warmed user's entry). */
    revoke_jti("jti_z", "usr_gone", 9000, 1000, 1);
    ck_assert_str_eq(warm_users_at(6000, 10, 2),
                     "! !jti_z usr_a:0 usr_b:0 usr_d:70 ");
    ck_assert_str_eq(warm_users_at(10000, 10, 2),
                     "! usr_a:0 usr_b:0 usr_d:70 ");
    revoke_jti("jti_x", "", 0, 1000, 1);
    revoke_jti("jti_y", "", 0, 1000, 1);
    for (chunk = 1; chunk <= 4; chunk++) {
        ck_assert_str_eq(warm_users_at(1000, 10, chunk),
                         "! !jti_x !jti_y !jti_z usr_a:0 usr_d:70 ");
    }
    /* A jti alone is revoked for good; the users' limit is not theirs. */
    ck_assert_str_eq(warm_users_at(10000, 1, 1), "! !jti_x !jti_y usr_a:0 ");
    /* "" (which a token without a jti is looked up as) is given first,
     * revoked or not, and once: the walk starts after it. */
    revoke_jti("", "", 0, 1000, 1);
    ck_assert_str_eq(warm_users_at(10000, 1, 1), "! !jti_x !jti_y usr_a:0 ");
}
END_TEST

/* Past PAA_USERS_WARM_REVOKED_MAX jtis revoked alone, no user: so many
 * would send most tokens to the database anyway. */
START_TEST(warm_gives_no_user_past_the_jtis_maximum)
{
    const char *got = "";
    char jti[32];
    int i, count = -1;

    user_add("usr_a", "alice");
    for (i = 0; i < PAA_USERS_WARM_REVOKED_MAX; i++) {
        apr_snprintf(jti, sizeof(jti), "jti_%05d", i);
        revoke_jti(jti, "", 0, 1000, 1);
    }
    OK(paa_users_warm(tp, db, 1000, 10, 1000, ignore_jti, collect_user, &got,
                      &count));
    ck_assert_int_eq(count, 1);
    ck_assert_str_eq(got, "usr_a:0 ");
    revoke_jti("jti_x", "", 0, 1000, 1);
    got = "";
    OK(paa_users_warm(tp, db, 1000, 10, 1000, ignore_jti, collect_user, &got,
                      &count));
    ck_assert_int_eq(count, 0);
    ck_assert_str_eq(got, "");
}
END_TEST

/* The jtis unread, no user: each could be revoked. */
START_TEST(warm_gives_no_user_when_the_jtis_fail)
{
    const char *got = "", *err = NULL;
    int count = -1;

    user_add("usr_a", "alice");
    ck_assert_int_eq(paa_db_exec(tp, db,
                                 "ALTER TABLE paa_revoked_tokens "
                                 "RENAME TO paa_hidden",
                                 &err),
                     APR_SUCCESS);
    FAILS(paa_users_warm(tp, db, 1000, 10, 2, ignore_jti, collect_user, &got,
                         &count));
    ck_assert_int_eq(count, 0);
    ck_assert_str_eq(got, "");
}
END_TEST

/* The chunks continue after the whole id, however long: a cursor cut
 * short would give a row again, and another one never. */
START_TEST(warm_walks_long_ids_in_chunks)
{
    char a[81], b[81];

    memset(a, 'u', 80);
    memcpy(b, a, 80);
    a[79] = 'a';
    b[79] = 'b';
    a[80] = b[80] = '\0';
    user_add(a, "alice");
    user_add(b, "bob");
    ck_assert_str_eq(warm_users(10, 1), apr_psprintf(tp, "! %s:0 %s:0 ", a, b));
}
END_TEST

START_TEST(revoke_once_and_drop_the_dead)
{
    paa_revoked_token_t t;
    int found = -1;

    revoke_jti("jti_old", "usr_a", 1000, 900, 1);
    revoke_jti("jti_forever", "", 0, 900, 1);
    revoke_jti("jti_1", "usr_a", 9000, 2000, 1);
    /* jti_old expired at 1000, before 2000 - 300: gone; 0 is kept. */
    OK(paa_tokens_revoked(tp, db, "jti_old", &t, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_tokens_revoked(tp, db, "jti_forever", &t, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(t.expires_at, 0);
    ck_assert_str_eq(t.user_id, "");

    revoke_jti("jti_1", "usr_a", 9000, 2500, 0);
    OK(paa_tokens_revoked(tp, db, "jti_1", &t, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(t.revoked_at, 2000); /* the first revocation stays */
    ck_assert_str_eq(t.user_id, "usr_a");
    ck_assert_int_eq(t.expires_at, 9000);
    ck_assert_str_eq(t.reason, "why");
    ck_assert_int_eq(scalar("n", "SELECT count(*) FROM paa_revoked_tokens"), 2);
}
END_TEST

START_TEST(erase_forgets_the_users_revocations)
{
    paa_gdpr_erased_t e;
    paa_revoked_token_t t;
    int found = -1, n = -1;

    user_add("usr_a", "alice");
    revoke_jti("jti_a", "usr_a", 9000, 2000, 1);
    revoke_jti("jti_b", "usr_b", 9000, 2000, 1);
    OK(paa_gdpr_erase(tp, db, "usr_a", "pse_x", NULL, &e));
    OK(paa_tokens_revoked(tp, db, "jti_a", &t, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_tokens_revoked(tp, db, "jti_b", &t, &found));
    ck_assert_int_eq(found, 1);
    OK(paa_tokens_erase_user(tp, db, "usr_b", &n));
    ck_assert_int_eq(n, 1);
}
END_TEST

/* Before 'paactl migrate' the lookup falls back to the plain one; once
 * the schema says revocation exists, a failing lookup is an error, never
 * "not revoked". */
START_TEST(old_schema_falls_back_only_when_older)
{
    paa_user_t u;
    int found = -1, revoked = -1;
    const char *err = NULL;

    user_add("usr_a", "alice");
    revoke_jti("jti_1", "usr_a", 9000, 2000, 1);
    ck_assert_int_eq(paa_db_exec(tp, db,
                                 "ALTER TABLE paa_revoked_tokens "
                                 "RENAME TO paa_hidden",
                                 &err),
                     APR_SUCCESS);
    FAILS(paa_users_for_token(tp, db, "usr_a", "jti_1", &u, &revoked, &found));
    ck_assert_int_eq(
        paa_db_exec(tp, db, "DELETE FROM paa_schema WHERE version >= 6", &err),
        APR_SUCCESS);
    OK(paa_users_for_token(tp, db, "usr_a", "jti_1", &u, &revoked, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(revoked, 0);
    ck_assert_str_eq(u.username, "alice");
}
END_TEST

static Suite *store_tokens_suite(void)
{
    Suite *s = suite_create("store_tokens");
    TCase *tc = tcase_create("tokens");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, for_token_reads_revocation_and_logout);
    tcase_add_test(tc, warm_gives_the_users_whose_tokens_stand);
    tcase_add_test(tc, warm_walks_long_ids_in_chunks);
    tcase_add_test(tc, warm_gives_no_user_past_the_jtis_maximum);
    tcase_add_test(tc, warm_gives_no_user_when_the_jtis_fail);
    tcase_add_test(tc, revoke_once_and_drop_the_dead);
    tcase_add_test(tc, erase_forgets_the_users_revocations);
    tcase_add_test(tc, old_schema_falls_back_only_when_older);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_tokens_suite)
