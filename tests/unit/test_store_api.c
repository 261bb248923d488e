/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The stores behind logins and the API handlers (login attempts, personas,
 * chat, MCP sessions, failovers) on an in-memory SQLite database: counts
 * and windows, history order and limit, sessions ended only by their
 * owner, an import that changes nothing unless it all succeeds. */

#include "store_test.h"

#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The personas' change marker (schema version 9) moves with every insert,
 * update and delete, and only that marker. */
START_TEST(personas_marker_moves)
{
    paa_persona_t a = persona("a", "Ann");
    paa_changes_t before, after;
    const char *err = NULL;
    int n = 0;

    OK(paa_changes_read(tp, db, &before));
    ck_assert_int_eq(before.found, 1);
    ck_assert_int_eq(before.personas_found, 1);
    OK(paa_personas_insert(tp, db, &a, 100));
    OK(paa_changes_read(tp, db, &after));
    ck_assert_int_eq(after.personas, before.personas + 1);
    a.name = "Anna";
    OK(paa_personas_update(tp, db, &a, 200, &n));
    OK(paa_personas_delete(tp, db, "a", &n));
    OK(paa_changes_read(tp, db, &after));
    ck_assert_int_eq(after.personas, before.personas + 3);
    ck_assert_int_eq(after.credentials, before.credentials);
    ck_assert_int_eq(after.mcp_sessions, before.mcp_sessions);

    /* A database of version 8: the other markers are still read. */
    OK(paa_db_exec(tp, db, "DELETE FROM paa_changes WHERE name = 'personas'",
                   &err));
    OK(paa_changes_read(tp, db, &after));
    ck_assert_int_eq(after.found, 1);
    ck_assert_int_eq(after.personas_found, 0);
    ck_assert_int_eq(after.credentials, before.credentials);
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

/* --------------------------------------------------------- key uses */

static const paa_key_use_t *use_of(const apr_array_header_t *a,
                                   const char *key_id, const char *ip)
{
    int i;
    for (i = 0; i < a->nelts; i++) {
        const paa_key_use_t *u = &APR_ARRAY_IDX(a, i, paa_key_use_t);
        if (!strcmp(u->key_id, key_id) && !strcmp(u->client_ip, ip)) {
            return u;
        }
    }
    return NULL;
}

START_TEST(usage_counts_per_key_address_and_window)
{
    paa_usage_t *u;
    apr_array_header_t *due;
    const paa_key_use_t *e;
    apr_int64_t dropped = -1;
    int owner;

    OK(paa_usage_create(tp, 100, &u));
    ck_assert_int_eq(paa_usage_note(u, &owner, "key_a", "10.0.0.1", 1000), 0);
    paa_usage_note(u, &owner, "key_a", "10.0.0.1", 1001);
    paa_usage_note(u, &owner, "key_a", "10.0.0.2", 1001);
    paa_usage_note(u, &owner, "key_b", NULL, 1002);
    /* The first take: a last-used time for each new pair, no record. */
    due = paa_usage_take(u, tp, 1003, 60, 0, &dropped);
    ck_assert_int_eq(dropped, 0);
    ck_assert_int_eq(due->nelts, 3);
    e = use_of(due, "key_a", "10.0.0.1");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->owner, &owner);
    ck_assert_int_eq(e->touch_at, 1001);
    ck_assert_int_eq(e->record, 0);
    ck_assert_int_eq(use_of(due, "key_b", "")->touch_at, 1002);
    ck_assert_int_eq(paa_usage_open(u), 3);
    /* More uses within the window: nothing is due until it closes. */
    paa_usage_note(u, &owner, "key_a", "10.0.0.1", 1030);
    ck_assert_int_eq(paa_usage_take(u, tp, 1031, 60, 0, NULL)->nelts, 0);
    /* key_a from 10.0.0.1 opened at 1000: closed at 1060 with 3 uses and
     * its latest use as last-used time; the others stay open. */
    due = paa_usage_take(u, tp, 1060, 60, 0, NULL);
    ck_assert_int_eq(due->nelts, 1);
    e = use_of(due, "key_a", "10.0.0.1");
    ck_assert_int_eq(e->record, 1);
    ck_assert_int_eq(e->uses, 3);
    ck_assert_int_eq(e->first, 1000);
    ck_assert_int_eq(e->last, 1030);
    ck_assert_int_eq(e->touch_at, 1030);
    /* A new window for the same pair: a new last-used time. */
    paa_usage_note(u, &owner, "key_a", "10.0.0.1", 1060);
    due = paa_usage_take(u, tp, 1060, 60, 0, NULL);
    ck_assert_int_eq(due->nelts, 1);
    ck_assert_int_eq(use_of(due, "key_a", "10.0.0.1")->touch_at, 1060);
    ck_assert_int_eq(use_of(due, "key_a", "10.0.0.1")->record, 0);
    /* "all" closes every window (a child's exit): nothing is lost. */
    due = paa_usage_take(u, tp, 1062, 60, 1, NULL);
    ck_assert_int_eq(due->nelts, 3);
    ck_assert_int_eq(use_of(due, "key_a", "10.0.0.2")->uses, 1);
    ck_assert_int_eq(use_of(due, "key_a", "10.0.0.2")->touch_at, 0);
    ck_assert_int_eq(use_of(due, "key_b", "")->record, 1);
    ck_assert_int_eq(use_of(due, "key_a", "10.0.0.1")->uses, 1);
    ck_assert_int_eq(paa_usage_open(u), 0);
    ck_assert_int_eq(paa_usage_take(u, tp, 1063, 60, 1, NULL)->nelts, 0);
    /* One taker per interval, whoever asks first. */
    ck_assert(paa_usage_take_due(u, 2000, 2));
    ck_assert(!paa_usage_take_due(u, 2001, 2));
    ck_assert(paa_usage_take_due(u, 2002, 2));
}
END_TEST

