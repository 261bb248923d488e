/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Passwords are bcrypt through APR (the same format httpd's htpasswd -B
 * writes), so apr_password_validate checks them in the module. */

#include "paa.h"

#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

apr_status_t paa_password_hash(apr_pool_t *p, const char *pw, char **hash)
{
    unsigned char salt[16];
    char out[64];
    apr_status_t rv;

    /* bcrypt ignores everything past 72 bytes: refuse rather than let the
     * end of a long password silently not matter. */
    if (strlen(pw) > PAA_PASSWORD_MAX) {
        return APR_EINVAL;
    }
    if ((rv = paa_random_bytes(salt, sizeof(salt))) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_bcrypt_encode(pw, PAA_BCRYPT_COST, salt, sizeof(salt), out,
                           sizeof(out));
    paa_wipe(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *hash = apr_pstrdup(p, out);
    return APR_SUCCESS;
}

int paa_password_verify(const char *pw, const char *hash)
{
    /* Only bcrypt: apr_password_validate would also accept crypt(3), MD5
     * and plain SHA-1 hashes that a tampered row could hold. */
    if (strncmp(hash, "$2y$", 4) && strncmp(hash, "$2a$", 4) &&
        strncmp(hash, "$2b$", 4)) {
        return 0;
    }
    return apr_password_validate(pw, hash) == APR_SUCCESS;
}

int paa_username_valid(const char *name)
{
    const char *c;
    if (!name || !*name || strlen(name) > 100) {
        return 0;
    }
    for (c = name; *c; c++) {
        if (!(apr_isalnum(*c) || *c == '.' || *c == '_' || *c == '@' ||
              *c == '-')) {
            return 0;
        }
    }
    return 1;
}

const char *paa_role_invalid(const char *role)
{
    const char *c;
    if (!role || !*role || strlen(role) > 64) {
        return "a role must be 1 to 64 characters";
    }
    for (c = role; *c; c++) {
        if (!(apr_isalnum(*c) || *c == '-' || *c == '_' || *c == '.' ||
              *c == ':')) {
            return "a role may only contain letters, digits and - _ . :";
        }
    }
    return NULL;
}

int paa_roles_intersect(apr_pool_t *p, const char *have,
                        const apr_array_header_t *want)
{
    return paa_roles_match(paa_split_list(p, have), want);
}

int paa_roles_match(const apr_array_header_t *h, const apr_array_header_t *want)
{
    int i, j;
    for (i = 0; i < h->nelts; i++) {
        for (j = 0; j < want->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(h, i, const char *),
                        APR_ARRAY_IDX(want, j, const char *))) {
                return 1;
            }
        }
    }
    return 0;
}
