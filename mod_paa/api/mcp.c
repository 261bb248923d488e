/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The MCP endpoint, Streamable HTTP transport (MCP 2025-06-18 and
 * 2025-11-25, older versions negotiated down): one JSON-RPC 2.0 message
 * per POST, answered with application/json; notifications and responses
 * get 202 and no body; no server-initiated stream (GET is 405). Sessions
 * live in the database, so every httpd child knows them, and belong to
 * the principal that initialised them: anyone else gets 404, as for an
 * unknown session. The tools reuse the chat path, so ask_agent obeys the
 * same validation, provider routing and session ownership as /api/chat. */

#include "../paa_private.h"

#include <apr_strings.h>

#define MCP_BODY_MAX            262144
#define MCP_LATEST              "2025-11-25"
#define MCP_SERVER_NAME         "purpose-agnostic-agent"
#define MCP_TOOL_LIMIT          30
#define MCP_TOOL_WINDOW         60
#define MCP_SESSION_TTL_DEFAULT 86400

#define JSONRPC_PARSE_ERROR      -32700
#define JSONRPC_INVALID_REQUEST  -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS   -32602
#define JSONRPC_INTERNAL_ERROR   -32603

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                       "2024-11-05", NULL};

static int supported(const char *v)
{
    int i;
    for (i = 0; v && versions[i]; i++) {
        if (!strcmp(v, versions[i])) {
            return 1;
        }
    }
    return 0;
}

static int send_rpc(request_rec *r, int status, json_t *msg)
{
    return paa_send_json(r, status, msg);
}

static int rpc_error(request_rec *r, int http_status, json_t *id, int code,
                     const char *message)
{
    return send_rpc(r, http_status,
                    json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0",
                              "id", id ? id : json_null(), "error", "code",
                              code, "message", message));
}

static int rpc_result(request_rec *r, json_t *id, json_t *result)
{
    return send_rpc(r, HTTP_OK,
                    json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
                              "result", result));
}

static json_t *tool_text(const char *text, int is_error)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
                     text, "isError", is_error);
}

static json_t *tools(void)
{
    return json_pack(
        "[{s:s, s:s, s:{s:s, s:{s:{s:s, s:s}, s:{s:s, s:i, s:i, s:s}, "
        "s:{s:s, s:s}}, s:[s, s], s:b}}, {s:s, s:s, s:{s:s, s:{}, s:b}}]",
        "name", "ask_agent", "description",
        "Ask one of the agent personas a question; pass session_id to "
        "continue a conversation.",
        "inputSchema", "type", "object", "properties", "agent_id", "type",
        "string", "description", "a persona id from list_personas", "question",
        "type", "string", "minLength", 1, "maxLength", 5000, "description",
        "the question", "session_id", "type", "string", "description",
        "a session id from an earlier answer", "required", "agent_id",
        "question", "additionalProperties", 0, "name", "list_personas",
        "description", "List the agent personas that ask_agent can talk to.",
        "inputSchema", "type", "object", "properties", "additionalProperties",
        0);
}

/* The tool list never changes: dumped once per process, where building
 * and dumping it on every tools/list was a fifth of that request's time. */
static const char *tools_text(void)
{
    static void *text;
    char *have = __atomic_load_n(&text, __ATOMIC_ACQUIRE), *mine;
    json_t *t;

    if (have) {
        return have;
    }
    if (!(t = tools())) {
        return NULL;
    }
    mine = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(t);
    if (mine && (have = paa_publish_once(&text, mine)) != mine) {
        free(mine);
        return have;
    }
    return mine;
}

/* What rpc_result would send for the tool list, from the text above. */
static int tools_list(request_rec *r, json_t *id)
{
    const char *tools_json = tools_text();
    char *id_json = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *text = NULL;

    if (tools_json && id_json) {
        text = apr_pstrcat(r->pool, "{\"jsonrpc\":\"2.0\",\"id\":", id_json,
                           ",\"result\":{\"tools\":", tools_json, "}}", NULL);
    }
    free(id_json);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(01515) "cannot serialise the MCP tool list");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return paa_send_json_text(r, HTTP_OK, text);
}

