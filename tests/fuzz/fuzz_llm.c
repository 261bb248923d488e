/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for what the chat path reads from an LLM provider: the
 * body of an OpenAI-compatible chat completion, parsed by paa_llm_parse
 * (the provider is configured, but it is a remote service answering over
 * the network, possibly through proxies). The input is the body, passed
 * with its exact length and no terminating NUL, as libcurl delivers it.
 *
 * Checked: the verdict and the values are those of the definition in
 * persona.h (choices[0].message.content a string; "model" when it is a
 * string), read here from the JSON independently of llm.c; the answer and
 * model are whole (no byte lost to a NUL) and valid UTF-8 (checked by a
 * decoder of our own), so the chat handler can put them into its JSON
 * answer; an answer written back as a completion parses to the same
 * answer and model; and as the history of the next turn, the answer is
 * carried into the next provider request unchanged. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed. */
static struct {
    int ok;        /* parsed as a chat completion */
    int has_model; /* with a model */
} last;

static const char *input;

static void broken(const char *what)
{
    fuzz_broken("fuzz_llm", what, input);
}

/* The content and model by the definition, or 0. */
static int ref_parse(const uint8_t *data, size_t size, json_t **content,
                     json_t **model, json_t **doc)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)data, size, 0, &je), *c, *m;

    *doc = o;
    *content = *model = NULL;
    if (!json_is_object(o)) {
        return 0;
    }
    c = json_object_get(o, "choices");
    if (!json_is_array(c) || !json_array_size(c)) {
        return 0;
    }
    c = json_array_get(c, 0);
    if (!json_is_object(c)) {
        return 0;
    }
    c = json_object_get(c, "message");
    if (!json_is_object(c)) {
        return 0;
    }
    c = json_object_get(c, "content");
    if (!json_is_string(c)) {
        return 0;
    }
    *content = c;
    m = json_object_get(o, "model");
    *model = json_is_string(m) ? m : NULL;
    return 1;
}

static int whole(const char *got, json_t *v)
{
    return got && strlen(got) == json_string_length(v) &&
           !memcmp(got, json_string_value(v), json_string_length(v)) &&
           ref_utf8_chars(got) >= 0;
}

static void check_roundtrip(apr_pool_t *p, const char *answer,
                            const char *model)
{
    json_t *doc =
        json_pack("{s:[{s:{s:s, s:s}, s:s}]}", "choices", "message", "role",
                  "assistant", "content", answer, "finish_reason", "stop");
    const char *a2 = NULL, *m2 = "x", *req;
    char *text;
    paa_persona_t persona;
    json_t *history, *r;
    json_error_t je;

    if (!doc) {
        broken("the answer cannot be written as JSON");
    }
    if (model) {
        json_object_set_new(doc, "model", json_string(model));
    }
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text ||
        paa_llm_parse(p, text, strlen(text), &a2, &m2) != APR_SUCCESS ||
        strcmp(a2, answer) || (model ? !m2 || strcmp(m2, model) : m2 != NULL)) {
        broken("an answer written back as a completion does not parse to "
               "itself");
    }
    free(text);

    memset(&persona, 0, sizeof(persona));
    persona.name = "Fuzz";
    persona.description = "d";
    persona.temperature = 0.5;
    persona.max_tokens = 10;
    history = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "user", "content",
                        "q", "role", "assistant", "content", answer);
    req = paa_llm_request(p, model ? model : "m", &persona, history, "next?");
    json_decref(history);
    r = json_loads(req, JSON_REJECT_DUPLICATES, &je);
    if (json_array_size(json_object_get(r, "messages")) != 4 ||
        !whole(answer, json_object_get(
                           json_array_get(json_object_get(r, "messages"), 2),
                           "content"))) {
        broken("the answer is not carried into the next request unchanged");
    }
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    const char *answer = NULL, *model = NULL;
    json_t *content, *ref_model, *doc;
    apr_pool_t *p;
    apr_status_t rv;
    int want;

    fuzz_setup();
    memset(&last, 0, sizeof(last));
    input = text;
    apr_pool_create(&p, NULL);
    /* data, not text: a read past size is an overflow ASan sees */
    rv = paa_llm_parse(p, (const char *)data, size, &answer, &model);
    want = ref_parse(data, size, &content, &ref_model, &doc);
    if ((rv == APR_SUCCESS) != want) {
        broken(want ? "paa_llm_parse refused a chat completion"
                    : "paa_llm_parse accepted what is no chat completion");
    }
    if (rv == APR_SUCCESS) {
        if (!whole(answer, content)) {
            broken("the answer is not the whole content, or not UTF-8");
        }
        if (ref_model ? !whole(model, ref_model) : model != NULL) {
            broken("the model is not the answer's model");
        }
        check_roundtrip(p, answer, model);
        last.ok = 1;
        last.has_model = model != NULL;
    }
    json_decref(doc);
    apr_pool_destroy(p);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

/* What each named seed must produce: parsed, with a model. */
static const struct {
    const char *name;
    int ok, has_model;
} seeds[] = {
    {"openai", 1, 1},
    {"ollama", 1, 1},
    {"no_model", 1, 0},
    {"model_not_string", 1, 0},
    {"empty_content", 1, 0},
    {"unicode_content", 1, 1},
    {"escaped_content", 1, 1},
    {"two_choices", 1, 0},
    {"duplicate_content", 1, 0},
    {"content_null_tool_calls", 0, 0},
    {"content_array", 0, 0},
    {"no_choices", 0, 0},
    {"choices_empty", 0, 0},
    {"choices_object", 0, 0},
    {"message_string", 0, 0},
    {"error_document", 0, 0},
    {"nul_escape", 0, 0},
    {"truncated", 0, 0},
    {"html_error_page", 0, 0},
    {"sse_stream", 0, 0},
    {"trailing_garbage", 0, 0},
    {"empty", 0, 0},
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
    if (seeds[i].ok != last.ok || seeds[i].has_model != last.has_model) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: parsed=%d with model=%d", last.ok,
                 last.has_model);
        return msg;
    }
    return NULL;
}
