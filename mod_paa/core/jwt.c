/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* JWT verification held to RFC 8725. libjwt 1.10 takes the algorithm from
 * the token and turns any key it is given into an HMAC secret, so the
 * header is checked here first, against the one algorithm the operator
 * pinned, and for RS/ES the algorithm libjwt used is checked again
 * afterwards; HS* MACs are computed here (OpenSSL). libjwt does not check
 * exp/nbf either: the time claims are validated here. */

#include "paa.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <jansson.h>
#include <jwt.h>
#include <errno.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const struct {
    const char *name;
    jwt_alg_t alg;
} algs[] = {{"HS256", JWT_ALG_HS256}, {"HS384", JWT_ALG_HS384},
            {"HS512", JWT_ALG_HS512}, {"RS256", JWT_ALG_RS256},
            {"RS384", JWT_ALG_RS384}, {"RS512", JWT_ALG_RS512},
            {"ES256", JWT_ALG_ES256}, {NULL, JWT_ALG_NONE}};

static jwt_alg_t alg_lookup(const char *name)
{
    int i;
    for (i = 0; name && algs[i].name; i++) {
        if (!strcmp(algs[i].name, name)) {
            return algs[i].alg;
        }
    }
    return JWT_ALG_INVAL;
}

int paa_jwt_alg_supported(const char *alg)
{
    return alg_lookup(alg) != JWT_ALG_INVAL;
}

int paa_jwt_alg_is_hmac(const char *alg)
{
    return alg && !strncmp(alg, "HS", 2) && paa_jwt_alg_supported(alg);
}

const char *paa_jwt_result_str(paa_jwt_result_e r)
{
    switch (r) {
    case PAA_JWT_OK:
        return "ok";
    case PAA_JWT_MALFORMED:
        return "malformed token";
    case PAA_JWT_ALG_MISMATCH:
        return "algorithm mismatch";
    case PAA_JWT_BAD_SIGNATURE:
        return "bad signature";
    case PAA_JWT_NO_EXP:
        return "no expiry (exp)";
    case PAA_JWT_EXPIRED:
        return "expired";
    case PAA_JWT_NOT_YET_VALID:
        return "not yet valid (nbf)";
    case PAA_JWT_IAT_FUTURE:
        return "issued in the future (iat)";
    case PAA_JWT_BAD_ISSUER:
        return "wrong issuer";
    case PAA_JWT_BAD_AUDIENCE:
        return "wrong audience";
    case PAA_JWT_NO_SUBJECT:
        return "no subject (sub)";
    case PAA_JWT_UNKNOWN_KID:
        return "unknown key id (kid)";
    case PAA_JWT_TOO_LONG:
        return "lifetime longer than allowed";
    }
    return "invalid";
}

const char *paa_jwt_result_error(paa_jwt_result_e r)
{
    return r == PAA_JWT_OK ? NULL : "invalid_token";
}

static int b64url_part(const char *s, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* The bytes of a base64url part (no padding), or NULL. */
unsigned char *paa_b64url_decode(apr_pool_t *p, const char *s, apr_size_t n,
                                 int *len)
{
    char *b64 = apr_palloc(p, n + 4);
    unsigned char *raw;
    apr_size_t i;

    if (n % 4 == 1) {
        return NULL; /* no base64 text has this length */
    }
    for (i = 0; i < n; i++) {
        b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }
    while (i % 4) {
        b64[i++] = '=';
    }
    b64[i] = '\0';
    raw = apr_palloc(p, apr_base64_decode_len(b64) + 1);
    *len = apr_base64_decode_binary(raw, b64);
    return *len > 0 ? raw : NULL;
}

static json_t *b64url_json(apr_pool_t *p, const char *s, apr_size_t n)
{
    json_error_t je;
    int len = 0;
    unsigned char *raw = paa_b64url_decode(p, s, n, &len);
    return raw ? json_loadb((const char *)raw, (size_t)len,
                            JSON_REJECT_DUPLICATES, &je)
               : NULL;
}

/* Dates past the year 9999 (or before 1970) are not dates: refusing them
 * keeps every later sum (exp + leeway) far from overflow. */
#define PAA_JWT_MAX_DATE 253402300799LL

/* A NumericDate: integer or real seconds in range; else absent. */
static int numeric_date(json_t *v, apr_int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i > PAA_JWT_MAX_DATE) {
            return 0;
        }
        *out = (apr_int64_t)i;
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0.0 && d <= (double)PAA_JWT_MAX_DATE)) {
            return 0; /* also NaN */
        }
        *out = (apr_int64_t)d;
        return 1;
    }
    return 0;
}