static json_t *list_personas(request_rec *r)
{
    paa_db_t *db = paa_db(r);
    apr_array_header_t *rows;
    json_t *list;
    char *text;
    json_t *out;
    int i;

    if (!db || paa_personas_page(r->pool, db, 100, 0, &rows) != APR_SUCCESS) {
        return tool_text("the persona store is unavailable", 1);
    }
    list = json_array();
    for (i = 0; i < rows->nelts; i++) {
        const paa_persona_t *pp = &APR_ARRAY_IDX(rows, i, paa_persona_t);
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s}", "id", pp->id, "name",
                            pp->name, "description", pp->description,
                            "knowledgeCategory", pp->knowledge_category));
    }
    text = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
    out = tool_text(text ? text : "[]", 0);
    json_object_set_new(out, "structuredContent",
                        json_pack("{s:o}", "personas", list));
    free(text);
    return out;
}

/* The arguments were checked by paa_mcp_tool_args, with the limits of
 * POST /api/chat. */
static json_t *ask_agent(request_rec *r, const paa_chat_request_t *q)
{
    const char *detail;
    paa_chat_answer_t answer;
    json_t *out;
    int status;

    status = paa_chat_ask(r, q->agent_id, q->question, q->session_id, &answer,
                          &detail);
    if (status != HTTP_OK) {
        return tool_text(detail ? detail : "the agent could not answer", 1);
    }
    out = tool_text(answer.answer, 0);
    json_object_set_new(out, "structuredContent",
                        json_pack("{s:s, s:s, s:s}", "answer", answer.answer,
                                  "modelUsed", answer.model, "session_id",
                                  answer.session));
    return out;
}

/* ask_agent spends the caller's chat budget: the PAARateLimit of the
 * location that serves /api/chat, on the very counter POST /api/chat
 * uses, so that MCP is no way around it. Not counted twice where that
 * rule is this location's own (already counted for this request). */
static int chat_budget(request_rec *r)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    request_rec *sub = ap_sub_req_lookup_uri("/api/chat", r, NULL);
    paa_dir_conf *cd;
    int rc = OK;

    if (!sub) {
        return OK;
    }
    cd = ap_get_module_config(sub->per_dir_config, &paa_module);
    if (cd->rl_limit > 0 && !(d->rl_limit > 0 && cd->rl_id == d->rl_id)) {
        rc = paa_ratelimit_take(r, cd->rl_id, cd->rl_limit, cd->rl_window,
                                "chat requests");
    }
    ap_destroy_sub_req(sub);
    return rc;
}

/* A tool's answer, counted by tool and outcome (isError is a failure the
 * client sees, not a protocol error). */
static int tool_result(request_rec *r, json_t *id, paa_tool_e tool,
                       json_t *result)
{
    int failed = json_is_true(json_object_get(result, "isError"));
    paa_metrics_add(paa_metrics, tool_calls[tool][failed], 1);
    return rpc_result(r, id, result);
}

/* The tool a call names, for the metrics (bounded: unknown names are
 * one label). */
static paa_tool_e metric_tool(json_t *params)
{
    const char *n = json_is_object(params)
                        ? json_string_value(json_object_get(params, "name"))
                        : NULL;
    return !n                            ? PAA_TOOL_UNKNOWN
           : !strcmp(n, "ask_agent")     ? PAA_TOOL_ASK_AGENT
           : !strcmp(n, "list_personas") ? PAA_TOOL_LIST_PERSONAS
                                         : PAA_TOOL_UNKNOWN;
}

static int tool_refused(paa_tool_e mt, int rc)
{
    paa_metrics_add(paa_metrics, tool_calls[mt][1], 1);
    return rc;
}

