/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for what the MCP endpoint (POST /api/mcp) reads from a
 * client: one JSON-RPC 2.0 message, classified by paa_jsonrpc_classify,
 * and for tools/call the tool (paa_mcp_tool_select) and its arguments
 * (paa_mcp_tool_args), all in core/validate.c.
 *
 * The input is the request body, parsed as the endpoint parses it
 * (PAA_JSONRPC_JSON_FLAGS: any JSON text, duplicate names refused). Each
 * result is compared with a reference written from JSON-RPC 2.0 and
 * validate.h:
 *
 *   kind       parse error without JSON; an object with "jsonrpc":"2.0",
 *              id absent, a string or an integer, params absent, an
 *              object or an array, method absent or a string; with a
 *              method a request (id) or a notification (no id), without
 *              one a response (an id and exactly one of result and error);
 *              anything else invalid. The borrowed method, id and params
 *              are the message's own, and the same message serialised
 *              and parsed again is the same kind.
 *   tool       from the params of every message (as if it were a
 *              tools/call): the exact JSON-RPC error message, or the
 *              tool named.
 *   arguments  the exact first problem, or the message's values (copied:
 *              they outlive the message). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed (-1: not run). */
static struct {
    int kind;       /* paa_jsonrpc_kind_e */
    int tool;       /* paa_mcp_tool_e of params, 0 when refused */
    int args_ok;    /* the arguments were accepted */
    int tools_call; /* a tools/call request */
} last;

static const char *input;

static void broken(const char *what)
{
    fuzz_broken("fuzz_mcp", what, input);
}

/* ---------------------------------------------------------- reference */

static paa_jsonrpc_kind_e ref_kind(json_t *msg)
{
    json_t *v = json_object_get(msg, "jsonrpc"), *id, *params, *method;

    if (!msg) {
        return PAA_JSONRPC_PARSE_ERROR;
    }
    if (!json_is_object(msg) || !json_is_string(v) ||
        json_string_length(v) != 3 || memcmp(json_string_value(v), "2.0", 3)) {
        return PAA_JSONRPC_INVALID;
    }
    id = json_object_get(msg, "id");
    params = json_object_get(msg, "params");
    method = json_object_get(msg, "method");
    if ((id && !json_is_string(id) && !json_is_integer(id)) ||
        (params && !json_is_object(params) && !json_is_array(params)) ||
        (method && !json_is_string(method))) {
        return PAA_JSONRPC_INVALID;
    }
    if (method) {
        return id ? PAA_JSONRPC_REQUEST : PAA_JSONRPC_NOTIFICATION;
    }
    if (id && (json_object_get(msg, "result") != NULL) !=
                  (json_object_get(msg, "error") != NULL)) {
        return PAA_JSONRPC_RESPONSE;
    }
    return PAA_JSONRPC_INVALID;
}

/* The JSON-RPC error for tools/call's params, or NULL with *tool. */
static const char *ref_select(apr_pool_t *p, json_t *params, int *tool)
{
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");

    *tool = PAA_MCP_TOOL_NONE;
    if (!json_is_object(params)) {
        return "tools/call needs params";
    }
    if (!json_is_string(name)) {
        return "params.name must be a tool name";
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        return "params.arguments must be an object";
    }
    if (!strcmp(json_string_value(name), "ask_agent")) {
        *tool = PAA_MCP_TOOL_ASK_AGENT;
        return NULL;
    }
    if (!strcmp(json_string_value(name), "list_personas")) {
        *tool = PAA_MCP_TOOL_LIST_PERSONAS;
        return NULL;
    }
    return apr_pstrcat(p, "unknown tool: ", json_string_value(name), NULL);
}

/* The tool error for the arguments, or NULL when they are accepted. */
static const char *ref_args(apr_pool_t *p, int tool, json_t *args)
{
    const char *key;
    json_t *v;
    long n;

    if (tool == PAA_MCP_TOOL_LIST_PERSONAS) {
        return !args || json_is_null(args) ||
                       (json_is_object(args) && !json_object_size(args))
                   ? NULL
                   : "list_personas takes no arguments";
    }
    if (!json_is_object(args)) {
        return "ask_agent needs agent_id and question";
    }
    json_object_foreach(args, key, v)
    {
        if (strcmp(key, "agent_id") && strcmp(key, "question") &&
            strcmp(key, "session_id")) {
            return apr_pstrcat(p, "unknown argument '", key, "'", NULL);
        }
    }
    v = json_object_get(args, "agent_id");
    if (!json_is_string(v) || !json_string_length(v) ||
        strlen(json_string_value(v)) > 50) {
        return "agent_id is required: a persona id (at most 50 bytes)";
    }
    v = json_object_get(args, "question");
    if (!json_is_string(v)) {
        return "question is required: a string";
    }
    n = ref_utf8_chars(json_string_value(v));
    if (n < 0) {
        broken("jansson gave a string that is not UTF-8");
    }
    if (n < 1 || n > 5000) {
        return "question must be 1 to 5000 characters";
    }
    v = json_object_get(args, "session_id");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || strlen(json_string_value(v)) > 40)) {
        return "session_id must be a session id (a string of at most 40 "
               "bytes)";
    }
    return NULL;
}