/* typ values a token may carry: JWT, and the access-token type of RFC
 * 9068 that identity providers put on access tokens. */
static int typ_ok(json_t *typ)
{
    const char *t = json_string_value(typ);
    return !typ || (t && (!strcasecmp(t, "JWT") || !strcasecmp(t, "at+jwt") ||
                          !strcasecmp(t, "application/at+jwt")));
}

static paa_jwt_result_e check_header(apr_pool_t *p, const paa_jwt_config_t *cfg,
                                     const char *h, apr_size_t n,
                                     const char **kid)
{
    json_t *hdr = b64url_json(p, h, n);
    json_t *alg, *typ;
    paa_jwt_result_e r = PAA_JWT_OK;

    if (!json_is_object(hdr)) {
        json_decref(hdr);
        return PAA_JWT_MALFORMED;
    }
    alg = json_object_get(hdr, "alg");
    typ = json_object_get(hdr, "typ");
    if (!json_is_string(alg)) {
        r = PAA_JWT_MALFORMED;
    }
    else if (strcmp(json_string_value(alg), cfg->alg)) {
        r = PAA_JWT_ALG_MISMATCH;
    }
    else if (json_object_get(hdr, "crit")) {
        /* RFC 7515 4.1.11: we understand no extensions. */
        r = PAA_JWT_MALFORMED;
    }
    else if (!typ_ok(typ) ||
             (!cfg->jwks && typ && strcasecmp(json_string_value(typ), "JWT"))) {
        /* libjwt 1.10 refuses any other typ; say so here, not as a bad
         * signature. Key sets are checked here, so at+jwt is fine. */
        r = PAA_JWT_MALFORMED;
    }
    else if (json_object_get(hdr, "kid") &&
             !json_is_string(json_object_get(hdr, "kid"))) {
        r = PAA_JWT_MALFORMED;
    }
    *kid = json_string_value(json_object_get(hdr, "kid"));
    *kid = *kid ? apr_pstrdup(p, *kid) : NULL;
    json_decref(hdr);
    return r;
}

static int audience_matches(json_t *aud, const char *want)
{
    size_t i;
    json_t *v;
    if (json_is_string(aud)) {
        return !strcmp(json_string_value(aud), want);
    }
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), want)) {
            return 1;
        }
    }
    return 0;
}

