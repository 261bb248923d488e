/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API keys: "pak_" + 64 lowercase hex digits (32 bytes from the CSPRNG).
 * Only the SHA-256 of the whole key is stored: the key has 256 bits of
 * entropy, so a fast hash is enough and lets every request be one indexed
 * lookup. */

#include "paa.h"

#include <apr_strings.h>

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
