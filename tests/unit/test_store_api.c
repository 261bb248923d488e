/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The stores behind logins and the API handlers (login attempts, personas,
 * chat, MCP sessions, failovers) on an in-memory SQLite database: counts
 * and windows, history order and limit, sessions ended only by their
 * owner, an import that changes nothing unless it all succeeds. */

#include "store_test.h"

#include <jansson.h>

/* ------------------------------------------------------ login attempts */

START_TEST(logins_counts_and_windows)
{
    const char *c = "192.0.2.1";
    apr_int64_t oldest = 9999;
    int n = -1;

    OK(paa_logins_add(tp, db, "l1", "alice", c, 100));
    OK(paa_logins_add(tp, db, "l2", "alice", c, 200));
    OK(paa_logins_add(tp, db, "l3", "alice", c, 300));
    OK(paa_logins_add(tp, db, "l4", "bob", c, 250));
    OK(paa_logins_add(tp, db, "l5", "alice", "192.0.2.9", 250));
    FAILS(paa_logins_add(tp, db, "l1", "x", c, 1));

    /* The window is open at its start: "after since". */
    OK(paa_logins_count(tp, db, "alice", c, 100, &n, &oldest));
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(oldest, 200);
    OK(paa_logins_count(tp, db, "alice", c, 0, &n, &oldest));
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(oldest, 100);
    oldest = 9999; /* none: the caller's "now" is left alone */
    OK(paa_logins_count(tp, db, "carol", c, 0, &n, &oldest));
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(oldest, 9999);

    OK(paa_logins_count_client(tp, db, c, 150, &n));
    ck_assert_int_eq(n, 3); /* l2, l3 and bob's l4 */

    OK(paa_logins_forget(tp, db, "l3"));
    OK(paa_logins_count(tp, db, "alice", c, 0, &n, &oldest));
    ck_assert_int_eq(n, 2);

    OK(paa_logins_expire(tp, db, c, 200));
    OK(paa_logins_count_client(tp, db, c, 0, &n));
    ck_assert_int_eq(n, 1); /* only bob's, at 250 */
    OK(paa_logins_count_client(tp, db, "192.0.2.9", 0, &n));
    ck_assert_int_eq(n, 1); /* another client's window is its own */

    OK(paa_logins_clear(tp, db, "bob", c));
    OK(paa_logins_count_client(tp, db, c, 0, &n));
    ck_assert_int_eq(n, 0);
    OK(paa_logins_count(tp, db, "alice", "192.0.2.9", 0, &n, &oldest));
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(logins_unlock_every_client)
{
    int n = -1;
    apr_int64_t oldest = 0;

    OK(paa_logins_add(tp, db, "l1", "name:a", "192.0.2.1", 100));
    OK(paa_logins_add(tp, db, "l2", "name:a", "192.0.2.2", 100));
    OK(paa_logins_add(tp, db, "l3", "name:b", "192.0.2.1", 100));
    OK(paa_logins_unlock(tp, db, "name:a", &n));
    ck_assert_int_eq(n, 2);
    OK(paa_logins_count(tp, db, "name:a", "192.0.2.2", 0, &n, &oldest));
    ck_assert_int_eq(n, 0);
    OK(paa_logins_count(tp, db, "name:b", "192.0.2.1", 0, &n, &oldest));
    ck_assert_int_eq(n, 1); /* another name keeps its failures */
    OK(paa_logins_unlock(tp, db, "name:none", &n));
    ck_assert_int_eq(n, 0);
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
    OK(paa_personas_get(tp, db, id, &pp, found));
    return pp;
}

START_TEST(personas_crud)
{
    paa_persona_t a = persona("a", "Ann"), b = persona("b", "Ben"), got;
    apr_array_header_t *rows;
    int n = -1, found = 0;

    OK(paa_personas_insert(tp, db, &b, 100));
    OK(paa_personas_insert(tp, db, &a, 100));
    FAILS(paa_personas_insert(tp, db, &a, 100));
    OK(paa_personas_count(tp, db, &n));
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

    OK(paa_personas_page(tp, db, 1, 1, &rows));
    ck_assert_int_eq(rows->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_persona_t).id, "b");
    OK(paa_personas_list_all(tp, db, &rows));
    ck_assert_int_eq(rows->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, paa_persona_t).id, "a");

    a.name = "Anna";
    a.temperature = 0;
    OK(paa_personas_update(tp, db, &a, 200, &n));
    ck_assert_int_eq(n, 1);
    got = persona_get("a", &found);
    ck_assert_str_eq(got.name, "Anna");
    ck_assert_double_eq(got.temperature, 0);
    ck_assert_int_eq(got.created_at, 100);
    ck_assert_int_eq(got.updated_at, 200);
    got = persona("zz", "Zed");
    OK(paa_personas_update(tp, db, &got, 200, &n));
    ck_assert_int_eq(n, 0);

    OK(paa_personas_delete(tp, db, "a", &n));
    ck_assert_int_eq(n, 1);
    OK(paa_personas_delete(tp, db, "a", &n));
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

    OK(paa_personas_insert(tp, db, &a, 100));
    two[0].temperature = 1.5;

    OK(paa_personas_upsert(tp, db, personas_of(2, two), 0, 200, &out));
    ck_assert_int_eq(out->nelts, 2);
    ck_assert_int_eq(OUTCOME(out, 0), PAA_PERSONA_SKIPPED);
    ck_assert_int_eq(OUTCOME(out, 1), PAA_PERSONA_CREATED);
    ck_assert_str_eq(persona_get("a", &found).name, "Ann");

    OK(paa_personas_upsert(tp, db, personas_of(2, two), 1, 300, &out));
    ck_assert_int_eq(OUTCOME(out, 0), PAA_PERSONA_UPDATED);
    ck_assert_int_eq(OUTCOME(out, 1), PAA_PERSONA_UPDATED);
    ck_assert_str_eq(persona_get("a", &found).name, "Ann 2");
    ck_assert_double_eq_tol(persona_get("a", &found).temperature, 1.5, 1e-9);
    ck_assert_int_eq(persona_get("a", &found).created_at, 100);
    ck_assert_int_eq(persona_get("c", &found).updated_at, 300);

    /* The second persona cannot be stored (no name): the first is undone. */
    FAILS(paa_personas_upsert(tp, db, personas_of(2, bad), 1, 400, &out));
    ck_assert_ptr_nonnull(db->error);
    persona_get("d", &found);
    ck_assert_int_eq(found, 0);
    OK(paa_personas_count(tp, db, &n));
    ck_assert_int_eq(n, 2);
}
END_TEST