static paa_jwt_result_e check_claims(apr_pool_t *p, const paa_jwt_config_t *cfg,
                                     json_t *c, apr_int64_t now,
                                     paa_jwt_claims_t *out)
{
    apr_int64_t exp, nbf, iat = 0;
    json_t *v;
    int leeway = cfg->leeway < 0                    ? 0
                 : cfg->leeway > PAA_JWT_MAX_LEEWAY ? PAA_JWT_MAX_LEEWAY
                                                    : cfg->leeway;

    if (!json_is_object(c)) {
        return PAA_JWT_MALFORMED;
    }
    if (!numeric_date(json_object_get(c, "exp"), &exp)) {
        return PAA_JWT_NO_EXP;
    }
    if (now > exp + leeway) {
        return PAA_JWT_EXPIRED;
    }
    if ((v = json_object_get(c, "nbf"))) {
        if (!numeric_date(v, &nbf)) {
            return PAA_JWT_MALFORMED;
        }
        if (nbf > now + leeway) {
            return PAA_JWT_NOT_YET_VALID;
        }
    }
    if ((v = json_object_get(c, "iat"))) {
        if (!numeric_date(v, &iat)) {
            return PAA_JWT_MALFORMED;
        }
        if (iat > now + leeway) {
            return PAA_JWT_IAT_FUTURE;
        }
    }
    if (cfg->issuer) {
        v = json_object_get(c, "iss");
        if (!json_is_string(v) || strcmp(json_string_value(v), cfg->issuer)) {
            return PAA_JWT_BAD_ISSUER;
        }
    }
    if (cfg->audience &&
        !audience_matches(json_object_get(c, "aud"), cfg->audience)) {
        return PAA_JWT_BAD_AUDIENCE;
    }
    v = json_object_get(c, "sub");
    if (!json_is_string(v) || !*json_string_value(v)) {
        return PAA_JWT_NO_SUBJECT;
    }
    out->sub = apr_pstrdup(p, json_string_value(v));
    v = json_object_get(c, "username");
    out->username =
        json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
    v = json_object_get(c, "jti");
    out->jti = json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
    out->exp = exp;
    out->iat = iat;
    out->roles = NULL;
    if (cfg->max_lifetime > 0 &&
        exp - (iat ? iat : now) > cfg->max_lifetime + leeway) {
        return PAA_JWT_TOO_LONG;
    }
    /* An external provider's roles claim is read by paa_jwt_external_claims
     * in whatever shape it has; only our own tokens must have an array. */
    v = cfg->roles_claim ? NULL : json_object_get(c, "roles");
    if (v) {
        size_t i;
        json_t *role;
        if (!json_is_array(v)) {
            return PAA_JWT_MALFORMED;
        }
        out->roles = apr_array_make(p, (int)json_array_size(v) + 1,
                                    sizeof(const char *));
        json_array_foreach(v, i, role)
        {
            if (!json_is_string(role)) {
                return PAA_JWT_MALFORMED;
            }
            APR_ARRAY_PUSH(out->roles, const char *) =
                apr_pstrdup(p, json_string_value(role));
        }
    }
    paa_jwt_external_claims(p, cfg, c, out);
    return PAA_JWT_OK;
}

/* HS*: the MAC over "header.payload" under key, compared in constant
 * time with the signature part. Done here because libjwt would parse the
 * whole token once more only to compute it; the header and the claims
 * are each parsed once, strictly, by this file. */
static int hmac_verifies(apr_pool_t *p, const char *token,
                         apr_size_t signed_len, const char *sig,
                         apr_size_t sig_len, const char *key,
                         apr_size_t key_len, const char *alg)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *want;
    apr_size_t n, i;

    if (!key || key_len == 0) {
        return 0;
    }
    /* HS256 is what a request meets at every token not yet cached, and
     * OpenSSL's HMAC() costs microseconds there (see paa_hmac_sha256). */
    if (!strcmp(alg, "HS256")) {
        if (!paa_hmac_sha256(key, key_len, token, signed_len, mac)) {
            return 0;
        }
        mac_len = 32;
    }
    else if (!HMAC(!strcmp(alg, "HS384") ? EVP_sha384() : EVP_sha512(), key,
                   (int)key_len, (const unsigned char *)token, signed_len, mac,
                   &mac_len)) {
        return 0;
    }
    /* Compared as text, in its one canonical base64url spelling: decoding
     * the token's signature instead would accept other spellings of the
     * same bytes (the unused low bits of the last character). */
    want = paa_base64(p, mac, mac_len);
    for (n = strlen(want); n && want[n - 1] == '='; n--) {
    }
    for (i = 0; i < n; i++) {
        want[i] = want[i] == '+' ? '-' : want[i] == '/' ? '_' : want[i];
    }
    return sig_len == n && CRYPTO_memcmp(want, sig, n) == 0;
}

/* libjwt verifies RS/ES signatures with the key; NULL or empty keys would
 * skip the check entirely, so they never get here. */
static jwt_t *decode_with(const char *token, const char *key, apr_size_t len,
                          jwt_alg_t pinned)
{
    jwt_t *jwt = NULL;
    if (!key || len == 0) {
        return NULL;
    }
    if (jwt_decode(&jwt, token, (const unsigned char *)key, (int)len) != 0) {
        return NULL;
    }
    if (jwt_get_alg(jwt) != pinned) {
        jwt_free(jwt);
        return NULL;
    }
    return jwt;
}