static int tools_call(request_rec *r, json_t *id, json_t *params)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    int limit = d->tool_limit == PAA_UNSET ? MCP_TOOL_LIMIT : d->tool_limit;
    int window = d->tool_limit == PAA_UNSET ? MCP_TOOL_WINDOW : d->tool_window;
    paa_tool_e mt = metric_tool(params);
    const char *message = NULL;
    paa_mcp_tool_e tool;
    paa_chat_request_t q;
    json_t *args;
    int rc;

    /* A malformed call is refused before the tool-call limit is charged. */
    if (paa_mcp_tool_select(r->pool, params, &tool, &args, &message) !=
        APR_SUCCESS) {
        return tool_refused(
            mt, rpc_error(r, HTTP_OK, id, JSONRPC_INVALID_PARAMS, message));
    }
    /* Before the rate limit: a refused call must not spend the budget. */
    if ((rc = paa_consent_check(r)) != OK) {
        return tool_refused(mt, rc);
    }
    /* Tools spend provider quota: counted apart from other MCP calls. */
    if (limit > 0 &&
        (rc = paa_ratelimit_take(r, 0, limit, window, "tool calls")) != OK) {
        return tool_refused(mt, rc);
    }
    if (tool == PAA_MCP_TOOL_ASK_AGENT && (rc = chat_budget(r)) != OK) {
        return tool_refused(mt, rc);
    }
    if (paa_mcp_tool_args(r->pool, tool, args, &q, &message) != APR_SUCCESS) {
        return tool_result(r, id, mt, tool_text(message, 1));
    }
    return tool_result(r, id, mt,
                       tool == PAA_MCP_TOOL_ASK_AGENT ? ask_agent(r, &q)
                                                      : list_personas(r));
}

/* What a session is cached under: its id bound to this server's
 * configuration, apart from every credential. */
static void session_digest(request_rec *r, const char *sid, unsigned char *out)
{
    const void *conf =
        ap_get_module_config(r->server->module_config, &paa_module);
    const char *text = apr_psprintf(r->pool, "mcp-session:%s:%pp", sid, conf);
    paa_sha256(text, strlen(text), out);
}

/* 1 when the session exists and is the caller's. The owner is taken from
 * the shared cache when it is there: the end of a session moves its change
 * marker, so an ended session is refused by every child within a second
 * (at once by the next request after a DELETE here). */
static int session_ok(request_rec *r, const char *sid, int *db_error)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_int64_t ttl =
        sc->session_ttl ? sc->session_ttl : MCP_SESSION_TTL_DEFAULT;
    paa_cached_principal_t cached;
    unsigned char digest[32];
    apr_uint32_t epoch;
    paa_mcp_session_t ms;
    paa_db_t *db;
    int found = 0;

    *db_error = 0;
    session_digest(r, sid, digest);
    if (paa_authcache_get(paa_credcache_of(r->server), digest, r->request_time,
                          &cached) == PAA_AUTHCACHE_HIT &&
        !strcmp(cached.method, "mcp")) {
        return r->user && !strcmp(cached.id, r->user);
    }
    epoch = paa_authcache_epoch_of(paa_credcache_of(r->server),
                                   PAA_CACHE_MCP_SESSIONS);
    /* Sessions end with the chat session lifetime (PAAChatSessionTTL). */
    db = paa_db(r);
    *db_error = !db || paa_mcp_session_get(
                           r->pool, db, sid,
                           (apr_int64_t)apr_time_sec(r->request_time) - ttl,
                           &ms, &found) != APR_SUCCESS;
    if (*db_error || !found) {
        return 0;
    }
    paa_authcache_put_in(paa_credcache_of(r->server), PAA_CACHE_MCP_SESSIONS,
                         digest, epoch, r->request_time,
                         apr_time_from_sec(ms.created_at + ttl), "mcp",
                         ms.principal);
    return r->user && !strcmp(ms.principal, r->user);
}