/* Zeroed memory shared with the processes a test forks, as the module's
 * tables are with its children; unmapped with tp. */
typedef struct {
    void *at;
    apr_size_t size;
} shared_map_t;

static apr_status_t shared_unmap(void *data)
{
    shared_map_t *m = data;
    munmap(m->at, m->size);
    return APR_SUCCESS;
}

static void *shared_map(apr_size_t size)
{
    shared_map_t *m = apr_palloc(tp, sizeof(*m));
    m->size = size;
    m->at = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    ck_assert_ptr_ne(m->at, MAP_FAILED);
    apr_pool_cleanup_register(tp, m, shared_unmap, apr_pool_cleanup_null);
    return m->at;
}

/* A key-use table of max windows shared by processes, as a node's. */
static paa_usage_t *shared_usage(int max)
{
    paa_usage_t *u = paa_usage_init(shared_map(paa_usage_size(max)), max, 1);
    ck_assert_ptr_nonnull(u);
    return u;
}

/* The table shared by processes (the children of a node): four
 * processes note at once, one takes, and every use is there, once. */
START_TEST(usage_shared_by_processes)
{
    paa_usage_t *u = shared_usage(4096);
    apr_array_header_t *due;
    apr_int64_t uses = 0, dropped = -1;
    int owner, i, n, status;
    pid_t pid[4];

    for (n = 0; n < 4; n++) {
        pid[n] = fork();
        ck_assert_int_ge(pid[n], 0);
        if (pid[n] == 0) {
            char id[32];
            for (i = 0; i < 20000; i++) {
                snprintf(id, sizeof(id), "key_%d", i % 50);
                paa_usage_note(u, &owner, id, "10.0.0.1", 1000);
            }
            _exit(0);
        }
    }
    for (n = 0; n < 4; n++) {
        ck_assert_int_eq(waitpid(pid[n], &status, 0), pid[n]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    due = paa_usage_take(u, tp, 1001, 60, 1, &dropped);
    ck_assert_int_eq(dropped, 0);
    ck_assert_int_eq(due->nelts, 50); /* one record a pair, not a process */
    for (i = 0; i < due->nelts; i++) {
        uses += APR_ARRAY_IDX(due, i, paa_key_use_t).uses;
    }
    ck_assert_int_eq(uses, 4 * 20000);
}
END_TEST

/* What the processes of usage_counts_while_taken share: the clock, when
 * to start and stop, and the uses each noted of each pair. */
typedef struct {
    apr_int64_t clock;
    int go, stop;
    apr_int64_t noted[3][24];
} usage_race_t;

/* Uses counted without the lock while windows close under them, and the
 * stripe is compacted and emptied: three processes note 24 pairs as the
 * clock moves (pair k not in seconds where clock + k is a multiple of 4,
 * so that windows open and close at different times), one takes every
 * 10 uses with a window of 2 s (every window at every 50th take, in
 * mid-second), until each has noted 150,000 uses and 100 windows have
 * closed. Every use must be in exactly one record, of its own pair. */
START_TEST(usage_counts_while_taken)
{
    paa_usage_t *u = shared_usage(64); /* one stripe of 64 */
    usage_race_t *sh = shared_map(sizeof(*sh));
    apr_int64_t counted[24] = {0}, noted, dropped, lost = 0;
    apr_pool_t *sub;
    int owner, i, k, n, status, records = 0, takes;
    pid_t pid[3];

    sh->clock = 1000;
    for (n = 0; n < 3; n++) {
        pid[n] = fork();
        ck_assert_int_ge(pid[n], 0);
        if (pid[n] == 0) {
            char id[32];
            while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE)) {
                sched_yield();
            }
            for (i = 0; !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); i++) {
                apr_int64_t now = __atomic_load_n(&sh->clock, __ATOMIC_RELAXED);
                k = i % 24;
                if ((now + k) % 4 == 0) {
                    continue;
                }
                snprintf(id, sizeof(id), "key_%d", k);
                paa_usage_note(u, &owner, id, "10.0.0.1", now);
                __atomic_store_n(&sh->noted[n][k], sh->noted[n][k] + 1,
                                 __ATOMIC_RELEASE);
            }
            _exit(0);
        }
    }
    apr_pool_create(&sub, tp);
    __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
    for (takes = 1;; takes++) {
        apr_array_header_t *due;
        apr_int64_t least = -1, all = 0;

        /* A take per 10 uses, whatever the machine's speed: the notes
         * mostly between takes, not waiting for the lock of one. */
        for (;;) {
            least = -1;
            all = 0;
            for (n = 0; n < 3; n++) {
                noted = 0;
                for (k = 0; k < 24; k++) {
                    noted +=
                        __atomic_load_n(&sh->noted[n][k], __ATOMIC_ACQUIRE);
                }
                all += noted;
                least = least < 0 || noted < least ? noted : least;
            }
            if (all >= (apr_int64_t)takes * 10) {
                break;
            }
            sched_yield();
        }
        /* Enough uses, and windows closed under them (the children note
         * until told to stop). */
        if (least >= 150000 && takes > 500 && records > 100) {
            break;
        }
        /* A second every 20 takes: most uses find their window open in
         * their second, and count without the lock. */
        if (takes % 20 == 0) {
            __atomic_add_fetch(&sh->clock, 1, __ATOMIC_RELAXED);
        }
        /* A child's exit closes every window, in mid-second. */
        due = paa_usage_take(u, sub, sh->clock, 2, takes % 50 == 0, &dropped);
        lost += dropped;
        for (i = 0; i < due->nelts; i++) {
            const paa_key_use_t *e = &APR_ARRAY_IDX(due, i, paa_key_use_t);
            if (e->record) {
                counted[atoi(e->key_id + 4)] += e->uses;
                records++;
            }
        }
        apr_pool_clear(sub);
    }
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    for (n = 0; n < 3; n++) {
        ck_assert_int_eq(waitpid(pid[n], &status, 0), pid[n]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    {
        apr_array_header_t *due =
            paa_usage_take(u, sub, sh->clock + 1, 2, 1, &dropped);
        lost += dropped;
        for (i = 0; i < due->nelts; i++) {
            const paa_key_use_t *e = &APR_ARRAY_IDX(due, i, paa_key_use_t);
            counted[atoi(e->key_id + 4)] += e->uses;
        }
    }
    ck_assert_int_eq(lost, 0);
    for (k = 0; k < 24; k++) {
        ck_assert_int_eq(counted[k],
                         sh->noted[0][k] + sh->noted[1][k] + sh->noted[2][k]);
    }
    ck_assert_int_eq(paa_usage_open(u), 0);
    apr_pool_destroy(sub);
}
END_TEST

/* A child killed at any moment, its stripe's lock held or not, costs at
 * most the use it was noting: a process notes 40 pairs, each use in a
 * new second (so each takes the lock), until it is killed, 100 times; the
 * parent takes between kills, and at the end every window is closed and
 * the uses counted are those noted, give or take one a kill. */
START_TEST(usage_survives_killed_noters)
{
    paa_usage_t *u = shared_usage(64); /* one stripe of 64 */
    apr_int64_t *noted = shared_map(sizeof(*noted));
    apr_int64_t counted = 0, dropped, lost = 0, now = 1000;
    apr_array_header_t *due;
    int owner, i, kill_no, status;
    pid_t pid;

    for (kill_no = 0; kill_no < 100; kill_no++) {
        apr_int64_t before = __atomic_load_n(noted, __ATOMIC_ACQUIRE);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char id[32];
            for (i = 0;; i++) {
                snprintf(id, sizeof(id), "key_%d", i % 40);
                paa_usage_note(u, &owner, id, "10.0.0.1", now + i);
                __atomic_add_fetch(noted, 1, __ATOMIC_RELEASE);
            }
        }
        /* Killed once it has noted some, at a moment it does not know. */
        while (__atomic_load_n(noted, __ATOMIC_ACQUIRE) <
               before + 200 + kill_no * 37 % 500) {
            sched_yield();
        }
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        now += 100000;
        due = paa_usage_take(u, tp, now, 60, kill_no % 3 == 0, &dropped);
        lost += dropped;
        for (i = 0; i < due->nelts; i++) {
            counted += APR_ARRAY_IDX(due, i, paa_key_use_t).record
                           ? APR_ARRAY_IDX(due, i, paa_key_use_t).uses
                           : 0;
        }
    }
    due = paa_usage_take(u, tp, now + 1, 60, 1, &dropped);
    lost += dropped;
    for (i = 0; i < due->nelts; i++) {
        counted += APR_ARRAY_IDX(due, i, paa_key_use_t).uses;
    }
    ck_assert_int_eq(paa_usage_open(u), 0);
    ck_assert_int_le(counted + lost, *noted + 100);
    ck_assert_int_ge(counted + lost, *noted - 100);
    /* and the table still counts */
    paa_usage_note(u, &owner, "key_after", "10.0.0.1", now + 2);
    due = paa_usage_take(u, tp, now + 3, 60, 1, &dropped);
    ck_assert_int_eq(due->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(due, 0, paa_key_use_t).uses, 1);
}
END_TEST

