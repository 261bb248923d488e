/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Identity provider key sets: JWKs (RSA, EC P-256) into OpenSSL keys,
 * selection by kid, verification of RS256/ES256 tokens through
 * paa_jwt_verify, the keys a set must skip (another alg, short moduli,
 * points off the curve), the algorithm confusions it must refuse, and the
 * external claims (principal, nested roles, scopes). Keys are generated
 * here with OpenSSL, independently of the code under test. */

#include "paa_test.h"

#include <apr_strings.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define NOW 1764288000

static const char *b64url(const unsigned char *buf, apr_size_t n)
{
    char *s = paa_base64(tp, buf, n);
    apr_size_t i, len = strlen(s);
    while (len && s[len - 1] == '=') {
        s[--len] = '\0';
    }
    for (i = 0; i < len; i++) {
        s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    }
    return s;
}

static const char *bn_b64url(EVP_PKEY *k, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;
    ck_assert(EVP_PKEY_get_bn_param(k, param, &bn));
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url(buf, (apr_size_t)n);
}

static EVP_PKEY *rsa_gen(int bits)
{
    EVP_PKEY *k = EVP_RSA_gen((unsigned int)bits);
    ck_assert_ptr_nonnull(k);
    return k;
}

static EVP_PKEY *ec_gen(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(k);
    return k;
}

static const char *rsa_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
    return apr_psprintf(tp,
                        "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
                        "\"e\":\"%s\"%s}",
                        kid, bn_b64url(k, OSSL_PKEY_PARAM_RSA_N),
                        bn_b64url(k, OSSL_PKEY_PARAM_RSA_E), extra);
}

static const char *ec_jwk(EVP_PKEY *k, const char *kid, int corrupt)
{
    unsigned char x[32], y[32];
    BIGNUM *bx = NULL, *by = NULL;
    ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx));
    ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by));
    BN_bn2binpad(bx, x, 32);
    BN_bn2binpad(by, y, 32);
    BN_free(bx);
    BN_free(by);
    y[31] ^= corrupt ? 1 : 0; /* off the curve */
    return apr_psprintf(tp,
                        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\","
                        "\"x\":\"%s\",\"y\":\"%s\"}",
                        kid, b64url(x, 32), b64url(y, 32));
}

/* A compact JWS signed by OpenSSL; ES256 signatures as r||s. */
static const char *sign(EVP_PKEY *k, const char *header, const char *payload)
{
    const char *alg = strstr(header, "ES256") ? "ES256" : "RS256";
    const char *input = apr_pstrcat(
        tp, b64url((const unsigned char *)header, strlen(header)), ".",
        b64url((const unsigned char *)payload, strlen(payload)), NULL);
    unsigned char sig[1024], raw[64];
    size_t n = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    ck_assert(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1);
    ck_assert(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input,
                             strlen(input)) == 1);
    EVP_MD_CTX_free(ctx);
    if (!strcmp(alg, "ES256")) {
        const unsigned char *d = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)n);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
        ECDSA_SIG_free(es);
        return apr_pstrcat(tp, input, ".", b64url(raw, 64), NULL);
    }
    return apr_pstrcat(tp, input, ".", b64url(sig, n), NULL);
}

static paa_jwks_t *parse(const char *alg, const char *keys, const char **err)
{
    paa_jwks_t *ks = NULL;
    const char *doc = apr_pstrcat(tp, "{\"keys\":[", keys, "]}", NULL);
    *err = NULL;
    if (paa_jwks_parse(tp, doc, strlen(doc), alg, &ks, err) != APR_SUCCESS) {
        return NULL;
    }
    return ks;
}

#define CLAIMS                                                                 \
    "{\"iss\":\"https://idp\",\"aud\":\"https://api/"                          \
    "mcp\",\"sub\":\"auth0|1\","                                               \
    "\"iat\":1764287900,\"exp\":1764288300,\"scope\":\"mcp:tools openid\","    \
    "\"realm_access\":{\"roles\":[\"mcp-user\",\"x\"]},"                       \
    "\"https://example.com/roles\":[\"ns\"],\"email\":\"a@example.com\"}"

static paa_jwt_config_t idp_cfg(const char *alg, const paa_jwks_t *ks)
{
    paa_jwt_config_t c;
    memset(&c, 0, sizeof(c));
    c.alg = alg;
    c.jwks = ks;
    c.issuer = "https://idp";
    c.audience = "https://api/mcp";
    c.leeway = 30;
    return c;
}

