/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for the parsers that read credentials and their settings
 * from untrusted or hand-written text: the Authorization header (from
 * every request), API key syntax, durations, comma lists and the .env
 * grammar with the JWT settings derived from it.
 *
 * The input's first line (up to the first '\n') goes to the one-line
 * parsers, the whole input to paa_env_parse and paa_secret_weakness. The
 * header, key and duration results are compared with small reference
 * implementations written from the documented grammar (RFC 6750 2.1 for
 * the header), so a disagreement is a bug in one or the other; the rest
 * is held to invariants that follow from paa.h. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed. */
static struct {
    int authz;            /* paa_authz_header_e */
    int apikey;           /* paa_apikey_well_formed */
    apr_int64_t duration; /* seconds, 0 when refused */
    int env_ok;           /* paa_env_parse succeeded */
    int config_ok;        /* paa_jwt_config_from_env succeeded */
    int nitems;           /* paa_split_list */
    int weak;             /* paa_secret_weakness gave a reason */
} last;

static void broken(const char *what, const char *input)
{
    fuzz_broken("fuzz_credentials", what, input);
}

/* ----------------------------------------------- reference implementations */

static int b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/';
}

/* RFC 6750 2.1: credentials = "Bearer" 1*SP b64token, the scheme
 * case-insensitive; b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=". A "Bearer" without a token carries no credentials. */
static paa_authz_header_e ref_authorization(const char *h, const char **tok)
{
    static const char scheme[] = "bearer";
    size_t i;
    const char *t, *c;

    *tok = NULL;
    for (i = 0; i < 6; i++) {
        if (tolower((unsigned char)h[i]) != scheme[i]) {
            return PAA_AUTHZ_OTHER;
        }
    }
    if (h[6] != ' ') {
        return PAA_AUTHZ_OTHER;
    }
    t = h + 7;
    while (*t == ' ') {
        t++;
    }
    if (!*t) {
        return PAA_AUTHZ_OTHER;
    }
    for (c = t; b64token_char(*c); c++) {
    }
    if (c == t) {
        return PAA_AUTHZ_MALFORMED;
    }
    while (*c == '=') {
        c++;
    }
    if (*c) {
        return PAA_AUTHZ_MALFORMED;
    }
    *tok = t;
    return PAA_AUTHZ_BEARER;
}