/* Windows come and go by the thousand without the table running out of
 * room or losing a use (closed slots are reused), and what finds no room
 * is counted as dropped. */
START_TEST(usage_bounded_counts_what_it_drops)
{
    paa_usage_t *u;
    apr_array_header_t *due;
    apr_int64_t dropped = 0, uses = 0, lost = 0;
    int owner, i, round, full = 0;

    OK(paa_usage_create(tp, 1024, &u));
    for (round = 0; round < 20; round++) {
        for (i = 0; i < 300; i++) {
            paa_usage_note(u, &owner,
                           apr_psprintf(tp, "key_%d", round * 300 + i),
                           "10.0.0.1", 1000 + 60 * round);
        }
        due = paa_usage_take(u, tp, 1000 + 60 * round, 60, 0, &dropped);
        lost += dropped;
        for (i = 0; i < due->nelts; i++) {
            uses += APR_ARRAY_IDX(due, i, paa_key_use_t).record
                        ? APR_ARRAY_IDX(due, i, paa_key_use_t).uses
                        : 0;
        }
    }
    due = paa_usage_take(u, tp, 3000, 60, 1, &dropped);
    lost += dropped;
    for (i = 0; i < due->nelts; i++) {
        uses += APR_ARRAY_IDX(due, i, paa_key_use_t).uses;
    }
    ck_assert_int_eq(uses + lost, 20 * 300);
    ck_assert_int_eq(lost, 0);
    ck_assert_int_eq(paa_usage_open(u), 0);
    /* Far more pairs at once than the table holds: it asks to be taken
     * early, counts what it could not keep, and loses nothing it kept. */
    uses = 0;
    for (i = 0; i < 3000; i++) {
        full |=
            paa_usage_note(u, &owner, apr_psprintf(tp, "key_%d", i), "", 4000);
    }
    ck_assert_int_eq(full, 1);
    due = paa_usage_take(u, tp, 4001, 60, 0, &dropped);
    ck_assert(dropped > 0);
    for (i = 0; i < due->nelts; i++) {
        uses += APR_ARRAY_IDX(due, i, paa_key_use_t).record
                    ? APR_ARRAY_IDX(due, i, paa_key_use_t).uses
                    : 0;
    }
    due = paa_usage_take(u, tp, 4002, 60, 1, NULL);
    for (i = 0; i < due->nelts; i++) {
        uses += APR_ARRAY_IDX(due, i, paa_key_use_t).uses;
    }
    ck_assert_int_eq(uses + dropped, 3000);
}
END_TEST

