/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Core building blocks: the .env grammar shared with paactl, durations,
 * problem documents, and the schema on a real SQLite file (idempotent
 * creation, audit rows surviving deletes). */

#include "paa_test.h"

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

static apr_table_t *parse(const char *text, const char **err)
{
    apr_table_t *t = NULL;
    *err = NULL;
    if (paa_env_parse(tp, "t.env", text, strlen(text), &t, err) !=
        APR_SUCCESS) {
        return NULL;
    }
    return t;
}

START_TEST(env_basic)
{
    const char *err;
    apr_table_t *t = parse("# comment\n"
                           "JWT_SECRET=abc\n"
                           "export API_KEYS = pak_1,pak_2  # inline\n"
                           "QUOTED=\"a # not a comment\"\n"
                           "SINGLE='x y'\r\n"
                           "EMPTY=\n"
                           "HASH=a#b\n",
                           &err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_str_eq(apr_table_get(t, "JWT_SECRET"), "abc");
    ck_assert_str_eq(apr_table_get(t, "API_KEYS"), "pak_1,pak_2");
    ck_assert_str_eq(apr_table_get(t, "QUOTED"), "a # not a comment");
    ck_assert_str_eq(apr_table_get(t, "SINGLE"), "x y");
    ck_assert_str_eq(apr_table_get(t, "EMPTY"), "");
    ck_assert_str_eq(apr_table_get(t, "HASH"), "a#b");
}
END_TEST

START_TEST(env_errors_name_the_line)
{
    const char *err;
    ck_assert_ptr_eq(parse("A=1\nnot a pair\n", &err), NULL);
    ck_assert_str_eq(err, "t.env:2: expected NAME=VALUE");
    ck_assert_ptr_eq(parse("1A=1\n", &err), NULL);
    ck_assert_str_eq(err, "t.env:1: invalid variable name");
    ck_assert_ptr_eq(parse("A=\"open\n", &err), NULL);
    ck_assert_str_eq(err, "t.env:1: unterminated quote");
    ck_assert_ptr_eq(parse("A=\"x\" y\n", &err), NULL);
    ck_assert_str_eq(err, "t.env:1: text after closing quote");
}
END_TEST

START_TEST(env_specific_names)
{
    const char *err;
    apr_table_t *t = parse("JWT_SECRET=dev\nJWT_SECRET_PROD=prod\n"
                           "PAA_ENV=prod\nCORS_ORIGIN=x\n",
                           &err);
    ck_assert_ptr_ne(t, NULL);
    ck_assert_str_eq(paa_env_get(t, "JWT_SECRET"), "prod");
    ck_assert_str_eq(paa_env_get(t, "CORS_ORIGIN"), "x");
    apr_table_unset(t, "PAA_ENV");
    ck_assert_str_eq(paa_env_get(t, "JWT_SECRET"), "dev");
    ck_assert_ptr_eq(paa_env_get(t, "MISSING"), NULL);
}
END_TEST

START_TEST(env_load_missing_file)
{
    apr_table_t *t;
    const char *err = NULL;
    ck_assert_int_ne(paa_env_load(tp, "/nonexistent/paa.env", &t, &err),
                     APR_SUCCESS);
    ck_assert_ptr_ne(strstr(err, "/nonexistent/paa.env"), NULL);
}
END_TEST

START_TEST(duration_units)
{
    apr_int64_t s;
    ck_assert_int_eq(paa_duration_parse("30", &s), APR_SUCCESS);
    ck_assert_int_eq(s, 30);
    ck_assert_int_eq(paa_duration_parse("15m", &s), APR_SUCCESS);
    ck_assert_int_eq(s, 900);
    ck_assert_int_eq(paa_duration_parse("24h", &s), APR_SUCCESS);
    ck_assert_int_eq(s, 86400);
    ck_assert_int_eq(paa_duration_parse("90d", &s), APR_SUCCESS);
    ck_assert_int_eq(s, 90 * 86400);
    ck_assert_int_eq(paa_duration_parse("2w", &s), APR_SUCCESS);
    ck_assert_int_eq(s, 14 * 86400);
}
END_TEST

START_TEST(duration_rejects)
{
    static const char *const bad[] = {
        "",  "0",   "0d",  "-1h", "1x",
        "h", "1h2", " 1h", "1 h", "999999999999999d",
        NULL};
    apr_int64_t s;
    int i;
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(paa_duration_parse(bad[i], &s) == APR_EINVAL,
                      "'%s' was accepted", bad[i]);
    }
    ck_assert_int_eq(paa_duration_parse(NULL, &s), APR_EINVAL);
}
END_TEST