/* ------------------------------------------------------------- checks */

static void check_kind(json_t *msg)
{
    const char *method = "x";
    json_t *id = msg, *params = msg, *again;
    paa_jsonrpc_kind_e kind = paa_jsonrpc_classify(msg, &method, &id, &params);
    char *text;
    json_error_t je;

    if (kind != ref_kind(msg)) {
        fprintf(stderr, "kind %d, reference %d\n", (int)kind,
                (int)ref_kind(msg));
        broken("paa_jsonrpc_classify disagrees with the reference");
    }
    if (kind == PAA_JSONRPC_PARSE_ERROR || kind == PAA_JSONRPC_INVALID) {
        if (method || id || params) {
            broken("paa_jsonrpc_classify: parts handed out of an invalid "
                   "message");
        }
    }
    else if (method != json_string_value(json_object_get(msg, "method")) ||
             id != json_object_get(msg, "id") ||
             params != json_object_get(msg, "params")) {
        broken("paa_jsonrpc_classify: method, id or params are not the "
               "message's");
    }
    if (paa_jsonrpc_classify(msg, NULL, NULL, NULL) != kind) {
        broken("paa_jsonrpc_classify depends on what is asked for");
    }
    last.kind = (int)kind;
    last.tools_call =
        kind == PAA_JSONRPC_REQUEST && method && !strcmp(method, "tools/call");
    if (!msg) {
        return;
    }
    text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    again = text ? json_loads(text, PAA_JSONRPC_JSON_FLAGS, &je) : NULL;
    if (!again || paa_jsonrpc_classify(again, NULL, NULL, NULL) != kind) {
        broken("the message serialised and parsed again is another kind");
    }
    json_decref(again);
    free(text);
}

