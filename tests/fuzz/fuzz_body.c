/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for the JSON bodies of POST /api/chat and POST
 * /api/auth/login (paa_chat_validate, paa_login_validate in
 * core/validate.c). Every input is parsed as paa_read_json parses a body
 * (duplicate names refused) and, when it is a JSON text, goes through
 * both.
 *
 * Each result is compared with a reference written from validate.h, down
 * to the exact error list (fields, order and texts) and the detail:
 *
 *   chat   unknown names first ("is not a chat field", in the body's
 *          order), then agent_id (a non-empty string of at most 50 bytes),
 *          question (a string of 1..5000 characters, counted here by a
 *          UTF-8 decoder of its own), sessionId (absent, null, or a string
 *          of at most 40 bytes); accepted values are the body's;
 *   login  unknown names are the only errors when present; else username
 *          and password non-empty strings, username <= 100 bytes, then
 *          password <= 72 bytes; accepted values are the body's and
 *          nothing is handed out on a refusal. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed (-1: not run). */
static struct {
    int chat_ok;
    int login; /* 0 ok, 1 field errors, 2 required, 3 too long */
} last;

static const char *input;

static void broken(const char *what)
{
    fuzz_broken("fuzz_body", what, input);
}

/* "field:message;" per error */
static const char *errors_text(apr_pool_t *p, json_t *errors)
{
    const char *out = "";
    size_t i;
    json_t *e;

    json_array_foreach(errors, i, e)
    {
        out = apr_pstrcat(
            p, out, json_string_value(json_object_get(e, "field")), ":",
            json_string_value(json_object_get(e, "message")), ";", NULL);
    }
    return out;
}

static long chars(json_t *v)
{
    long n = ref_utf8_chars(json_string_value(v));
    if (n < 0) {
        broken("jansson gave a string that is not UTF-8");
    }
    return n;
}

/* ---------------------------------------------------------------- chat */

static const char *ref_chat(apr_pool_t *p, json_t *body)
{
    const char *out = "", *key;
    json_t *v;

    if (!json_is_object(body)) {
        return ":must be a JSON object;";
    }
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "agent_id") && strcmp(key, "question") &&
            strcmp(key, "sessionId")) {
            out = apr_pstrcat(p, out, key, ":is not a chat field;", NULL);
        }
    }
    v = json_object_get(body, "agent_id");
    if (!json_is_string(v) || json_string_length(v) < 1 ||
        json_string_length(v) > 50) {
        out = apr_pstrcat(p, out, "agent_id:must be a persona id;", NULL);
    }
    v = json_object_get(body, "question");
    if (!json_is_string(v)) {
        out = apr_pstrcat(p, out, "question:must be a string;", NULL);
    }
    else if (chars(v) < 1 || chars(v) > 5000) {
        out =
            apr_pstrcat(p, out, "question:must be 1 to 5000 characters;", NULL);
    }
    v = json_object_get(body, "sessionId");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || json_string_length(v) > 40)) {
        out = apr_pstrcat(p, out, "sessionId:must be a session id;", NULL);
    }
    return out;
}

static int is_value(const char *got, json_t *v)
{
    return got && json_is_string(v) && !strcmp(got, json_string_value(v)) &&
           got != json_string_value(v);
}

static void check_chat(apr_pool_t *p, json_t *body)
{
    paa_chat_request_t cr;
    json_t *errors = NULL, *sid;
    apr_status_t rv = paa_chat_validate(p, body, &cr, &errors);
    const char *shape = ref_errors_shape(errors), *want, *got;

    if (shape) {
        broken(shape);
    }
    want = ref_chat(p, body);
    got = errors_text(p, errors);
    if (strcmp(want, got)) {
        fprintf(stderr, "chat errors: %s\nreference: %s\n", got, want);
        broken("paa_chat_validate's errors are not the reference's");
    }
    if ((rv == APR_SUCCESS) != (*want == '\0')) {
        broken("paa_chat_validate: the result and the error list disagree");
    }
    if ((cr.agent_id &&
         !is_value(cr.agent_id, json_object_get(body, "agent_id"))) ||
        (cr.question &&
         !is_value(cr.question, json_object_get(body, "question")))) {
        broken("paa_chat_validate: a value handed out is not a copy of the "
               "body's");
    }
    if (rv == APR_SUCCESS) {
        sid = json_object_get(body, "sessionId");
        if (!cr.agent_id || !cr.question ||
            (json_is_string(sid) ? !is_value(cr.session_id, sid)
                                 : cr.session_id != NULL)) {
            broken("paa_chat_validate: accepted without the body's values");
        }
    }
    last.chat_ok = rv == APR_SUCCESS;
    json_decref(errors);
}

/* --------------------------------------------------------------- login */

