/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The GDPR store (export pages and erasure) on an in-memory SQLite
 * database, with two users whose data are interleaved: a page never shows
 * the other user's rows, paging neither skips nor repeats a row, and an
 * erasure removes only the erased user's data, keeps the audit trail
 * under a pseudonym and is idempotent. */

#include "store_test.h"

#include <jansson.h>
#include <stdlib.h>

static void two_users(void)
{
    paa_user_t a = {"usr_a", "alice", "", "$2y$hash", 0, 10, 10, 0};
    paa_user_t b = {"usr_b", "bob", "", "$2y$hash", 0, 10, 10, 0};
    paa_chat_session_t s;
    paa_mcp_session_t m;
    paa_audit_t au = {0};
    int i;

    OK(paa_users_add(tp, db, &a));
    OK(paa_users_add(tp, db, &b));
    for (i = 0; i < 6; i++) {
        const char *owner = i % 2 ? "usr_b" : "usr_a";
        s.id = apr_psprintf(tp, "cs_%d", i);
        s.principal = owner;
        s.agent_id = "agent";
        s.created_at = 100 + i;
        s.expires_at = 1000;
        OK(paa_chat_session_add(tp, db, &s));
        OK(paa_chat_message_add(tp, db, s.id, "user",
                                apr_psprintf(tp, "q%d-%s", i, owner), 100));
        OK(paa_chat_message_add(tp, db, s.id, "assistant",
                                apr_psprintf(tp, "a%d-%s", i, owner), 100));
        m.id = apr_psprintf(tp, "mcp_%d", i);
        m.principal = owner;
        m.protocol_version = "2025-06-18";
        m.created_at = 100 + i;
        OK(paa_mcp_session_add(tp, db, &m));
        au.event = "user.login";
        au.outcome = "success";
        au.actor = i % 3 ? owner : "os:root";
        au.subject = i % 3 ? "" : owner;
        au.at = 100 + i;
        OK(paa_audit_add(tp, db, &au));
    }
}