paa_jwt_result_e paa_jwt_verify(apr_pool_t *p, const paa_jwt_config_t *cfg,
                                const char *token, apr_int64_t now,
                                paa_jwt_claims_t *claims)
{
    const char *dot1, *dot2;
    apr_size_t len;
    jwt_alg_t pinned = alg_lookup(cfg->alg);
    paa_jwt_result_e r;
    const char *kid = NULL;
    jwt_t *jwt;
    json_t *c;

    memset(claims, 0, sizeof(*claims));
    if (pinned == JWT_ALG_INVAL || pinned == JWT_ALG_NONE) {
        return PAA_JWT_ALG_MISMATCH;
    }
    len = strlen(token);
    if (len == 0 || len > PAA_JWT_MAX_LEN) {
        return PAA_JWT_MALFORMED;
    }
    dot1 = strchr(token, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot1 == token ||
        dot2 == dot1 + 1 || !b64url_part(token, dot1 - token) ||
        !b64url_part(dot1 + 1, dot2 - dot1 - 1) ||
        !b64url_part(dot2 + 1, strlen(dot2 + 1))) {
        return PAA_JWT_MALFORMED;
    }
    r = check_header(p, cfg, token, dot1 - token, &kid);
    if (r != PAA_JWT_OK) {
        return r;
    }
    if (dot2[1] == '\0') {
        return PAA_JWT_BAD_SIGNATURE; /* an unsigned token */
    }
    if (paa_jwt_alg_is_hmac(cfg->alg)) {
        apr_size_t signed_len = (apr_size_t)(dot2 - token);
        if (!hmac_verifies(p, token, signed_len, dot2 + 1, strlen(dot2 + 1),
                           cfg->key, cfg->key_len, cfg->alg) &&
            !hmac_verifies(p, token, signed_len, dot2 + 1, strlen(dot2 + 1),
                           cfg->prev_key, cfg->prev_key_len, cfg->alg)) {
            return PAA_JWT_BAD_SIGNATURE;
        }
    }
    else if (cfg->jwks) {
        int sig_len = 0;
        unsigned char *sig =
            paa_b64url_decode(p, dot2 + 1, strlen(dot2 + 1), &sig_len);
        paa_jwks_result_e kr = paa_jwks_verify(
            cfg->jwks, cfg->alg, kid, (const unsigned char *)token,
            (apr_size_t)(dot2 - token), sig, sig ? (apr_size_t)sig_len : 0);
        if (kr != PAA_JWKS_VERIFIED) {
            return kr == PAA_JWKS_UNKNOWN_KID ? PAA_JWT_UNKNOWN_KID
                                              : PAA_JWT_BAD_SIGNATURE;
        }
    }
    else {
        if (!(jwt = decode_with(token, cfg->key, cfg->key_len, pinned))) {
            return PAA_JWT_BAD_SIGNATURE;
        }
        jwt_free(jwt);
    }
    /* The signature is good; read the claims ourselves, as strictly as the
     * header: libjwt keeps the last of duplicate claims and ignores bytes
     * after a NUL, and its re-serialised grants hide both. */
    c = b64url_json(p, dot1 + 1, dot2 - dot1 - 1);
    r = check_claims(p, cfg, c, now, claims);
    claims->kid = kid;
    json_decref(c);
    return r;
}

