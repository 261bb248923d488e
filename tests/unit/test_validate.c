/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* core/validate.c: the rules for login and chat bodies, MCP messages and
 * tool arguments and the rate-limit directives, taken out of the httpd
 * glue so that they can be fuzzed (tests/fuzz). Each rule is pinned with
 * the text a client sees, and each refusal has an accepted neighbour (a
 * positive control) so that a rule that refused everything would fail. */

#include "paa_test.h"

#include <apr_strings.h>
#include <string.h>

static json_t *body, *errs;

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    ck_assert_msg(j != NULL, "%s: %s", text, je.text);
    json_decref(body);
    body = j;
    return j;
}

/* n copies of s */
static char *rep(int n, const char *s)
{
    char *out = "";
    while (n-- > 0) {
        out = apr_pstrcat(tp, out, s, NULL);
    }
    return out;
}

static void teardown(void)
{
    json_decref(body);
    json_decref(errs);
    body = errs = NULL;
    paa_test_teardown();
}

/* The errors array as "field:message;..." */
static const char *errors_text(json_t *e)
{
    const char *out = "";
    size_t i;
    json_t *v;

    json_array_foreach(e, i, v)
    {
        out = apr_pstrcat(
            tp, out, json_string_value(json_object_get(v, "field")), ":",
            json_string_value(json_object_get(v, "message")), ";", NULL);
    }
    return out;
}

/* --------------------------------------------------------------- login */

static apr_status_t login(const char *text, const char **u, const char **pw,
                          const char **detail)
{
    json_decref(errs);
    errs = NULL;
    return paa_login_validate(tp, load(text), u, pw, &errs, detail);
}

START_TEST(login_valid)
{
    const char *u, *pw, *detail;

    ck_assert_int_eq(login("{\"username\":\"alice\",\"password\":\"s3cret\"}",
                           &u, &pw, &detail),
                     APR_SUCCESS);
    ck_assert_str_eq(u, "alice");
    ck_assert_str_eq(pw, "s3cret");
    ck_assert_ptr_eq(errs, NULL);
    ck_assert_ptr_eq(detail, NULL);
    /* the copies are the pool's, not the body's */
    ck_assert_ptr_ne(u, json_string_value(json_object_get(body, "username")));
    /* the limits themselves are accepted */
    ck_assert_int_eq(login(apr_psprintf(tp,
                                        "{\"password\":\"%s\","
                                        "\"username\":\"%s\"}",
                                        rep(PAA_PASSWORD_MAX, "p"),
                                        rep(PAA_LOGIN_USERNAME_MAX, "u")),
                           &u, &pw, &detail),
                     APR_SUCCESS);
    ck_assert_uint_eq(strlen(pw), PAA_PASSWORD_MAX);
}
END_TEST

START_TEST(login_unknown_fields)
{
    const char *u, *pw, *detail;

    ck_assert_int_eq(login("{\"username\":\"alice\",\"password\":\"x\","
                           "\"remember\":true,\"otp\":1}",
                           &u, &pw, &detail),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "remember:is not a login field;"
                                        "otp:is not a login field;");
    ck_assert_ptr_eq(u, NULL);
    ck_assert_ptr_eq(pw, NULL);
    /* unknown fields win over missing ones */
    ck_assert_int_eq(login("{\"user\":\"alice\"}", &u, &pw, &detail),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "user:is not a login field;");
}
END_TEST

START_TEST(login_required_strings)
{
    static const char *const bad[] = {
        "{}",
        "{\"username\":\"alice\"}",
        "{\"password\":\"x\"}",
        "{\"username\":\"\",\"password\":\"x\"}",
        "{\"username\":\"alice\",\"password\":\"\"}",
        "{\"username\":1,\"password\":\"x\"}",
        "{\"username\":\"alice\",\"password\":[\"x\"]}",
        "{\"username\":null,\"password\":\"x\"}",
        NULL};
    const char *u, *pw, *detail;
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_int_eq(login(bad[i], &u, &pw, &detail), APR_EINVAL);
        ck_assert_ptr_eq(errs, NULL);
        ck_assert_str_eq(detail, "username and password are required strings");
        ck_assert_ptr_eq(pw, NULL);
    }
    ck_assert_int_eq(login(apr_psprintf(tp,
                                        "{\"username\":\"%s\","
                                        "\"password\":\"x\"}",
                                        rep(PAA_LOGIN_USERNAME_MAX + 1, "u")),
                           &u, &pw, &detail),
                     APR_EINVAL);
    ck_assert_str_eq(detail, "username and password are required strings");
    /* bytes, not characters: 51 two-byte characters are 102 bytes */
    ck_assert_int_eq(login(apr_psprintf(tp,
                                        "{\"username\":\"%s\","
                                        "\"password\":\"x\"}",
                                        rep(51, "\xc3\xa9")),
                           &u, &pw, &detail),
                     APR_EINVAL);
}
END_TEST