START_TEST(problem_document)
{
    json_error_t je;
    const char *text = paa_problem_json(tp, 503, NULL, "the database is down",
                                        "/health/ready");
    json_t *o = json_loads(text, 0, &je);
    ck_assert_ptr_ne(o, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(o, "type")),
                     "about:blank");
    ck_assert_str_eq(json_string_value(json_object_get(o, "title")),
                     "Service Unavailable");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "status")), 503);
    ck_assert_str_eq(json_string_value(json_object_get(o, "detail")),
                     "the database is down");
    ck_assert_str_eq(json_string_value(json_object_get(o, "instance")),
                     "/health/ready");
    json_decref(o);
}
END_TEST

START_TEST(problem_escapes_client_text)
{
    json_error_t je;
    const char *text =
        paa_problem_json(tp, 404, NULL, NULL, "/a\"},\"status\":200,\"x\":\"");
    json_t *o = json_loads(text, 0, &je);
    ck_assert_ptr_ne(o, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "status")), 404);
    ck_assert_ptr_eq(json_object_get(o, "detail"), NULL);
    json_decref(o);
}
END_TEST

static paa_db_t *temp_sqlite(char **path)
{
    paa_db_t *db = NULL;
    const char *err = NULL;
    char tmpl[] = "/tmp/paa-unit-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    close(fd);
    *path = apr_pstrdup(tp, tmpl);
    ck_assert_msg(paa_db_open(tp, "sqlite3", *path, &db, &err) == APR_SUCCESS,
                  "%s", err);
    return db;
}

START_TEST(schema_create_is_idempotent)
{
    char *path;
    paa_db_t *db = temp_sqlite(&path);
    const char *err = NULL;
    int from = -1, to = -1, v = -1;

    ck_assert_int_eq(paa_schema_version(tp, db, &v, &err), APR_SUCCESS);
    ck_assert_int_eq(v, 0);
    ck_assert_msg(paa_schema_migrate(tp, db, &from, &to, &err) == APR_SUCCESS,
                  "%s", err);
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(to, PAA_SCHEMA_VERSION);
    ck_assert_int_eq(paa_schema_migrate(tp, db, &from, &to, &err), APR_SUCCESS);
    ck_assert_int_eq(from, PAA_SCHEMA_VERSION);
    ck_assert_int_eq(to, PAA_SCHEMA_VERSION);
    paa_db_close(db);
    unlink(path);
}
END_TEST

START_TEST(schema_audit_survives_deletes)
{
    char *path;
    paa_db_t *db = temp_sqlite(&path);
    const char *err = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int from, to, count = -1;

    ck_assert_int_eq(paa_schema_migrate(tp, db, &from, &to, &err), APR_SUCCESS);
    ck_assert_int_eq(paa_db_exec(tp, db, "PRAGMA foreign_keys = ON", &err),
                     APR_SUCCESS);
    ck_assert_int_eq(
        paa_db_exec(tp, db,
                    "INSERT INTO paa_users (id, username, password_hash, "
                    "created_at, updated_at) VALUES ('u1', 'alice', 'x', 1, 1)",
                    &err),
        APR_SUCCESS);
    ck_assert_int_eq(
        paa_db_exec(tp, db,
                    "INSERT INTO paa_audit (at, event, outcome, subject) "
                    "VALUES (1, 'user.add', 'success', 'u1')",
                    &err),
        APR_SUCCESS);
    ck_assert_int_eq(
        paa_db_exec(tp, db, "DELETE FROM paa_users WHERE id = 'u1'", &err),
        APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_select(db->driver, tp, db->handle, &res,
                                    "SELECT count(*) FROM paa_audit "
                                    "WHERE subject = 'u1'",
                                    1),
                     0);
    while (apr_dbd_get_row(db->driver, tp, res, &row, -1) == 0) {
        count = atoi(apr_dbd_get_entry(db->driver, row, 0));
    }
    ck_assert_int_eq(count, 1);
    paa_db_close(db);
    unlink(path);
}
END_TEST

