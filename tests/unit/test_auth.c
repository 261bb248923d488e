/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The httpd-free half of authentication: JWT verification against the
 * pinned algorithm and the time claims (RFC 8725), Authorization header
 * parsing (RFC 6750), API key format, secret sources and weak-secret
 * refusal, and the short-lived cache of verified credentials. Each
 * negative case has a positive control next to it so that a fix cannot
 * pass by refusing everything. */

#include "paa_test.h"

#include <apr_strings.h>
#include <apr_env.h>
#include <jwt.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_shm.h>

#define SECRET "unit-test-secret-0123456789-abcdefghijklmnop"
#define NOW    1764288000

static paa_jwt_config_t hs256(void)
{
    paa_jwt_config_t c;
    memset(&c, 0, sizeof(c));
    c.alg = "HS256";
    c.key = SECRET;
    c.key_len = strlen(SECRET);
    c.leeway = 30;
    return c;
}

/* A token signed by libjwt directly, bypassing paa_jwt_sign. */
static char *raw_token(jwt_alg_t alg, const char *key, const char *grants)
{
    jwt_t *jwt = NULL;
    char *out, *copy;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key,
                                 key ? (int)strlen(key) : 0),
                     0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, grants), 0);
    out = jwt_encode_str(jwt);
    jwt_free(jwt);
    copy = apr_pstrdup(tp, out);
    free(out);
    return copy;
}

START_TEST(jwt_roundtrip)
{
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
    apr_array_header_t *roles = apr_array_make(tp, 2, sizeof(const char *));
    const char *err = NULL;
    char *tok;

    APR_ARRAY_PUSH(roles, const char *) = "admin";
    ck_assert_int_eq(
        paa_jwt_sign(tp, &c, "usr_1", "alice", roles, NOW, 3600, &tok, &err),
        APR_SUCCESS);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW + 10, &cl), PAA_JWT_OK);
    ck_assert_str_eq(cl.sub, "usr_1");
    ck_assert_str_eq(cl.username, "alice");
    ck_assert_int_eq(cl.roles->nelts, 1);
    ck_assert_int_eq(cl.exp, NOW + 3600);
    ck_assert_ptr_ne(cl.jti, NULL);
}
END_TEST

START_TEST(jwt_alg_pinning)
{
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
    const char *g = "{\"sub\":\"u\",\"exp\":1764291600}";

    ck_assert_int_eq(
        paa_jwt_verify(tp, &c, raw_token(JWT_ALG_HS256, SECRET, g), NOW, &cl),
        PAA_JWT_OK);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c, raw_token(JWT_ALG_HS512, SECRET, g), NOW, &cl),
        PAA_JWT_ALG_MISMATCH);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c, raw_token(JWT_ALG_HS384, SECRET, g), NOW, &cl),
        PAA_JWT_ALG_MISMATCH);
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c, raw_token(JWT_ALG_NONE, NULL, g), NOW, &cl),
        PAA_JWT_ALG_MISMATCH);
    /* an unsupported pin never verifies anything */
    c.alg = "none";
    ck_assert_int_eq(
        paa_jwt_verify(tp, &c, raw_token(JWT_ALG_HS256, SECRET, g), NOW, &cl),
        PAA_JWT_ALG_MISMATCH);
}
END_TEST

START_TEST(jwt_time_claims)
{
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
#define V(grants)                                                              \
    paa_jwt_verify(tp, &c, raw_token(JWT_ALG_HS256, SECRET, grants), NOW, &cl)
    ck_assert_int_eq(V("{\"sub\":\"u\"}"), PAA_JWT_NO_EXP);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":\"soon\"}"), PAA_JWT_NO_EXP);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764287969}"), PAA_JWT_EXPIRED);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764287971}"), PAA_JWT_OK);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"nbf\":1764288031}"),
                     PAA_JWT_NOT_YET_VALID);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"nbf\":1764288029}"),
                     PAA_JWT_OK);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"iat\":1764288100}"),
                     PAA_JWT_IAT_FUTURE);
    ck_assert_int_eq(V("{\"exp\":1764291600}"), PAA_JWT_NO_SUBJECT);
    ck_assert_int_eq(V("{\"sub\":\"\",\"exp\":1764291600}"),
                     PAA_JWT_NO_SUBJECT);
    ck_assert_int_eq(
        V("{\"sub\":\"u\",\"exp\":1764291600,\"roles\":\"admin\"}"),
        PAA_JWT_MALFORMED);
    /* leeway is bounded whatever the configuration says */
    c.leeway = 100000;
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764287000}"), PAA_JWT_EXPIRED);
}
END_TEST

START_TEST(jwt_issuer_audience)
{
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
    c.issuer = "https://issuer.test";
    c.audience = "paa";
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"iss\":\"https://"
                       "issuer.test\",\"aud\":\"paa\"}"),
                     PAA_JWT_OK);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"iss\":\"https://"
                       "issuer.test\",\"aud\":[\"x\",\"paa\"]}"),
                     PAA_JWT_OK);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"iss\":\"x\","
                       "\"aud\":\"paa\"}"),
                     PAA_JWT_BAD_ISSUER);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"aud\":\"paa\"}"),
                     PAA_JWT_BAD_ISSUER);
    ck_assert_int_eq(V("{\"sub\":\"u\",\"exp\":1764291600,\"iss\":\"https://"
                       "issuer.test\",\"aud\":\"other\"}"),
                     PAA_JWT_BAD_AUDIENCE);
#undef V
}
END_TEST

