/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file jwt.h
 * @brief JWT verification (the algorithm pinned, never the header's) and
 * signing.
 */
#ifndef PAA_JWT_H
#define PAA_JWT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ----------------------------------------------------------------- jwt */

/** Why a token was refused; PAA_JWT_OK when it was not. */
typedef enum {
    PAA_JWT_OK = 0,
    PAA_JWT_MALFORMED,     /* not three base64url parts of JSON */
    PAA_JWT_ALG_MISMATCH,  /* header alg is not the pinned one */
    PAA_JWT_BAD_SIGNATURE, /* no configured key verifies it */
    PAA_JWT_NO_EXP,        /* exp missing or not a number */
    PAA_JWT_EXPIRED,
    PAA_JWT_NOT_YET_VALID, /* nbf in the future */
    PAA_JWT_IAT_FUTURE,    /* issued in the future */
    PAA_JWT_BAD_ISSUER,
    PAA_JWT_BAD_AUDIENCE,
    PAA_JWT_NO_SUBJECT,
    PAA_JWT_UNKNOWN_KID, /* no key of the key set has the token's kid */
    PAA_JWT_TOO_LONG     /* exp further from iat than the maximum lifetime */
} paa_jwt_result_e;

#define PAA_JWT_MAX_LEN    8192
#define PAA_JWT_MAX_LEEWAY 300
#define PAA_JWT_MIN_SECRET 32

/** Verification and signing settings; the algorithm is pinned here. */
typedef struct {
    const char *alg; /* HS256 HS384 HS512 RS256 RS384 RS512 ES256 */
    const char *key; /* HMAC secret, or PEM public key for RS/ES */
    apr_size_t key_len;
    const char *prev_key; /* HMAC secret still accepted while rotating */
    apr_size_t prev_key_len;
    const char *issuer;   /* required iss when set */
    const char *audience; /* required aud (string or member) when set */
    int leeway;           /* seconds, 0..PAA_JWT_MAX_LEEWAY */
    /* An external provider's keys (jwks.h): when set, RS/ES tokens are
     * verified with the key named by their kid instead of key. */
    const struct paa_jwks *jwks;
    apr_int64_t max_lifetime;    /* seconds exp may lie past iat; 0: any */
    const char *principal_claim; /* claims.principal from it; NULL: sub */
    const char *roles_claim;     /* claims.ext_roles from it (a path) */
} paa_jwt_config_t;

/** The claims mod_paa uses. roles is NULL when the token has no roles. */
typedef struct {
    const char *sub;
    const char *username;
    apr_array_header_t *roles; /* of const char * */
    apr_int64_t iat;
    apr_int64_t exp;
    const char *jti;
    const char *kid;       /* the header's, for logs; NULL when none */
    const char *principal; /* principal_claim's value (sub by default) */
    apr_array_header_t *ext_roles; /* roles_claim's values, or NULL */
    apr_array_header_t *scopes;    /* scope (spaces) or scp; or NULL */
} paa_jwt_claims_t;

/** 1 when mod_paa can verify alg (never "none"). */
int paa_jwt_alg_supported(const char *alg);

/** 1 for the HMAC algorithms (shared secret; can sign). */
int paa_jwt_alg_is_hmac(const char *alg);

/**
 * Verify a compact JWS. The header's alg must equal cfg->alg before any
 * key is used, so a public key can never be used as an HMAC secret.
 * @param now Unix seconds
 */
paa_jwt_result_e paa_jwt_verify(apr_pool_t *p, const paa_jwt_config_t *cfg,
                                const char *token, apr_int64_t now,
                                paa_jwt_claims_t *claims);

/** The bytes of a base64url text without padding, or NULL. */
unsigned char *paa_b64url_decode(apr_pool_t *p, const char *s, apr_size_t n,
                                 int *len);

/** A short lowercase reason for logs ("expired", "bad signature", ...). */
const char *paa_jwt_result_str(paa_jwt_result_e result);

/** The RFC 6750 error code for a refused token. */
const char *paa_jwt_result_error(paa_jwt_result_e result);

/**
 * Sign claims with cfg->key (HMAC algorithms only). iat is now, exp is
 * now + ttl; iss and aud come from cfg; a random jti is added.
 */
apr_status_t paa_jwt_sign(apr_pool_t *p, const paa_jwt_config_t *cfg,
                          const char *sub, const char *username,
                          const apr_array_header_t *roles, apr_int64_t now,
                          apr_int64_t ttl, char **token, const char **err);

/**
 * The JWT settings of an env file, as both paactl and the module (unless
 * its directives override them) read them: JWT_ALGORITHM (HS256),
 * JWT_SECRET, JWT_SECRET_PREVIOUS, JWT_ISSUER, JWT_AUDIENCE, JWT_LEEWAY
 * (30), JWT_EXPIRES_IN (24h). The secret is checked with
 * paa_secret_weakness.
 */
/** The non-secret part of paa_jwt_config_from_env (key left NULL). */
apr_status_t paa_jwt_settings_from_env(apr_pool_t *p, const apr_table_t *env,
                                       paa_jwt_config_t *cfg, apr_int64_t *ttl,
                                       const char **err);

apr_status_t paa_jwt_config_from_env(apr_pool_t *p, const apr_table_t *env,
                                     paa_jwt_config_t *cfg, apr_int64_t *ttl,
                                     const char **err);

#endif /* PAA_JWT_H */
