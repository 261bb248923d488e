/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for persona documents: the body of POST and PUT
 * /api/personas and every entry of "paactl persona import" go through
 * paa_persona_validate; what it accepts becomes a system prompt and a
 * provider request.
 *
 * The input is the JSON document, parsed as the API and paactl parse it
 * (duplicate names refused; any JSON value, since an import file's
 * entries can be anything). An input starting with '/' is "/ID\nJSON": a
 * PUT, ID being the id from the URL.
 *
 * Checked against a reference written from persona.h (not from
 * persona.c): which fields are reported is exactly which fields break
 * their rule (id ^[a-z0-9-]{1,50}$ and the URL's, name 1..100 characters,
 * description 1..500, extraInstructions 0..2000, knowledgeCategory
 * ^[a-zA-Z0-9-]{1,50}$, temperature a number in 0..2, maxTokens an
 * integer in 1..8000, no other names); each error is {field, message};
 * an accepted persona carries the document's values. Then round trips:
 * the persona as the API shows it (paa_persona_json), serialised and
 * parsed again, is accepted with the same values, by POST and by PUT to
 * its own id; its system prompt holds its name, description and
 * instructions; its provider request (paa_llm_request) is JSON with that
 * prompt, its temperature and its maxTokens. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed. */
static struct {
    int ok;                /* accepted */
    char fields[200];      /* the fields reported, "a,b," in order */
    int roundtrip_checked; /* an accepted persona went round */
} last;

static const char *input;

static void broken(const char *what)
{
    fuzz_broken("fuzz_persona", what, input);
}

static const char *const known[] = {"id",
                                    "name",
                                    "description",
                                    "extraInstructions",
                                    "knowledgeCategory",
                                    "temperature",
                                    "maxTokens",
                                    "createdAt",
                                    "updatedAt",
                                    NULL};

static int is_known(const char *key)
{
    int i;
    for (i = 0; known[i]; i++) {
        if (!strcmp(known[i], key)) {
            return 1;
        }
    }
    return 0;
}

/* 1..50 bytes of [a-z0-9-], or of [a-zA-Z0-9-] with upper. */
static int ref_word(const char *s, int upper)
{
    size_t n = strlen(s), i;
    if (n < 1 || n > 50) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              (upper && c >= 'A' && c <= 'Z'))) {
            return 0;
        }
    }
    return 1;
}

/* A string field's rule: 1 when v (absent/null allowed unless required)
 * holds min..max characters. */
static int ref_string(json_t *v, int required, long min, long max)
{
    long n;
    if (!v || json_is_null(v)) {
        return !required;
    }
    if (!json_is_string(v)) {
        return 0;
    }
    n = ref_utf8_chars(json_string_value(v));
    if (n < 0) {
        broken("jansson gave a string that is not UTF-8");
    }
    return n >= min && n <= max;
}

/* Which fields the reference refuses, in the order paa_persona_validate
 * reports them (unknown names first, in the document's order). */
static const char *ref_fields(apr_pool_t *p, json_t *body, const char *path)
{
    const char *out = "", *key;
    json_t *v, *id, *kc;
    double t;

    if (!json_is_object(body)) {
        return ",";
    }
    json_object_foreach(body, key, v)
    {
        if (!is_known(key)) {
            out = apr_pstrcat(p, out, key, ",", NULL);
        }
    }
    id = json_object_get(body, "id");
    if (path ? !ref_word(path, 0) || (id && !json_is_null(id) &&
                                      !(json_is_string(id) &&
                                        !strcmp(json_string_value(id), path)))
             : !(json_is_string(id) && ref_word(json_string_value(id), 0))) {
        out = apr_pstrcat(p, out, "id,", NULL);
    }
    if (!ref_string(json_object_get(body, "name"), 1, 1, 100)) {
        out = apr_pstrcat(p, out, "name,", NULL);
    }
    if (!ref_string(json_object_get(body, "description"), 1, 1, 500)) {
        out = apr_pstrcat(p, out, "description,", NULL);
    }
    if (!ref_string(json_object_get(body, "extraInstructions"), 0, 0, 2000)) {
        out = apr_pstrcat(p, out, "extraInstructions,", NULL);
    }
    kc = json_object_get(body, "knowledgeCategory");
    if (!ref_string(kc, 1, 1, 50) || !ref_word(json_string_value(kc), 1)) {
        out = apr_pstrcat(p, out, "knowledgeCategory,", NULL);
    }
    v = json_object_get(body, "temperature");
    t = json_is_number(v) ? json_number_value(v) : -1;
    if (!(t >= 0 && t <= 2)) {
        out = apr_pstrcat(p, out, "temperature,", NULL);
    }
    v = json_object_get(body, "maxTokens");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 8000) {
        out = apr_pstrcat(p, out, "maxTokens,", NULL);
    }
    return out;
}