START_TEST(login_password_too_long)
{
    const char *u, *pw, *detail;

    ck_assert_int_eq(login(apr_psprintf(tp,
                                        "{\"username\":\"alice\","
                                        "\"password\":\"%s\"}",
                                        rep(PAA_PASSWORD_MAX + 1, "p")),
                           &u, &pw, &detail),
                     APR_EINVAL);
    ck_assert_str_eq(detail, "the password is longer than 72 bytes, which no "
                             "account's password can be");
    ck_assert_ptr_eq(errs, NULL);
    ck_assert_ptr_eq(pw, NULL);
}
END_TEST

START_TEST(login_not_an_object)
{
    const char *u, *pw, *detail;

    ck_assert_int_eq(login("[\"alice\",\"x\"]", &u, &pw, &detail), APR_EINVAL);
    ck_assert_str_eq(detail, "the body must be a JSON object");
    ck_assert_int_eq(paa_login_validate(tp, NULL, &u, &pw, &errs, &detail),
                     APR_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- chat */

static paa_chat_request_t cr;

static apr_status_t chat(const char *text)
{
    json_decref(errs);
    errs = NULL;
    return paa_chat_validate(tp, load(text), &cr, &errs);
}

START_TEST(chat_valid)
{
    ck_assert_int_eq(
        chat("{\"agent_id\":\"tech-support\",\"question\":\"hi\"}"),
        APR_SUCCESS);
    ck_assert_str_eq(cr.agent_id, "tech-support");
    ck_assert_str_eq(cr.question, "hi");
    ck_assert_ptr_eq(cr.session_id, NULL);
    ck_assert_uint_eq(json_array_size(errs), 0);
    ck_assert_int_eq(chat("{\"agent_id\":\"a\",\"question\":\"q\","
                          "\"sessionId\":null}"),
                     APR_SUCCESS);
    ck_assert_ptr_eq(cr.session_id, NULL);
    ck_assert_int_eq(chat("{\"agent_id\":\"a\",\"question\":\"q\","
                          "\"sessionId\":\"ses_0123456789abcdef\"}"),
                     APR_SUCCESS);
    ck_assert_str_eq(cr.session_id, "ses_0123456789abcdef");
    /* the limits themselves */
    ck_assert_int_eq(
        chat(apr_psprintf(tp,
                          "{\"agent_id\":\"%s\",\"question\":\"%s\","
                          "\"sessionId\":\"%s\"}",
                          rep(PAA_CHAT_AGENT_ID_MAX, "a"),
                          rep(PAA_CHAT_QUESTION_MAX, "\xc3\xa9"),
                          rep(PAA_CHAT_SESSION_ID_MAX, "s"))),
        APR_SUCCESS);
}
END_TEST

START_TEST(chat_every_problem_reported)
{
    ck_assert_int_eq(chat("{\"agent\":\"a\",\"question\":5,\"sessionId\":7,"
                          "\"stream\":true}"),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "agent:is not a chat field;"
                                        "stream:is not a chat field;"
                                        "agent_id:must be a persona id;"
                                        "question:must be a string;"
                                        "sessionId:must be a session id;");
    ck_assert_ptr_eq(cr.agent_id, NULL);
    ck_assert_ptr_eq(cr.question, NULL);
    ck_assert_ptr_eq(cr.session_id, NULL);
}
END_TEST

START_TEST(chat_limits)
{
    ck_assert_int_eq(chat(apr_psprintf(tp,
                                       "{\"agent_id\":\"%s\","
                                       "\"question\":\"q\"}",
                                       rep(PAA_CHAT_AGENT_ID_MAX + 1, "a"))),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "agent_id:must be a persona id;");
    ck_assert_int_eq(chat("{\"agent_id\":\"\",\"question\":\"q\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "agent_id:must be a persona id;");
    ck_assert_int_eq(chat("{\"agent_id\":\"a\",\"question\":\"\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs),
                     "question:must be 1 to 5000 characters;");
    ck_assert_int_eq(chat(apr_psprintf(tp,
                                       "{\"agent_id\":\"a\","
                                       "\"question\":\"%s\"}",
                                       rep(PAA_CHAT_QUESTION_MAX + 1, "q"))),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs),
                     "question:must be 1 to 5000 characters;");
    ck_assert_int_eq(chat(apr_psprintf(tp,
                                       "{\"agent_id\":\"a\",\"question\":\"q\","
                                       "\"sessionId\":\"%s\"}",
                                       rep(PAA_CHAT_SESSION_ID_MAX + 1, "s"))),
                     APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), "sessionId:must be a session id;");
    ck_assert_int_eq(chat("[]"), APR_EINVAL);
    ck_assert_str_eq(errors_text(errs), ":must be a JSON object;");
}
END_TEST

/* ------------------------------------------------------------- JSON-RPC */

static paa_jsonrpc_kind_e classify(const char *text)
{
    return paa_jsonrpc_classify(load(text), NULL, NULL, NULL);
}

START_TEST(jsonrpc_kinds)
{
    const char *method;
    json_t *id, *params;

    ck_assert_int_eq(
        paa_jsonrpc_classify(load("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                                  "\"tools/list\",\"params\":{}}"),
                             &method, &id, &params),
        PAA_JSONRPC_REQUEST);
    ck_assert_str_eq(method, "tools/list");
    ck_assert_int_eq(json_integer_value(id), 1);
    ck_assert(json_is_object(params));
    ck_assert_int_eq(
        paa_jsonrpc_classify(load("{\"jsonrpc\":\"2.0\",\"method\":"
                                  "\"notifications/initialized\"}"),
                             &method, &id, &params),
        PAA_JSONRPC_NOTIFICATION);
    ck_assert_ptr_eq(id, NULL);
    ck_assert_ptr_eq(params, NULL);
    ck_assert_int_eq(classify("{\"jsonrpc\":\"2.0\",\"id\":\"a\","
                              "\"result\":{}}"),
                     PAA_JSONRPC_RESPONSE);
    ck_assert_int_eq(classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":"
                              "{\"code\":1,\"message\":\"m\"}}"),
                     PAA_JSONRPC_RESPONSE);
    ck_assert_int_eq(classify("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":"
                              "\"ping\",\"params\":[]}"),
                     PAA_JSONRPC_REQUEST);
    ck_assert_int_eq(paa_jsonrpc_classify(NULL, &method, &id, &params),
                     PAA_JSONRPC_PARSE_ERROR);
}
END_TEST

START_TEST(jsonrpc_invalid)
{
    static const char *const bad[] = {
        "[]",
        "1",
        "\"2.0\"",
        "{\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}",
        NULL};
    const char *method;
    json_t *id, *params;
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(paa_jsonrpc_classify(load(bad[i]), &method, &id,
                                           &params) == PAA_JSONRPC_INVALID,
                      "%s", bad[i]);
        ck_assert_ptr_eq(method, NULL);
        ck_assert_ptr_eq(id, NULL);
        ck_assert_ptr_eq(params, NULL);
    }
}
END_TEST

/* ----------------------------------------------------------- MCP tools */

static paa_mcp_tool_e tool;
static json_t *args;
static const char *msg;

static apr_status_t select_tool(const char *params_text)
{
    return paa_mcp_tool_select(tp, load(params_text), &tool, &args, &msg);
}

START_TEST(mcp_tool_select)
{
    ck_assert_int_eq(select_tool("{\"name\":\"ask_agent\",\"arguments\":{}}"),
                     APR_SUCCESS);
    ck_assert_int_eq(tool, PAA_MCP_TOOL_ASK_AGENT);
    ck_assert(json_is_object(args));
    ck_assert_int_eq(select_tool("{\"name\":\"list_personas\"}"), APR_SUCCESS);
    ck_assert_int_eq(tool, PAA_MCP_TOOL_LIST_PERSONAS);
    ck_assert_ptr_eq(args, NULL);
    ck_assert_int_eq(
        select_tool("{\"name\":\"list_personas\",\"arguments\":null}"),
        APR_SUCCESS);

    ck_assert_int_eq(select_tool("[]"), APR_EINVAL);
    ck_assert_str_eq(msg, "tools/call needs params");
    ck_assert_int_eq(select_tool("{\"arguments\":{}}"), APR_EINVAL);
    ck_assert_str_eq(msg, "params.name must be a tool name");
    ck_assert_int_eq(select_tool("{\"name\":[\"ask_agent\"]}"), APR_EINVAL);
    ck_assert_str_eq(msg, "params.name must be a tool name");
    ck_assert_int_eq(
        select_tool("{\"name\":\"ask_agent\",\"arguments\":[\"a\",\"q\"]}"),
        APR_EINVAL);
    ck_assert_str_eq(msg, "params.arguments must be an object");
    /* arguments are judged before the name */
    ck_assert_int_eq(select_tool("{\"name\":\"rm\",\"arguments\":\"x\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "params.arguments must be an object");
    ck_assert_int_eq(select_tool("{\"name\":\"Ask_Agent\"}"), APR_EINVAL);
    ck_assert_str_eq(msg, "unknown tool: Ask_Agent");
    ck_assert_int_eq(tool, PAA_MCP_TOOL_NONE);
    ck_assert_ptr_eq(args, NULL);
}
END_TEST

static paa_chat_request_t ask;

static apr_status_t tool_args(paa_mcp_tool_e t, const char *text)
{
    return paa_mcp_tool_args(tp, t, text ? load(text) : NULL, &ask, &msg);
}

START_TEST(mcp_list_personas_args)
{
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_LIST_PERSONAS, NULL), APR_SUCCESS);
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_LIST_PERSONAS, "null"),
                     APR_SUCCESS);
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_LIST_PERSONAS, "{}"), APR_SUCCESS);
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_LIST_PERSONAS, "{\"page\":1}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "list_personas takes no arguments");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_NONE, "{}"), APR_EINVAL);
}
END_TEST

