/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file persona.h
 * @brief Personas (validation, the API shape, the system prompt) and the
 * OpenAI-compatible request and answer.
 */
#ifndef PAA_PERSONA_H
#define PAA_PERSONA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ------------------------------------------------------------- persona */

typedef struct paa_persona_t paa_persona_t;

struct paa_persona_t {
    const char *id;
    const char *name;
    const char *description;
    const char *extra_instructions;
    const char *knowledge_category;
    double temperature;
    int max_tokens;
    apr_int64_t created_at; /* as stored; 0 before */
    apr_int64_t updated_at;
};

/**
 * Validate a persona document (POST/PUT body or an import file entry):
 * id ^[a-z0-9-]{1,50}$, name 1..100, description 1..500,
 * extraInstructions 0..2000, knowledgeCategory ^[a-zA-Z0-9-]{1,50}$,
 * temperature 0..2 (0 is valid), maxTokens 1..8000; unknown fields and
 * wrong types are errors. Lengths count characters, not bytes.
 * @param id_from_path the id in the URL for PUT (the body may omit it or
 *        must repeat it), or NULL when the body must carry it
 * @param errors a new JSON array of {field, message}, empty when valid
 * @return APR_SUCCESS when valid
 */
apr_status_t paa_persona_validate(apr_pool_t *p, json_t *body,
                                  const char *id_from_path, paa_persona_t *out,
                                  json_t **errors);

/** A stored persona as the API shows it (new reference). */
json_t *paa_persona_json(apr_pool_t *p, const paa_persona_t *persona);

/** The system prompt a persona gives the model. */
const char *paa_persona_prompt(apr_pool_t *p, const paa_persona_t *persona);

/** Characters (not bytes) in a UTF-8 string: limits count what people see. */
apr_size_t paa_utf8_chars(const char *s);

/** s with every byte that is not part of valid UTF-8 written as \xNN
 * (s itself when it is valid): what PostgreSQL accepts. */
const char *paa_utf8_escape(apr_pool_t *p, const char *s);

/** ISO 8601 UTC ("2026-11-28T04:00:00Z") of Unix seconds. */
const char *paa_iso_time(apr_pool_t *p, apr_int64_t unix_seconds);

/* ----------------------------------------------------------------- llm */

/**
 * The body of an OpenAI-compatible POST {base}/chat/completions.
 * @param history alternating {role, content} messages (JSON array), may be
 *        NULL; borrowed
 * @return JSON text allocated from p
 */
const char *paa_llm_request(apr_pool_t *p, const char *model,
                            const paa_persona_t *persona, json_t *history,
                            const char *question);

/**
 * Read choices[0].message.content (and "model") from a provider's answer.
 * @return APR_SUCCESS, or APR_EINVAL when the body is not such an answer
 */
apr_status_t paa_llm_parse(apr_pool_t *p, const char *body, apr_size_t len,
                           const char **answer, const char **model);

#endif /* PAA_PERSONA_H */