/* The fields named in errors, "a,b," ("," for the whole document). */
static const char *reported(apr_pool_t *p, json_t *errors)
{
    const char *out = "";
    size_t i;
    json_t *e;

    json_array_foreach(errors, i, e)
    {
        out = apr_pstrcat(
            p, out, json_string_value(json_object_get(e, "field")), ",", NULL);
    }
    return out;
}

static int same_string(const char *a, json_t *v)
{
    return a && json_is_string(v) && !strcmp(a, json_string_value(v));
}

/* The accepted persona holds the document's values. */
static void check_values(json_t *body, const char *path,
                         const paa_persona_t *pp)
{
    json_t *v = json_object_get(body, "extraInstructions");

    if (!pp->id ||
        strcmp(pp->id,
               path ? path : json_string_value(json_object_get(body, "id")))) {
        broken("the accepted id is not the document's or the URL's");
    }
    if (!same_string(pp->name, json_object_get(body, "name")) ||
        !same_string(pp->description, json_object_get(body, "description")) ||
        !same_string(pp->knowledge_category,
                     json_object_get(body, "knowledgeCategory")) ||
        !pp->extra_instructions ||
        (json_is_string(v)
             ? strcmp(pp->extra_instructions, json_string_value(v))
             : *pp->extra_instructions)) {
        broken("an accepted string is not the document's");
    }
    if (pp->temperature !=
            json_number_value(json_object_get(body, "temperature")) ||
        pp->max_tokens !=
            json_integer_value(json_object_get(body, "maxTokens"))) {
        broken("an accepted number is not the document's");
    }
}

static void same_persona(const paa_persona_t *a, const paa_persona_t *b)
{
    if (strcmp(a->id, b->id) || strcmp(a->name, b->name) ||
        strcmp(a->description, b->description) ||
        strcmp(a->extra_instructions, b->extra_instructions) ||
        strcmp(a->knowledge_category, b->knowledge_category) ||
        a->temperature != b->temperature || a->max_tokens != b->max_tokens) {
        broken("the persona changed on its way round through the API shape");
    }
}

/* As the API shows it, sent back by POST and by PUT to its own id. */
static void check_roundtrip(apr_pool_t *p, const paa_persona_t *pp)
{
    json_t *shown = paa_persona_json(p, pp), *again, *errors;
    char *text = shown ? json_dumps(shown, JSON_COMPACT) : NULL;
    json_error_t je;
    paa_persona_t back;

    if (!text) {
        broken("an accepted persona cannot be shown as JSON");
    }
    again = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    json_decref(shown);
    if (paa_persona_validate(p, again, NULL, &back, &errors) != APR_SUCCESS) {
        broken("the API's own shape of a persona is refused by POST");
    }
    json_decref(errors);
    same_persona(pp, &back);
    if (paa_persona_validate(p, again, pp->id, &back, &errors) != APR_SUCCESS) {
        broken("the API's own shape of a persona is refused by PUT");
    }
    json_decref(errors);
    same_persona(pp, &back);
    json_decref(again);
}

