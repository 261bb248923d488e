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

int paa_chat_ask(request_rec *r, const char *agent, const char *question,
                 const char *session, paa_chat_answer_t *out,
                 const char **detail)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_int64_t now = apr_time_sec(r->request_time);
    json_t *past = NULL;
    paa_persona_t persona;
    paa_chat_result_t result;
    paa_chat_session_t cs;
    paa_db_t *db;
    int found = 0;

    memset(out, 0, sizeof(*out));
    *detail = "the chat store is unavailable";
    if (!r->user) {
        *detail = "authentication is required";
        return HTTP_UNAUTHORIZED;
    }
    if (!(db = paa_db(r)) ||
        paa_personas_get(r->pool, db, agent, &persona, &found) != APR_SUCCESS) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!found) {
        *detail = "no such agent";
        return HTTP_NOT_FOUND;
    }
    if (session) {
        if (paa_chat_session_get(r->pool, db, session, &cs, &found) !=
            APR_SUCCESS) {
            return HTTP_SERVICE_UNAVAILABLE;
        }
        if (!found || strcmp(cs.principal, r->user) ||
            strcmp(cs.agent_id, agent) || cs.expires_at <= now) {
            *detail = "no such session";
            return HTTP_NOT_FOUND;
        }
    }
    else {
        cs.id = session = paa_id_generate(r->pool, "ses_");
        cs.principal = r->user;
        cs.agent_id = agent;
        cs.created_at = now;
        cs.expires_at =
            now + (sc->session_ttl ? sc->session_ttl : SESSION_TTL_DEFAULT);
        if (!session || paa_chat_session_add(r->pool, db, &cs) != APR_SUCCESS) {
            return HTTP_SERVICE_UNAVAILABLE;
        }
    }
    if (paa_chat_history(r->pool, db, session,
                         sc->history ? sc->history : HISTORY_DEFAULT,
                         &past) != APR_SUCCESS) {
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
    paa_chat_message_add(r->pool, db, session, "user", question, now);
    paa_chat_message_add(r->pool, db, session, "assistant", result.answer, now);
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
    if ((rc = paa_consent_check(r)) != OK) {
        return rc;
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
