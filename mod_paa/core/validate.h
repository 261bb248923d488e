/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file validate.h
 * @brief What mod_paa accepts from clients and from its configuration, as
 * rules without httpd: the login and chat bodies, MCP JSON-RPC messages and
 * tool arguments, the rate-limit directives' arguments. The handlers, the
 * unit tests and the fuzzers (tests/fuzz) use this one copy.
 */
#ifndef PAA_VALIDATE_H
#define PAA_VALIDATE_H

#include <apr_pools.h>
#include <jansson.h>

/* --------------------------------------------------------------- login */

/** The longest username a login body may carry, in bytes. */
#define PAA_LOGIN_USERNAME_MAX 100

/**
 * Validate a login body (POST /api/auth/login): {username, password} and
 * nothing else, both non-empty strings, username at most
 * PAA_LOGIN_USERNAME_MAX bytes, password at most PAA_PASSWORD_MAX bytes
 * (what bcrypt reads: a longer one can never have been set).
 * @param body the parsed body; anything but an object is invalid
 * @param username a copy in p, set only when valid
 * @param password a copy in p, set only when valid (the caller wipes it)
 * @param errors when the body has other fields: a new array of
 *        {field, message}, one per such field (answer 400 with them);
 *        else NULL
 * @param detail when invalid without errors: the 400's detail
 * @return APR_SUCCESS when valid, else APR_EINVAL
 */
apr_status_t paa_login_validate(apr_pool_t *p, json_t *body,
                                const char **username, const char **password,
                                json_t **errors, const char **detail);

/* ---------------------------------------------------------------- chat */

/** The longest agent_id a chat body may carry, in bytes. */
#define PAA_CHAT_AGENT_ID_MAX 50
/** The longest question, in characters (POST /api/chat and ask_agent). */
#define PAA_CHAT_QUESTION_MAX 5000
/** The longest sessionId a chat body may carry, in bytes. */
#define PAA_CHAT_SESSION_ID_MAX 40

/** A question for an agent, from POST /api/chat or MCP's ask_agent. */
typedef struct {
    const char *agent_id;
    const char *question;
    const char *session_id; /* NULL: start a new session */
} paa_chat_request_t;

/**
 * Validate a chat body (POST /api/chat): {agent_id, question, sessionId?}
 * and nothing else; agent_id a non-empty string of at most
 * PAA_CHAT_AGENT_ID_MAX bytes, question a string of 1 to
 * PAA_CHAT_QUESTION_MAX characters, sessionId absent, null or a string of
 * at most PAA_CHAT_SESSION_ID_MAX bytes. Every problem is reported.
 * @param body the parsed body; anything but an object is invalid
 * @param out copies in p; a field is NULL unless it was valid
 * @param errors a new array of {field, message}, empty when valid
 * @return APR_SUCCESS when valid, else APR_EINVAL
 */
apr_status_t paa_chat_validate(apr_pool_t *p, json_t *body,
                               paa_chat_request_t *out, json_t **errors);

/* ------------------------------------------------------------- JSON-RPC */

/** How the MCP endpoint parses a message (any JSON text parses; what is
 * not a JSON-RPC object is an Invalid Request, not a parse error). */
#define PAA_JSONRPC_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

typedef enum {
    PAA_JSONRPC_PARSE_ERROR = 0, /* no JSON at all: -32700 */
    PAA_JSONRPC_INVALID,         /* not a JSON-RPC 2.0 message: -32600 */
    PAA_JSONRPC_REQUEST,         /* a method and an id: answered */
    PAA_JSONRPC_NOTIFICATION,    /* a method, no id: 202, no answer */
    PAA_JSONRPC_RESPONSE         /* an id, exactly one of result and
                                    error, no method: 202, no answer */
} paa_jsonrpc_kind_e;

/**
 * Classify one JSON-RPC 2.0 message as the MCP endpoint receives it: an
 * object with "jsonrpc":"2.0"; id, when present, a string or an integer;
 * params, when present, an object or an array; method, when present, a
 * string; without a method it must be a response.
 * @param msg the parsed message (PAA_JSONRPC_JSON_FLAGS), NULL when the
 *        text did not parse
 * @param method, id, params borrowed from msg, NULL when absent (and for
 *        PARSE_ERROR and INVALID); any may be NULL when not wanted
 */
paa_jsonrpc_kind_e paa_jsonrpc_classify(json_t *msg, const char **method,
                                        json_t **id, json_t **params);

/* ----------------------------------------------------------- MCP tools */

typedef enum {
    PAA_MCP_TOOL_NONE = 0,
    PAA_MCP_TOOL_ASK_AGENT,
    PAA_MCP_TOOL_LIST_PERSONAS
} paa_mcp_tool_e;

/**
 * Which tool a tools/call names. Refused as a JSON-RPC Invalid params
 * error (-32602, before the tool-call rate limit is charged) when params
 * is not an object, name is not a string, arguments is neither absent,
 * null nor an object, or the tool is unknown.
 * @param tool the tool; PAA_MCP_TOOL_NONE when refused
 * @param args borrowed params.arguments (NULL when absent)
 * @param message the error's message when refused (from p)
 * @return APR_SUCCESS, else APR_EINVAL
 */
apr_status_t paa_mcp_tool_select(apr_pool_t *p, json_t *params,
                                 paa_mcp_tool_e *tool, json_t **args,
                                 const char **message);

/**
 * A tool's arguments, once the call is counted. Refusals are tool results
 * with isError (for the model to read), the first problem only:
 * list_personas takes none (absent, null or {}); ask_agent takes
 * {agent_id, question, session_id?}: agent_id a non-empty string,
 * question a string of 1 to PAA_CHAT_QUESTION_MAX characters, session_id
 * absent, null or a string, nothing else.
 * @param out for ask_agent, copies in p (zeroed otherwise)
 * @param message why not (from p)
 * @return APR_SUCCESS, else APR_EINVAL
 */
apr_status_t paa_mcp_tool_args(apr_pool_t *p, paa_mcp_tool_e tool, json_t *args,
                               paa_chat_request_t *out, const char **message);

/* ---------------------------------------------------------- rate limit */

/** The longest rate-limit window, in seconds. */
#define PAA_RATELIMIT_WINDOW_MAX 86400
/** The largest rate limit, in requests per window. */
#define PAA_RATELIMIT_LIMIT_MAX 1000000000L

/**
 * The arguments of PAARateLimit and PAAMcpToolRateLimit: "N WINDOW" (N 1
 * to PAA_RATELIMIT_LIMIT_MAX requests, WINDOW a duration of at most
 * PAA_RATELIMIT_WINDOW_MAX seconds) or "Off" alone (case-insensitive).
 * @param limit_text the first argument
 * @param window_text the second, NULL when there is none
 * @param limit the number of requests; 0 for Off
 * @param window the window in seconds (left alone for Off)
 * @param err why not, for "DIRECTIVE: " + err
 * @return APR_SUCCESS, else APR_EINVAL
 */
apr_status_t paa_ratelimit_spec_parse(const char *limit_text,
                                      const char *window_text, int *limit,
                                      int *window, const char **err);

#endif /* PAA_VALIDATE_H */