apr_status_t paa_jwt_sign(apr_pool_t *p, const paa_jwt_config_t *cfg,
                          const char *sub, const char *username,
                          const apr_array_header_t *roles, apr_int64_t now,
                          apr_int64_t ttl, char **token, const char **err)
{
    jwt_t *jwt = NULL;
    json_t *extra = json_object(), *arr = json_array();
    char *extra_text = NULL, *out = NULL;
    const char *jti = paa_id_generate(p, "jti_");
    int i, rc = 0;

    if (!paa_jwt_alg_is_hmac(cfg->alg) || !cfg->key || !cfg->key_len) {
        *err = "tokens can only be signed with an HMAC secret (HS256)";
        json_decref(extra);
        json_decref(arr);
        return APR_EINVAL;
    }
    for (i = 0; roles && i < roles->nelts; i++) {
        json_array_append_new(
            arr, json_string(APR_ARRAY_IDX(roles, i, const char *)));
    }
    json_object_set_new(extra, "roles", arr);
    if (cfg->audience) {
        json_object_set_new(extra, "aud", json_string(cfg->audience));
    }
    extra_text = json_dumps(extra, JSON_COMPACT);
    json_decref(extra);

    rc |= jwt_new(&jwt);
    rc |= jwt_set_alg(jwt, alg_lookup(cfg->alg),
                      (const unsigned char *)cfg->key, (int)cfg->key_len);
    rc |= jwt_add_grant(jwt, "sub", sub);
    if (username) {
        rc |= jwt_add_grant(jwt, "username", username);
    }
    if (cfg->issuer) {
        rc |= jwt_add_grant(jwt, "iss", cfg->issuer);
    }
    rc |= jwt_add_grant_int(jwt, "iat", (long)now);
    rc |= jwt_add_grant_int(jwt, "nbf", (long)now);
    rc |= jwt_add_grant_int(jwt, "exp", (long)(now + ttl));
    rc |= jwt_add_grant(jwt, "jti", jti ? jti : "");
    rc |= extra_text ? jwt_add_grants_json(jwt, extra_text) : -1;
    if (rc == 0) {
        out = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    free(extra_text);
    if (!out) {
        *err = "libjwt could not sign the token";
        return APR_EGENERAL;
    }
    *token = apr_pstrdup(p, out);
    paa_wipe(out, strlen(out));
    free(out);
    return APR_SUCCESS;
}

apr_status_t paa_jwt_settings_from_env(apr_pool_t *p, const apr_table_t *env,
                                       paa_jwt_config_t *cfg, apr_int64_t *ttl,
                                       const char **err)
{
    const char *v;

    memset(cfg, 0, sizeof(*cfg));
    cfg->alg = paa_env_get(env, "JWT_ALGORITHM");
    if (!cfg->alg || !*cfg->alg) {
        cfg->alg = "HS256";
    }
    if (!paa_jwt_alg_supported(cfg->alg)) {
        *err = apr_psprintf(p, "JWT_ALGORITHM %s is not supported", cfg->alg);
        return APR_EINVAL;
    }
    v = paa_env_get(env, "JWT_ISSUER");
    cfg->issuer = v && *v ? v : NULL;
    v = paa_env_get(env, "JWT_AUDIENCE");
    cfg->audience = v && *v ? v : NULL;
    cfg->leeway = 30;
    v = paa_env_get(env, "JWT_LEEWAY");
    if (v && *v) {
        char *end;
        long l = strtol(v, &end, 10);
        if (*end || l < 0 || l > PAA_JWT_MAX_LEEWAY) {
            *err = apr_psprintf(p, "JWT_LEEWAY must be 0 to %d seconds",
                                PAA_JWT_MAX_LEEWAY);
            return APR_EINVAL;
        }
        cfg->leeway = (int)l;
    }
    *ttl = 86400;
    v = paa_env_get(env, "JWT_EXPIRES_IN");
    if (v && *v && paa_duration_parse(v, ttl) != APR_SUCCESS) {
        *err = apr_psprintf(p,
                            "JWT_EXPIRES_IN '%s' is not a duration "
                            "(e.g. 24h)",
                            v);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t paa_jwt_config_from_env(apr_pool_t *p, const apr_table_t *env,
                                     paa_jwt_config_t *cfg, apr_int64_t *ttl,
                                     const char **err)
{
    const char *weak;
    apr_status_t rv = paa_jwt_settings_from_env(p, env, cfg, ttl, err);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!paa_jwt_alg_is_hmac(cfg->alg)) {
        return APR_SUCCESS;
    }
    cfg->key = paa_env_get(env, "JWT_SECRET");
    if (!cfg->key || !*cfg->key) {
        *err = "JWT_SECRET is not set (generate one with: paactl secret gen)";
        return APR_ENOENT;
    }
    cfg->key_len = strlen(cfg->key);
    if ((weak = paa_secret_weakness(p, cfg->key, cfg->key_len))) {
        *err = apr_pstrcat(p, "JWT_SECRET is unacceptable: ", weak, NULL);
        return APR_EINVAL;
    }
    cfg->prev_key = paa_env_get(env, "JWT_SECRET_PREVIOUS");
    cfg->prev_key_len = cfg->prev_key ? strlen(cfg->prev_key) : 0;
    if (cfg->prev_key_len &&
        (weak = paa_secret_weakness(p, cfg->prev_key, cfg->prev_key_len))) {
        *err =
            apr_pstrcat(p, "JWT_SECRET_PREVIOUS is unacceptable: ", weak, NULL);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
