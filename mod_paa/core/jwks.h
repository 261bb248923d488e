/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file jwks.h
 * @brief JSON Web Key Sets (RFC 7517): RSA and EC P-256 public keys parsed
 * into OpenSSL keys, selected by kid, and the claims an external identity
 * provider's token carries (principal, roles, scopes).
 */
#ifndef PAA_JWKS_H
#define PAA_JWKS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "jwt.h"

#define PAA_JWKS_MAX_LEN  65536 /* bytes of one key set document */
#define PAA_JWKS_MAX_KEYS 32
#define PAA_JWKS_MIN_RSA  2048 /* bits */

/** A parsed key set; its OpenSSL keys are freed with its pool. */
typedef struct paa_jwks paa_jwks_t;

/**
 * Parse a JWKS document, keeping only the keys usable for alg (RS256,
 * RS384, RS512: kty RSA of at least 2048 bits; ES256: kty EC, crv P-256,
 * a point on the curve); a key naming another alg or a use other than sig
 * is skipped. A set without one usable key is an error (*err says why), so
 * a garbage answer never replaces a good set.
 */
apr_status_t paa_jwks_parse(apr_pool_t *p, const char *text, apr_size_t len,
                            const char *alg, paa_jwks_t **out,
                            const char **err);

/** A set without keys: every kid is unknown (nothing fetched yet). */
paa_jwks_t *paa_jwks_empty(apr_pool_t *p);

/**
 * Why a key set or discovery URL is not acceptable, or NULL: https:// to
 * any host (libcurl verifies the certificate), plain http:// only to a
 * loopback address (127.0.0.1, [::1], localhost), or file:/absolute/path.
 */
const char *paa_jwks_url_invalid(const char *url);

/** Usable keys in the set. */
int paa_jwks_count(const paa_jwks_t *ks);

/** The verdict on a signature. */
typedef enum {
    PAA_JWKS_VERIFIED = 0,
    PAA_JWKS_BAD_SIGNATURE,
    PAA_JWKS_UNKNOWN_KID /* no key with this kid (or no kid, several keys) */
} paa_jwks_result_e;

/**
 * Verify a JWS signature (raw bytes: PKCS#1 v1.5 for RS*, r||s for ES256)
 * over data with the key named kid. Without a kid the set's only key is
 * used, never one of several.
 */
paa_jwks_result_e paa_jwks_verify(const paa_jwks_t *ks, const char *alg,
                                  const char *kid, const unsigned char *data,
                                  apr_size_t data_len, const unsigned char *sig,
                                  apr_size_t sig_len);

/**
 * The strings of a claim at a dotted path ("realm_access.roles"): an
 * array of strings, or one string split at spaces (an OAuth scope). NULL
 * when the claim is absent or of another type.
 */
apr_array_header_t *paa_jwt_claim_strings(apr_pool_t *p, json_t *claims,
                                          const char *path);

/**
 * Fill claims->principal (cfg->principal_claim, else sub; NULL unless a
 * non-empty string), ext_roles (cfg->roles_claim) and scopes (scope, else
 * scp) from verified claims.
 */
void paa_jwt_external_claims(apr_pool_t *p, const paa_jwt_config_t *cfg,
                             json_t *claims, paa_jwt_claims_t *out);

#endif /* PAA_JWKS_H */