static void check_tool(apr_pool_t *p, json_t *params)
{
    paa_mcp_tool_e tool = PAA_MCP_TOOL_LIST_PERSONAS;
    json_t *args = params;
    const char *message = "x", *want;
    int want_tool;
    paa_chat_request_t cr;
    apr_status_t rv = paa_mcp_tool_select(p, params, &tool, &args, &message);

    want = ref_select(p, params, &want_tool);
    if ((int)tool != want_tool ||
        (want ? !message || strcmp(message, want) : message != NULL) ||
        (rv == APR_SUCCESS) != (want == NULL)) {
        fprintf(stderr, "tool %d message %s; reference %d %s\n", (int)tool,
                message ? message : "(none)", want_tool,
                want ? want : "(none)");
        broken("paa_mcp_tool_select disagrees with the reference");
    }
    if (args !=
        (rv == APR_SUCCESS ? json_object_get(params, "arguments") : NULL)) {
        broken("paa_mcp_tool_select: args are not params.arguments");
    }
    last.tool = (int)tool;
    if (rv != APR_SUCCESS) {
        return;
    }

    rv = paa_mcp_tool_args(p, tool, args, &cr, &message);
    want = ref_args(p, (int)tool, args);
    if ((want ? !message || strcmp(message, want) : message != NULL) ||
        (rv == APR_SUCCESS) != (want == NULL)) {
        fprintf(stderr, "message %s; reference %s\n",
                message ? message : "(none)", want ? want : "(none)");
        broken("paa_mcp_tool_args disagrees with the reference");
    }
    if (rv != APR_SUCCESS || tool == PAA_MCP_TOOL_LIST_PERSONAS) {
        if (cr.agent_id || cr.question || cr.session_id) {
            broken("paa_mcp_tool_args: values handed out without a question");
        }
    }
    else {
        json_t *a = json_object_get(args, "agent_id");
        json_t *q = json_object_get(args, "question");
        json_t *s = json_object_get(args, "session_id");
        if (!cr.agent_id || strcmp(cr.agent_id, json_string_value(a)) ||
            cr.agent_id == json_string_value(a) || !cr.question ||
            strcmp(cr.question, json_string_value(q)) ||
            cr.question == json_string_value(q) ||
            (json_is_string(s)
                 ? !cr.session_id ||
                       strcmp(cr.session_id, json_string_value(s)) ||
                       cr.session_id == json_string_value(s)
                 : cr.session_id != NULL)) {
            broken("paa_mcp_tool_args: accepted values are not copies of "
                   "the arguments");
        }
    }
    last.args_ok = rv == APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    apr_pool_t *p;
    json_error_t je;
    json_t *msg;

    fuzz_setup();
    last.kind = last.tool = last.args_ok = last.tools_call = -1;
    input = text;
    apr_pool_create(&p, NULL);
    msg = json_loadb(text, size, PAA_JSONRPC_JSON_FLAGS, &je);
    check_kind(msg);
    if (msg) {
        check_tool(p, json_object_get(msg, "params"));
    }
    json_decref(msg);
    apr_pool_destroy(p);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

#define PE  PAA_JSONRPC_PARSE_ERROR
#define INV PAA_JSONRPC_INVALID
#define REQ PAA_JSONRPC_REQUEST
#define NOT PAA_JSONRPC_NOTIFICATION
#define RES PAA_JSONRPC_RESPONSE
#define ASK PAA_MCP_TOOL_ASK_AGENT
#define LST PAA_MCP_TOOL_LIST_PERSONAS

/* What each named seed must produce: kind, tools/call (1/0), the tool its
 * params name (0 refused), arguments accepted (-1 when not judged). */
static const struct {
    const char *name;
    int kind, tools_call, tool, args_ok;
} seeds[] = {
    {"initialize", REQ, 0, 0, -1},
    {"initialized_notification", NOT, 0, 0, -1},
    {"ping_string_id", REQ, 0, 0, -1},
    {"tools_list", REQ, 0, 0, -1},
    {"response_result", RES, 0, 0, -1},
    {"response_error", RES, 0, 0, -1},
    {"params_array", REQ, 0, 0, -1},
    {"call_ask_agent", REQ, 1, ASK, 1},
    {"call_ask_agent_session", REQ, 1, ASK, 1},
    {"call_ask_agent_session_null", REQ, 1, ASK, 1},
    {"call_ask_agent_long_ids", REQ, 1, ASK, 0}, /* /api/chat's limits */
    {"call_ask_agent_question_limit", REQ, 1, ASK, 1},
    {"call_ask_agent_no_arguments", REQ, 1, ASK, 0},
    {"call_ask_agent_unknown_argument", REQ, 1, ASK, 0},
    {"call_ask_agent_empty_agent", REQ, 1, ASK, 0},
    {"call_ask_agent_question_number", REQ, 1, ASK, 0},
    {"call_ask_agent_question_empty", REQ, 1, ASK, 0},
    {"call_ask_agent_question_5001", REQ, 1, ASK, 0},
    {"call_ask_agent_session_number", REQ, 1, ASK, 0},
    {"call_list_personas", REQ, 1, LST, 1},
    {"call_list_personas_null_arguments", REQ, 1, LST, 1},
    {"call_list_personas_with_arguments", REQ, 1, LST, 0},
    {"call_unknown_tool", REQ, 1, 0, -1},
    {"call_name_not_string", REQ, 1, 0, -1},
    {"call_arguments_array", REQ, 1, 0, -1},
    {"call_without_params", REQ, 1, 0, -1},
    {"call_as_notification", NOT, 0, ASK, 1},
    {"not_json", PE, 0, -1, -1},
    {"empty", PE, 0, -1, -1},
    {"batch_array", INV, 0, 0, -1},
    {"number", INV, 0, 0, -1},
    {"no_jsonrpc", INV, 0, 0, -1},
    {"jsonrpc_1_0", INV, 0, 0, -1},
    {"jsonrpc_number", INV, 0, 0, -1},
    {"id_null", INV, 0, 0, -1},
    {"id_real", INV, 0, 0, -1},
    {"id_object", INV, 0, 0, -1},
    {"method_number", INV, 0, 0, -1},
    {"params_string", INV, 0, 0, -1},
    {"response_without_id", INV, 0, 0, -1},
    {"response_result_and_error", INV, 0, 0, -1},
    {"response_neither", INV, 0, 0, -1},
    {"duplicate_id", PE, 0, -1, -1},
    {NULL, 0, 0, 0, 0},
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
    if (seeds[i].kind != last.kind || seeds[i].tools_call != last.tools_call ||
        seeds[i].tool != last.tool || seeds[i].args_ok != last.args_ok) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: kind=%d tools/call=%d tool=%d "
                 "arguments accepted=%d",
                 last.kind, last.tools_call, last.tool, last.args_ok);
        return msg;
    }
    return NULL;
}
