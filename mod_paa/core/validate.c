/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The rules for what clients send (login and chat bodies, MCP messages and
 * tool arguments) and for the rate-limit directives, apart from the httpd
 * glue that reads the bytes and sends the answers: one copy that the
 * handlers, the unit tests and the fuzzers all exercise. The texts are
 * what clients see: field names as the API spells them, limits stated.
 * Copies are made only of what is accepted, so a refused password is not
 * left in the pool. */

#include "paa.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <strings.h>

static void add_error(json_t *errors, const char *field, const char *message)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

/* --------------------------------------------------------------- login */

apr_status_t paa_login_validate(apr_pool_t *p, json_t *body,
                                const char **username, const char **password,
                                json_t **errors, const char **detail)
{
    json_t *u, *pw, *v, *unknown;
    const char *key;

    *username = *password = NULL;
    *errors = NULL;
    *detail = NULL;
    if (!json_is_object(body)) {
        *detail = "the body must be a JSON object";
        return APR_EINVAL;
    }
    unknown = json_array();
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "username") && strcmp(key, "password")) {
            add_error(unknown, key, "is not a login field");
        }
    }
    if (json_array_size(unknown)) {
        *errors = unknown;
        return APR_EINVAL;
    }
    json_decref(unknown);
    u = json_object_get(body, "username");
    pw = json_object_get(body, "password");
    if (!json_is_string(u) || !json_is_string(pw) || !*json_string_value(u) ||
        !*json_string_value(pw) ||
        strlen(json_string_value(u)) > PAA_LOGIN_USERNAME_MAX) {
        *detail = "username and password are required strings";
        return APR_EINVAL;
    }
    if (strlen(json_string_value(pw)) > PAA_PASSWORD_MAX) {
        *detail = apr_psprintf(p,
                               "the password is longer than %d bytes, which "
                               "no account's password can be",
                               PAA_PASSWORD_MAX);
        return APR_EINVAL;
    }
    *username = apr_pstrdup(p, json_string_value(u));
    *password = apr_pstrdup(p, json_string_value(pw));
    return APR_SUCCESS;
}

/* ---------------------------------------------------------------- chat */

/* The limits both ways of asking an agent share (POST /api/chat and MCP's
 * ask_agent): the same agent id, question and session id are accepted by
 * both; only the wording of a refusal differs (a problem document's
 * errors, a tool result for a model). */
static int agent_id_ok(json_t *v)
{
    return json_is_string(v) && *json_string_value(v) &&
           strlen(json_string_value(v)) <= PAA_CHAT_AGENT_ID_MAX;
}

static int question_ok(json_t *v)
{
    apr_size_t n = paa_utf8_chars(json_string_value(v));
    return n >= 1 && n <= PAA_CHAT_QUESTION_MAX;
}

static int session_id_ok(json_t *v)
{
    return !v || json_is_null(v) ||
           (json_is_string(v) &&
            strlen(json_string_value(v)) <= PAA_CHAT_SESSION_ID_MAX);
}

apr_status_t paa_chat_validate(apr_pool_t *p, json_t *body,
                               paa_chat_request_t *out, json_t **errors_out)
{
    json_t *errors = json_array(), *v;
    const char *key;

    memset(out, 0, sizeof(*out));
    *errors_out = errors;
    if (!json_is_object(body)) {
        add_error(errors, "", "must be a JSON object");
        return APR_EINVAL;
    }
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "agent_id") && strcmp(key, "question") &&
            strcmp(key, "sessionId")) {
            add_error(errors, key, "is not a chat field");
        }
    }
    v = json_object_get(body, "agent_id");
    if (!agent_id_ok(v)) {
        add_error(errors, "agent_id", "must be a persona id");
    }
    else {
        out->agent_id = apr_pstrdup(p, json_string_value(v));
    }
    v = json_object_get(body, "question");
    if (!json_is_string(v)) {
        add_error(errors, "question", "must be a string");
    }
    else if (!question_ok(v)) {
        add_error(errors, "question",
                  apr_psprintf(p, "must be 1 to %d characters",
                               PAA_CHAT_QUESTION_MAX));
    }
    else {
        out->question = apr_pstrdup(p, json_string_value(v));
    }
    v = json_object_get(body, "sessionId");
    if (!session_id_ok(v)) {
        add_error(errors, "sessionId", "must be a session id");
    }
    else if (v && !json_is_null(v)) {
        out->session_id = apr_pstrdup(p, json_string_value(v));
    }
    return json_array_size(errors) ? APR_EINVAL : APR_SUCCESS;
}

/* ------------------------------------------------------------- JSON-RPC */

paa_jsonrpc_kind_e paa_jsonrpc_classify(json_t *msg, const char **method_out,
                                        json_t **id_out, json_t **params_out)
{
    json_t *id, *method, *params, *version;

    if (method_out) {
        *method_out = NULL;
    }
    if (id_out) {
        *id_out = NULL;
    }
    if (params_out) {
        *params_out = NULL;
    }
    if (!msg) {
        return PAA_JSONRPC_PARSE_ERROR;
    }
    id = json_object_get(msg, "id");
    method = json_object_get(msg, "method");
    params = json_object_get(msg, "params");
    version = json_object_get(msg, "jsonrpc");
    if (!json_is_object(msg) || !json_is_string(version) ||
        strcmp(json_string_value(version), "2.0") ||
        (id && !json_is_string(id) && !json_is_integer(id)) ||
        (params && !json_is_object(params) && !json_is_array(params)) ||
        (method && !json_is_string(method)) ||
        /* without a method it must be a response: an id and exactly one
         * of result and error */
        (!method && (!id || !json_object_get(msg, "result") ==
                                !json_object_get(msg, "error")))) {
        return PAA_JSONRPC_INVALID;
    }
    if (method_out) {
        *method_out = json_string_value(method);
    }
    if (id_out) {
        *id_out = id;
    }
    if (params_out) {
        *params_out = params;
    }
    if (!method) {
        return PAA_JSONRPC_RESPONSE;
    }
    return id ? PAA_JSONRPC_REQUEST : PAA_JSONRPC_NOTIFICATION;
}

