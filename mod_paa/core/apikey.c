/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API keys: "pak_" + 64 lowercase hex digits (32 bytes from the CSPRNG).
 * Only the SHA-256 of the whole key is stored: the key has 256 bits of
 * entropy, so a fast hash is enough and lets every request be one indexed
 * lookup. */

#include "paa.h"

#include <apr_strings.h>
#include <strings.h>

apr_status_t paa_apikey_generate(apr_pool_t *p, paa_apikey_t *out)
{
    unsigned char raw[32];

    if (paa_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    out->key =
        apr_pstrcat(p, PAA_APIKEY_PREFIX, paa_hex(p, raw, sizeof(raw)), NULL);
    paa_wipe(raw, sizeof(raw));
    out->hash = paa_sha256_hex(p, out->key, PAA_APIKEY_LEN);
    out->prefix = apr_pstrmemdup(p, out->key, PAA_APIKEY_SHOWN);
    out->id = paa_id_generate(p, "key_");
    return out->id ? APR_SUCCESS : APR_EGENERAL;
}

int paa_apikey_well_formed(const char *s)
{
    int i;
    if (strncmp(s, PAA_APIKEY_PREFIX, 4)) {
        return 0;
    }
    for (i = 4; i < PAA_APIKEY_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[PAA_APIKEY_LEN] == '\0';
}

/* The keys the security guide prints as examples (4.1, 4.2, 4.3, 6.1).
 * Copied into API_KEYS they are credentials that anyone who has read the
 * guide holds, as the example JWT secret is a secret everyone knows. */
static const char *const guide_example_keys[] = {
    "pak_your_api_key_here", "pak_another_key_here", "pak_old_key",
    "pak_new_key",           "pak_compromised_key",  NULL};

/* The guide's "Output: pak_a1b2c3d4e5f6...": a key that starts so was
 * copied from it (a random key does with probability 16^-12). */
#define GUIDE_EXAMPLE_PREFIX "pak_a1b2c3d4e5f6"

const char *paa_apikey_guide_example(const char *key)
{
    int i;

    for (i = 0; guide_example_keys[i]; i++) {
        if (!strcasecmp(key, guide_example_keys[i])) {
            return guide_example_keys[i];
        }
    }
    if (!strncasecmp(key, GUIDE_EXAMPLE_PREFIX, strlen(GUIDE_EXAMPLE_PREFIX))) {
        return GUIDE_EXAMPLE_PREFIX "...";
    }
    return NULL;
}

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=". A table, as every bearer request scans its token. */
static const unsigned char b64token_char[256] = {
    ['-'] = 1,         ['.'] = 1,         ['_'] = 1,
    ['~'] = 1,         ['+'] = 1,         ['/'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1};

static int is_b64token(const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    while (b64token_char[*c]) {
        c++;
    }
    if (c == (const unsigned char *)s) {
        return 0;
    }
    while (*c == '=') {
        c++;
    }
    return *c == '\0';
}

paa_authz_header_e paa_parse_authorization(const char *header,
                                           const char **token)
{
    const char *t;

    *token = NULL;
    if (strncasecmp(header, "Bearer", 6) || header[6] != ' ') {
        return PAA_AUTHZ_OTHER;
    }
    for (t = header + 6; *t == ' '; t++) {
    }
    if (!*t) {
        return PAA_AUTHZ_OTHER; /* "Bearer" alone carries no credentials */
    }
    if (!is_b64token(t)) {
        return PAA_AUTHZ_MALFORMED;
    }
    *token = t;
    return PAA_AUTHZ_BEARER;
}