static int initialize(request_rec *r, json_t *id, json_t *params)
{
    json_t *v = json_object_get(params, "protocolVersion");
    const char *version = json_is_string(v) && supported(json_string_value(v))
                              ? json_string_value(v)
                              : MCP_LATEST;
    unsigned char raw[32];
    paa_mcp_session_t ms;
    paa_db_t *db;

    if (!json_is_object(params) || !json_is_string(v)) {
        return rpc_error(r, HTTP_OK, id, JSONRPC_INVALID_PARAMS,
                         "initialize needs params.protocolVersion");
    }
    if (paa_random_bytes(raw, sizeof(raw)) != APR_SUCCESS ||
        !(db = paa_db(r))) {
        return rpc_error(r, HTTP_SERVICE_UNAVAILABLE, id,
                         JSONRPC_INTERNAL_ERROR, "sessions are unavailable");
    }
    ms.id = paa_hex(r->pool, raw, sizeof(raw));
    ms.principal = r->user;
    ms.protocol_version = version;
    ms.created_at = apr_time_sec(r->request_time);
    if (paa_mcp_session_add(r->pool, db, &ms) != APR_SUCCESS) {
        return rpc_error(r, HTTP_SERVICE_UNAVAILABLE, id,
                         JSONRPC_INTERNAL_ERROR, "sessions are unavailable");
    }
    paa_metrics_add(paa_metrics, mcp_sessions, 1);
    apr_table_setn(r->headers_out, "Mcp-Session-Id", ms.id);
    return rpc_result(r, id,
                      json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}}",
                                "protocolVersion", version, "capabilities",
                                "tools", "listChanged", 0, "serverInfo", "name",
                                MCP_SERVER_NAME, "version",
                                PAA_VERSION_STRING));
}

static int end_session(request_rec *r, const char *sid)
{
    paa_db_t *db = paa_db(r);
    int n = 0;

    if (!sid) {
        return paa_send_problem(r, HTTP_BAD_REQUEST,
                                "DELETE needs an Mcp-Session-Id header");
    }
    if (!db || paa_mcp_session_end(r->pool, db, sid, r->user ? r->user : "",
                                   &n) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "sessions are unavailable");
    }
    if (n == 0) {
        return paa_send_problem(r, HTTP_NOT_FOUND, "no such session");
    }
    /* The next request, in any child, reads the marker this moved. */
    paa_authcache_check_soon(paa_credcache_of(r->server));
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* Who may talk to the endpoint, and how: before any body is read. */
static int check_request(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *version = apr_table_get(r->headers_in, "MCP-Protocol-Version");

    if (!r->user) {
        /* Sessions and tools belong to a principal: this location must
         * authenticate (AuthType PAA). */
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    /* DNS rebinding: a page on another origin must not reach a local
     * server through the browser. */
    if (origin && !paa_origin_ok(r, origin)) {
        return paa_send_problem(r, HTTP_FORBIDDEN,
                                "this Origin may not use the MCP endpoint");
    }
    if (version && !supported(version)) {
        return paa_send_problem(
            r, HTTP_BAD_REQUEST,
            apr_psprintf(r->pool,
                         "unsupported MCP-Protocol-Version; supported: %s, "
                         "%s, %s, %s",
                         versions[0], versions[1], versions[2], versions[3]));
    }
    return DECLINED;
}

/* One JSON-RPC 2.0 message, or the error already answered; classified
 * by core/validate.c (the rules the fuzzers check). */
static int read_message(request_rec *r, json_t **out)
{
    json_t *msg;
    json_error_t je;
    char *buf;
    apr_size_t len;
    int rc;

    *out = NULL;
    if ((rc = paa_read_body(r, MCP_BODY_MAX, &buf, &len)) != DECLINED) {
        return rc;
    }
    msg = json_loadb(buf, len, PAA_JSONRPC_JSON_FLAGS, &je);
    switch (paa_jsonrpc_classify(msg, NULL, NULL, NULL)) {
    case PAA_JSONRPC_PARSE_ERROR:
        return rpc_error(r, HTTP_BAD_REQUEST, NULL, JSONRPC_PARSE_ERROR,
                         "Parse error");
    case PAA_JSONRPC_INVALID:
        json_decref(msg);
        return rpc_error(r, HTTP_BAD_REQUEST, NULL, JSONRPC_INVALID_REQUEST,
                         "Invalid Request");
    default:
        *out = msg;
        return DECLINED;
    }
}

/* A named session must exist and be the caller's. Without one, the
 * request is served statelessly (the specification lets the server
 * choose) unless PAAMcpRequireSession says otherwise. */
static int check_session(request_rec *r, const char *sid, const char *method,
                         json_t *id)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    int db_error = 0, init = method && !strcmp(method, "initialize");

    if (sid && !init && !session_ok(r, sid, &db_error)) {
        return db_error
                   ? paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                      "sessions are unavailable")
                   : paa_send_problem(r, HTTP_NOT_FOUND, "no such session");
    }
    if (!sid && !(init && id) && d->mcp_require_session == 1) {
        /* Every message after initialize names its session (MCP session
         * management), notifications included. */
        return rpc_error(r, HTTP_BAD_REQUEST, id, JSONRPC_INVALID_REQUEST,
                         "an Mcp-Session-Id header is required after "
                         "initialize");
    }
    return DECLINED;
}