/* ---------------------------------------------------------------- chat */

START_TEST(chat_sessions_and_history)
{
    paa_chat_session_t s = {"cs_1", "usr_a", "a", 100, 200}, got;
    json_t *h = NULL;
    int found = 0, i;

    OK(paa_chat_session_add(tp, db, &s));
    FAILS(paa_chat_session_add(tp, db, &s));
    OK(paa_chat_session_get(tp, db, "cs_1", &got, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(got.principal, "usr_a");
    ck_assert_str_eq(got.agent_id, "a");
    ck_assert_int_eq(got.created_at, 100);
    ck_assert_int_eq(got.expires_at, 200);
    OK(paa_chat_session_get(tp, db, "cs_x", &got, &found));
    ck_assert_int_eq(found, 0);

    for (i = 1; i <= 5; i++) {
        OK(paa_chat_message_add(tp, db, "cs_1", i % 2 ? "user" : "assistant",
                                apr_itoa(tp, i),
                                100)); /* one second: order by insertion */
    }
    OK(paa_chat_history(tp, db, "cs_1", 3, &h));
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
    OK(paa_chat_history(tp, db, "cs_x", 3, &h));
    ck_assert_int_eq(json_array_size(h), 0);
    json_decref(h);
}
END_TEST

/* ---------------------------------------------------------------- mcp */

START_TEST(mcp_sessions_owned_and_expiring)
{
    paa_mcp_session_t s = {"mcp_1", "usr_a", "2025-06-18", 1000}, got;
    int found = 0, nrows = -1;

    OK(paa_mcp_session_add(tp, db, &s));
    FAILS(paa_mcp_session_add(tp, db, &s));
    OK(paa_mcp_session_get(tp, db, "mcp_1", 999, &got, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(got.principal, "usr_a");
    ck_assert_str_eq(got.protocol_version, "2025-06-18");
    ck_assert_int_eq(got.created_at, 1000);
    /* Created at 'since' is already too old. */
    OK(paa_mcp_session_get(tp, db, "mcp_1", 1000, &got, &found));
    ck_assert_int_eq(found, 0);

    OK(paa_mcp_session_end(tp, db, "mcp_1", "usr_b", &nrows));
    ck_assert_int_eq(nrows, 0); /* not the owner */
    OK(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found));
    ck_assert_int_eq(found, 1);
    OK(paa_mcp_session_end(tp, db, "mcp_1", "usr_a", &nrows));
    ck_assert_int_eq(nrows, 1);
    OK(paa_mcp_session_get(tp, db, "mcp_1", 0, &got, &found));
    ck_assert_int_eq(found, 0);
}
END_TEST

/* ----------------------------------------------------------- failovers */

START_TEST(failovers_add_truncates_reason)
{
    char reason[301];

    memset(reason, 'r', 300);
    reason[300] = '\0';
    OK(paa_failovers_add(tp, db, 100, "primary", reason, NULL, NULL));
    OK(paa_failovers_add(tp, db, 101, "primary", "timeout", "backup", ""));
    ck_assert_int_eq(scalar("t_fo_n", "SELECT count(*) FROM paa_failovers"), 2);
    ck_assert_int_eq(
        scalar("t_fo_len", "SELECT max(length(reason)) FROM paa_failovers"),
        200);
    ck_assert_int_eq(scalar("t_fo_none", "SELECT count(*) FROM paa_failovers"
                                         " WHERE answered_by = ''"),
                     1);
}
END_TEST

/* What paactl providers failovers shows: newest first, by provider, since
 * a time, at most a limit. */
START_TEST(failovers_find_newest_first)
{
    paa_failover_filter_t f = {NULL, 0, 100};
    apr_array_header_t *rows;
    const paa_failover_t *fo;

    OK(paa_failovers_add(tp, db, 100, "alpha", "HTTP 500", "beta", "node-a"));
    OK(paa_failovers_add(tp, db, 200, "beta", "timeout", NULL, "node-b"));
    OK(paa_failovers_add(tp, db, 200, "alpha", "HTTP 429", NULL, NULL));
    OK(paa_failovers_find(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 3);
    fo = &APR_ARRAY_IDX(rows, 0, paa_failover_t);
    /* the same second: the later record first */
    ck_assert_str_eq(fo->failed_provider, "alpha");
    ck_assert_str_eq(fo->reason, "HTTP 429");
    ck_assert_str_eq(fo->answered_by, "");
    ck_assert_int_eq(fo->at, 200);
    ck_assert_int_gt(fo->id, APR_ARRAY_IDX(rows, 1, paa_failover_t).id);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 2, paa_failover_t).answered_by,
                     "beta");
    /* the recording node; none given reads as "" */
    ck_assert_str_eq(fo->node, "");
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 1, paa_failover_t).node, "node-b");
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 2, paa_failover_t).node, "node-a");

    f.provider = "alpha";
    OK(paa_failovers_find(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 2);
    f.since = 150;
    OK(paa_failovers_find(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 1);
    f.provider = NULL;
    f.limit = 1;
    OK(paa_failovers_find(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 1);
    f.provider = "gamma";
    f.limit = 100;
    OK(paa_failovers_find(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 0);
}
END_TEST

static Suite *store_api_suite(void)
{
    Suite *s = suite_create("store_api");
    TCase *tc = tcase_create("store_api");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, logins_counts_and_windows);
    tcase_add_test(tc, logins_unlock_every_client);
    tcase_add_test(tc, personas_crud);
    tcase_add_test(tc, personas_upsert);
    tcase_add_test(tc, chat_sessions_and_history);
    tcase_add_test(tc, mcp_sessions_owned_and_expiring);
    tcase_add_test(tc, failovers_add_truncates_reason);
    tcase_add_test(tc, failovers_find_newest_first);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_api_suite)