START_TEST(keys_record_uses_in_one_transaction)
{
    apr_array_header_t *uses = apr_array_make(tp, 2, sizeof(paa_key_use_t));
    paa_key_use_t *e;
    paa_audit_filter_t f;
    apr_array_header_t *rows;
    const paa_audit_t *a;
    paa_key_t k = {0};
    int found = 0;

    k.id = "key_u";
    k.prefix = "pak_0123";
    k.name = "used";
    k.created_at = 100;
    OK(paa_keys_add(tp, db, &k, paa_sha256_hex(tp, "u", 1)));
    e = apr_array_push(uses);
    memset(e, 0, sizeof(*e));
    e->key_id = "key_u";
    e->client_ip = "10.0.0.1";
    e->first = 1000;
    e->last = 1042;
    e->uses = 7;
    e->touch_at = 1042;
    e->record = 1;
    OK(paa_keys_record_uses(tp, db, uses));
    OK(paa_keys_get(tp, db, "key_u", &k, &found));
    ck_assert_int_eq(k.last_used_at, 1042);
    memset(&f, 0, sizeof(f));
    f.event = "key.use";
    f.limit = 10;
    OK(paa_audit_query(tp, db, &f, &rows));
    ck_assert_int_eq(rows->nelts, 1);
    a = &APR_ARRAY_IDX(rows, 0, paa_audit_t);
    ck_assert_int_eq(a->at, 1000);
    ck_assert_str_eq(a->outcome, "success");
    ck_assert_str_eq(a->subject, "key_u");
    ck_assert_str_eq(a->key_id, "key_u");
    ck_assert_str_eq(a->client_ip, "10.0.0.1");
    ck_assert_str_eq(a->detail, "uses=7 last=1970-01-01T00:17:22Z");
    /* Another process's older last-used time never moves it back. */
    e->touch_at = 1010;
    e->record = 0;
    OK(paa_keys_record_uses(tp, db, uses));
    OK(paa_keys_get(tp, db, "key_u", &k, &found));
    ck_assert_int_eq(k.last_used_at, 1042);
}
END_TEST

