/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file crypto.h
 * @brief Randomness, hashes and constant-time comparison; API keys and
 * passwords built on them.
 */
#ifndef PAA_CRYPTO_H
#define PAA_CRYPTO_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>
#include <string.h>

/* -------------------------------------------------------------- crypto */

/** Fill buf from OpenSSL's CSPRNG; APR_EGENERAL if it cannot. */
apr_status_t paa_random_bytes(unsigned char *buf, apr_size_t n);

/** Lowercase hex of n bytes. */
char *paa_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t n);

/** SHA-256 of data into out (32 bytes). */
void paa_sha256(const char *data, apr_size_t len, unsigned char *out);

/** Lowercase hex SHA-256 of data. */
char *paa_sha256_hex(apr_pool_t *p, const char *data, apr_size_t len);

/** HMAC-SHA-256 of data under key into out (32 bytes).
 * @return 1, or 0 on failure (only a build without OpenSSL's low-level
 * SHA-256 can fail, on allocation) */
int paa_hmac_sha256(const char *key, apr_size_t klen, const void *data,
                    apr_size_t len, unsigned char *out);

/** Lowercase hex HMAC-SHA-256 of data under key; NULL on failure. */
char *paa_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *data, apr_size_t len);

/**
 * What the login lockout, the logs and the audit trail know of a login
 * name, which may be a password typed into the wrong field: "name:" and
 * the first 24 hex digits of HMAC-SHA-256(key, username), the same in
 * every process that has the JWT key, useless without it. mod_paa records
 * failures under it and paactl user unlock finds them by it.
 * @param key the JWT key (secret or public key) of the server
 */
const char *paa_login_name_ref(apr_pool_t *p, const char *key, apr_size_t klen,
                               const char *username);

/**
 * The stable, non-reversible name an erased principal keeps in the audit
 * trail: "erased:" and 24 hex digits of an HMAC of id under key (the JWT
 * secret, which module and paactl share). NULL on failure.
 */
const char *paa_pseudonym(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *id);

/** Standard base64 (with padding) of n bytes. */
char *paa_base64(apr_pool_t *p, const unsigned char *buf, apr_size_t n);

/**
 * Compare two secrets in time independent of their contents (the length
 * difference is the only thing that can show).
 * @return 1 when equal
 */
int paa_secret_equal(const char *a, apr_size_t alen, const char *b,
                     apr_size_t blen);

/**
 * Two SHA-256 digests (32 bytes) compared like paa_secret_equal, a word at
 * a time: on the request path of a cached key, CRYPTO_memcmp's byte loop
 * over a bucket's slots cost more than the rest of the lookup.
 * @return 1 when equal
 */
static inline int paa_digest_equal(const unsigned char *a,
                                   const unsigned char *b)
{
    apr_uint64_t x, y, d = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        memcpy(&x, a + i, sizeof(x));
        memcpy(&y, b + i, sizeof(y));
        d |= x ^ y;
    }
    return d == 0;
}

/** Overwrite memory in a way the compiler may not optimise away. */
void paa_wipe(void *buf, apr_size_t n);

/* -------------------------------------------------------------- apikey */

#define PAA_APIKEY_PREFIX "pak_"
#define PAA_APIKEY_LEN    68 /* "pak_" + 64 hex */
#define PAA_APIKEY_SHOWN  12 /* characters kept as the display prefix */

/** A new key and what may be stored about it. */
typedef struct {
    char *key;    /* shown once, never stored */
    char *hash;   /* SHA-256 hex of the whole key */
    char *prefix; /* "pak_" and the first 8 hex digits */
    char *id;     /* "key_" and 16 hex digits */
} paa_apikey_t;

apr_status_t paa_apikey_generate(apr_pool_t *p, paa_apikey_t *out);

/** 1 when s is "pak_" followed by exactly 64 lowercase hex digits. */
int paa_apikey_well_formed(const char *s);

/**
 * Whether key is one of the example API keys the security guide prints
 * (pak_your_api_key_here, pak_another_key_here, pak_a1b2c3d4e5f6...),
 * compared without regard to case. httpd refuses to start with one in
 * API_KEYS and paactl check fails it.
 * @return the published value it matches, or NULL
 */
const char *paa_apikey_guide_example(const char *key);

/** What an Authorization header holds, for AuthType PAA. */
typedef enum {
    PAA_AUTHZ_OTHER = 0, /* another scheme (Basic...) or no token at all */
    PAA_AUTHZ_MALFORMED, /* "Bearer" with something that is no b64token */
    PAA_AUTHZ_BEARER     /* a well-formed bearer token in *token */
} paa_authz_header_e;

/**
 * Parse an Authorization header value per RFC 6750 2.1 (scheme matched
 * case-insensitively, one or more spaces, then b64token).
 * @param token points into header on PAA_AUTHZ_BEARER
 */
paa_authz_header_e paa_parse_authorization(const char *header,
                                           const char **token);

/** A random identifier: prefix and 16 hex digits ("key_", "usr_"). */
char *paa_id_generate(apr_pool_t *p, const char *prefix);

/* ------------------------------------------------------------ password */

/** bcrypt work factor for new password hashes. */
#define PAA_BCRYPT_COST 12

/** The longest password bcrypt takes into account, in bytes. */
#define PAA_PASSWORD_MAX 72

/** A bcrypt ($2y$) hash of pw with a fresh salt; APR_EINVAL when pw is
 * longer than PAA_PASSWORD_MAX. */
apr_status_t paa_password_hash(apr_pool_t *p, const char *pw, char **hash);

/** 1 when pw matches the bcrypt hash. */
int paa_password_verify(const char *pw, const char *hash);

/** The user-facing rules for usernames: 1..100 of [A-Za-z0-9._@-]. */
int paa_username_valid(const char *name);

/** A role: 1..64 of [A-Za-z0-9._:-]; NULL when valid, else why not. */
const char *paa_role_invalid(const char *role);

/**
 * 1 when any role in have (comma list) is in want (array). Constant-time
 * is not needed: roles are not secrets.
 */
int paa_roles_intersect(apr_pool_t *p, const char *have,
                        const apr_array_header_t *want);

/** The same for a list already split. */
int paa_roles_match(const apr_array_header_t *have,
                    const apr_array_header_t *want);

#endif /* PAA_CRYPTO_H */