/* 0 ok, 1 field errors (*fields: "name;..."), 2 required, 3 too long */
static int ref_login(apr_pool_t *p, json_t *body, const char **fields)
{
    json_t *u = json_object_get(body, "username");
    json_t *pw = json_object_get(body, "password"), *v;
    const char *key;

    *fields = "";
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "username") && strcmp(key, "password")) {
            *fields =
                apr_pstrcat(p, *fields, key, ":is not a login field;", NULL);
        }
    }
    if (**fields) {
        return 1;
    }
    if (!json_is_string(u) || !json_is_string(pw) ||
        json_string_length(u) < 1 || json_string_length(pw) < 1 ||
        json_string_length(u) > 100) {
        return 2;
    }
    return json_string_length(pw) > 72 ? 3 : 0;
}

static void check_login(apr_pool_t *p, json_t *body)
{
    const char *user = "x", *pass = "x", *detail = "x", *fields;
    json_t *errors = NULL;
    apr_status_t rv =
        paa_login_validate(p, body, &user, &pass, &errors, &detail);
    int want = ref_login(p, body, &fields), got;

    if (rv == APR_SUCCESS) {
        got = 0;
        if (errors || detail ||
            !is_value(user, json_object_get(body, "username")) ||
            !is_value(pass, json_object_get(body, "password"))) {
            broken("paa_login_validate: accepted without the body's values");
        }
    }
    else {
        if (user || pass) {
            broken("paa_login_validate: refused, yet handed out a value");
        }
        if (errors) {
            const char *shape = ref_errors_shape(errors);
            if (shape) {
                broken(shape);
            }
            if (detail || !json_array_size(errors)) {
                broken("paa_login_validate: an empty error list, or one "
                       "with a detail");
            }
            if (strcmp(errors_text(p, errors), fields)) {
                broken("paa_login_validate: the errors are not the unknown "
                       "fields");
            }
            got = 1;
        }
        else if (!detail) {
            broken("paa_login_validate: refused without saying why");
        }
        else if (!strcmp(detail, "username and password are required "
                                 "strings")) {
            got = 2;
        }
        else if (!strcmp(detail, "the password is longer than 72 bytes, "
                                 "which no account's password can be")) {
            got = 3;
        }
        else {
            got = json_is_object(body) ? 4 : 2;
        }
    }
    if (got != want && json_is_object(body)) {
        fprintf(stderr, "login outcome %d, reference %d\n", got, want);
        broken("paa_login_validate disagrees with the reference");
    }
    last.login = got;
    json_decref(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    apr_pool_t *p;
    json_error_t je;
    json_t *body;

    fuzz_setup();
    last.chat_ok = last.login = -1;
    input = text;
    body = json_loadb(text, size, JSON_REJECT_DUPLICATES, &je);
    if (body) {
        apr_pool_create(&p, NULL);
        check_chat(p, body);
        check_login(p, body);
        apr_pool_destroy(p);
        json_decref(body);
    }
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

#define ANY -2

/* What each named seed must produce: chat accepted (1/0), login outcome
 * (0 ok, 1 unknown fields, 2 required strings, 3 password too long). */
static const struct {
    const char *name;
    int chat_ok, login;
} seeds[] = {
    {"chat_valid", 1, 1},
    {"chat_valid_session", 1, 1},
    {"chat_valid_session_null", 1, 1},
    {"chat_valid_limits", 1, 1},
    {"chat_valid_multibyte_question", 1, 1},
    {"chat_empty_session_id", 1, 1},
    {"chat_agent_id_51_bytes", 0, 1},
    {"chat_agent_id_empty", 0, 1},
    {"chat_agent_id_number", 0, 1},
    {"chat_question_empty", 0, 1},
    {"chat_question_5001_characters", 0, 1},
    {"chat_question_object", 0, 1},
    {"chat_session_id_41_bytes", 0, 1},
    {"chat_session_id_number", 0, 1},
    {"chat_unknown_field", 0, 1},
    {"chat_everything_wrong", 0, 1},
    {"chat_duplicate_question", -1, -1},
    {"login_valid", 0, 0},
    {"login_valid_limits", 0, 0},
    {"login_unknown_field", 0, 1},
    {"login_missing_password", 0, 2},
    {"login_empty_username", 0, 2},
    {"login_username_101_bytes", 0, 2},
    {"login_username_multibyte_over_100_bytes", 0, 2},
    {"login_password_not_string", 0, 2},
    {"login_password_73_bytes", 0, 3},
    {"login_password_nul_escape", -1, -1},
    {"array_body", 0, 2},
    {"not_json", -1, -1},
    {NULL, 0, 0},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[200];
    int i;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    if (!seeds[i].name) {
        return NULL;
    }
    if ((seeds[i].chat_ok != ANY && seeds[i].chat_ok != last.chat_ok) ||
        (seeds[i].login != ANY && seeds[i].login != last.login)) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: chat accepted=%d login=%d",
                 last.chat_ok, last.login);
        return msg;
    }
    return NULL;
}