START_TEST(mcp_ask_agent_args)
{
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"tech-support\","
                               "\"question\":\"hi\"}"),
                     APR_SUCCESS);
    ck_assert_str_eq(ask.agent_id, "tech-support");
    ck_assert_str_eq(ask.question, "hi");
    ck_assert_ptr_eq(ask.session_id, NULL);
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":\"q\","
                               "\"session_id\":\"ses_1\"}"),
                     APR_SUCCESS);
    ck_assert_str_eq(ask.session_id, "ses_1");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":\"q\","
                               "\"session_id\":null}"),
                     APR_SUCCESS);
    ck_assert_ptr_eq(ask.session_id, NULL);
    /* the limits of POST /api/chat, at the limit */
    ck_assert_int_eq(
        tool_args(PAA_MCP_TOOL_ASK_AGENT,
                  apr_psprintf(tp,
                               "{\"agent_id\":\"%s\",\"question\":\"%s\","
                               "\"session_id\":\"%s\"}",
                               rep(PAA_CHAT_AGENT_ID_MAX, "a"),
                               rep(PAA_CHAT_QUESTION_MAX, "q"),
                               rep(PAA_CHAT_SESSION_ID_MAX, "s"))),
        APR_SUCCESS);

    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT, NULL), APR_EINVAL);
    ck_assert_str_eq(msg, "ask_agent needs agent_id and question");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT, "null"), APR_EINVAL);
    ck_assert_str_eq(msg, "ask_agent needs agent_id and question");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":\"q\","
                               "\"sessionId\":\"s\",\"x\":1}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "unknown argument 'sessionId'");
    ck_assert_ptr_eq(ask.agent_id, NULL);
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"\",\"question\":\"q\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg,
                     "agent_id is required: a persona id (at most 50 bytes)");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT, "{\"question\":\"q\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg,
                     "agent_id is required: a persona id (at most 50 bytes)");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":[]}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "question is required: a string");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":\"\"}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "question must be 1 to 5000 characters");
    ck_assert_int_eq(
        tool_args(PAA_MCP_TOOL_ASK_AGENT,
                  apr_psprintf(tp, "{\"agent_id\":\"a\",\"question\":\"%s\"}",
                               rep(PAA_CHAT_QUESTION_MAX + 1, "q"))),
        APR_EINVAL);
    ck_assert_str_eq(msg, "question must be 1 to 5000 characters");
    ck_assert_int_eq(tool_args(PAA_MCP_TOOL_ASK_AGENT,
                               "{\"agent_id\":\"a\",\"question\":\"q\","
                               "\"session_id\":1}"),
                     APR_EINVAL);
    ck_assert_str_eq(msg, "session_id must be a session id (a string of at "
                          "most 40 bytes)");
    ck_assert_ptr_eq(ask.agent_id, NULL);
    ck_assert_ptr_eq(ask.question, NULL);
    /* the same limits as POST /api/chat */
    ck_assert_int_eq(
        tool_args(PAA_MCP_TOOL_ASK_AGENT,
                  apr_psprintf(tp, "{\"agent_id\":\"%s\",\"question\":\"q\"}",
                               rep(PAA_CHAT_AGENT_ID_MAX + 1, "a"))),
        APR_EINVAL);
    ck_assert_str_eq(msg,
                     "agent_id is required: a persona id (at most 50 bytes)");
    ck_assert_int_eq(
        tool_args(PAA_MCP_TOOL_ASK_AGENT,
                  apr_psprintf(tp,
                               "{\"agent_id\":\"a\",\"question\":\"q\","
                               "\"session_id\":\"%s\"}",
                               rep(PAA_CHAT_SESSION_ID_MAX + 1, "s"))),
        APR_EINVAL);
    ck_assert_str_eq(msg, "session_id must be a session id (a string of at "
                          "most 40 bytes)");
    ck_assert_int_eq(
        tool_args(PAA_MCP_TOOL_ASK_AGENT,
                  apr_psprintf(tp,
                               "{\"agent_id\":\"%s\",\"question\":\"q\","
                               "\"session_id\":\"%s\"}",
                               rep(PAA_CHAT_AGENT_ID_MAX, "a"),
                               rep(PAA_CHAT_SESSION_ID_MAX, "s"))),
        APR_SUCCESS);
}
END_TEST

