/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* POST /api/chat {agent_id, question, sessionId?}: a question to a persona,
 * answered by the first provider that can (paa_provider.c). Sessions
 * belong to the principal that created them: another principal's session
 * id, or an expired one, is answered exactly like an unknown one (404). */

#include "../paa_private.h"

#include <apr_strings.h>

#define CHAT_BODY_MAX       65536
#define QUESTION_MAX        5000
#define SESSION_TTL_DEFAULT 86400
#define HISTORY_DEFAULT     20

static void field_error(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

/* The newest messages, returned oldest first as the model expects. */
static json_t *history(request_rec *r, ap_dbd_t *dbd, const char *session,
                       int limit, int *failed)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    json_t *rows = json_array();
    const char *args[2];

    args[0] = session;
    args[1] = apr_itoa(r->pool, limit);
    *failed = paa_dbd_select(r, dbd, "paa_session_history", &res, 2, args) !=
              APR_SUCCESS;
    while (!*failed &&
           apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        const char *role = apr_dbd_get_entry(dbd->driver, row, 0);
        const char *content = apr_dbd_get_entry(dbd->driver, row, 1);
        json_array_insert_new(rows, 0,
                              json_pack("{s:s, s:s}", "role", role ? role : "",
                                        "content", content ? content : ""));
    }
    return rows;
}

int paa_chat_ask(request_rec *r, const char *agent, const char *question,
                 const char *session, paa_chat_answer_t *out,
                 const char **detail)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_int64_t now = apr_time_sec(r->request_time);
    const char *args[5];
    json_t *past;
    paa_persona_t persona;
    paa_chat_result_t result;
    ap_dbd_t *dbd;
    int found, failed;

    memset(out, 0, sizeof(*out));
    *detail = "the chat store is unavailable";
    if (!r->user) {
        *detail = "authentication is required";
        return HTTP_UNAUTHORIZED;
    }
    if (!(dbd = paa_dbd_acquire(r)) ||
        (found = paa_persona_load(r, dbd, agent, &persona)) < 0) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!found) {
        *detail = "no such agent";
        return HTTP_NOT_FOUND;
    }
    if (session) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        int mine = 0;
        if (paa_dbd_select(r, dbd, "paa_session_get", &res, 1, &session) !=
            APR_SUCCESS) {
            return HTTP_SERVICE_UNAVAILABLE;
        }
        while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
            const char *owner = apr_dbd_get_entry(dbd->driver, row, 0);
            const char *sagent = apr_dbd_get_entry(dbd->driver, row, 1);
            const char *exp = apr_dbd_get_entry(dbd->driver, row, 2);
            mine = owner && !strcmp(owner, r->user) && sagent &&
                   !strcmp(sagent, agent) && exp && apr_atoi64(exp) > now;
        }
        if (!mine) {
            *detail = "no such session";
            return HTTP_NOT_FOUND;
        }
    }
    else {
        session = paa_id_generate(r->pool, "ses_");
        args[0] = session;
        args[1] = r->user;
        args[2] = agent;
        args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, now);
        args[4] = apr_psprintf(
            r->pool, "%" APR_INT64_T_FMT,
            now + (sc->session_ttl ? sc->session_ttl : SESSION_TTL_DEFAULT));
        if (!session || paa_dbd_query(r, dbd, "paa_session_insert", NULL, 5,
                                      args) != APR_SUCCESS) {
            return HTTP_SERVICE_UNAVAILABLE;
        }
    }
    past = history(r, dbd, session, sc->history ? sc->history : HISTORY_DEFAULT,
                   &failed);
    if (failed) {
        json_decref(past);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    paa_provider_chat(r, &persona, past, question, &result);
    json_decref(past);
    if (result.status != HTTP_OK) {
        *detail = result.status == HTTP_GATEWAY_TIME_OUT
                      ? "the language model did not answer in time"
                      : "no language model provider could answer; try "
                        "again later";
        return result.status;
    }
    args[0] = session;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, now);
    args[1] = "user";
    args[2] = question;
    paa_dbd_query(r, dbd, "paa_message_insert", NULL, 4, args);
    args[1] = "assistant";
    args[2] = result.answer;
    paa_dbd_query(r, dbd, "paa_message_insert", NULL, 4, args);
    out->answer = result.answer;
    out->model = result.model;
    out->session = session;
    *detail = NULL;
    return HTTP_OK;
}

int paa_api_chat(request_rec *r)
{
    const char *agent = NULL, *question = NULL, *session = NULL, *key;
    const char *detail;
    json_t *body = NULL, *errors, *v;
    paa_chat_answer_t answer;
    int rc, status;

    if (r->method_number != M_POST) {
        return paa_method_not_allowed(r, "POST");
    }
    if (!r->user) {
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    if ((rc = paa_read_json(r, CHAT_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    errors = json_array();
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "agent_id") && strcmp(key, "question") &&
            strcmp(key, "sessionId")) {
            field_error(errors, key, "is not a chat field");
        }
    }
    v = json_object_get(body, "agent_id");
    if (!json_is_string(v) || !*json_string_value(v) ||
        strlen(json_string_value(v)) > 50) {
        field_error(errors, "agent_id", "must be a persona id");
    }
    else {
        agent = apr_pstrdup(r->pool, json_string_value(v));
    }
    v = json_object_get(body, "question");
    if (!json_is_string(v)) {
        field_error(errors, "question", "must be a string");
    }
    else if (paa_utf8_chars(json_string_value(v)) < 1 ||
             paa_utf8_chars(json_string_value(v)) > QUESTION_MAX) {
        field_error(
            errors, "question",
            apr_psprintf(r->pool, "must be 1 to %d characters", QUESTION_MAX));
    }
    else {
        question = apr_pstrdup(r->pool, json_string_value(v));
    }
    v = json_object_get(body, "sessionId");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || strlen(json_string_value(v)) > 40) {
            field_error(errors, "sessionId", "must be a session id");
        }
        else {
            session = apr_pstrdup(r->pool, json_string_value(v));
        }
    }
    json_decref(body);
    if (json_array_size(errors)) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);

    status = paa_chat_ask(r, agent, question, session, &answer, &detail);
    if (status != HTTP_OK) {
        return paa_send_problem(r, status, detail);
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:[], s:s, s:s}", "answer",
                                   answer.answer, "citations", "modelUsed",
                                   answer.model, "sessionId", answer.session));
}
