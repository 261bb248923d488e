/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The httpd-free half of the agent API: persona validation (every field's
 * boundary on both sides, the id in the URL against the id in the body),
 * the system prompt, the OpenAI-compatible request and answer, and the
 * circuit breaker's states (closed, open, exactly one half-open probe,
 * recovery and reopening). Each refusal has an accepted case next to it so
 * that a fix cannot pass by refusing everything. */

#include "paa_test.h"

#include <apr_strings.h>
#include <string.h>

#define VALID                                                                  \
    "{\"id\":\"unit-persona\",\"name\":\"Unit Persona\","                      \
    "\"description\":\"A persona for unit tests.\","                           \
    "\"extraInstructions\":\"Answer in haiku.\","                              \
    "\"knowledgeCategory\":\"unit-Tests-1\",\"temperature\":0.5,"              \
    "\"maxTokens\":100}"

static json_t *errs;
static paa_persona_t pp;

static json_t *valid_body(void)
{
    json_error_t je;
    json_t *o = json_loads(VALID, 0, &je);
    ck_assert_ptr_ne(o, NULL);
    return o;
}

/* n copies of s (s may be a multi-byte character) */
static const char *rep(int n, const char *s)
{
    size_t len = strlen(s);
    char *out = apr_palloc(tp, len * (size_t)n + 1), *p = out;
    int i;
    for (i = 0; i < n; i++, p += len) {
        memcpy(p, s, len);
    }
    *p = '\0';
    return out;
}

/* Validate body (stolen) against id_from_path; errs holds the errors. */
static apr_status_t validate(json_t *body, const char *path_id)
{
    apr_status_t rv;
    json_decref(errs);
    errs = NULL;
    rv = paa_persona_validate(tp, body, path_id, &pp, &errs);
    json_decref(body);
    ck_assert_ptr_ne(errs, NULL);
    ck_assert(json_is_array(errs));
    /* the status and the errors never disagree */
    ck_assert_int_eq(rv == APR_SUCCESS, json_array_size(errs) == 0);
    return rv;
}

/* The errors name exactly these fields, in order, comma-separated. */
static const char *error_fields(void)
{
    const char *out = "";
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        ck_assert_ptr_ne(f, NULL);
        ck_assert(json_is_string(json_object_get(e, "message")));
        out = apr_pstrcat(tp, out, i ? "," : "", f, NULL);
    }
    return out;
}

/* The valid body with field set to v (stolen; NULL removes the field). */
static apr_status_t with(const char *field, json_t *v)
{
    json_t *o = valid_body();
    if (v) {
        json_object_set_new(o, field, v);
    }
    else {
        json_object_del(o, field);
    }
    return validate(o, NULL);
}

#define ACCEPTS(field, v)                                                      \
    do {                                                                       \
        ck_assert_msg(with(field, v) == APR_SUCCESS, "%s refused: %s", field,  \
                      error_fields());                                         \
    } while (0)

#define REFUSES(field, v)                                                      \
    do {                                                                       \
        ck_assert_int_eq(with(field, v), APR_EINVAL);                          \
        ck_assert_str_eq(error_fields(), field);                               \
    } while (0)

static void teardown(void)
{
    json_decref(errs);
    errs = NULL;
    paa_test_teardown();
}

START_TEST(persona_valid)
{
    json_t *o;

    ck_assert_int_eq(validate(valid_body(), NULL), APR_SUCCESS);
    ck_assert_str_eq(pp.id, "unit-persona");
    ck_assert_str_eq(pp.name, "Unit Persona");
    ck_assert_str_eq(pp.description, "A persona for unit tests.");
    ck_assert_str_eq(pp.extra_instructions, "Answer in haiku.");
    ck_assert_str_eq(pp.knowledge_category, "unit-Tests-1");
    ck_assert(pp.temperature == 0.5);
    ck_assert_int_eq(pp.max_tokens, 100);

    /* extraInstructions may be omitted or null: "" */
    ACCEPTS("extraInstructions", NULL);
    ck_assert_str_eq(pp.extra_instructions, "");
    ACCEPTS("extraInstructions", json_null());
    ck_assert_str_eq(pp.extra_instructions, "");
    /* createdAt and updatedAt are known (a GET body can be sent back) */
    o = valid_body();
    json_object_set_new(o, "createdAt", json_string("2026-01-01T00:00:00Z"));
    json_object_set_new(o, "updatedAt", json_string("2026-01-01T00:00:00Z"));
    ck_assert_int_eq(validate(o, NULL), APR_SUCCESS);
}
END_TEST