START_TEST(jwks_rsa_by_kid)
{
    EVP_PKEY *a = rsa_gen(2048), *b = rsa_gen(2048);
    const char *err, *keys = apr_pstrcat(tp, rsa_jwk(a, "a", ""), ",",
                                         rsa_jwk(b, "b", ""), NULL);
    paa_jwks_t *ks = parse("RS256", keys, &err);
    paa_jwt_config_t c = idp_cfg("RS256", ks);
    paa_jwt_claims_t cl;

    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(paa_jwks_count(ks), 2);
    /* Each key verifies its own tokens, chosen by kid. */
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(a, "{\"alg\":\"RS256\",\"kid\":\"a\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_OK);
    ck_assert_str_eq(cl.kid, "a");
    ck_assert_int_eq(paa_jwt_verify(tp, &c,
                                    sign(b,
                                         "{\"alg\":\"RS256\",\"kid\":\"b\","
                                         "\"typ\":\"at+jwt\"}",
                                         CLAIMS),
                                    NOW, &cl),
                     PAA_JWT_OK);
    /* A's token claiming B's kid; an unknown kid; no kid among two. */
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(a, "{\"alg\":\"RS256\",\"kid\":\"b\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_BAD_SIGNATURE);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(a, "{\"alg\":\"RS256\",\"kid\":\"zz\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_UNKNOWN_KID);
    ck_assert_int_eq(paa_jwt_verify(tp, &c,
                                    sign(a, "{\"alg\":\"RS256\"}", CLAIMS), NOW,
                                    &cl),
                     PAA_JWT_UNKNOWN_KID);
    /* The only key of a set serves a token without kid. */
    c.jwks = parse("RS256", rsa_jwk(a, "a", ""), &err);
    ck_assert_int_eq(paa_jwt_verify(tp, &c,
                                    sign(a, "{\"alg\":\"RS256\"}", CLAIMS), NOW,
                                    &cl),
                     PAA_JWT_OK);
    /* An empty set knows no kid. */
    c.jwks = paa_jwks_empty(tp);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(a, "{\"alg\":\"RS256\",\"kid\":\"a\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_UNKNOWN_KID);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}
END_TEST

START_TEST(jwks_es256_and_bad_points)
{
    EVP_PKEY *k = ec_gen();
    const char *err;
    paa_jwks_t *ks = parse("ES256", ec_jwk(k, "e", 0), &err);
    paa_jwt_config_t c = idp_cfg("ES256", ks);
    paa_jwt_claims_t cl;

    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(k, "{\"alg\":\"ES256\",\"kid\":\"e\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_OK);
    /* A point off the curve is no key; an EC key is none for RS256. */
    ck_assert_ptr_null(parse("ES256", ec_jwk(k, "e", 1), &err));
    ck_assert_ptr_null(parse("RS256", ec_jwk(k, "e", 0), &err));
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(jwks_skipped_keys_and_garbage)
{
    EVP_PKEY *a = rsa_gen(2048), *weak = rsa_gen(1024);
    const char *err;
    paa_jwks_t *ks;

    /* Control: the same key without the disqualifying member is kept. */
    ck_assert_ptr_nonnull(
        parse("RS256", rsa_jwk(a, "a", ",\"use\":\"sig\""), &err));
    ck_assert_ptr_nonnull(
        parse("RS256", rsa_jwk(a, "a", ",\"alg\":\"RS256\""), &err));
    ck_assert_ptr_null(
        parse("RS256", rsa_jwk(a, "a", ",\"use\":\"enc\""), &err));
    ck_assert_ptr_null(
        parse("RS256", rsa_jwk(a, "a", ",\"alg\":\"RS384\""), &err));
    ck_assert_ptr_null(parse("RS256", rsa_jwk(weak, "w", ""), &err));
    ck_assert_ptr_nonnull(strstr(err, "no key usable"));
    /* A bad key beside a good one: only the good one is kept. */
    ks = parse("RS256",
               apr_pstrcat(tp, rsa_jwk(weak, "w", ""), ",", rsa_jwk(a, "a", ""),
                           ",{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", NULL),
               &err);
    ck_assert_int_eq(paa_jwks_count(ks), 1);
    /* An HMAC algorithm never gets a key set. */
    ck_assert_ptr_null(parse("HS256", rsa_jwk(a, "a", ""), &err));
    ck_assert_int_ne(paa_jwks_parse(tp, "garbage", 7, "RS256", &ks, &err),
                     APR_SUCCESS);
    ck_assert_int_ne(
        paa_jwks_parse(tp, "{\"keys\":\"x\"}", 12, "RS256", &ks, &err),
        APR_SUCCESS);
    EVP_PKEY_free(a);
    EVP_PKEY_free(weak);
}
END_TEST

/* The header's alg is checked before any key: an HS256 token MACed with
 * the provider's public key, and alg none, never reach the key set. */
START_TEST(jwks_alg_confusion)
{
    EVP_PKEY *a = rsa_gen(2048);
    const char *err, *hs;
    paa_jwt_config_t c =
        idp_cfg("RS256", parse("RS256", rsa_jwk(a, "a", ""), &err));
    paa_jwt_claims_t cl;
    const char *h = "{\"alg\":\"HS256\",\"kid\":\"a\"}";

    hs = apr_pstrcat(tp, b64url((const unsigned char *)h, strlen(h)), ".",
                     b64url((const unsigned char *)CLAIMS, strlen(CLAIMS)),
                     ".c2lnbmF0dXJl", NULL);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, hs, NOW, &cl),
                     PAA_JWT_ALG_MISMATCH);
    h = "{\"alg\":\"none\",\"kid\":\"a\"}";
    hs = apr_pstrcat(tp, b64url((const unsigned char *)h, strlen(h)), ".",
                     b64url((const unsigned char *)CLAIMS, strlen(CLAIMS)), ".",
                     NULL);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, hs, NOW, &cl),
                     PAA_JWT_ALG_MISMATCH);
    /* Control: the RS256 token of the same claims passes. */
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c,
                       sign(a, "{\"alg\":\"RS256\",\"kid\":\"a\"}", CLAIMS),
                       NOW, &cl),
        PAA_JWT_OK);
    EVP_PKEY_free(a);
}
END_TEST

START_TEST(jwks_external_claims)
{
    EVP_PKEY *a = rsa_gen(2048);
    const char *err, *tok;
    paa_jwt_config_t c =
        idp_cfg("RS256", parse("RS256", rsa_jwk(a, "a", ""), &err));
    paa_jwt_claims_t cl;

    tok = sign(a, "{\"alg\":\"RS256\",\"kid\":\"a\"}", CLAIMS);
    c.roles_claim = "realm_access.roles";
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    ck_assert_str_eq(cl.principal, "auth0|1");
    ck_assert_int_eq(cl.ext_roles->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(cl.ext_roles, 0, const char *), "mcp-user");
    ck_assert_int_eq(cl.scopes->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(cl.scopes, 0, const char *), "mcp:tools");
    c.principal_claim = "email";
    c.roles_claim = "https://example.com/roles"; /* a name with dots */
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    ck_assert_str_eq(cl.principal, "a@example.com");
    ck_assert_str_eq(APR_ARRAY_IDX(cl.ext_roles, 0, const char *), "ns");
    c.principal_claim = "missing"; /* refused later, if external */
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    ck_assert_ptr_null(cl.principal);
    /* Lifetime: 400 s; a 300 s cap (+30 s leeway) refuses it, 400 passes. */
    c.principal_claim = NULL;
    c.max_lifetime = 300;
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_TOO_LONG);
    c.max_lifetime = 400;
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    /* Audience binding: a token for another resource. */
    c.audience = "https://other/api";
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl),
                     PAA_JWT_BAD_AUDIENCE);
    EVP_PKEY_free(a);
}
END_TEST