START_TEST(jwt_previous_secret_and_tampering)
{
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
    const char *old = "previous-secret-0123456789-abcdefghijklmno";
    const char *g = "{\"sub\":\"u\",\"exp\":1764291600}";
    char *tok = raw_token(JWT_ALG_HS256, old, g);
    char *dot;

    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl),
                     PAA_JWT_BAD_SIGNATURE);
    c.prev_key = old;
    c.prev_key_len = strlen(old);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    /* flip one character of the payload */
    dot = strchr(tok, '.') + 3;
    *dot = *dot == 'A' ? 'B' : 'A';
    ck_assert_int_ne(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, "a.b", NOW, &cl),
                     PAA_JWT_MALFORMED);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, "a.b.c.d", NOW, &cl),
                     PAA_JWT_MALFORMED);
    ck_assert_int_eq(paa_jwt_verify(tp, &c, "", NOW, &cl), PAA_JWT_MALFORMED);
}
END_TEST

/* HS256 is verified by paa_hmac_sha256, not by libjwt or OpenSSL's
 * HMAC(): libjwt's signature must verify for keys on either side of the
 * SHA-256 block (64 bytes; a longer key is hashed first), and the same
 * token must not verify under a key one bit away. */
START_TEST(jwt_hs256_key_lengths)
{
    static const int lens[] = {1, 32, 63, 64, 65, 128, 300};
    const char *g = "{\"sub\":\"u\",\"exp\":1764291600}";
    paa_jwt_config_t c = hs256();
    paa_jwt_claims_t cl;
    char key[301];
    apr_size_t i;
    int j;

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *tok;
        for (j = 0; j < lens[i]; j++) {
            key[j] = (char)('!' + (j * 7 + lens[i]) % 90);
        }
        key[lens[i]] = '\0';
        tok = raw_token(JWT_ALG_HS256, key, g);
        c.key = key;
        c.key_len = (apr_size_t)lens[i];
        ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl), PAA_JWT_OK);
        key[lens[i] - 1] ^= 1;
        ck_assert_int_eq(paa_jwt_verify(tp, &c, tok, NOW, &cl),
                         PAA_JWT_BAD_SIGNATURE);
    }
}
END_TEST

START_TEST(authorization_header)
{
    const char *t;
    ck_assert_int_eq(paa_parse_authorization("Bearer abc.def-_~+/==", &t),
                     PAA_AUTHZ_BEARER);
    ck_assert_str_eq(t, "abc.def-_~+/==");
    ck_assert_int_eq(paa_parse_authorization("bearer   x", &t),
                     PAA_AUTHZ_BEARER);
    ck_assert_str_eq(t, "x");
    ck_assert_int_eq(paa_parse_authorization("Basic YWxhZGRpbjo=", &t),
                     PAA_AUTHZ_OTHER);
    ck_assert_int_eq(paa_parse_authorization("Bearer", &t), PAA_AUTHZ_OTHER);
    ck_assert_int_eq(paa_parse_authorization("Bearer ", &t), PAA_AUTHZ_OTHER);
    ck_assert_int_eq(paa_parse_authorization("Bearerx", &t), PAA_AUTHZ_OTHER);
    ck_assert_int_eq(paa_parse_authorization("Bearer a b", &t),
                     PAA_AUTHZ_MALFORMED);
    ck_assert_int_eq(paa_parse_authorization("Bearer a=b", &t),
                     PAA_AUTHZ_MALFORMED);
    ck_assert_int_eq(paa_parse_authorization("Bearer =", &t),
                     PAA_AUTHZ_MALFORMED);
}
END_TEST

