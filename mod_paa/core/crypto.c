/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Small wrappers over OpenSSL so that every random byte comes from one
 * CSPRNG and every secret comparison is constant-time. */

#include "paa.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>

apr_status_t paa_random_bytes(unsigned char *buf, apr_size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? APR_SUCCESS : APR_EGENERAL;
}

char *paa_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    apr_size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 0x0f];
    }
    out[n * 2] = '\0';
    return out;
}

/* A credential is hashed on every request, to find it in the cache, and
 * OpenSSL 3.0's EVP interface costs far more than the hash there: perf in
 * a loaded server found 3.9 us a request (of about 150) under
 * paa_sha256, mostly in freeing and allocating the provider's context
 * again at each EVP_DigestInit_ex2 (CRYPTO_clear_free, CRYPTO_zalloc),
 * asking the engine table for a replacement (ENGINE_get_digest_engine)
 * and the library's initialisation checks. The low-level functions run
 * the same assembly (SHA-NI where the CPU has it) on a context on the
 * stack. OpenSSL 3 deprecates them without removing them; a build
 * without them goes through EVP. */
void paa_sha256(const char *data, apr_size_t len, unsigned char *out)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof(c));
#pragma GCC diagnostic pop
#else
    /* Only an allocation fails here: the zeros it leaves match no
     * stored hash, so the credential is refused. */
    if (!EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL)) {
        memset(out, 0, SHA256_DIGEST_LENGTH);
    }
#endif
}

char *paa_sha256_hex(apr_pool_t *p, const char *data, apr_size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    paa_sha256(data, len, md);
    return paa_hex(p, md, sizeof(md));
}

#ifndef OPENSSL_NO_DEPRECATED_3_0
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* One half of HMAC: SHA-256 of the block-sized key XOR x, then data. */
static void hmac_half(const unsigned char *k, unsigned char x, const void *data,
                      apr_size_t len, unsigned char *out)
{
    unsigned char pad[SHA256_CBLOCK];
    SHA256_CTX c;
    apr_size_t i;

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k[i] ^ x;
    }
    SHA256_Init(&c);
    SHA256_Update(&c, pad, sizeof(pad));
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof(c));
    OPENSSL_cleanse(pad, sizeof(pad));
}
#pragma GCC diagnostic pop
#endif

/* HMAC() costs 2.9 us a call here even with hot caches (OpenSSL 3.0
 * fetches the digest and the MAC and allocates their contexts), on the
 * request path of every rate limit kept in Redis and of every HS256
 * token not yet cached. HMAC (RFC 2104) over the low-level SHA-256, as
 * paa_sha256 above, costs a tenth of that. */
int paa_hmac_sha256(const char *key, apr_size_t klen, const void *data,
                    apr_size_t len, unsigned char *out)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    unsigned char k[SHA256_CBLOCK];
    unsigned char inner[SHA256_DIGEST_LENGTH];

    memset(k, 0, sizeof(k));
    if (klen > sizeof(k)) {
        paa_sha256(key, klen, k); /* a longer key is its hash */
    }
    else if (klen) {
        memcpy(k, key, klen);
    }
    hmac_half(k, 0x36, data, len, inner);
    hmac_half(k, 0x5c, inner, sizeof(inner), out);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(inner, sizeof(inner));
    return 1;
#else
    unsigned int mdlen = 0;
    return HMAC(EVP_sha256(), key, (int)klen, data, len, out, &mdlen) &&
           mdlen == SHA256_DIGEST_LENGTH;
#endif
}

char *paa_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *data, apr_size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    if (!paa_hmac_sha256(key, klen, data, len, md)) {
        return NULL;
    }
    return paa_hex(p, md, sizeof(md));
}

const char *paa_login_name_ref(apr_pool_t *p, const char *key, apr_size_t klen,
                               const char *username)
{
    const char *h =
        paa_hmac_sha256_hex(p, key, klen, username, strlen(username));
    return apr_pstrcat(p, "name:", h ? apr_pstrndup(p, h, 24) : "", NULL);
}

const char *paa_pseudonym(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *id)
{
    /* A prefix of its own: the same secret hashes login names (api/auth.c)
     * and a pseudonym must not match a user's name reference. */
    const char *in = apr_pstrcat(p, "gdpr-erase:", id, NULL);
    const char *h = paa_hmac_sha256_hex(p, key, klen, in, strlen(in));
    return h ? apr_pstrcat(p, "erased:", apr_pstrndup(p, h, 24), NULL) : NULL;
}

char *paa_base64(apr_pool_t *p, const unsigned char *buf, apr_size_t n)
{
    char *out = apr_palloc(p, 4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, buf, (int)n);
    return out;
}

int paa_secret_equal(const char *a, apr_size_t alen, const char *b,
                     apr_size_t blen)
{
    if (alen != blen) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, alen) == 0;
}

void paa_wipe(void *buf, apr_size_t n)
{
    OPENSSL_cleanse(buf, n);
}

char *paa_id_generate(apr_pool_t *p, const char *prefix)
{
    unsigned char raw[8];
    char *hex;
    if (paa_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    hex = paa_hex(p, raw, sizeof(raw));
    return apr_pstrcat(p, prefix, hex, NULL);
}