/* "pak_" followed by exactly 64 lowercase hex digits. */
static int ref_apikey(const char *s)
{
    size_t i;
    if (strlen(s) != PAA_APIKEY_LEN || strncmp(s, "pak_", 4)) {
        return 0;
    }
    for (i = 4; i < PAA_APIKEY_LEN; i++) {
        if (!strchr("0123456789abcdef", s[i])) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ checks */

static void check_authorization(const char *line)
{
    const char *tok = line, *want_tok;
    size_t len = strlen(line);
    paa_authz_header_e r = paa_parse_authorization(line, &tok);
    paa_authz_header_e want = ref_authorization(line, &want_tok);

    if (r != PAA_AUTHZ_OTHER && r != PAA_AUTHZ_MALFORMED &&
        r != PAA_AUTHZ_BEARER) {
        broken("paa_parse_authorization: result out of range", line);
    }
    if (r != want) {
        broken("paa_parse_authorization disagrees with RFC 6750 2.1", line);
    }
    if (r != PAA_AUTHZ_BEARER) {
        if (tok != NULL) {
            broken("paa_parse_authorization: token set without a bearer", line);
        }
    }
    else if (!tok || tok < line || tok >= line + len || !*tok ||
             strchr(tok, ' ') || tok != want_tok) {
        broken("paa_parse_authorization: bearer token is not the b64token "
               "inside the header",
               line);
    }
    last.authz = (int)r;
}

static void check_split_list(apr_pool_t *p, const char *line)
{
    apr_array_header_t *a = paa_split_list(p, line);
    const char *in = line;
    int i;

    if (!a || paa_split_list(p, NULL)->nelts != 0) {
        broken("paa_split_list: no array", line);
    }
    /* Items are non-empty, trimmed, comma-free, and together hold every
     * character of the input except separators and trimmed spaces, in
     * order. */
    for (i = 0; i < a->nelts; i++) {
        const char *item = APR_ARRAY_IDX(a, i, const char *), *c;
        size_t n = strlen(item);
        if (n == 0 || isspace((unsigned char)item[0]) ||
            isspace((unsigned char)item[n - 1]) || strchr(item, ',')) {
            broken("paa_split_list: item empty, untrimmed or with a comma",
                   line);
        }
        for (c = item; *c; c++) {
            if (isspace((unsigned char)*c)) {
                continue;
            }
            while (*in && (*in == ',' || isspace((unsigned char)*in))) {
                in++;
            }
            if (*in++ != *c) {
                broken("paa_split_list: items are not the input's text", line);
            }
        }
    }
    while (*in && (*in == ',' || isspace((unsigned char)*in))) {
        in++;
    }
    if (*in) {
        broken("paa_split_list: lost text of the input", line);
    }
    last.nitems = a->nelts;
}

static void check_env(apr_pool_t *p, const char *text, size_t size)
{
    apr_table_t *t = NULL;
    const char *err = NULL;
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    paa_jwt_config_t cfg;
    apr_int64_t ttl = 0;
    int i;

    if (paa_env_parse(p, "fuzz.env", text, size, &t, &err) != APR_SUCCESS) {
        if (!err || strncmp(err, "fuzz.env:", 9)) {
            broken("paa_env_parse: failed without naming file and line", text);
        }
        return;
    }
    last.env_ok = 1;
    if (!t) {
        broken("paa_env_parse: succeeded without a table", text);
    }
    arr = apr_table_elts(t);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key, *v = e[i].val;
        size_t j;
        if (!k || !*k || isdigit((unsigned char)k[0]) || !v) {
            broken("paa_env_parse: bad name or no value", text);
        }
        for (j = 0; k[j]; j++) {
            if (!isalnum((unsigned char)k[j]) && k[j] != '_') {
                broken("paa_env_parse: invalid variable name accepted", text);
            }
        }
        if (strchr(v, '\n') || strlen(v) > size) {
            broken("paa_env_parse: value spans lines", text);
        }
        if (!paa_env_get(t, k)) {
            broken("paa_env_get: a variable in the table is not found", text);
        }
    }

    err = NULL;
    if (paa_jwt_settings_from_env(p, t, &cfg, &ttl, &err) == APR_SUCCESS) {
        if (!paa_jwt_alg_supported(cfg.alg) || cfg.leeway < 0 ||
            cfg.leeway > PAA_JWT_MAX_LEEWAY || ttl <= 0 ||
            ttl > FUZZ_DURATION_MAX) {
            broken("paa_jwt_settings_from_env: accepted bad settings", text);
        }
    }
    else if (!err) {
        broken("paa_jwt_settings_from_env: failed without a message", text);
    }

    err = NULL;
    if (paa_jwt_config_from_env(p, t, &cfg, &ttl, &err) == APR_SUCCESS) {
        last.config_ok = 1;
        if (paa_jwt_alg_is_hmac(cfg.alg) &&
            (!cfg.key || cfg.key_len != strlen(cfg.key) ||
             paa_secret_weakness(p, cfg.key, cfg.key_len) ||
             (cfg.prev_key_len &&
              paa_secret_weakness(p, cfg.prev_key, cfg.prev_key_len)))) {
            broken("paa_jwt_config_from_env: accepted an unusable secret",
                   text);
        }
    }
    else if (!err) {
        broken("paa_jwt_config_from_env: failed without a message", text);
    }
}

/* The naive definition, to check the linear-time one against: some k with
 * 2k <= size and text[i] == text[i + k] everywhere. */
static int periodic(const char *text, size_t size)
{
    size_t k, i;
    for (k = 1; 2 * k <= size; k++) {
        for (i = 0; i + k < size && text[i] == text[i + k]; i++) {
        }
        if (i + k >= size) {
            return 1;
        }
    }
    return 0;
}

static void check_secret(apr_pool_t *p, const char *text, size_t size)
{
    const char *why = paa_secret_weakness(p, text, size);
    size_t i, distinct = 0;
    int seen[256] = {0};

    for (i = 0; i < size; i++) {
        if (!seen[(unsigned char)text[i]]++) {
            distinct++;
        }
    }
    if (why && !*why) {
        broken("paa_secret_weakness: empty reason", text);
    }
    if (!why && (size < PAA_JWT_MIN_SECRET || distinct < 8)) {
        broken("paa_secret_weakness: accepted a short or uniform secret", text);
    }
    if (!why && periodic(text, size)) {
        broken("paa_secret_weakness: accepted a repeated pattern", text);
    }
    last.weak = why != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    char *whole = malloc(size + 1), *line = malloc(n + 1);
    apr_int64_t seconds = -1;
    apr_status_t rv;

    fuzz_setup();
    memset(&last, 0, sizeof(last));
    memcpy(whole, data, size);
    whole[size] = '\0';
    memcpy(line, data, n);
    line[n] = '\0';
    apr_pool_create(&p, NULL);

    check_authorization(line);

    last.apikey = paa_apikey_well_formed(line);
    if (last.apikey != 0 && last.apikey != 1) {
        broken("paa_apikey_well_formed: not 0 or 1", line);
    }
    if (last.apikey != ref_apikey(line)) {
        broken("paa_apikey_well_formed disagrees with pak_ + 64 hex", line);
    }

    rv = paa_duration_parse(line, &seconds);
    if ((rv == APR_SUCCESS ? seconds : 0) != ref_duration(line)) {
        broken("paa_duration_parse disagrees with the documented grammar",
               line);
    }
    last.duration = rv == APR_SUCCESS ? seconds : 0;

    check_split_list(p, line);
    check_env(p, whole, size);
    check_secret(p, whole, size);

    apr_pool_destroy(p);
    free(line);
    free(whole);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

#define ANY       -1
#define OTHER     PAA_AUTHZ_OTHER
#define MALFORMED PAA_AUTHZ_MALFORMED
#define BEARER    PAA_AUTHZ_BEARER

/* What each named seed must produce (ANY: not checked): authz, apikey,
 * duration (seconds, 0 when refused), env_ok, config_ok, nitems, weak.
 * Each seed pins only what it is about. */
static const struct {
    const char *name;
    int authz, apikey;
    apr_int64_t duration;
    int env_ok, config_ok, nitems, weak;
} seeds[] = {
    {"basic", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_all_b64token_chars", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_api_key", BEARER, 0, ANY, ANY, ANY, ANY, ANY},
    {"bearer_crlf", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_empty", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_equals_inside", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_equals_only", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_lowercase", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_many_spaces", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_mixed_case", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_no_space", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_non_ascii", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_nul_inside", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_ok", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_only_spaces", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_prefix_only_word", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_tab", OTHER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_trailing_equals", BEARER, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_trailing_space", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"bearer_two_tokens", MALFORMED, ANY, ANY, ANY, ANY, ANY, ANY},
    {"digest", OTHER, ANY, ANY, ANY, ANY, 5, ANY},
    {"duration_15m", ANY, ANY, 900, ANY, ANY, ANY, ANY},
    {"duration_1w", ANY, ANY, 604800, ANY, ANY, ANY, ANY},
    {"duration_24h", ANY, ANY, 86400, ANY, ANY, ANY, ANY},
    {"duration_30s", ANY, ANY, 30, ANY, ANY, ANY, ANY},
    {"duration_90d", ANY, ANY, 7776000, ANY, ANY, ANY, ANY},
    {"duration_leading_zeros", ANY, ANY, 7, ANY, ANY, ANY, ANY},
    {"duration_max", ANY, ANY, 3162240000, ANY, ANY, ANY, ANY},
    {"duration_max_days", ANY, ANY, 3162240000, ANY, ANY, ANY, ANY},
    {"duration_negative", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_over_max", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_over_max_days", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_overflow", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_plain_seconds", ANY, ANY, 3600, ANY, ANY, ANY, ANY},
    {"duration_space", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_two_units", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_unit_only", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_uppercase_unit", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_zero", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"duration_zero_hours", ANY, ANY, 0, ANY, ANY, ANY, ANY},
    {"empty", OTHER, ANY, ANY, 1, 0, 0, 1},
    {"env_alg_none", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_bad_expires", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_bad_leeway", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_bad_name", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_crlf", ANY, ANY, ANY, 1, 1, ANY, ANY},
    {"env_export_only", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_file_samples", ANY, ANY, ANY, 1, 1, ANY, ANY},
    {"env_leeway_not_number", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_long_paa_env", ANY, ANY, ANY, 1, 1, ANY, ANY},
    {"env_name_with_dash", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_no_equals", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_no_secret", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_nul_in_value", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_paa_env_suffix", ANY, ANY, ANY, 1, 1, ANY, ANY},
    {"env_quote_then_comment", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_rs256_no_secret", ANY, ANY, ANY, 1, 1, ANY, ANY},
    {"env_text_after_quote", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_unterminated_quote", ANY, ANY, ANY, 0, 0, ANY, ANY},
    {"env_weak_previous", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"env_weak_secret", ANY, ANY, ANY, 1, 0, ANY, ANY},
    {"list_api_keys", ANY, ANY, ANY, ANY, ANY, 3, ANY},
    {"list_cors_origins", ANY, ANY, ANY, ANY, ANY, 2, ANY},
    {"list_only_separators", ANY, ANY, ANY, ANY, ANY, 0, ANY},
    {"list_space_inside_item", ANY, ANY, ANY, ANY, ANY, 2, ANY},
    {"pak_long", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_no_prefix", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_non_hex", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_nul_inside", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_prefix_uppercase", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_short", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_trailing_space", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_uppercase", ANY, 0, ANY, ANY, ANY, ANY, ANY},
    {"pak_valid", ANY, 1, ANY, ANY, ANY, ANY, ANY},
    {"pak_valid_newline", ANY, 1, ANY, ANY, ANY, ANY, ANY},
    {"secret_known_default", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {"secret_known_default_case", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {"secret_periodic", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {"secret_periodic_cut_short", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {"secret_short", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {"secret_strong", ANY, ANY, ANY, ANY, ANY, ANY, 0},
    {"secret_uniform", ANY, ANY, ANY, ANY, ANY, ANY, 1},
    {NULL, 0, 0, 0, 0, 0, 0, 0},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[200];
    const char *what = NULL;
    int i;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    if (!seeds[i].name) {
        return NULL;
    }
    if (seeds[i].authz != ANY && seeds[i].authz != last.authz) {
        what = "paa_parse_authorization";
    }
    else if (seeds[i].apikey != ANY && seeds[i].apikey != last.apikey) {
        what = "paa_apikey_well_formed";
    }
    else if (seeds[i].duration != ANY && seeds[i].duration != last.duration) {
        what = "paa_duration_parse";
    }
    else if (seeds[i].env_ok != ANY && seeds[i].env_ok != last.env_ok) {
        what = "paa_env_parse";
    }
    else if (seeds[i].config_ok != ANY &&
             seeds[i].config_ok != last.config_ok) {
        what = "paa_jwt_config_from_env";
    }
    else if (seeds[i].nitems != ANY && seeds[i].nitems != last.nitems) {
        what = "paa_split_list";
    }
    else if (seeds[i].weak != ANY && seeds[i].weak != last.weak) {
        what = "paa_secret_weakness";
    }
    if (!what) {
        return NULL;
    }
    snprintf(msg, sizeof(msg),
             "%s is not what the seed is for: authz=%d apikey=%d "
             "duration=%lld env=%d config=%d items=%d weak=%d",
             what, last.authz, last.apikey, (long long)last.duration,
             last.env_ok, last.config_ok, last.nitems, last.weak);
    return msg;
}