START_TEST(apikey_format)
{
    paa_apikey_t k;
    ck_assert_int_eq(paa_apikey_generate(tp, &k), APR_SUCCESS);
    ck_assert_int_eq(strlen(k.key), PAA_APIKEY_LEN);
    ck_assert(paa_apikey_well_formed(k.key));
    ck_assert_str_eq(k.hash, paa_sha256_hex(tp, k.key, strlen(k.key)));
    ck_assert_int_eq(strncmp(k.key, k.prefix, PAA_APIKEY_SHOWN), 0);
    ck_assert(!paa_apikey_well_formed("pak_"));
    ck_assert(!paa_apikey_well_formed(apr_pstrcat(tp, k.key, "0", NULL)));
    ck_assert(!paa_apikey_well_formed(apr_pstrndup(tp, k.key, 67)));
    ck_assert(!paa_apikey_well_formed(
        "pak_"
        "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
    ck_assert(!paa_apikey_well_formed(
        "pk__"
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
}
END_TEST

/* The guide's example keys are refused whatever their case; a generated
 * key (positive control) is not. */
/* The module and paactl user unlock must agree on the lockout's name for
 * a user: a fixed vector pins the format (RFC 2104 HMAC-SHA-256, checked
 * with Python's hmac module). */
START_TEST(login_name_ref)
{
    const char *k = "0123456789abcdef0123456789abcdef";
    ck_assert_str_eq(paa_login_name_ref(tp, k, strlen(k), "alice"),
                     "name:433deb45467e4e53dbaba594");
    ck_assert_str_ne(paa_login_name_ref(tp, k, strlen(k), "alicf"),
                     paa_login_name_ref(tp, k, strlen(k), "alice"));
    /* Another secret, another name: the table is useless without it. */
    ck_assert_str_ne(paa_login_name_ref(tp, "x", 1, "alice"),
                     paa_login_name_ref(tp, k, strlen(k), "alice"));
}
END_TEST

START_TEST(apikey_guide_examples)
{
    paa_apikey_t k;
    ck_assert_str_eq(paa_apikey_guide_example("pak_your_api_key_here"),
                     "pak_your_api_key_here");
    ck_assert_ptr_ne(paa_apikey_guide_example("PAK_Another_Key_Here"), NULL);
    ck_assert_ptr_ne(paa_apikey_guide_example("pak_a1b2c3d4e5f6..."), NULL);
    ck_assert_ptr_ne(paa_apikey_guide_example("pak_a1b2c3d4e5f67890"), NULL);
    ck_assert_ptr_ne(paa_apikey_guide_example("pak_compromised_key"), NULL);
    ck_assert_ptr_eq(paa_apikey_guide_example("pak_your_api_key_here2"), NULL);
    ck_assert_ptr_eq(paa_apikey_guide_example("pak_a1b2c3d4e5f"), NULL);
    ck_assert_int_eq(paa_apikey_generate(tp, &k), APR_SUCCESS);
    ck_assert_ptr_eq(paa_apikey_guide_example(k.key), NULL);
}
END_TEST

START_TEST(secret_weakness)
{
    const char *good = "Zx8d!kq2-JHs7QnVw0p1LmRt4yUe6iOa";
    ck_assert_ptr_eq(paa_secret_weakness(tp, good, strlen(good)), NULL);
    ck_assert_ptr_ne(paa_secret_weakness(tp, "short", 5), NULL);
    ck_assert_ptr_ne(paa_secret_weakness(tp, "your_generated_secret_here", 26),
                     NULL);
    ck_assert_ptr_ne(
        paa_secret_weakness(tp, "abababababababababababababababababab", 36),
        NULL);
}
END_TEST

/* "abcdefgh" four times passed every check (32 bytes, 8 distinct) while
 * holding the entropy of 8 characters; httpd started with it and paactl
 * wrote it. Any string that repeats a shorter pattern at least twice is
 * refused now; strings that merely contain a repeat are not. */
START_TEST(secret_weakness_periodic)
{
    const char *why;
    char big[64 * 1024 + 1];
    unsigned char raw[48 * 1024];
    apr_size_t i;

    why = paa_secret_weakness(tp, "abcdefghabcdefghabcdefghabcdefgh", 32);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "repeats a 8-byte pattern"));
    /* The last copy cut short. */
    ck_assert_ptr_nonnull(
        paa_secret_weakness(tp, "abcdefghabcdefghabcdefghabcdefghabcd", 36));
    /* Exactly two copies of a 16-byte pattern. */
    ck_assert_ptr_nonnull(
        paa_secret_weakness(tp, "Zx8d!kq2-JHs7QnVZx8d!kq2-JHs7QnV", 32));
    /* Positive controls: one byte off, a repeat inside, prefix == suffix. */
    ck_assert_ptr_null(
        paa_secret_weakness(tp, "Zx8d!kq2-JHs7QnVZx8d!kq2-JHs7QnW", 32));
    ck_assert_ptr_null(
        paa_secret_weakness(tp, "Q7x!vz0-abcdefghabcdefghabcdefgh-Lm3pR", 38));
    ck_assert_ptr_null(paa_secret_weakness(
        tp, "abcdefgh-Zx8d!kq2-JHs7QnV-Lm3pRt4y-abcdefgh", 43));

    /* As large as a file: source may be, in linear time. */
    for (i = 0; i < sizeof(big) - 1; i++) {
        big[i] = "Zx8d!kq2-JHs7QnV"[i % 16];
    }
    big[sizeof(big) - 1] = '\0';
    ck_assert_ptr_nonnull(paa_secret_weakness(tp, big, sizeof(big) - 1));
    big[sizeof(big) - 2] = '#';
    ck_assert_ptr_null(paa_secret_weakness(tp, big, sizeof(big) - 1));
    ck_assert_int_eq(paa_random_bytes(raw, sizeof(raw)), APR_SUCCESS);
    why = paa_base64(tp, raw, sizeof(raw));
    ck_assert_ptr_null(paa_secret_weakness(tp, why, strlen(why)));
}
END_TEST

START_TEST(secret_sources)
{
    apr_table_t *env = apr_table_make(tp, 2);
    char *v, *big, path[] = "/tmp/paa-secret-XXXXXX";
    apr_size_t len;
    int lit, fd;
    const char *err = NULL;

    apr_table_set(env, "FROM_FILE", "in-env-file");
    ck_assert_int_eq(
        paa_secret_resolve(tp, "env:FROM_FILE", env, &v, &len, &lit, &err),
        APR_SUCCESS);
    ck_assert_str_eq(v, "in-env-file");
    ck_assert_int_eq(lit, 0);
    apr_env_set("PAA_UNIT_SECRET", "in-process-env", tp);
    ck_assert_int_eq(paa_secret_resolve(tp, "env:PAA_UNIT_SECRET", env, &v,
                                        &len, &lit, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "in-process-env");
    ck_assert_int_ne(paa_secret_resolve(tp, "env:PAA_UNIT_MISSING", env, &v,
                                        &len, &lit, &err),
                     APR_SUCCESS);

    fd = mkstemp(path);
    ck_assert_int_ge(write(fd, "from-a-file\n", 12), 12);
    close(fd);
    ck_assert_int_eq(paa_secret_resolve(tp,
                                        apr_pstrcat(tp, "file:", path, NULL),
                                        env, &v, &len, &lit, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "from-a-file");
    ck_assert_int_eq(len, 11);
    /* 64 KiB is the limit: accepted at it, refused one byte over (a file
     * of exactly 65536 bytes was once "larger than 65536 bytes") */
    big = apr_palloc(tp, 65537);
    memset(big, 'k', 65537);
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, big, 65536), 65536);
    close(fd);
    ck_assert_int_eq(paa_secret_resolve(tp,
                                        apr_pstrcat(tp, "file:", path, NULL),
                                        env, &v, &len, &lit, &err),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, 65536);
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, big, 65537), 65537);
    close(fd);
    ck_assert_int_eq(paa_secret_resolve(tp,
                                        apr_pstrcat(tp, "file:", path, NULL),
                                        env, &v, &len, &lit, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "is larger than 65536 bytes"));
    unlink(path);
    ck_assert_int_ne(paa_secret_resolve(tp,
                                        apr_pstrcat(tp, "file:", path, NULL),
                                        env, &v, &len, &lit, &err),
                     APR_SUCCESS);

    ck_assert_int_eq(paa_secret_resolve(tp, "exec:/bin/echo  from  exec", env,
                                        &v, &len, &lit, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "from exec");
    ck_assert_int_ne(
        paa_secret_resolve(tp, "exec:/bin/false", env, &v, &len, &lit, &err),
        APR_SUCCESS);
    ck_assert_int_ne(
        paa_secret_resolve(tp, "exec:echo relative", env, &v, &len, &lit, &err),
        APR_SUCCESS);

    ck_assert_int_eq(
        paa_secret_resolve(tp, "a-literal", env, &v, &len, &lit, &err),
        APR_SUCCESS);
    ck_assert_int_eq(lit, 1);
}
END_TEST

/* The markers of every domain, all at v (the MCP one too). */
static const apr_int64_t *serials(apr_int64_t v)
{
    static apr_int64_t s[PAA_CACHE_DOMAINS];
    int d;
    for (d = 0; d < PAA_CACHE_DOMAINS; d++) {
        s[d] = v;
    }
    return s;
}

START_TEST(authcache_ttl_and_expiry)
{
    paa_authcache_t *c;
    paa_cached_principal_t pr;
    unsigned char d1[32], d2[32];
    apr_time_t now = apr_time_from_sec(NOW);
    apr_uint32_t e;

    ck_assert_int_eq(paa_authcache_create(tp, 8, 1, &c), APR_SUCCESS);
    paa_sha256("key-one", 7, d1);
    paa_sha256("key-two", 7, d2);
    e = paa_authcache_epoch(c);
    ck_assert_int_eq(paa_authcache_get(c, d1, now, &pr), PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_put(c, d1, e, now, 0, "api-key", "key_1",
                                       "key_1", NULL, "ci", "admin"),
                     1);
    ck_assert_int_eq(paa_authcache_get(c, d1, now + 1, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_str_eq(pr.id, "key_1");
    ck_assert_str_eq(pr.key_id, "key_1");
    ck_assert_str_eq(pr.username, "");
    ck_assert_str_eq(pr.client, "ci");
    ck_assert_str_eq(pr.roles, "admin");
    ck_assert_str_eq(pr.method, "api-key");
    ck_assert_int_eq(paa_authcache_get(c, d2, now + 1, &pr),
                     PAA_AUTHCACHE_MISS);
    /* Without a change marker, never past the TTL, so revocation is seen
     * within it. */
    ck_assert_int_eq(paa_authcache_get(c, d1, now + PAA_AUTHCACHE_TTL, &pr),
                     PAA_AUTHCACHE_MISS);
    ck_assert(PAA_AUTHCACHE_TTL < apr_time_from_sec(1));
    ck_assert(PAA_AUTHCACHE_MAXAGE + PAA_AUTHCACHE_CHECK <
              apr_time_from_sec(1));
    /* never past the credential's own expiry */
    paa_authcache_put(c, d1, e, now, now + 10, "api-key", "key_1", "key_1",
                      NULL, "", "");
    ck_assert_int_eq(paa_authcache_get(c, d1, now + 9, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(c, d1, now + 10, &pr),
                     PAA_AUTHCACHE_MISS);
    /* what does not fit is not cached, and says so; nor what expired */
    ck_assert_int_eq(
        paa_authcache_put(
            c, d2, e, now, 0, "jwt", "usr_1", NULL, NULL, NULL,
            apr_pstrcat(tp, "r", apr_psprintf(tp, "%0200d", 0), NULL)),
        0);
    ck_assert_int_eq(paa_authcache_put(c, d2, e, now, now, "jwt", "usr_1", NULL,
                                       NULL, NULL, ""),
                     0);
    ck_assert_int_eq(paa_authcache_get(c, d2, now + 1, &pr),
                     PAA_AUTHCACHE_MISS);
}
END_TEST

/* A new key or user (keys_added) can only make an unknown key known:
 * it drops the unknown entries and keeps the principals; a change to a
 * credential (credentials) drops both. */
START_TEST(authcache_keys_added)
{
    paa_authcache_t *c;
    paa_cached_principal_t pr;
    unsigned char d1[32], d2[32], d3[32];
    apr_time_t t = apr_time_from_sec(NOW);
    apr_int64_t serial[PAA_CACHE_DOMAINS];
    int d;

    ck_assert_int_eq(paa_authcache_create(tp, 64, 1, &c), APR_SUCCESS);
    paa_sha256("key-one", 7, d1);
    paa_sha256("key-two", 7, d2);
    for (d = 0; d < PAA_CACHE_DOMAINS; d++) {
        serial[d] = 7;
    }
    paa_authcache_checked(c, t, serial);
    paa_authcache_put(c, d1, paa_authcache_epoch(c), t, 0, "api-key", "key_1",
                      "key_1", NULL, "", "");
    paa_authcache_put_unknown(
        c, d2, paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), t);
    /* A principal a new user could change (an external token's, whose sub
     * a user added may take): kept under keys_added's epoch. */
    paa_sha256("token-ext", 9, d3);
    ck_assert(paa_authcache_put_principal(
        c, PAA_CACHE_KEYS_ADDED, d3,
        paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), t, 0, "jwt-ext", "bob",
        NULL, NULL, "s:read", "reader"));
    ck_assert_int_eq(paa_authcache_get(c, d1, t, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(c, d2, t, &pr), PAA_AUTHCACHE_UNKNOWN);
    ck_assert_int_eq(paa_authcache_get(c, d3, t, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_str_eq(pr.client, "s:read");
    serial[PAA_CACHE_KEYS_ADDED]++;
    paa_authcache_checked(c, t + 1, serial);
    ck_assert_int_eq(paa_authcache_get(c, d1, t + 1, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + 1, &pr), PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, d3, t + 1, &pr), PAA_AUTHCACHE_MISS);
    /* An unknown entry whose lookup started before the move is stale. */
    paa_authcache_put_unknown(
        c, d2, paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED) - 1, t + 1);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + 1, &pr), PAA_AUTHCACHE_MISS);
    paa_authcache_put_unknown(
        c, d2, paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), t + 1);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + 1, &pr),
                     PAA_AUTHCACHE_UNKNOWN);
    serial[PAA_CACHE_CREDENTIALS]++;
    paa_authcache_checked(c, t + 2, serial);
    ck_assert_int_eq(paa_authcache_get(c, d1, t + 2, &pr), PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + 2, &pr), PAA_AUTHCACHE_MISS);
}
END_TEST