static int dispatch(request_rec *r, const char *method, json_t *id,
                    json_t *params)
{
    if (!strcmp(method, "initialize")) {
        return initialize(r, id, params);
    }
    if (!strcmp(method, "ping")) {
        return rpc_result(r, id, json_object());
    }
    if (!strcmp(method, "tools/list")) {
        return tools_list(r, id);
    }
    if (!strcmp(method, "tools/call")) {
        return json_is_object(params)
                   ? tools_call(r, id, params)
                   : rpc_error(r, HTTP_OK, id, JSONRPC_INVALID_PARAMS,
                               "tools/call needs params");
    }
    return rpc_error(r, HTTP_OK, id, JSONRPC_METHOD_NOT_FOUND,
                     "Method not found");
}

int paa_api_mcp(request_rec *r)
{
    const char *sid = apr_table_get(r->headers_in, "Mcp-Session-Id");
    const char *method;
    json_t *msg, *id;
    int rc;

    if ((rc = check_request(r)) != DECLINED) {
        return rc;
    }
    if (r->method_number == M_DELETE) {
        return end_session(r, sid);
    }
    if (r->method_number != M_POST) {
        /* No server-initiated event stream (GET). */
        return paa_method_not_allowed(r, "POST, DELETE");
    }
    if ((rc = read_message(r, &msg)) != DECLINED) {
        return rc;
    }
    id = json_object_get(msg, "id");
    method = json_string_value(json_object_get(msg, "method"));
    if ((rc = check_session(r, sid, method, id)) == DECLINED) {
        if (!method || !id) {
            /* A notification or a response to us: accepted, nothing to
             * say. */
            r->status = HTTP_ACCEPTED;
            rc = OK;
        }
        else {
            rc = dispatch(r, method, id, json_object_get(msg, "params"));
        }
    }
    json_decref(msg); /* id and method point into it */
    return rc;
}

/* The resource identifier clients ask tokens for (RFC 8707): the
 * audience the server requires when one is configured, since that is what
 * a token must carry to be accepted here. */
static const char *resource_id(request_rec *r)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    return sc->idp && sc->jwt.audience ? sc->jwt.audience
                                       : paa_public_url(r, NULL, "/api/mcp");
}

/* The identity provider's issuer, when tokens come from one. */
static json_t *authorization_servers(request_rec *r)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    json_t *a = json_array();
    if (sc->idp && sc->jwt.issuer) {
        json_array_append_new(a, json_string(sc->jwt.issuer));
    }
    return a;
}

/* RFC 9728 protected-resource metadata: what the MCP endpoint is and how
 * to present credentials to it (a header: X-API-Key or a Bearer JWT). */
int paa_api_resource_metadata(request_rec *r)
{
    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:o, s:[s], s:s}", "resource",
                                   resource_id(r), "authorization_servers",
                                   authorization_servers(r),
                                   "bearer_methods_supported", "header",
                                   "resource_name", MCP_SERVER_NAME));
}