/* ----------------------------------------------------------- MCP tools */

apr_status_t paa_mcp_tool_select(apr_pool_t *p, json_t *params,
                                 paa_mcp_tool_e *tool, json_t **args,
                                 const char **message)
{
    json_t *name, *a;
    const char *n;

    *tool = PAA_MCP_TOOL_NONE;
    *args = NULL;
    *message = NULL;
    if (!json_is_object(params)) {
        *message = "tools/call needs params";
        return APR_EINVAL;
    }
    name = json_object_get(params, "name");
    a = json_object_get(params, "arguments");
    if (!json_is_string(name)) {
        *message = "params.name must be a tool name";
        return APR_EINVAL;
    }
    if (a && !json_is_null(a) && !json_is_object(a)) {
        *message = "params.arguments must be an object";
        return APR_EINVAL;
    }
    n = json_string_value(name);
    if (!strcmp(n, "ask_agent")) {
        *tool = PAA_MCP_TOOL_ASK_AGENT;
    }
    else if (!strcmp(n, "list_personas")) {
        *tool = PAA_MCP_TOOL_LIST_PERSONAS;
    }
    else {
        *message = apr_psprintf(p, "unknown tool: %s", n);
        return APR_EINVAL;
    }
    *args = a;
    return APR_SUCCESS;
}

static apr_status_t ask_agent_args(apr_pool_t *p, json_t *args,
                                   paa_chat_request_t *out,
                                   const char **message)
{
    const char *key;
    json_t *v;

    if (!json_is_object(args)) {
        *message = "ask_agent needs agent_id and question";
        return APR_EINVAL;
    }
    json_object_foreach(args, key, v)
    {
        if (strcmp(key, "agent_id") && strcmp(key, "question") &&
            strcmp(key, "session_id")) {
            *message = apr_psprintf(p, "unknown argument '%s'", key);
            return APR_EINVAL;
        }
    }
    v = json_object_get(args, "agent_id");
    if (!agent_id_ok(v)) {
        *message = apr_psprintf(p,
                                "agent_id is required: a persona id (at most "
                                "%d bytes)",
                                PAA_CHAT_AGENT_ID_MAX);
        return APR_EINVAL;
    }
    out->agent_id = apr_pstrdup(p, json_string_value(v));
    v = json_object_get(args, "question");
    if (!json_is_string(v)) {
        *message = "question is required: a string";
        return APR_EINVAL;
    }
    if (!question_ok(v)) {
        *message = apr_psprintf(p, "question must be 1 to %d characters",
                                PAA_CHAT_QUESTION_MAX);
        return APR_EINVAL;
    }
    out->question = apr_pstrdup(p, json_string_value(v));
    v = json_object_get(args, "session_id");
    if (!session_id_ok(v)) {
        *message = apr_psprintf(p,
                                "session_id must be a session id (a string "
                                "of at most %d bytes)",
                                PAA_CHAT_SESSION_ID_MAX);
        return APR_EINVAL;
    }
    if (v && !json_is_null(v)) {
        out->session_id = apr_pstrdup(p, json_string_value(v));
    }
    return APR_SUCCESS;
}

apr_status_t paa_mcp_tool_args(apr_pool_t *p, paa_mcp_tool_e tool, json_t *args,
                               paa_chat_request_t *out, const char **message)
{
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    *message = NULL;
    switch (tool) {
    case PAA_MCP_TOOL_LIST_PERSONAS:
        if (args && !json_is_null(args) &&
            !(json_is_object(args) && json_object_size(args) == 0)) {
            *message = "list_personas takes no arguments";
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case PAA_MCP_TOOL_ASK_AGENT:
        rv = ask_agent_args(p, args, out, message);
        if (rv != APR_SUCCESS) {
            memset(out, 0, sizeof(*out));
        }
        return rv;
    default:
        *message = "no such tool";
        return APR_EINVAL;
    }
}

/* ---------------------------------------------------------- rate limit */

apr_status_t paa_ratelimit_spec_parse(const char *limit_text,
                                      const char *window_text, int *limit,
                                      int *window, const char **err)
{
    apr_int64_t w = 0;
    char *end;
    long n;

    *err = NULL;
    if (!strcasecmp(limit_text, "off") && !window_text) {
        *limit = 0;
        return APR_SUCCESS;
    }
    n = strtol(limit_text, &end, 10);
    if (*end || n < 1 || n > PAA_RATELIMIT_LIMIT_MAX) {
        *err = "the limit must be a positive number of requests (or Off)";
        return APR_EINVAL;
    }
    if (!window_text || paa_duration_parse(window_text, &w) != APR_SUCCESS ||
        w > PAA_RATELIMIT_WINDOW_MAX) {
        *err = "the window must be a duration up to 1d (e.g. 60s, 15m)";
        return APR_EINVAL;
    }
    *limit = (int)n;
    *window = (int)w;
    return APR_SUCCESS;
}