/* With a change marker an entry lives as long as the marker is read and
 * does not move; any move drops everything, and a lookup that started
 * before the move is never kept. */
START_TEST(authcache_change_marker)
{
    paa_authcache_t *c;
    paa_cached_principal_t pr;
    unsigned char d1[32], d2[32], d3[32];
    apr_time_t t = apr_time_from_sec(NOW), s = apr_time_from_sec(1);
    apr_uint32_t e;

    ck_assert_int_eq(paa_authcache_create(tp, 64, 1, &c), APR_SUCCESS);
    paa_sha256("key-one", 7, d1);
    paa_sha256("key-two", 7, d2);
    paa_sha256("key-three", 9, d3);
    /* One caller in all the processes reads the marker per interval. */
    ck_assert(paa_authcache_check_due(c, t));
    ck_assert(!paa_authcache_check_due(c, t + 1));
    paa_authcache_checked(c, t, serials(41));
    e = paa_authcache_epoch(c);
    paa_authcache_put(c, d1, e, t, 0, "api-key", "key_1", "key_1", NULL, "",
                      "");
    paa_authcache_put_unknown(
        c, d2, paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), t);
    ck_assert_int_eq(paa_authcache_get(c, d2, t, &pr), PAA_AUTHCACHE_UNKNOWN);
    /* Confirmed again and again: good for minutes, not only the TTL. */
    for (int i = 1; i <= 600; i++) {
        apr_time_t now = t + i * PAA_AUTHCACHE_CHECK;
        ck_assert(paa_authcache_check_due(c, now));
        paa_authcache_checked(c, now, serials(41));
    }
    t += 600 * PAA_AUTHCACHE_CHECK;
    ck_assert_int_eq(paa_authcache_get(c, d1, t + 1, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + 1, &pr),
                     PAA_AUTHCACHE_UNKNOWN);
    /* Unconfirmed for longer than MAXAGE: not trusted any more. */
    ck_assert_int_eq(
        paa_authcache_get(c, d1, t + PAA_AUTHCACHE_MAXAGE + 1, &pr),
        PAA_AUTHCACHE_MISS);
    /* A lookup starts (epoch read), the marker moves meanwhile: what it
     * found is stale and never served, negative or positive. */
    e = paa_authcache_epoch(c);
    paa_authcache_checked(c, t + s, serials(42));
    paa_authcache_put(c, d3, e, t + s, 0, "api-key", "key_3", "key_3", NULL, "",
                      "");
    ck_assert_int_eq(paa_authcache_get(c, d1, t + s + PAA_AUTHCACHE_TTL, &pr),
                     PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, d2, t + s + PAA_AUTHCACHE_TTL, &pr),
                     PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, d3, t + s + PAA_AUTHCACHE_TTL, &pr),
                     PAA_AUTHCACHE_MISS);
    /* A reading too old: each request reads the marker itself. */
    ck_assert(paa_authcache_stale(c, t + s + PAA_AUTHCACHE_MAXAGE));
    ck_assert(!paa_authcache_stale(c, t + s + 1));
    /* An unreadable marker: back off, and entries live the TTL only. */
    paa_authcache_check_failed(c, t + 2 * s);
    ck_assert(!paa_authcache_stale(c, t + 3 * s));
    ck_assert(!paa_authcache_check_due(c, t + 2 * s + 1));
    ck_assert(paa_authcache_check_due(c, t + 2 * s + PAA_AUTHCACHE_BACKOFF));
}
END_TEST

