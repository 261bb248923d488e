/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Key sets of external identity providers. A provider's JWKS is read as
 * untrusted input: keys for another algorithm, short RSA moduli and EC
 * points off the curve are dropped, so that the pinned algorithm decides
 * which keys can ever verify (a public key can never become an HMAC
 * secret: HS* never reaches this file). Signatures are checked with
 * OpenSSL directly; libjwt only knows one PEM key. */

#include "paa.h"
#include "jwks.h"

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

typedef struct {
    const char *kid; /* NULL: the key has none */
    EVP_PKEY *pkey;
} jwk_t;

struct paa_jwks {
    apr_array_header_t *keys; /* of jwk_t */
};

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* A base64url member of a JWK as bytes; NULL when absent or empty. */
static unsigned char *member_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                                   int *len)
{
    const char *v = json_string_value(json_object_get(jwk, name));
    *len = 0;
    return v && *v ? paa_b64url_decode(p, v, strlen(v), len) : NULL;
}

static EVP_PKEY *from_params(OSSL_PARAM_BLD *bld, const char *type)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(apr_pool_t *p, json_t *jwk)
{
    int nlen, elen;
    unsigned char *n = member_bytes(p, jwk, "n", &nlen);
    unsigned char *e = member_bytes(p, jwk, "e", &elen);
    OSSL_PARAM_BLD *bld;
    BIGNUM *bn_n, *bn_e;
    EVP_PKEY *pkey = NULL;

    if (!n || !e || elen > 8) {
        return NULL;
    }
    bn_n = BN_bin2bn(n, nlen, NULL);
    bn_e = BN_bin2bn(e, elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n && bn_e && bld && BN_num_bits(bn_n) >= PAA_JWKS_MIN_RSA &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        pkey = from_params(bld, "RSA");
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

/* P-256 only, and the point must lie on the curve (an invalid-curve
 * point leaks nothing to a verifier, but it is not a key): checked
 * explicitly rather than trusting every OpenSSL version's import. */
static EVP_PKEY *ec_key(apr_pool_t *p, json_t *jwk)
{
    int xlen, ylen;
    unsigned char *x = member_bytes(p, jwk, "x", &xlen);
    unsigned char *y = member_bytes(p, jwk, "y", &ylen);
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char point[65];
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *check;

    if (!crv || strcmp(crv, "P-256") || !x || !y || xlen != 32 || ylen != 32) {
        return NULL;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    bld = OSSL_PARAM_BLD_new();
    if (bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point))) {
        pkey = from_params(bld, "EC");
    }
    OSSL_PARAM_BLD_free(bld);
    check = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    if (pkey && (!check || EVP_PKEY_public_check(check) != 1)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(check);
    return pkey;
}

/* The key if this JWK can verify alg; NULL to skip it. */
static EVP_PKEY *usable_key(apr_pool_t *p, json_t *jwk, const char *alg)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    json_t *use = json_object_get(jwk, "use");
    json_t *kalg = json_object_get(jwk, "alg");

    if (!kty || (use && (!json_is_string(use) ||
                         strcmp(json_string_value(use), "sig")))) {
        return NULL;
    }
    if (kalg &&
        (!json_is_string(kalg) || strcmp(json_string_value(kalg), alg))) {
        return NULL;
    }
    if (!strncmp(alg, "RS", 2) && !strcmp(kty, "RSA")) {
        return rsa_key(p, jwk);
    }
    if (!strcmp(alg, "ES256") && !strcmp(kty, "EC")) {
        return ec_key(p, jwk);
    }
    return NULL;
}

apr_status_t paa_jwks_parse(apr_pool_t *p, const char *text, apr_size_t len,
                            const char *alg, paa_jwks_t **out, const char **err)
{
    json_error_t je;
    json_t *doc, *keys, *jwk;
    paa_jwks_t *ks;
    size_t i;

    if (!alg || !paa_jwt_alg_supported(alg) || paa_jwt_alg_is_hmac(alg)) {
        *err = "a key set serves RS256, RS384, RS512 or ES256 only";
        return APR_EINVAL;
    }
    if (len > PAA_JWKS_MAX_LEN) {
        *err = "the key set is too large";
        return APR_EINVAL;
    }
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        *err = "not a JWK set (no \"keys\" array)";
        return APR_EINVAL;
    }
    ks = apr_pcalloc(p, sizeof(*ks));
    ks->keys = apr_array_make(p, 4, sizeof(jwk_t));
    json_array_foreach(keys, i, jwk)
    {
        json_t *kid = json_object_get(jwk, "kid");
        jwk_t *k;
        EVP_PKEY *pkey;
        if (ks->keys->nelts >= PAA_JWKS_MAX_KEYS || !json_is_object(jwk) ||
            (kid && !json_is_string(kid)) ||
            !(pkey = usable_key(p, jwk, alg))) {
            continue;
        }
        apr_pool_cleanup_register(p, pkey, free_pkey, apr_pool_cleanup_null);
        k = apr_array_push(ks->keys);
        k->pkey = pkey;
        k->kid = kid ? apr_pstrdup(p, json_string_value(kid)) : NULL;
    }
    json_decref(doc);
    if (!ks->keys->nelts) {
        *err = apr_psprintf(p, "the key set has no key usable for %s", alg);
        return APR_ENOENT;
    }
    *out = ks;
    return APR_SUCCESS;
}

paa_jwks_t *paa_jwks_empty(apr_pool_t *p)
{
    paa_jwks_t *ks = apr_pcalloc(p, sizeof(*ks));
    ks->keys = apr_array_make(p, 1, sizeof(jwk_t));
    return ks;
}