START_TEST(persona_id)
{
    ACCEPTS("id", json_string(rep(50, "a")));
    ck_assert_str_eq(pp.id, rep(50, "a"));
    ACCEPTS("id", json_string("a"));
    ACCEPTS("id", json_string("0-9-z"));
    REFUSES("id", json_string(rep(51, "a")));
    REFUSES("id", json_string(""));
    REFUSES("id", json_string("Unit-Persona"));
    REFUSES("id", json_string("unit_persona"));
    REFUSES("id", json_string("unit persona"));
    REFUSES("id", json_string("unit/persona"));
    REFUSES("id", json_string("unit.persona"));
    REFUSES("id", json_string("caf\xc3\xa9"));
    REFUSES("id", json_integer(5));
    REFUSES("id", json_null());
    REFUSES("id", NULL);
}
END_TEST

START_TEST(persona_id_from_path)
{
    json_t *o;

    /* the body may omit the id: the URL's is used */
    o = valid_body();
    json_object_del(o, "id");
    ck_assert_int_eq(validate(o, "from-path"), APR_SUCCESS);
    ck_assert_str_eq(pp.id, "from-path");
    o = valid_body();
    json_object_set_new(o, "id", json_null());
    ck_assert_int_eq(validate(o, "from-path"), APR_SUCCESS);
    ck_assert_str_eq(pp.id, "from-path");
    /* or repeat it */
    ck_assert_int_eq(validate(valid_body(), "unit-persona"), APR_SUCCESS);
    ck_assert_str_eq(pp.id, "unit-persona");
    /* but not name another */
    ck_assert_int_eq(validate(valid_body(), "other-persona"), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
    /* the URL's id obeys the same pattern */
    o = valid_body();
    json_object_del(o, "id");
    ck_assert_int_eq(validate(o, "Bad_Id"), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
    ck_assert_int_eq(validate(valid_body(), ""), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
    o = valid_body();
    json_object_del(o, "id");
    ck_assert_int_eq(validate(o, rep(51, "a")), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
    o = valid_body();
    json_object_del(o, "id");
    ck_assert_int_eq(validate(o, rep(50, "a")), APR_SUCCESS);
    /* a wrongly typed id in the body is refused even with a URL id */
    o = valid_body();
    json_object_set_new(o, "id", json_integer(7));
    ck_assert_int_eq(validate(o, "unit-persona"), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
    /* without a URL id the body must carry one */
    o = valid_body();
    json_object_del(o, "id");
    ck_assert_int_eq(validate(o, NULL), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "id");
}
END_TEST

START_TEST(persona_strings)
{
    /* name 1..100 characters */
    REFUSES("name", json_string(""));
    ACCEPTS("name", json_string("N"));
    ACCEPTS("name", json_string(rep(100, "n")));
    REFUSES("name", json_string(rep(101, "n")));
    /* characters, not bytes */
    ACCEPTS("name", json_string(rep(100, "\xc3\xa9")));
    REFUSES("name", json_string(rep(101, "\xc3\xa9")));
    ACCEPTS("name", json_string(rep(100, "\xe2\x82\xac")));
    REFUSES("name", NULL);
    REFUSES("name", json_null());
    REFUSES("name", json_integer(1));
    REFUSES("name", json_true());
    /* description 1..500 */
    REFUSES("description", json_string(""));
    ACCEPTS("description", json_string("d"));
    ACCEPTS("description", json_string(rep(500, "d")));
    REFUSES("description", json_string(rep(501, "d")));
    REFUSES("description", NULL);
    REFUSES("description", json_pack("[s]", "d"));
    /* extraInstructions 0..2000 */
    ACCEPTS("extraInstructions", json_string(""));
    ACCEPTS("extraInstructions", json_string(rep(2000, "e")));
    ck_assert_int_eq(strlen(pp.extra_instructions), 2000);
    REFUSES("extraInstructions", json_string(rep(2001, "e")));
    REFUSES("extraInstructions", json_integer(0));
    /* knowledgeCategory ^[a-zA-Z0-9-]{1,50}$ */
    ACCEPTS("knowledgeCategory", json_string("K"));
    ACCEPTS("knowledgeCategory", json_string("Tech-Docs-2"));
    ACCEPTS("knowledgeCategory", json_string(rep(50, "K")));
    REFUSES("knowledgeCategory", json_string(rep(51, "K")));
    REFUSES("knowledgeCategory", json_string(""));
    REFUSES("knowledgeCategory", json_string("tech docs"));
    REFUSES("knowledgeCategory", json_string("tech_docs"));
    REFUSES("knowledgeCategory", json_string("tech.docs"));
    REFUSES("knowledgeCategory", json_string("caf\xc3\xa9"));
    REFUSES("knowledgeCategory", NULL);
    REFUSES("knowledgeCategory", json_integer(3));
}
END_TEST

START_TEST(persona_numbers)
{
    /* temperature: a number 0..2, 0 included */
    ACCEPTS("temperature", json_integer(0));
    ck_assert(pp.temperature == 0.0);
    ACCEPTS("temperature", json_real(0.0));
    ACCEPTS("temperature", json_real(2.0));
    ACCEPTS("temperature", json_integer(2));
    ck_assert(pp.temperature == 2.0);
    ACCEPTS("temperature", json_real(1.25));
    ck_assert(pp.temperature == 1.25);
    REFUSES("temperature", json_real(-0.1));
    REFUSES("temperature", json_real(2.1));
    REFUSES("temperature", json_real(2.0000001));
    REFUSES("temperature", json_integer(-1));
    REFUSES("temperature", json_integer(3));
    REFUSES("temperature", json_string("0.5"));
    REFUSES("temperature", json_null());
    REFUSES("temperature", json_true());
    REFUSES("temperature", NULL);
    /* maxTokens: an integer 1..8000 */
    REFUSES("maxTokens", json_integer(0));
    ACCEPTS("maxTokens", json_integer(1));
    ck_assert_int_eq(pp.max_tokens, 1);
    ACCEPTS("maxTokens", json_integer(8000));
    ck_assert_int_eq(pp.max_tokens, 8000);
    REFUSES("maxTokens", json_integer(8001));
    REFUSES("maxTokens", json_integer(-1));
    REFUSES("maxTokens", json_integer(4294967297LL)); /* no wrap to 1 */
    REFUSES("maxTokens", json_real(1.5));
    REFUSES("maxTokens", json_real(100.0));
    REFUSES("maxTokens", json_string("100"));
    REFUSES("maxTokens", json_null());
    REFUSES("maxTokens", NULL);
}
END_TEST

START_TEST(persona_unknown_and_many)
{
    json_t *o;

    REFUSES("color", json_string("red"));
    REFUSES("MaxTokens", json_integer(5));
    REFUSES("max_tokens", json_integer(5));

    /* every problem at once, each with its field's real name */
    o = valid_body();
    json_object_set_new(o, "name", json_string(""));
    json_object_set_new(o, "temperature", json_real(9));
    json_object_set_new(o, "maxTokens", json_integer(0));
    json_object_set_new(o, "bogus", json_true());
    ck_assert_int_eq(validate(o, NULL), APR_EINVAL);
    ck_assert_str_eq(error_fields(), "bogus,name,temperature,maxTokens");

    /* an empty object names every required field */
    ck_assert_int_eq(validate(json_object(), NULL), APR_EINVAL);
    ck_assert_str_eq(error_fields(),
                     "id,name,description,knowledgeCategory,temperature,"
                     "maxTokens");

    /* not an object at all */
    ck_assert_int_eq(validate(json_array(), NULL), APR_EINVAL);
    ck_assert_int_eq(json_array_size(errs), 1);
    ck_assert_int_eq(validate(json_string("x"), NULL), APR_EINVAL);
    ck_assert_int_eq(json_array_size(errs), 1);
    json_decref(errs);
    errs = NULL;
    ck_assert_int_eq(paa_persona_validate(tp, NULL, NULL, &pp, &errs),
                     APR_EINVAL);
    ck_assert_int_eq(json_array_size(errs), 1);
}
END_TEST

START_TEST(persona_prompt)
{
    paa_persona_t p;
    const char *s;

    memset(&p, 0, sizeof(p));
    p.name = "Captain Test";
    p.description = "A pirate who tests.";
    p.extra_instructions = "End with ARRR.";
    s = paa_persona_prompt(tp, &p);
    ck_assert_ptr_ne(strstr(s, "Captain Test"), NULL);
    ck_assert_ptr_ne(strstr(s, "A pirate who tests."), NULL);
    ck_assert_ptr_ne(strstr(s, "End with ARRR."), NULL);
    /* name, then description, then the extra instructions */
    ck_assert(strstr(s, "Captain Test") < strstr(s, "A pirate who tests."));
    ck_assert(strstr(s, "A pirate who tests.") < strstr(s, "End with ARRR."));

    /* without extra instructions: nothing dangling */
    p.extra_instructions = "";
    s = paa_persona_prompt(tp, &p);
    ck_assert_ptr_ne(strstr(s, "A pirate who tests."), NULL);
    ck_assert_int_ne(s[strlen(s) - 1], '\n');
    ck_assert_int_ne(s[strlen(s) - 1], ' ');
    p.extra_instructions = NULL;
    s = paa_persona_prompt(tp, &p);
    ck_assert_ptr_eq(strstr(s, "(null)"), NULL);
    ck_assert_int_ne(s[strlen(s) - 1], '\n');
}
END_TEST

static paa_persona_t chat_persona(void)
{
    paa_persona_t p;
    memset(&p, 0, sizeof(p));
    p.id = "unit";
    p.name = "Unit";
    p.description = "A unit-test persona.";
    p.extra_instructions = "Be \"brief\".";
    p.knowledge_category = "unit";
    p.temperature = 0;
    p.max_tokens = 321;
    return p;
}

START_TEST(llm_request)
{
    paa_persona_t p = chat_persona();
    json_error_t je;
    json_t *history, *req, *msgs, *first;
    const char *text, *q = "Line one\nand \"quotes\" and \xc3\xa9 and \\";
    size_t refs;

    history = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]",
                        "role", "user", "content", "q1", "role", "assistant",
                        "content", "a1", "role", "user", "content", "q2",
                        "role", "assistant", "content", "a2");
    first = json_array_get(history, 0);
    refs = first->refcount;
    text = paa_llm_request(tp, "model-x", &p, history, q);
    ck_assert_ptr_ne(text, NULL);
    /* history is borrowed: untouched */
    ck_assert_int_eq(json_array_size(history), 4);
    ck_assert_int_eq(first->refcount, refs);

    req = json_loads(text, 0, &je);
    ck_assert_msg(req != NULL, "not JSON: %s", text);
    ck_assert_str_eq(json_string_value(json_object_get(req, "model")),
                     "model-x");
    ck_assert(json_is_number(json_object_get(req, "temperature")));
    ck_assert(json_number_value(json_object_get(req, "temperature")) == 0.0);
    ck_assert(json_is_integer(json_object_get(req, "max_tokens")));
    ck_assert_int_eq(json_integer_value(json_object_get(req, "max_tokens")),
                     321);
    ck_assert(!json_is_true(json_object_get(req, "stream")));
    msgs = json_object_get(req, "messages");
    ck_assert_int_eq(json_array_size(msgs), 6);
#define ROLE(i)                                                                \
    json_string_value(json_object_get(json_array_get(msgs, i), "role"))
#define CONTENT(i)                                                             \
    json_string_value(json_object_get(json_array_get(msgs, i), "content"))
    ck_assert_str_eq(ROLE(0), "system");
    ck_assert_str_eq(CONTENT(0), paa_persona_prompt(tp, &p));
    ck_assert_str_eq(ROLE(1), "user");
    ck_assert_str_eq(CONTENT(1), "q1");
    ck_assert_str_eq(ROLE(2), "assistant");
    ck_assert_str_eq(CONTENT(2), "a1");
    ck_assert_str_eq(ROLE(3), "user");
    ck_assert_str_eq(CONTENT(3), "q2");
    ck_assert_str_eq(ROLE(4), "assistant");
    ck_assert_str_eq(CONTENT(4), "a2");
    ck_assert_str_eq(ROLE(5), "user");
    ck_assert_str_eq(CONTENT(5), q);
    json_decref(req);

    /* a fractional temperature survives; no history (NULL or empty) */
    p.temperature = 0.7;
    req = json_loads(paa_llm_request(tp, "m", &p, NULL, "hi"), 0, &je);
    ck_assert_ptr_ne(req, NULL);
    ck_assert(json_number_value(json_object_get(req, "temperature")) == 0.7);
    msgs = json_object_get(req, "messages");
    ck_assert_int_eq(json_array_size(msgs), 2);
    ck_assert_str_eq(ROLE(0), "system");
    ck_assert_str_eq(ROLE(1), "user");
    ck_assert_str_eq(CONTENT(1), "hi");
    json_decref(req);
    json_array_clear(history);
    req = json_loads(paa_llm_request(tp, "m", &p, history, "hi"), 0, &je);
    ck_assert_int_eq(json_array_size(json_object_get(req, "messages")), 2);
    json_decref(req);
    json_decref(history);
#undef ROLE
#undef CONTENT
}
END_TEST

static apr_status_t parse(const char *body, const char **answer,
                          const char **model)
{
    *answer = *model = "unset";
    return paa_llm_parse(tp, body, strlen(body), answer, model);
}

START_TEST(llm_parse)
{
    const char *answer, *model;
    const char *good = "{\"id\":\"c1\",\"object\":\"chat.completion\","
                       "\"model\":\"gpt-test\",\"choices\":[{\"index\":0,"
                       "\"message\":{\"role\":\"assistant\",\"content\":"
                       "\"Hello \\\"there\\\"\"},\"finish_reason\":\"stop\"}]}";
    char buf[512];

    ck_assert_int_eq(parse(good, &answer, &model), APR_SUCCESS);
    ck_assert_str_eq(answer, "Hello \"there\"");
    ck_assert_str_eq(model, "gpt-test");

    /* no model in the answer: model NULL, the caller uses its own */
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":\"ok\"}}]}",
                           &answer, &model),
                     APR_SUCCESS);
    ck_assert_str_eq(answer, "ok");
    ck_assert_ptr_eq(model, NULL);
    /* an empty answer is still an answer */
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":\"\"}}]}",
                           &answer, &model),
                     APR_SUCCESS);
    ck_assert_str_eq(answer, "");

    /* only len bytes are read: a valid answer followed by junk */
    snprintf(buf, sizeof(buf), "%sJUNK", good);
    ck_assert_int_eq(paa_llm_parse(tp, buf, strlen(good), &answer, &model),
                     APR_SUCCESS);
    ck_assert_str_eq(answer, "Hello \"there\"");
    ck_assert_int_eq(paa_llm_parse(tp, buf, strlen(buf), &answer, &model),
                     APR_EINVAL);

    /* not chat completions */
    ck_assert_int_eq(parse("{\"model\":\"m\"}", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(parse("{\"choices\":[]}", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(parse("{\"choices\":{}}", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(parse("{\"choices\":[{}]}", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(
        parse("{\"choices\":[{\"message\":\"hi\"}]}", &answer, &model),
        APR_EINVAL);
    ck_assert_int_eq(
        parse("{\"error\":{\"message\":\"rate limited\"}}", &answer, &model),
        APR_EINVAL);
    /* content not a string */
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":null}}]}",
                           &answer, &model),
                     APR_EINVAL);
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":42}}]}",
                           &answer, &model),
                     APR_EINVAL);
    ck_assert_int_eq(
        parse("{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\","
              "\"text\":\"hi\"}]}}]}",
              &answer, &model),
        APR_EINVAL);
    /* not JSON */
    ck_assert_int_eq(parse("<html>Bad Gateway</html>", &answer, &model),
                     APR_EINVAL);
    ck_assert_int_eq(
        parse("{\"choices\":[{\"message\":{\"content\":\"tr", &answer, &model),
        APR_EINVAL);
    ck_assert_int_eq(parse("", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(parse("[1,2,3]", &answer, &model), APR_EINVAL);
    ck_assert_int_eq(paa_llm_parse(tp, good, 0, &answer, &model), APR_EINVAL);
}
END_TEST

#define SEC(n)     apr_time_from_sec(n)
#define T0         apr_time_from_sec(1764288000)
#define THRESHOLD  3
#define COOLDOWN   SEC(30)
#define PROBE_TIME SEC(10)

static paa_breaker_e check(paa_breaker_t *b, apr_time_t now)
{
    return paa_breaker_check(b, now, PROBE_TIME);
}

static void record(paa_breaker_t *b, int ok, apr_time_t now)
{
    paa_breaker_record(b, ok, now, THRESHOLD, COOLDOWN);
}

/* Open b at time t (THRESHOLD consecutive failures). */
static void open_at(paa_breaker_t *b, apr_time_t t)
{
    int i;
    memset(b, 0, sizeof(*b));
    for (i = 0; i < THRESHOLD; i++) {
        ck_assert_int_eq(check(b, t), PAA_BREAKER_CLOSED);
        record(b, 0, t);
    }
}

START_TEST(breaker_closed_until_threshold)
{
    paa_breaker_t b;
    int i;

    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(check(&b, T0), PAA_BREAKER_CLOSED);
    ck_assert_int_eq(check(&b, T0), PAA_BREAKER_CLOSED);
    record(&b, 1, T0);
    ck_assert_int_eq(check(&b, T0), PAA_BREAKER_CLOSED);
    /* threshold - 1 failures: still closed */
    for (i = 0; i < THRESHOLD - 1; i++) {
        record(&b, 0, T0 + SEC(i));
        ck_assert_int_eq(check(&b, T0 + SEC(i)), PAA_BREAKER_CLOSED);
    }
    /* a success in between resets the count: failures must be consecutive */
    record(&b, 1, T0 + SEC(5));
    for (i = 0; i < THRESHOLD - 1; i++) {
        record(&b, 0, T0 + SEC(6));
        ck_assert_int_eq(check(&b, T0 + SEC(6)), PAA_BREAKER_CLOSED);
    }
    /* the threshold-th consecutive failure opens it */
    record(&b, 0, T0 + SEC(7));
    ck_assert_int_eq(check(&b, T0 + SEC(7)), PAA_BREAKER_OPEN);

    /* threshold 1: the first failure opens it */
    memset(&b, 0, sizeof(b));
    paa_breaker_record(&b, 0, T0, 1, COOLDOWN);
    ck_assert_int_eq(check(&b, T0), PAA_BREAKER_OPEN);
}
END_TEST

START_TEST(breaker_open_until_cooldown)
{
    paa_breaker_t b;

    open_at(&b, T0);
    ck_assert_int_eq(check(&b, T0), PAA_BREAKER_OPEN);
    ck_assert_int_eq(check(&b, T0 + SEC(1)), PAA_BREAKER_OPEN);
    ck_assert_int_eq(check(&b, T0 + COOLDOWN - 1), PAA_BREAKER_OPEN);
    /* every check while open says open, and none of them is a probe */
    ck_assert_int_eq(check(&b, T0 + COOLDOWN - 1), PAA_BREAKER_OPEN);
    /* cooled down: a probe */
    ck_assert_int_eq(check(&b, T0 + COOLDOWN), PAA_BREAKER_PROBE);
}
END_TEST

START_TEST(breaker_one_probe)
{
    paa_breaker_t b;
    apr_time_t t = T0 + COOLDOWN + SEC(1);
    int i, probes = 0;

    open_at(&b, T0);
    /* many requests after the cool-down: exactly one probes */
    for (i = 0; i < 50; i++) {
        paa_breaker_e s = check(&b, t + i);
        ck_assert(s != PAA_BREAKER_CLOSED);
        probes += s == PAA_BREAKER_PROBE;
    }
    ck_assert_int_eq(probes, 1);
    /* still one while the probe is in flight (within its timeout) */
    ck_assert_int_eq(check(&b, t + PROBE_TIME - 1), PAA_BREAKER_OPEN);
    /* a probe that never reports does not block the provider forever */
    ck_assert_int_eq(check(&b, t + PROBE_TIME), PAA_BREAKER_PROBE);
    ck_assert_int_eq(check(&b, t + PROBE_TIME), PAA_BREAKER_OPEN);
}
END_TEST

START_TEST(breaker_probe_success_closes)
{
    paa_breaker_t b;
    apr_time_t t = T0 + COOLDOWN;
    int i;

    open_at(&b, T0);
    ck_assert_int_eq(check(&b, t), PAA_BREAKER_PROBE);
    record(&b, 1, t + SEC(1));
    ck_assert_int_eq(check(&b, t + SEC(1)), PAA_BREAKER_CLOSED);
    ck_assert_int_eq(check(&b, t + SEC(1)), PAA_BREAKER_CLOSED);
    /* and the failure count starts afresh */
    for (i = 0; i < THRESHOLD - 1; i++) {
        record(&b, 0, t + SEC(2));
        ck_assert_int_eq(check(&b, t + SEC(2)), PAA_BREAKER_CLOSED);
    }
    record(&b, 0, t + SEC(3));
    ck_assert_int_eq(check(&b, t + SEC(3)), PAA_BREAKER_OPEN);
}
END_TEST

START_TEST(breaker_probe_failure_reopens)
{
    paa_breaker_t b;
    apr_time_t t = T0 + COOLDOWN, fail = t + SEC(2);

    open_at(&b, T0);
    ck_assert_int_eq(check(&b, t), PAA_BREAKER_PROBE);
    record(&b, 0, fail);
    /* open again at once, for a whole cool-down from the failed probe */
    ck_assert_int_eq(check(&b, fail), PAA_BREAKER_OPEN);
    ck_assert_int_eq(check(&b, fail + COOLDOWN - 1), PAA_BREAKER_OPEN);
    /* then exactly one probe again */
    ck_assert_int_eq(check(&b, fail + COOLDOWN), PAA_BREAKER_PROBE);
    ck_assert_int_eq(check(&b, fail + COOLDOWN), PAA_BREAKER_OPEN);
    record(&b, 1, fail + COOLDOWN + SEC(1));
    ck_assert_int_eq(check(&b, fail + COOLDOWN + SEC(1)), PAA_BREAKER_CLOSED);
}
END_TEST

static Suite *agent_suite(void)
{
    Suite *s = suite_create("agent");
    TCase *tc = tcase_create("agent");
    tcase_add_checked_fixture(tc, paa_test_setup, teardown);
    tcase_add_test(tc, persona_valid);
    tcase_add_test(tc, persona_id);
    tcase_add_test(tc, persona_id_from_path);
    tcase_add_test(tc, persona_strings);
    tcase_add_test(tc, persona_numbers);
    tcase_add_test(tc, persona_unknown_and_many);
    tcase_add_test(tc, persona_prompt);
    tcase_add_test(tc, llm_request);
    tcase_add_test(tc, llm_parse);
    tcase_add_test(tc, breaker_closed_until_threshold);
    tcase_add_test(tc, breaker_open_until_cooldown);
    tcase_add_test(tc, breaker_one_probe);
    tcase_add_test(tc, breaker_probe_success_closes);
    tcase_add_test(tc, breaker_probe_failure_reopens);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(agent_suite)