/* ---------------------------------------------------------- rate limit */

START_TEST(ratelimit_spec)
{
    static const char *const limit_err =
        "the limit must be a positive number of requests (or Off)";
    static const char *const window_err =
        "the window must be a duration up to 1d (e.g. 60s, 15m)";
    int n = -1, w = -1;
    const char *err;

    ck_assert_int_eq(paa_ratelimit_spec_parse("100", "60s", &n, &w, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 100);
    ck_assert_int_eq(w, 60);
    ck_assert_ptr_eq(err, NULL);
    ck_assert_int_eq(paa_ratelimit_spec_parse("1000000000", "1d", &n, &w, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 1000000000);
    ck_assert_int_eq(w, 86400);
    ck_assert_int_eq(paa_ratelimit_spec_parse("1", "86400", &n, &w, &err),
                     APR_SUCCESS);
    w = 77;
    ck_assert_int_eq(paa_ratelimit_spec_parse("OFF", NULL, &n, &w, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(w, 77);

    ck_assert_int_eq(paa_ratelimit_spec_parse("off", "60s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, limit_err);
    ck_assert_int_eq(paa_ratelimit_spec_parse("0", "60s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, limit_err);
    ck_assert_int_eq(paa_ratelimit_spec_parse("-5", "60s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_int_eq(
        paa_ratelimit_spec_parse("1000000001", "60s", &n, &w, &err),
        APR_EINVAL);
    ck_assert_int_eq(
        paa_ratelimit_spec_parse("99999999999999999999", "60s", &n, &w, &err),
        APR_EINVAL);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10r", "60s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_int_eq(paa_ratelimit_spec_parse("", "60s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, limit_err);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10", NULL, &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, window_err);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10", "86401", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, window_err);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10", "2d", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10", "0s", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_int_eq(paa_ratelimit_spec_parse("10", "1 m", &n, &w, &err),
                     APR_EINVAL);
    ck_assert_str_eq(err, window_err);
    /* what strtol tolerates, as PAARateLimit always did */
    ck_assert_int_eq(paa_ratelimit_spec_parse(" +7", "1m", &n, &w, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 7);
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_checked_fixture(tc, paa_test_setup, teardown);
    tcase_add_test(tc, login_valid);
    tcase_add_test(tc, login_unknown_fields);
    tcase_add_test(tc, login_required_strings);
    tcase_add_test(tc, login_password_too_long);
    tcase_add_test(tc, login_not_an_object);
    tcase_add_test(tc, chat_valid);
    tcase_add_test(tc, chat_every_problem_reported);
    tcase_add_test(tc, chat_limits);
    tcase_add_test(tc, jsonrpc_kinds);
    tcase_add_test(tc, jsonrpc_invalid);
    tcase_add_test(tc, mcp_tool_select);
    tcase_add_test(tc, mcp_list_personas_args);
    tcase_add_test(tc, mcp_ask_agent_args);
    tcase_add_test(tc, ratelimit_spec);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(validate_suite)