START_TEST(jwks_urls)
{
    ck_assert_ptr_null(paa_jwks_url_invalid("https://idp.example.com/jwks"));
    ck_assert_ptr_null(paa_jwks_url_invalid("http://127.0.0.1:8080/jwks"));
    ck_assert_ptr_null(paa_jwks_url_invalid("http://[::1]/jwks"));
    ck_assert_ptr_null(paa_jwks_url_invalid("http://localhost/jwks"));
    ck_assert_ptr_null(paa_jwks_url_invalid("file:/etc/paa/jwks.json"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("http://idp.example.com/jwks"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("http://127.0.0.1.evil.com/"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("http://localhost.evil.com/"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("ftp://idp/jwks"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("file:relative"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid("https:///nohost"));
    ck_assert_ptr_nonnull(paa_jwks_url_invalid(""));
}
END_TEST

static Suite *jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = tcase_create("jwks");
    tcase_add_checked_fixture(tc, paa_test_setup, paa_test_teardown);
    tcase_set_timeout(tc, 60); /* RSA key generation on a busy machine */
    tcase_add_test(tc, jwks_rsa_by_kid);
    tcase_add_test(tc, jwks_es256_and_bad_points);
    tcase_add_test(tc, jwks_skipped_keys_and_garbage);
    tcase_add_test(tc, jwks_alg_confusion);
    tcase_add_test(tc, jwks_external_claims);
    tcase_add_test(tc, jwks_urls);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(jwks_suite)
