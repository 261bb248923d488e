/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* POST /api/chat {agent_id, question, sessionId?}: a question to a persona,
 * answered by the first provider that can (paa_provider.c). Sessions
 * belong to the principal that created them: another principal's session
 * id, or an expired one, is answered exactly like an unknown one (404). */

#include "../paa_private.h"

#include <apr_strings.h>

#define CHAT_BODY_MAX       65536
#define SESSION_TTL_DEFAULT 86400
#define HISTORY_DEFAULT     20

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
    const char *detail;
    json_t *body = NULL, *errors;
    paa_chat_request_t q;
    paa_chat_answer_t answer;
    apr_status_t rv;
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
    /* The rules MCP's ask_agent shares (core/validate.c). */
    rv = paa_chat_validate(r->pool, body, &q, &errors);
    json_decref(body);
    if (rv != APR_SUCCESS) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    status =
        paa_chat_ask(r, q.agent_id, q.question, q.session_id, &answer, &detail);
    if (status != HTTP_OK) {
        return paa_send_problem(r, status, detail);
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:[], s:s, s:s}", "answer",
                                   answer.answer, "citations", "modelUsed",
                                   answer.model, "sessionId", answer.session));
}
