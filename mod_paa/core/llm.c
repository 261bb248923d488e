/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The OpenAI-compatible chat completion protocol (OpenAI, OpenRouter,
 * Ollama, vLLM, llama.cpp all speak it). */

#include "paa.h"

#include <apr_strings.h>

const char *paa_llm_request(apr_pool_t *p, const char *model,
                            const paa_persona_t *persona, json_t *history,
                            const char *question)
{
    json_t *messages = json_array(), *m;
    char *text;
    const char *out;
    size_t i;

    json_array_append_new(messages,
                          json_pack("{s:s, s:s}", "role", "system", "content",
                                    paa_persona_prompt(p, persona)));
    json_array_foreach(history, i, m)
    {
        json_array_append(messages, m);
    }
    json_array_append_new(
        messages, json_pack("{s:s, s:s}", "role", "user", "content", question));
    m = json_pack("{s:s, s:o, s:f, s:i, s:b}", "model", model, "messages",
                  messages, "temperature", persona->temperature, "max_tokens",
                  persona->max_tokens, "stream", 0);
    text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(m);
    out = apr_pstrdup(p, text ? text : "{}");
    free(text);
    return out;
}

apr_status_t paa_llm_parse(apr_pool_t *p, const char *body, apr_size_t len,
                           const char **answer, const char **model)
{
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je), *content, *m;
    apr_status_t rv = APR_EINVAL;

    content = json_object_get(
        json_object_get(json_array_get(json_object_get(o, "choices"), 0),
                        "message"),
        "content");
    if (json_is_string(content)) {
        *answer = apr_pstrdup(p, json_string_value(content));
        m = json_object_get(o, "model");
        *model =
            json_is_string(m) ? apr_pstrdup(p, json_string_value(m)) : NULL;
        rv = APR_SUCCESS;
    }
    json_decref(o);
    return rv;
}