static void check_prompt(apr_pool_t *p, const paa_persona_t *pp)
{
    const char *prompt = paa_persona_prompt(p, pp);
    const char *req = paa_llm_request(p, "fuzz-model", pp, NULL, "q?");
    json_error_t je;
    json_t *r = json_loads(req, JSON_REJECT_DUPLICATES, &je), *messages;

    if (!strstr(prompt, pp->name) || !strstr(prompt, pp->description) ||
        !strstr(prompt, pp->extra_instructions)) {
        broken("the system prompt lacks the name, description or "
               "instructions");
    }
    messages = json_object_get(r, "messages");
    if (!json_is_object(r) || json_array_size(messages) != 2 ||
        !same_string(prompt,
                     json_object_get(json_array_get(messages, 0), "content")) ||
        !same_string("q?",
                     json_object_get(json_array_get(messages, 1), "content")) ||
        json_number_value(json_object_get(r, "temperature")) !=
            pp->temperature ||
        json_integer_value(json_object_get(r, "max_tokens")) !=
            pp->max_tokens) {
        broken("the provider request does not carry the persona");
    }
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), *path = NULL, *doc = text;
    size_t doc_len = size;
    apr_pool_t *p;
    json_error_t je;
    json_t *body, *errors = NULL;
    paa_persona_t pp;
    apr_status_t rv;
    const char *want, *got, *shape;

    fuzz_setup();
    memset(&last, 0, sizeof(last));
    input = text;
    if (size && text[0] == '/') {
        char *nl = memchr(text, '\n', size);
        if (!nl) {
            free(text);
            return 0;
        }
        *nl = '\0';
        path = text + 1;
        doc = nl + 1;
        doc_len = size - (size_t)(doc - text);
    }
    body =
        json_loadb(doc, doc_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!body) {
        free(text);
        return 0;
    }
    apr_pool_create(&p, NULL);

    rv = paa_persona_validate(p, body, path, &pp, &errors);
    if ((shape = ref_errors_shape(errors))) {
        broken(shape);
    }
    want = ref_fields(p, body, path);
    got = reported(p, errors);
    if (strcmp(want, got)) {
        fprintf(stderr, "reported fields: %s\nreference: %s\n", got, want);
        broken("the fields reported are not the ones that break the rules");
    }
    if ((rv == APR_SUCCESS) != (json_array_size(errors) == 0)) {
        broken("the result and the error list disagree");
    }
    last.ok = rv == APR_SUCCESS;
    snprintf(last.fields, sizeof(last.fields), "%s", got);
    if (rv == APR_SUCCESS) {
        check_values(body, path, &pp);
        check_roundtrip(p, &pp);
        check_prompt(p, &pp);
        last.roundtrip_checked = 1;
    }

    json_decref(errors);
    json_decref(body);
    apr_pool_destroy(p);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

/* What each named seed must produce: accepted, and the fields reported
 * (NULL: not checked). */
static const struct {
    const char *name;
    int ok;
    const char *fields;
} seeds[] = {
    {"valid", 1, ""},
    {"valid_minimal", 1, ""},
    {"valid_limits", 1, ""},
    {"valid_unicode_lengths", 1, ""},
    {"valid_temperature_integer", 1, ""},
    {"valid_extra_null", 1, ""},
    {"valid_put_without_id", 1, ""},
    {"valid_put_same_id", 1, ""},
    {"valid_api_shape", 1, ""},
    {"put_other_id", 0, "id,"},
    {"put_bad_path_id", 0, "id,"},
    {"id_uppercase", 0, "id,"},
    {"id_too_long", 0, "id,"},
    {"id_not_string", 0, "id,"},
    {"id_missing", 0, "id,"},
    {"name_too_long", 0, "name,"},
    {"name_empty", 0, "name,"},
    {"description_too_long_in_characters", 0, "description,"},
    {"extra_too_long", 0, "extraInstructions,"},
    {"category_bad_chars", 0, "knowledgeCategory,"},
    {"category_non_ascii", 0, "knowledgeCategory,"},
    {"temperature_negative", 0, "temperature,"},
    {"temperature_over_2", 0, "temperature,"},
    {"temperature_string", 0, "temperature,"},
    {"temperature_null", 0, "temperature,"},
    {"max_tokens_real", 0, "maxTokens,"},
    {"max_tokens_zero", 0, "maxTokens,"},
    {"max_tokens_over", 0, "maxTokens,"},
    {"max_tokens_huge", 0, "maxTokens,"},
    {"unknown_fields", 0, "systemPrompt,model,"},
    {"everything_wrong", 0, NULL},
    {"not_an_object", 0, ","},
    {"empty_object", 0, NULL},
    {NULL, 0, NULL},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[400];
    int i;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    if (!seeds[i].name) {
        return NULL;
    }
    if (seeds[i].ok != last.ok ||
        (seeds[i].fields && strcmp(seeds[i].fields, last.fields)) ||
        (last.ok && !last.roundtrip_checked)) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: accepted=%d fields=\"%s\"", last.ok,
                 last.fields);
        return msg;
    }
    return NULL;
}