START_TEST(export_pages_are_the_callers_only)
{
    apr_array_header_t *page;
    const char *after = "";
    int i, seen = 0;

    two_users();
    /* Pages of two: every session of usr_a once, none of usr_b's. */
    do {
        OK(paa_gdpr_chat_sessions(tp, db, "usr_a", after, 2, &page));
        for (i = 0; i < page->nelts; i++) {
            paa_chat_session_t *s = &APR_ARRAY_IDX(page, i, paa_chat_session_t);
            apr_array_header_t *msgs;
            ck_assert_str_eq(s->principal, "usr_a");
            after = s->id;
            seen++;
            OK(paa_gdpr_chat_messages(tp, db, s->id, 0, 1, &msgs));
            ck_assert_int_eq(msgs->nelts, 1);
            ck_assert_str_eq(APR_ARRAY_IDX(msgs, 0, paa_chat_message_t).role,
                             "user");
            OK(paa_gdpr_chat_messages(
                tp, db, s->id, APR_ARRAY_IDX(msgs, 0, paa_chat_message_t).id,
                10, &msgs));
            ck_assert_int_eq(msgs->nelts, 1);
            ck_assert_ptr_nonnull(strstr(
                APR_ARRAY_IDX(msgs, 0, paa_chat_message_t).content, "-usr_a"));
        }
    } while (page->nelts == 2);
    ck_assert_int_eq(seen, 3);

    OK(paa_gdpr_mcp_sessions(tp, db, "usr_b", "", 10, &page));
    ck_assert_int_eq(page->nelts, 3);
    for (i = 0; i < page->nelts; i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(page, i, paa_mcp_session_t).principal,
                         "usr_b");
    }
    OK(paa_gdpr_mcp_sessions(tp, db, "usr_b", "mcp_3", 10, &page));
    ck_assert_int_eq(page->nelts, 1);

    /* As actor (i = 2, 4) or as subject (i = 0): three records. */
    OK(paa_gdpr_audit(tp, db, "usr_a", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 3);
    OK(paa_gdpr_audit(tp, db, "usr_a", APR_ARRAY_IDX(page, 1, paa_audit_t).id,
                      10, &page));
    ck_assert_int_eq(page->nelts, 1);
    OK(paa_gdpr_audit(tp, db, "nobody", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 0);
}
END_TEST

START_TEST(erase_keeps_the_others_and_pseudonymises)
{
    paa_audit_t rec = {"user.erase", "success", "os:root", "ps_1", "",
                       "",           "",        0,         0};
    paa_gdpr_erased_t e;
    apr_array_header_t *page;
    paa_user_t u;
    int found = 1;

    two_users();
    OK(paa_gdpr_erase(tp, db, "usr_a", "ps_1", &rec, &e));
    ck_assert_int_eq(e.sessions, 3);
    ck_assert_int_eq(e.messages, 6);
    ck_assert_int_eq(e.mcp_sessions, 3);
    ck_assert_int_eq(e.audit, 3);
    ck_assert_int_eq(e.user, 1);
    OK(paa_users_by_id(tp, db, "usr_a", &u, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_users_by_id(tp, db, "usr_b", &u, &found));
    ck_assert_int_eq(found, 1);
    OK(paa_gdpr_chat_sessions(tp, db, "usr_a", "", 10, &page));
    ck_assert_int_eq(page->nelts, 0);
    OK(paa_gdpr_chat_sessions(tp, db, "usr_b", "", 10, &page));
    ck_assert_int_eq(page->nelts, 3);
    ck_assert_int_eq(scalar("t_msgs", "SELECT count(*) FROM paa_chat_messages"),
                     6);
    OK(paa_gdpr_mcp_sessions(tp, db, "usr_a", "", 10, &page));
    ck_assert_int_eq(page->nelts, 0);
    OK(paa_gdpr_audit(tp, db, "usr_a", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 0);
    /* The three records, and the erasure's own. */
    OK(paa_gdpr_audit(tp, db, "ps_1", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(page, 3, paa_audit_t).event, "user.erase");
    OK(paa_gdpr_audit(tp, db, "usr_b", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 3);

    /* Again: nothing left to erase, and it says so. */
    OK(paa_gdpr_erase(tp, db, "usr_a", "ps_1", NULL, &e));
    ck_assert_int_eq(
        e.sessions + e.messages + e.mcp_sessions + e.audit + e.user, 0);
}
END_TEST

START_TEST(delete_keeps_the_audit_under_the_id)
{
    paa_gdpr_erased_t e;
    apr_array_header_t *page;

    two_users();
    OK(paa_gdpr_erase(tp, db, "usr_a", NULL, NULL, &e));
    ck_assert_int_eq(e.sessions, 3);
    ck_assert_int_eq(e.user, 1);
    ck_assert_int_eq(e.audit, 0);
    OK(paa_gdpr_audit(tp, db, "usr_a", 0, 10, &page));
    ck_assert_int_eq(page->nelts, 3);
    OK(paa_gdpr_chat_sessions(tp, db, "usr_a", "", 10, &page));
    ck_assert_int_eq(page->nelts, 0);
}
END_TEST

START_TEST(erase_is_all_or_nothing)
{
    paa_gdpr_erased_t e;
    apr_array_header_t *page;
    /* The last step (the erasure's own record) fails: nothing before it
     * may stay done. */
    paa_audit_t rec = {"user.erase", "success", "os:root", "ps_1", "",
                       "",           "",        0,         0};
    const char *err = NULL;

    two_users();
    OK(paa_db_exec(tp, db, "DROP TABLE paa_audit", &err));
    FAILS(paa_gdpr_erase(tp, db, "usr_a", "ps_1", &rec, &e));
    OK(paa_gdpr_chat_sessions(tp, db, "usr_a", "", 10, &page));
    ck_assert_int_eq(page->nelts, 3);
}
END_TEST

/* The export's writer: the document gathered in a pool buffer. */
typedef struct {
    char *buf;
    apr_size_t len, cap;
    int calls;
} sink_t;

static apr_status_t sink(void *ctx, const char *b, apr_size_t n)
{
    sink_t *k = ctx;
    if (k->len + n + 1 > k->cap) {
        char *grown;
        k->cap = (k->len + n + 1) * 2;
        grown = apr_palloc(tp, k->cap);
        memcpy(grown, k->buf, k->len);
        k->buf = grown;
    }
    memcpy(k->buf + k->len, b, n);
    k->len += n;
    k->buf[k->len] = '\0';
    k->calls++;
    return APR_SUCCESS;
}

static json_t *export_of(const char *id, const char *method)
{
    paa_export_t who = {tp, id, method, 1000};
    sink_t k = {NULL, 0, 0, 0};
    json_error_t je;
    json_t *doc;

    OK(paa_gdpr_export(db, &who, sink, &k));
    ck_assert_int_gt(k.calls, 1); /* written in pieces, not as one string */
    doc = json_loads(k.buf, 0, &je);
    ck_assert_msg(doc != NULL, "not JSON: %s", je.text);
    return doc;
}

START_TEST(export_document_is_whole_and_the_callers_only)
{
    json_t *doc, *sessions, *audit;
    char *text;
    size_t i;
    int n;

    two_users();
    /* More messages than one page holds (200): paging must not lose or
     * repeat one. */
    for (n = 0; n < 450; n++) {
        OK(paa_chat_message_add(tp, db, "cs_0", "user",
                                apr_psprintf(tp, "bulk %d", n), 200));
    }
    doc = export_of("usr_a", "jwt");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(doc, "user"), "username")),
                     "alice");
    ck_assert_ptr_null(
        json_object_get(json_object_get(doc, "user"), "password_hash"));
    ck_assert(json_is_null(json_object_get(doc, "apiKey")));
    sessions = json_object_get(doc, "chatSessions");
    ck_assert_int_eq(json_array_size(sessions), 3);
    ck_assert_int_eq(json_array_size(json_object_get(
                         json_array_get(sessions, 0), "messages")),
                     452);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "mcpSessions")), 3);
    audit = json_object_get(doc, "audit");
    ck_assert_int_eq(json_array_size(audit), 3);
    for (i = 0; i < json_array_size(audit); i++) {
        /* Record 0 was written by os:root about usr_a: not named. */
        const char *actor = json_string_value(
            json_object_get(json_array_get(audit, i), "actor"));
        ck_assert(!strcmp(actor, "usr_a") ||
                  !strcmp(actor, "another principal"));
    }
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "usr_b"));
    ck_assert_ptr_null(strstr(text, "os:root"));
    free(text);
    json_decref(doc);

    doc = export_of("nobody", "api-key"); /* a legacy key: nothing stored */
    ck_assert(json_is_null(json_object_get(doc, "user")));
    ck_assert_int_eq(json_array_size(json_object_get(doc, "chatSessions")), 0);
    json_decref(doc);
}
END_TEST

