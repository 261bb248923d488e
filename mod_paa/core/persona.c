/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Persona validation, shared by the API and paactl's import so that a file
 * loaded from the shell obeys exactly the rules of a POST. Every problem is
 * reported with the field's real name, all at once. */

#include "paa.h"

#include <apr_strings.h>
#include <math.h>
#include <time.h>

static void add_error(json_t *errors, const char *field, const char *message)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

apr_size_t paa_utf8_chars(const char *s)
{
    apr_size_t n = 0;
    for (; *s; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80; /* not a continuation byte */
    }
    return n;
}

static int matches(const char *s, int upper)
{
    const char *c;
    if (!*s || strlen(s) > 50) {
        return 0;
    }
    for (c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || (upper && *c >= 'A' && *c <= 'Z'))) {
            return 0;
        }
    }
    return 1;
}

static const char *string_field(apr_pool_t *p, json_t *body, json_t *errors,
                                const char *field, int required, apr_size_t min,
                                apr_size_t max)
{
    json_t *v = json_object_get(body, field);
    apr_size_t n;

    if (!v || json_is_null(v)) {
        if (required) {
            add_error(errors, field, "is required");
        }
        return required ? NULL : "";
    }
    if (!json_is_string(v)) {
        add_error(errors, field, "must be a string");
        return NULL;
    }
    n = paa_utf8_chars(json_string_value(v));
    if (n < min || n > max) {
        add_error(errors, field,
                  apr_psprintf(p,
                               "must be %" APR_SIZE_T_FMT " to %" APR_SIZE_T_FMT
                               " characters",
                               min, max));
        return NULL;
    }
    return apr_pstrdup(p, json_string_value(v));
}

/* Every field a persona document may carry; anything else is a typo the
 * client should hear about rather than data silently dropped. */
static void check_known_fields(json_t *body, json_t *errors)
{
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
    const char *key;
    json_t *v;
    int i;

    json_object_foreach(body, key, v)
    {
        for (i = 0; known[i] && strcmp(known[i], key); i++) {
        }
        if (!known[i]) {
            add_error(errors, key, "is not a persona field");
        }
    }
}

/* The id from the body, or for a PUT from the URL: the body may omit it
 * there, but must not name another persona. */
static void check_id(apr_pool_t *p, json_t *body, const char *id_from_path,
                     json_t *errors, paa_persona_t *out)
{
    json_t *v = json_object_get(body, "id");

    if (id_from_path && !matches(id_from_path, 0)) {
        add_error(errors, "id",
                  "must be 1 to 50 of lowercase letters, digits and -");
    }
    else if (id_from_path && (!v || json_is_null(v))) {
        out->id = id_from_path;
    }
    else if (!json_is_string(v)) {
        add_error(errors, "id", v ? "must be a string" : "is required");
    }
    else if (!matches(json_string_value(v), 0)) {
        add_error(errors, "id",
                  "must be 1 to 50 of lowercase letters, digits and -");
    }
    else if (id_from_path && strcmp(json_string_value(v), id_from_path)) {
        add_error(errors, "id", "must match the id in the URL");
    }
    else {
        out->id = apr_pstrdup(p, json_string_value(v));
    }
}

/* The text fields, checked in this order so errors keep their order; the
 * offset says where each goes, as ap_set_string_slot does for directives. */
typedef struct {
    const char *field;
    int required;
    apr_size_t min, max;
    apr_size_t offset;
} persona_string_t;

static const persona_string_t string_fields[] = {
    {"name", 1, 1, 100, APR_OFFSETOF(paa_persona_t, name)},
    {"description", 1, 1, 500, APR_OFFSETOF(paa_persona_t, description)},
    {"extraInstructions", 0, 0, 2000,
     APR_OFFSETOF(paa_persona_t, extra_instructions)},
    {"knowledgeCategory", 1, 1, 50,
     APR_OFFSETOF(paa_persona_t, knowledge_category)},
};

static void check_strings(apr_pool_t *p, json_t *body, json_t *errors,
                          paa_persona_t *out)
{
    apr_size_t i;

    for (i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++) {
        const persona_string_t *f = &string_fields[i];
        const char **slot = (const char **)((char *)out + f->offset);
        *slot = string_field(p, body, errors, f->field, f->required, f->min,
                             f->max);
    }
    /* string_field gives NULL after an error, so the field never gets
     * two errors. */
    if (out->knowledge_category && !matches(out->knowledge_category, 1)) {
        add_error(errors, "knowledgeCategory",
                  "must be 1 to 50 of letters, digits and -");
    }
}

/* temperature 0..2, 0 included: it is the deterministic setting, not a
 * missing value. */
static void check_temperature(json_t *body, json_t *errors, paa_persona_t *out)
{
    json_t *v = json_object_get(body, "temperature");

    if (!v) {
        add_error(errors, "temperature", "is required");
    }
    else if (!json_is_number(v)) {
        add_error(errors, "temperature", "must be a number");
    }
    else {
        out->temperature = json_number_value(v);
        if (!(out->temperature >= 0.0 && out->temperature <= 2.0)) {
            add_error(errors, "temperature", "must be between 0 and 2");
        }
    }
}

static void check_max_tokens(json_t *body, json_t *errors, paa_persona_t *out)
{
    json_t *v = json_object_get(body, "maxTokens");

    if (!v) {
        add_error(errors, "maxTokens", "is required");
    }
    else if (!json_is_integer(v)) {
        add_error(errors, "maxTokens", "must be an integer");
    }
    else if (json_integer_value(v) < 1 || json_integer_value(v) > 8000) {
        add_error(errors, "maxTokens", "must be 1 to 8000");
    }
    else {
        out->max_tokens = (int)json_integer_value(v);
    }
}

apr_status_t paa_persona_validate(apr_pool_t *p, json_t *body,
                                  const char *id_from_path, paa_persona_t *out,
                                  json_t **errors_out)
{
    json_t *errors = json_array();

    memset(out, 0, sizeof(*out));
    *errors_out = errors;
    if (!json_is_object(body)) {
        add_error(errors, "", "must be a JSON object");
        return APR_EINVAL;
    }
    /* Every check runs, so that one answer lists every problem. */
    check_known_fields(body, errors);
    check_id(p, body, id_from_path, errors, out);
    check_strings(p, body, errors, out);
    check_temperature(body, errors, out);
    check_max_tokens(body, errors, out);
    return json_array_size(errors) ? APR_EINVAL : APR_SUCCESS;
}

const char *paa_persona_prompt(apr_pool_t *p, const paa_persona_t *persona)
{
    return apr_psprintf(
        p, "You are %s. %s%s%s", persona->name, persona->description,
        persona->extra_instructions && *persona->extra_instructions ? "\n\n"
                                                                    : "",
        persona->extra_instructions ? persona->extra_instructions : "");
}

const char *paa_iso_time(apr_pool_t *p, apr_int64_t unix_seconds)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(p, buf);
}

json_t *paa_persona_json(apr_pool_t *p, const paa_persona_t *pp)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:i, s:s, s:s}", "id",
                     pp->id, "name", pp->name, "description", pp->description,
                     "extraInstructions",
                     pp->extra_instructions ? pp->extra_instructions : "",
                     "knowledgeCategory", pp->knowledge_category, "temperature",
                     pp->temperature, "maxTokens", pp->max_tokens, "createdAt",
                     paa_iso_time(p, pp->created_at), "updatedAt",
                     paa_iso_time(p, pp->updated_at));
}