/* Plain http is for a provider on this machine (tests, a sidecar): tokens
 * are only as trustworthy as the channel their keys came over. */
const char *paa_jwks_url_invalid(const char *url)
{
    static const char *const loopback[] = {"127.0.0.1", "[::1]", "localhost",
                                           NULL};
    int i;

    if (!url || !*url) {
        return "empty URL";
    }
    if (!strncmp(url, "file:", 5)) {
        return url[5] == '/' ? NULL : "file: needs an absolute path";
    }
    if (!strncasecmp(url, "https://", 8)) {
        return url[8] && url[8] != '/' ? NULL : "no host in the URL";
    }
    if (strncasecmp(url, "http://", 7)) {
        return "the URL must be https://, http:// to a loopback address, or "
               "file:PATH";
    }
    for (i = 0; loopback[i]; i++) {
        apr_size_t n = strlen(loopback[i]);
        char after = url[7 + n];
        if (!strncasecmp(url + 7, loopback[i], n) &&
            (after == ':' || after == '/' || after == '\0')) {
            return NULL;
        }
    }
    return "plain http:// is accepted only to a loopback address "
           "(127.0.0.1, [::1], localhost); use https://";
}

int paa_jwks_count(const paa_jwks_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

static EVP_PKEY *find_key(const paa_jwks_t *ks, const char *kid)
{
    int i;
    if (!kid) {
        return ks->keys->nelts == 1 ? APR_ARRAY_IDX(ks->keys, 0, jwk_t).pkey
                                    : NULL;
    }
    for (i = 0; i < ks->keys->nelts; i++) {
        const jwk_t *k = &APR_ARRAY_IDX(ks->keys, i, jwk_t);
        if (k->kid && !strcmp(k->kid, kid)) {
            return k->pkey;
        }
    }
    return NULL;
}

/* JWS carries ECDSA signatures as r||s; OpenSSL wants DER. */
static int es256_der(const unsigned char *sig, apr_size_t len,
                     unsigned char **der)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    int n;

    if (len != 64 || !(es = ECDSA_SIG_new())) {
        return -1;
    }
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (!r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    *der = NULL;
    n = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return n;
}

paa_jwks_result_e paa_jwks_verify(const paa_jwks_t *ks, const char *alg,
                                  const char *kid, const unsigned char *data,
                                  apr_size_t data_len, const unsigned char *sig,
                                  apr_size_t sig_len)
{
    EVP_PKEY *pkey = ks ? find_key(ks, kid) : NULL;
    const EVP_MD *md = !strcmp(alg + 2, "384")   ? EVP_sha384()
                       : !strcmp(alg + 2, "512") ? EVP_sha512()
                                                 : EVP_sha256();
    EVP_MD_CTX *ctx;
    unsigned char *der = NULL;
    int ok = 0;

    if (!pkey) {
        return PAA_JWKS_UNKNOWN_KID;
    }
    if (!strcmp(alg, "ES256")) {
        int n = es256_der(sig, sig_len, &der);
        if (n <= 0) {
            return PAA_JWKS_BAD_SIGNATURE;
        }
        sig = der;
        sig_len = (apr_size_t)n;
    }
    if ((ctx = EVP_MD_CTX_new()) &&
        EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1) {
        ok = EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok ? PAA_JWKS_VERIFIED : PAA_JWKS_BAD_SIGNATURE;
}

/* An OAuth scope string: items separated by spaces (RFC 6749 3.3). */
static apr_array_header_t *split_spaces(apr_pool_t *p, const char *text)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, text), *w, *state = NULL;
    for (w = apr_strtok(copy, " ", &state); w;
         w = apr_strtok(NULL, " ", &state)) {
        APR_ARRAY_PUSH(out, const char *) = w;
    }
    return out;
}

apr_array_header_t *paa_jwt_claim_strings(apr_pool_t *p, json_t *claims,
                                          const char *path)
{
    char *rest = apr_pstrdup(p, path), *part, *state = NULL;
    apr_array_header_t *out;
    json_t *v, *item;
    size_t i;

    /* A namespaced claim ("https://example.com/roles") is one name. */
    if (!(v = json_object_get(claims, path))) {
        for (v = claims, part = apr_strtok(rest, ".", &state); part && v;
             part = apr_strtok(NULL, ".", &state)) {
            v = json_object_get(v, part);
        }
    }
    if (json_is_string(v)) {
        return split_spaces(p, json_string_value(v));
    }
    if (!json_is_array(v)) {
        return NULL;
    }
    out = apr_array_make(p, (int)json_array_size(v) + 1, sizeof(const char *));
    json_array_foreach(v, i, item)
    {
        if (json_is_string(item) && *json_string_value(item)) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_pstrdup(p, json_string_value(item));
        }
    }
    return out;
}

void paa_jwt_external_claims(apr_pool_t *p, const paa_jwt_config_t *cfg,
                             json_t *claims, paa_jwt_claims_t *out)
{
    json_t *v = json_object_get(
        claims, cfg->principal_claim ? cfg->principal_claim : "sub");
    /* Absent is no error here: a local user's token needs no principal
     * claim (PAAJWTUsers either); an external one is refused for it. */
    out->principal = json_is_string(v) && *json_string_value(v)
                         ? apr_pstrdup(p, json_string_value(v))
                         : NULL;
    out->ext_roles = cfg->roles_claim
                         ? paa_jwt_claim_strings(p, claims, cfg->roles_claim)
                         : NULL;
    out->scopes = json_object_get(claims, "scope")
                      ? paa_jwt_claim_strings(p, claims, "scope")
                      : paa_jwt_claim_strings(p, claims, "scp");
}