START_TEST(export_fails_before_writing_without_a_database)
{
    paa_export_t who = {tp, "usr_a", "jwt", 1000};
    sink_t k = {NULL, 0, 0, 0};
    const char *err = NULL;

    OK(paa_db_exec(tp, db, "DROP TABLE paa_users", &err));
    FAILS(paa_gdpr_export(db, &who, sink, &k));
    ck_assert_int_eq(k.calls, 0);
}
END_TEST

START_TEST(pseudonym_is_stable_keyed_and_opaque)
{
    const char *k1 = "0123456789abcdef0123456789abcdef";
    const char *k2 = "fedcba9876543210fedcba9876543210";
    const char *a = paa_pseudonym(tp, k1, 32, "usr_a");

    ck_assert_str_eq(a, paa_pseudonym(tp, k1, 32, "usr_a"));
    ck_assert_str_ne(a, paa_pseudonym(tp, k1, 32, "usr_b"));
    ck_assert_str_ne(a, paa_pseudonym(tp, k2, 32, "usr_a"));
    ck_assert_int_eq(strlen(a), 7 + 24);
    ck_assert(!strncmp(a, "erased:", 7));
    ck_assert_ptr_null(strstr(a, "usr_a"));
}
END_TEST

START_TEST(purge_deletes_past_retention_only)
{
    paa_retention_t keep;
    paa_audit_t rec = {"purge", "success", "os:root", "", "", "", NULL, 0, 0};
    paa_chat_session_t old = {"cs_old", "usr_a", "agent", 50, 5000};
    paa_chat_session_t gone = {"cs_gone", "usr_a", "agent", 150, 180};
    apr_array_header_t *page;
    int counts[PAA_PURGE_KINDS], dry[PAA_PURGE_KINDS], k;

    two_users(); /* sessions created 100..105, messages at 100, audit at
                    100..105, expiring at 1000 */
    OK(paa_chat_session_add(tp, db, &old));
    OK(paa_chat_message_add(tp, db, "cs_old", "user", "old", 300));
    OK(paa_chat_session_add(tp, db, &gone));
    OK(paa_chat_message_add(tp, db, "cs_gone", "user", "expired", 300));
    OK(paa_chat_message_add(tp, db, "cs_1", "user", "recent", 300));
    OK(paa_failovers_add(tp, db, 10, "p1", "timeout", "", ""));
    OK(paa_failovers_add(tp, db, 500, "p1", "timeout", "", ""));
    OK(paa_logins_add(tp, db, "l_old", "name:x", "192.0.2.1", 50));
    OK(paa_logins_add(tp, db, "l_new", "name:x", "192.0.2.1", 500));

    memset(&keep, 0, sizeof(keep));
    keep.now = 200;
    keep.before[PAA_PURGE_MESSAGES] = 200; /* the 12 at 100 */
    keep.before[PAA_PURGE_SESSIONS] = 60;  /* cs_old; cs_gone expired */
    keep.before[PAA_PURGE_MCP] = 103;      /* mcp_0..2 */
    keep.before[PAA_PURGE_AUDIT] = 0;      /* kept forever */
    keep.before[PAA_PURGE_FAILOVERS] = 100;
    keep.before[PAA_PURGE_LOGINS] = 100;

    OK(paa_retention_purge(tp, db, &keep, 1, &rec, dry));
    ck_assert_int_eq(dry[PAA_PURGE_MESSAGES], 14); /* 12 + old + expired */
    ck_assert_int_eq(dry[PAA_PURGE_SESSIONS], 2);
    ck_assert_int_eq(dry[PAA_PURGE_MCP], 3);
    ck_assert_int_eq(dry[PAA_PURGE_AUDIT], 0);
    ck_assert_int_eq(dry[PAA_PURGE_FAILOVERS], 1);
    ck_assert_int_eq(dry[PAA_PURGE_LOGINS], 1);
    /* A dry run changes nothing, and records nothing. */
    ck_assert_int_eq(scalar("t_n1", "SELECT count(*) FROM paa_chat_messages"),
                     15);
    ck_assert_int_eq(
        scalar("t_n2", "SELECT count(*) FROM paa_audit WHERE event = 'purge'"),
        0);

    OK(paa_retention_purge(tp, db, &keep, 0, &rec, counts));
    for (k = 0; k < PAA_PURGE_KINDS; k++) {
        ck_assert_int_eq(counts[k], dry[k]);
    }
    ck_assert_int_eq(scalar("t_n3", "SELECT count(*) FROM paa_chat_messages"),
                     1); /* "recent" */
    OK(paa_gdpr_chat_sessions(tp, db, "usr_a", "", 10, &page));
    ck_assert_int_eq(page->nelts, 3); /* cs_0, cs_2, cs_4 */
    ck_assert_int_eq(scalar("t_n4", "SELECT count(*) FROM paa_mcp_sessions"),
                     3);
    ck_assert_int_eq(scalar("t_n5", "SELECT count(*) FROM paa_failovers"), 1);
    ck_assert_int_eq(scalar("t_n8", "SELECT count(*) FROM paa_login_failures"),
                     1);
    ck_assert_int_eq(scalar("t_n6", "SELECT count(*) FROM paa_audit WHERE "
                                    "event = 'purge' AND detail LIKE "
                                    "'chat_messages=14 %'"),
                     1);

    /* The audit trail past retention goes; the purge records (written at
     * the real now) stay. */
    keep.before[PAA_PURGE_AUDIT] = 1000;
    OK(paa_retention_purge(tp, db, &keep, 0, &rec, counts));
    ck_assert_int_eq(counts[PAA_PURGE_MESSAGES], 0);
    ck_assert_int_eq(counts[PAA_PURGE_AUDIT], 6);
    ck_assert_int_eq(scalar("t_n7", "SELECT count(*) FROM paa_audit"), 2);
}
END_TEST