/* Each set of markers (a server's database) is read, checked and moved
 * on its own: a change in one database ends that set's entries only, and
 * another database's counters, whatever their values, never confirm
 * them. */
START_TEST(authcache_marker_sets)
{
    paa_authcache_t *a, *b;
    paa_cached_principal_t pr;
    unsigned char d1[32], d2[32];
    apr_time_t t = apr_time_from_sec(NOW), s = apr_time_from_sec(1);

    ck_assert_int_eq(paa_authcache_create(tp, 64, 2, &a), APR_SUCCESS);
    ck_assert_ptr_nonnull(b = paa_authcache_set(tp, a, 1));
    ck_assert_ptr_null(paa_authcache_set(tp, a, 2));
    ck_assert_ptr_null(paa_authcache_set(tp, a, -1));
    paa_sha256("key-of-a", 8, d1);
    paa_sha256("key-of-b", 8, d2);
    /* Due in each set: one reader per set and interval. */
    ck_assert(paa_authcache_check_due(a, t));
    ck_assert(paa_authcache_check_due(b, t));
    ck_assert(!paa_authcache_check_due(b, t + 1));
    paa_authcache_checked(a, t, serials(7));
    paa_authcache_checked(b, t, serials(900));
    paa_authcache_put(a, d1, paa_authcache_epoch(a), t, 0, "api-key", "key_a",
                      "key_a", NULL, "", "");
    paa_authcache_put(b, d2, paa_authcache_epoch(b), t, 0, "api-key", "key_b",
                      "key_b", NULL, "", "");
    /* Both confirmed, each by its own database, for longer than a TTL. */
    paa_authcache_checked(a, t + s, serials(7));
    paa_authcache_checked(b, t + s, serials(900));
    ck_assert_int_eq(paa_authcache_get(a, d1, t + s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(b, d2, t + s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    /* A change in b's database: b's entry ends, a's stays. */
    paa_authcache_checked(b, t + 2 * s, serials(901));
    ck_assert_int_eq(paa_authcache_get(b, d2, t + 2 * s + 1, &pr),
                     PAA_AUTHCACHE_MISS);
    paa_authcache_checked(a, t + 2 * s, serials(7));
    ck_assert_int_eq(paa_authcache_get(a, d1, t + 2 * s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    /* a's readings keep a's entries alive, never b's: b unread for longer
     * than MAXAGE is not trusted, however often a is read. */
    paa_authcache_put(b, d2, paa_authcache_epoch(b), t + 2 * s, 0, "api-key",
                      "key_b", "key_b", NULL, "", "");
    paa_authcache_checked(a, t + 3 * s, serials(7));
    ck_assert_int_eq(paa_authcache_get(a, d1, t + 3 * s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(b, d2, t + 3 * s + 1, &pr),
                     PAA_AUTHCACHE_MISS);
}
END_TEST

/* A writer judges the entries of another set by that set's epoch: with
 * the sets' epochs apart, b's unknown key takes a free slot, not a's live
 * one (one bucket of four here). */
START_TEST(authcache_sets_share_buckets)
{
    paa_authcache_t *a, *b;
    paa_cached_principal_t pr;
    unsigned char d1[32], d2[32];
    apr_time_t t = apr_time_from_sec(NOW);

    ck_assert_int_eq(paa_authcache_create(tp, 4, 2, &a), APR_SUCCESS);
    b = paa_authcache_set(tp, a, 1);
    paa_sha256("key-of-a", 8, d1);
    paa_sha256("unknown-at-b", 12, d2);
    paa_authcache_checked(a, t, serials(1));
    paa_authcache_checked(a, t, serials(2));
    paa_authcache_checked(b, t, serials(1));
    ck_assert_uint_ne(paa_authcache_epoch(a), paa_authcache_epoch(b));
    paa_authcache_put(a, d1, paa_authcache_epoch(a), t, 0, "api-key", "key_a",
                      "key_a", NULL, "", "");
    paa_authcache_put_unknown(
        b, d2, paa_authcache_epoch_of(b, PAA_CACHE_KEYS_ADDED), t);
    ck_assert_int_eq(paa_authcache_get(a, d1, t + 1, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(b, d2, t + 1, &pr),
                     PAA_AUTHCACHE_UNKNOWN);
    /* Each set finds only what was put under it. */
    ck_assert_int_eq(paa_authcache_get(b, d1, t + 1, &pr), PAA_AUTHCACHE_MISS);
}
END_TEST

/* The warm's filter of jtis revoked alone: nothing is vouched for before
 * it is done, nor for another epoch or another set; once done, every jti
 * added is refused (no false "not revoked", however many), and nearly
 * every other one is vouched for. */
START_TEST(authcache_revoked_filter)
{
    paa_authcache_t *a, *b;
    char jti[32];
    int i, vouched = 0;

    ck_assert_int_eq(paa_authcache_create(tp, 64, 2, &a), APR_SUCCESS);
    b = paa_authcache_set(tp, a, 1);
    ck_assert(!paa_authcache_revoked_not(a, 0, "jti-other"));
    ck_assert(!paa_authcache_revoked_not(a, 0, NULL));
    for (i = 0; i < 2000; i++) {
        apr_snprintf(jti, sizeof(jti), "revoked-%d", i);
        paa_authcache_revoked_add(a, jti);
    }
    ck_assert(!paa_authcache_revoked_not(a, 3, "jti-other"));
    paa_authcache_revoked_done(a, 3);
    for (i = 0; i < 2000; i++) {
        apr_snprintf(jti, sizeof(jti), "revoked-%d", i);
        ck_assert_msg(!paa_authcache_revoked_not(a, 3, jti), "%s vouched", jti);
    }
    for (i = 0; i < 2000; i++) {
        apr_snprintf(jti, sizeof(jti), "live-%d", i);
        vouched += paa_authcache_revoked_not(a, 3, jti);
    }
    /* About 1 in 450 wrongly suspected at 2,000 jtis (4 probes of 32,768
     * bits), so some 4 of these; a filter that suspected at random would
     * vouch for far fewer. */
    ck_assert_int_ge(vouched, 1990);
    ck_assert(paa_authcache_revoked_not(a, 3, NULL));
    /* Another epoch (a change since the warm), another set: not known. */
    ck_assert(!paa_authcache_revoked_not(a, 4, NULL));
    ck_assert(!paa_authcache_revoked_not(b, 3, NULL));
    /* No jti is looked up as "": revoked so (by hand), refused so. */
    paa_authcache_revoked_add(b, "");
    paa_authcache_revoked_done(b, 3);
    ck_assert(!paa_authcache_revoked_not(b, 3, NULL));
    ck_assert(paa_authcache_revoked_not(b, 3, "revoked-1"));
}
END_TEST

/* Each domain has its own marker: an MCP session ending does not drop
 * every key, and a key change does not drop the sessions. */
START_TEST(authcache_domains)
{
    paa_authcache_t *c;
    paa_cached_principal_t pr;
    unsigned char key[32], sess[32];
    apr_time_t t = apr_time_from_sec(NOW), s = apr_time_from_sec(1);
    apr_int64_t m[PAA_CACHE_DOMAINS] = {0};

    ck_assert_int_eq(paa_authcache_create(tp, 64, 1, &c), APR_SUCCESS);
    paa_sha256("key", 3, key);
    paa_sha256("session", 7, sess);
    paa_authcache_checked(c, t, m);
    paa_authcache_put(c, key, paa_authcache_epoch(c), t, 0, "api-key", "k", "k",
                      NULL, "", "");
    paa_authcache_put_in(c, PAA_CACHE_MCP_SESSIONS, sess,
                         paa_authcache_epoch_of(c, PAA_CACHE_MCP_SESSIONS), t,
                         t + 100 * s, "mcp", "key_owner");
    ck_assert_int_eq(paa_authcache_get(c, sess, t + 1, &pr), PAA_AUTHCACHE_HIT);
    ck_assert_str_eq(pr.method, "mcp");
    ck_assert_str_eq(pr.id, "key_owner");
    m[PAA_CACHE_MCP_SESSIONS]++;
    paa_authcache_checked(c, t + s, m);
    ck_assert_int_eq(paa_authcache_get(c, sess, t + s + 1, &pr),
                     PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, key, t + s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    paa_authcache_put_in(c, PAA_CACHE_MCP_SESSIONS, sess,
                         paa_authcache_epoch_of(c, PAA_CACHE_MCP_SESSIONS),
                         t + s, t + 100 * s, "mcp", "key_owner");
    m[PAA_CACHE_CREDENTIALS]++;
    paa_authcache_checked(c, t + 2 * s, m);
    ck_assert_int_eq(paa_authcache_get(c, key, t + 2 * s + 1, &pr),
                     PAA_AUTHCACHE_MISS);
    ck_assert_int_eq(paa_authcache_get(c, sess, t + 2 * s + 1, &pr),
                     PAA_AUTHCACHE_HIT);
    /* A change made here: the next request reads the markers. */
    ck_assert(paa_authcache_check_due(c, t + 2 * s + 1));
    ck_assert(!paa_authcache_check_due(c, t + 2 * s + 2));
    paa_authcache_check_soon(c);
    ck_assert(paa_authcache_check_due(c, t + 2 * s + 3));
}
END_TEST

/* A bucket holds several credentials; unknown keys never push out a
 * principal, so a flood of random keys cannot empty the cache. */
START_TEST(authcache_buckets_and_unknown_keys)
{
    paa_authcache_t *c;
    paa_cached_principal_t pr;
    unsigned char d[12][32];
    apr_time_t t = apr_time_from_sec(NOW);
    int i, hits = 0;

    ck_assert_int_eq(paa_authcache_create(tp, 4, 1, &c), APR_SUCCESS);
    paa_authcache_checked(c, t, serials(1));
    for (i = 0; i < 12; i++) {
        d[i][0] = (unsigned char)i;
        memset(d[i] + 1, 0x5a, 31);
    }
    for (i = 0; i < 4; i++) {
        paa_authcache_put(c, d[i], paa_authcache_epoch(c), t + i, 0, "jwt",
                          "usr", NULL, "u", NULL, "");
    }
    for (i = 4; i < 12; i++) {
        paa_authcache_put_unknown(
            c, d[i], paa_authcache_epoch_of(c, PAA_CACHE_KEYS_ADDED), t + i);
    }
    for (i = 0; i < 4; i++) {
        hits += paa_authcache_get(c, d[i], t + 20, &pr) == PAA_AUTHCACHE_HIT;
    }
    ck_assert_int_eq(hits, 4);
    /* A fifth principal replaces the oldest. */
    paa_authcache_put(c, d[4], paa_authcache_epoch(c), t + 30, 0, "jwt", "usr",
                      NULL, "u", NULL, "");
    ck_assert_int_eq(paa_authcache_get(c, d[4], t + 31, &pr),
                     PAA_AUTHCACHE_HIT);
    ck_assert_int_eq(paa_authcache_get(c, d[0], t + 31, &pr),
                     PAA_AUTHCACHE_MISS);
}
END_TEST

START_TEST(cors_structural_matching)
{
    static const char *const conf[] = {"https://app.example.com",
                                       "https://*.example.org",
                                       "http://localhost:3000", NULL};
    static const char *const good[] = {"https://app.example.com",
                                       "https://APP.example.com",
                                       "https://app.example.com:443",
                                       "https://a.example.org",
                                       "https://a.b.example.org",
                                       "http://localhost:3000",
                                       NULL};
    static const char *const bad[] = {"https://evil-example.com",
                                      "https://example.com.evil.net",
                                      "http://app.example.com",
                                      "https://app.example.com:8443",
                                      "https://example.org",
                                      "https://evilexample.org",
                                      "https://a.example.org.evil.net",
                                      "http://a.example.org",
                                      "null",
                                      "https://app.example.com/path",
                                      "https://user@app.example.com",
                                      "http://localhost:3001",
                                      "http://localhost",
                                      "",
                                      "app.example.com",
                                      NULL};
    apr_array_header_t *allow = apr_array_make(tp, 3, sizeof(paa_origin_t));
    const char *err = NULL;
    paa_origin_t o;
    int i;

    for (i = 0; conf[i]; i++) {
        ck_assert_int_eq(paa_origin_parse(tp, conf[i], &o, &err), APR_SUCCESS);
        APR_ARRAY_PUSH(allow, paa_origin_t) = o;
    }
    for (i = 0; good[i]; i++) {
        ck_assert_msg(paa_origin_allowed(tp, allow, good[i]), "%s refused",
                      good[i]);
    }
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(!paa_origin_allowed(tp, allow, bad[i]), "%s allowed",
                      bad[i]);
    }
    ck_assert_int_ne(paa_origin_parse(tp, "https://*.com", &o, &err),
                     APR_SUCCESS);
    ck_assert_int_ne(paa_origin_parse(tp, "ftp://x.example.com", &o, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(paa_origin_parse(tp, "*", &o, &err), APR_SUCCESS);
    ck_assert(o.any);
}
END_TEST

/* An exact entry's serialization is what browsers send, and is allowed
 * without a parse: it must be exactly the entry's origin, and a wildcard
 * has none (its parent domain is not one of its origins). */
START_TEST(cors_serialized_entries)
{
    static const char *const conf[][2] = {
        {"https://app.example.com", "https://app.example.com"},
        {"HTTPS://App.Example.COM:443/", "https://app.example.com"},
        {"http://localhost:3000", "http://localhost:3000"},
        {"http://localhost:80", "http://localhost"},
        {"https://app.example.com:80", "https://app.example.com:80"},
        {"http://[::1]:8080", "http://[::1]:8080"},
        {"http://[::1]", "http://[::1]"},
        {NULL, NULL}};
    apr_array_header_t *allow = apr_array_make(tp, 1, sizeof(paa_origin_t));
    const char *err = NULL;
    paa_origin_t o;
    int i;

    for (i = 0; conf[i][0]; i++) {
        ck_assert_int_eq(paa_origin_parse(tp, conf[i][0], &o, &err),
                         APR_SUCCESS);
        ck_assert_msg(o.serialized && !strcmp(o.serialized, conf[i][1]),
                      "%s serialized as %s", conf[i][0],
                      o.serialized ? o.serialized : "(none)");
        apr_array_clear(allow);
        APR_ARRAY_PUSH(allow, paa_origin_t) = o;
        ck_assert_msg(paa_origin_allowed(tp, allow, conf[i][1]),
                      "%s refused for %s", conf[i][1], conf[i][0]);
    }
    ck_assert_int_eq(paa_origin_parse(tp, "https://*.example.org", &o, &err),
                     APR_SUCCESS);
    ck_assert_ptr_null(o.serialized);
    apr_array_clear(allow);
    APR_ARRAY_PUSH(allow, paa_origin_t) = o;
    ck_assert(!paa_origin_allowed(tp, allow, "https://example.org"));
    ck_assert(paa_origin_allowed(tp, allow, "https://a.example.org"));
    ck_assert_int_eq(paa_origin_parse(tp, "*", &o, &err), APR_SUCCESS);
    ck_assert_ptr_null(o.serialized);
}
END_TEST

START_TEST(ratelimit_exact_window)
{
    apr_uint32_t slots = 64;
    void *mem = apr_palloc(tp, paa_rl_size(slots));
    paa_rl_result_t res;
    int i, allowed = 0;

    paa_rl_init(mem, slots);
    for (i = 0; i < 10; i++) {
        paa_rl_hit(mem, 42, NOW, 3, 60, &res);
        allowed += res.allowed;
        if (i == 3) {
            ck_assert(res.first_refusal);
        }
        if (i > 3) {
            ck_assert(!res.first_refusal);
        }
    }
    ck_assert_int_eq(allowed, 3);
    ck_assert_int_eq(res.remaining, 0);
    ck_assert_int_eq(res.reset, 60);
    paa_rl_hit(mem, 43, NOW, 3, 60, &res); /* another key: own budget */
    ck_assert(res.allowed);
    paa_rl_hit(mem, 42, NOW + 60, 3, 60, &res); /* next window */
    ck_assert(res.allowed);
    ck_assert_int_eq(res.remaining, 2);
    /* a full table evicts instead of growing */
    for (i = 0; i < 1000; i++) {
        paa_rl_hit(mem, 1000 + (apr_uint64_t)i, NOW + 61, 3, 60, &res);
        ck_assert(res.allowed);
    }
}
END_TEST

/* Several processes hammering one key through the table's own lock: the
 * total accepted is exactly the limit (a lost update would let more in). */
START_TEST(ratelimit_exact_across_processes)
{
    enum { PROCS = 4, HITS = 1000000, LIMIT = 3000000 };
    apr_shm_t *shm;
    void *mem;
    int *allowed;
    int i, total = 0;

    ck_assert_int_eq(
        apr_shm_create(&shm, paa_rl_size(64) + sizeof(int) * PROCS, NULL, tp),
        APR_SUCCESS);
    mem = apr_shm_baseaddr_get(shm);
    paa_rl_init(mem, 64);
    allowed = (int *)((char *)mem + paa_rl_size(64));
    for (i = 0; i < PROCS; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            paa_rl_result_t res;
            int n = 0, k;
            for (k = 0; k < HITS; k++) {
                paa_rl_hit(mem, 7, NOW, LIMIT, 60, &res);
                n += res.allowed;
            }
            allowed[i] = n;
            _exit(0);
        }
    }
    for (i = 0; i < PROCS; i++) {
        int status;
        ck_assert_int_gt(wait(&status), 0);
    }
    for (i = 0; i < PROCS; i++) {
        total += allowed[i];
    }
    ck_assert_int_eq(total, LIMIT);
    apr_shm_destroy(shm);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, paa_test_setup, paa_test_teardown);
    tcase_add_test(tc, jwt_roundtrip);
    tcase_add_test(tc, login_name_ref);
    tcase_add_test(tc, jwt_alg_pinning);
    tcase_add_test(tc, jwt_time_claims);
    tcase_add_test(tc, jwt_issuer_audience);
    tcase_add_test(tc, jwt_previous_secret_and_tampering);
    tcase_add_test(tc, jwt_hs256_key_lengths);
    tcase_add_test(tc, authorization_header);
    tcase_add_test(tc, apikey_format);
    tcase_add_test(tc, apikey_guide_examples);
    tcase_add_test(tc, secret_weakness);
    tcase_add_test(tc, secret_weakness_periodic);
    tcase_add_test(tc, secret_sources);
    tcase_add_test(tc, authcache_ttl_and_expiry);
    tcase_add_test(tc, authcache_change_marker);
    tcase_add_test(tc, authcache_keys_added);
    tcase_add_test(tc, authcache_buckets_and_unknown_keys);
    tcase_add_test(tc, authcache_domains);
    tcase_add_test(tc, authcache_marker_sets);
    tcase_add_test(tc, authcache_sets_share_buckets);
    tcase_add_test(tc, authcache_revoked_filter);
    tcase_add_test(tc, cors_structural_matching);
    tcase_add_test(tc, cors_serialized_entries);
    tcase_add_test(tc, ratelimit_exact_window);
    tcase_add_test(tc, ratelimit_exact_across_processes);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(auth_suite)