/* Over several statements (200 rows each): every key gets its own time,
 * and every record is written once. */
START_TEST(keys_record_uses_in_chunks)
{
    apr_array_header_t *uses = apr_array_make(tp, 450, sizeof(paa_key_use_t));
    paa_audit_filter_t f;
    apr_int64_t total = 0;
    int i, found = 0;

    for (i = 0; i < 450; i++) {
        paa_key_t k = {0};
        paa_key_use_t *e = apr_array_push(uses);
        char *id = apr_psprintf(tp, "key_%03d", i % 250);
        if (i < 250) {
            k.id = id;
            k.prefix = "pak_0123";
            k.name = "used";
            k.created_at = 100;
            OK(paa_keys_add(tp, db, &k, paa_sha256_hex(tp, id, strlen(id))));
        }
        memset(e, 0, sizeof(*e));
        e->key_id = id;
        e->client_ip = i < 250 ? "10.0.0.1" : "10.0.0.2";
        e->first = 1000;
        e->last = 1001;
        e->uses = 1;
        /* The second use of a key is older: it must not move it back. */
        e->touch_at = i < 250 ? 5000 + i : 10;
        e->record = 1;
    }
    OK(paa_keys_record_uses(tp, db, uses));
    for (i = 0; i < 250; i += 83) {
        paa_key_t k = {0};
        OK(paa_keys_get(tp, db, apr_psprintf(tp, "key_%03d", i), &k, &found));
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(k.last_used_at, 5000 + i);
    }
    memset(&f, 0, sizeof(f));
    f.event = "key.use";
    OK(paa_audit_count(tp, db, &f, &total));
    ck_assert_int_eq(total, 450);
    /* Kept to within PAA_LAST_USED_STEP: a use less than that later does
     * not write the row, one that much later does. */
    for (i = 0; i < 2; i++) {
        paa_key_t k = {0};
        paa_key_use_t *e = &APR_ARRAY_IDX(uses, 0, paa_key_use_t);
        uses->nelts = 1;
        e->record = 0;
        e->touch_at = 5000 + PAA_LAST_USED_STEP - 1 + i;
        OK(paa_keys_record_uses(tp, db, uses));
        OK(paa_keys_get(tp, db, "key_000", &k, &found));
        ck_assert_int_eq(k.last_used_at, i ? e->touch_at : 5000);
    }
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
    tcase_add_test(tc, personas_marker_moves);
    tcase_add_test(tc, chat_sessions_and_history);
    tcase_add_test(tc, mcp_sessions_owned_and_expiring);
    tcase_add_test(tc, failovers_add_truncates_reason);
    tcase_add_test(tc, failovers_find_newest_first);
    tcase_add_test(tc, usage_counts_per_key_address_and_window);
    tcase_add_test(tc, usage_bounded_counts_what_it_drops);
    tcase_add_test(tc, usage_shared_by_processes);
    tcase_add_test(tc, usage_counts_while_taken);
    tcase_add_test(tc, usage_survives_killed_noters);
    tcase_add_test(tc, keys_record_uses_in_one_transaction);
    tcase_add_test(tc, keys_record_uses_in_chunks);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_api_suite)