START_TEST(utf8_escape)
{
    /* valid text, multibyte included, comes back as it is */
    const char *ok = "/api/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80";
    ck_assert_ptr_eq(paa_utf8_escape(tp, ok), ok);
    /* a lone byte, a truncated sequence, an overlong, a surrogate */
    ck_assert_str_eq(paa_utf8_escape(tp, "/a\xff\xfe"
                                         "b"),
                     "/a\\xff\\xfeb");
    ck_assert_str_eq(paa_utf8_escape(tp, "x\xc3"), "x\\xc3");
    ck_assert_str_eq(paa_utf8_escape(tp, "\xc0\xaf"), "\\xc0\\xaf");
    ck_assert_str_eq(paa_utf8_escape(tp, "\xed\xa0\x80"), "\\xed\\xa0\\x80");
    ck_assert_str_eq(paa_utf8_escape(tp, "\xf4\x90\x80\x80"),
                     "\\xf4\\x90\\x80\\x80");
    ck_assert_str_eq(paa_utf8_escape(tp, ""), "");
}
END_TEST

/* The audit API's since and until: what people and scripts write. */
START_TEST(time_parse_forms)
{
    apr_int64_t t;
    static const struct {
        const char *text;
        apr_int64_t want;
    } good[] = {
        {"0", 0},
        {"1795824000", 1795824000},
        {"2026-11-28", 1795824000},
        {"2026-11-28T09:30:00Z", 1795858200},
        {"2026-11-28t09:30:00z", 1795858200},
        {"2026-11-28 09:30:00Z", 1795858200},
        {"2026-11-28T09:30Z", 1795858200},
        {"2026-11-28T09:30:00.999Z", 1795858200}, /* fractions dropped */
        {"2026-11-28T10:30:00+01:00", 1795858200},
        {"2026-11-28T10:30:00+0100", 1795858200},
        {"2026-11-28T10:30:00+01", 1795858200},
        {"2026-11-28T10:30:00 01:00", 1795858200}, /* '+' unencoded */
        {"2026-11-28T04:00:00-05:30", 1795858200},
        {"2024-02-29T00:00:00Z", 1709164800}, /* a leap day */
        {"1969-12-31T23:59:59Z", -1},
        {"1970-01-01T00:00:60Z", 60}, /* a leap second: the next one */
        {NULL, 0}};
    static const char *const bad[] = {"",
                                      "-1",
                                      "1e9",
                                      "1234567890123",
                                      "2026-11-28T09:30:00", /* no zone */
                                      "2026-11-28T09:30",
                                      "2026-13-01",
                                      "2026-00-10",
                                      "2026-02-29", /* not a leap year */
                                      "2026-04-31",
                                      "2026-11-28T24:00:00Z",
                                      "2026-11-28T09:60:00Z",
                                      "2026-11-28T09:30:61Z",
                                      "2026-11-28T09:30:00.Z",
                                      "2026-11-28T09:30:00+24:00",
                                      "2026-11-28T09:30:00+01:60",
                                      "2026-11-28T09:30:00+1",
                                      "2026-11-28T09:30:00Zjunk",
                                      "2026-11-28X09:30:00Z",
                                      "26-11-28",
                                      "2026-1-28",
                                      "yesterday",
                                      " 1795824000",
                                      NULL};
    int i;

    for (i = 0; good[i].text; i++) {
        t = 12345;
        ck_assert_msg(paa_time_parse(good[i].text, &t) == APR_SUCCESS,
                      "'%s' was refused", good[i].text);
        ck_assert_msg(t == good[i].want,
                      "'%s' is %" APR_INT64_T_FMT ", not %" APR_INT64_T_FMT,
                      good[i].text, t, good[i].want);
    }
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(paa_time_parse(bad[i], &t) == APR_EINVAL,
                      "'%s' was accepted", bad[i]);
    }
    ck_assert_int_eq(paa_time_parse(NULL, &t), APR_EINVAL);
}
END_TEST