START_TEST(consents_accepted_once_exported_and_erased)
{
    paa_audit_t rec = {"user.erase", "success", "os:root", "ps_1", "",
                       "",           "",        0,         0};
    paa_gdpr_erased_t e;
    apr_array_header_t *rows;
    apr_int64_t at = 0;
    int found = 0, added = -1;
    json_t *doc;

    two_users();
    OK(paa_consent_get(tp, db, "usr_a", "v1", &at, &found));
    ck_assert_int_eq(found, 0);
    OK(paa_consent_accept(tp, db, "usr_a", "v1", 500, &added));
    ck_assert_int_eq(added, 1);
    OK(paa_consent_accept(tp, db, "usr_a", "v1", 600, &added));
    ck_assert_int_eq(added, 0); /* the first acceptance's time is kept */
    OK(paa_consent_get(tp, db, "usr_a", "v1", &at, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(at, 500);
    OK(paa_consent_get(tp, db, "usr_b", "v1", &at, &found));
    ck_assert_int_eq(found, 0); /* one user's consent is not another's */
    OK(paa_consent_get(tp, db, "usr_a", "v2", &at, &found));
    ck_assert_int_eq(found, 0); /* nor another version's */
    OK(paa_consent_accept(tp, db, "usr_b", "v2", 700, NULL));

    doc = export_of("usr_a", "jwt");
    ck_assert_int_eq(json_array_size(json_object_get(doc, "consents")), 1);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(doc, "consents"), 0), "version")),
        "v1");
    json_decref(doc);

    OK(paa_gdpr_erase(tp, db, "usr_a", "ps_1", &rec, &e));
    ck_assert_int_eq(e.consents, 1);
    OK(paa_gdpr_consents(tp, db, "usr_a", &rows));
    ck_assert_int_eq(rows->nelts, 0);
    OK(paa_gdpr_consents(tp, db, "usr_b", &rows));
    ck_assert_int_eq(rows->nelts, 1);
}
END_TEST

static Suite *store_gdpr_suite(void)
{
    Suite *s = suite_create("store_gdpr");
    TCase *tc = tcase_create("gdpr");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, export_pages_are_the_callers_only);
    tcase_add_test(tc, erase_keeps_the_others_and_pseudonymises);
    tcase_add_test(tc, erase_is_all_or_nothing);
    tcase_add_test(tc, delete_keeps_the_audit_under_the_id);
    tcase_add_test(tc, purge_deletes_past_retention_only);
    tcase_add_test(tc, consents_accepted_once_exported_and_erased);
    tcase_add_test(tc, export_document_is_whole_and_the_callers_only);
    tcase_add_test(tc, export_fails_before_writing_without_a_database);
    tcase_add_test(tc, pseudonym_is_stable_keyed_and_opaque);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(store_gdpr_suite)