/* Every access-log value must stay one valid JSON string, whatever bytes
 * a client sent (httpd's own \xNN is not JSON). */
START_TEST(json_quote_for_logs)
{
    json_error_t je;
    json_t *v;
    static const char *const samples[] = {"plain",
                                          "",
                                          "a\"b\\c",
                                          "tab\there\nnl\r\x01\x1f\x7f",
                                          "caf\xc3\xa9 \xe2\x82\xac",
                                          "bad\xff\xfe utf8 \xc3",
                                          NULL};
    int i;

    ck_assert_str_eq(paa_json_quote(tp, NULL), "null");
    ck_assert_str_eq(paa_json_quote(tp, "key_0123"), "\"key_0123\"");
    ck_assert_str_eq(paa_json_quote(tp, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(paa_json_quote(tp, "\x01\n\x7f"),
                     "\"\\u0001\\u000a\\u007f\"");
    ck_assert_str_eq(paa_json_quote(tp, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    /* Not UTF-8: the text \xff, as httpd's plain log shows it. */
    ck_assert_str_eq(paa_json_quote(tp, "a\xff"), "\"a\\\\xff\"");
    for (i = 0; samples[i]; i++) {
        const char *q = paa_json_quote(tp, samples[i]);
        v = json_loads(q, JSON_DECODE_ANY, &je);
        ck_assert_msg(json_is_string(v), "%s is not a JSON string: %s", q,
                      je.text);
        ck_assert_ptr_null(strchr(q, '\n'));
        json_decref(v);
    }
    v = json_loads(paa_json_quote(tp, "a\xff"), JSON_DECODE_ANY, &je);
    ck_assert_str_eq(json_string_value(v), "a\\xff");
    json_decref(v);
}
END_TEST

/* FIPS 180-2's examples, from several threads at once and in turn: no
 * state may be shared between threads or carried from one hash to the
 * next. */
static void *APR_THREAD_FUNC hash_abc(apr_thread_t *t, void *data)
{
    static const char two_blocks[] =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    unsigned char md[32];
    int i, *bad = data;
    (void)t;
    for (i = 0; i < 1000; i++) {
        paa_sha256("abc", 3, md);
        *bad |= md[0] != 0xba || md[31] != 0xad;
        paa_sha256(two_blocks, sizeof(two_blocks) - 1, md);
        *bad |= md[0] != 0x24 || md[31] != 0xc1;
        paa_sha256("", 0, md);
        *bad |= md[0] != 0xe3 || md[31] != 0x55;
    }
    return NULL;
}

START_TEST(sha256_known_answers)
{
    apr_thread_t *t[4];
    apr_status_t rv;
    int bad[4] = {0, 0, 0, 0}, i;

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(apr_thread_create(&t[i], NULL, hash_abc, &bad[i], tp),
                         APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, t[i]);
        ck_assert_int_eq(bad[i], 0);
    }
    ck_assert_str_eq(
        paa_sha256_hex(tp, "abc", 3),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_str_eq(
        paa_sha256_hex(tp, "", 0),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_str_eq(
        paa_sha256_hex(
            tp, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/* RFC 4231's vectors (a key shorter than the block, a key longer, which
 * is hashed first), and OpenSSL's HMAC() for every key length around the
 * block size. */
START_TEST(hmac_sha256_known_answers)
{
    unsigned char key[140], data[130], md[32];
    unsigned int mdlen;
    apr_size_t kl, dl;

    memset(key, 0x0b, 20);
    ck_assert_str_eq(
        paa_hmac_sha256_hex(tp, (char *)key, 20, "Hi There", 8),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    ck_assert_str_eq(
        paa_hmac_sha256_hex(tp, "Jefe", 4, "what do ya want for nothing?", 28),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 131);
    ck_assert_str_eq(
        paa_hmac_sha256_hex(
            tp, (char *)key, 131,
            "Test Using Larger Than Block-Size Key - Hash Key First", 54),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    for (kl = 0; kl < sizeof(key); kl++) {
        key[kl] = (unsigned char)(kl * 7 + 1);
    }
    for (dl = 0; dl < sizeof(data); dl++) {
        data[dl] = (unsigned char)(dl * 13 + 5);
    }
    for (kl = 0; kl <= sizeof(key); kl += 1 + kl / 40) {
        for (dl = 0; dl <= sizeof(data); dl += 1 + dl / 8) {
            ck_assert(HMAC(EVP_sha256(), key, (int)kl, data, dl, md, &mdlen));
            ck_assert_str_eq(
                paa_hmac_sha256_hex(tp, (char *)key, kl, (char *)data, dl),
                paa_hex(tp, md, mdlen));
        }
    }
}
END_TEST

/* Every byte counts, in every word; the inputs need not be aligned. */
START_TEST(digest_equal_every_byte)
{
    unsigned char buf[33], other[32];
    int i;

    paa_sha256("abc", 3, buf + 1);
    memcpy(other, buf + 1, sizeof(other));
    ck_assert_int_eq(paa_digest_equal(buf + 1, other), 1);
    for (i = 0; i < 32; i++) {
        other[i] ^= 0x80;
        ck_assert_msg(!paa_digest_equal(buf + 1, other), "byte %d", i);
        other[i] ^= 0x81;
        ck_assert_msg(!paa_digest_equal(other, buf + 1), "byte %d", i);
        other[i] ^= 0x01;
    }
    ck_assert_int_eq(paa_digest_equal(other, buf + 1), 1);
}
END_TEST

START_TEST(db_open_rejects_unknown_driver)
{
    paa_db_t *db = NULL;
    const char *err = NULL;
    ck_assert_int_eq(paa_db_open(tp, "mysql", "x", &db, &err), APR_EINVAL);
    ck_assert_ptr_ne(strstr(err, "sqlite3 or pgsql"), NULL);
}
END_TEST

START_TEST(db_label_hides_password)
{
    const char *l = paa_db_label(tp, "pgsql",
                                 "host=/tmp/x port=5433 dbname=paa "
                                 "user=paa password=hunter2");
    ck_assert_str_eq(l, "/tmp/x:5433/paa");
    ck_assert_ptr_eq(strstr(l, "hunter2"), NULL);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, paa_test_setup, paa_test_teardown);
    tcase_add_test(tc, env_basic);
    tcase_add_test(tc, utf8_escape);
    tcase_add_test(tc, env_errors_name_the_line);
    tcase_add_test(tc, env_specific_names);
    tcase_add_test(tc, env_load_missing_file);
    tcase_add_test(tc, duration_units);
    tcase_add_test(tc, duration_rejects);
    tcase_add_test(tc, time_parse_forms);
    tcase_add_test(tc, json_quote_for_logs);
    tcase_add_test(tc, problem_document);
    tcase_add_test(tc, problem_escapes_client_text);
    tcase_add_test(tc, schema_create_is_idempotent);
    tcase_add_test(tc, schema_audit_survives_deletes);
    tcase_add_test(tc, db_open_rejects_unknown_driver);
    tcase_add_test(tc, db_label_hides_password);
    tcase_add_test(tc, sha256_known_answers);
    tcase_add_test(tc, hmac_sha256_known_answers);
    tcase_add_test(tc, digest_equal_every_byte);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(core_suite)
