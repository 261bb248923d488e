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
#include <pthread.h>

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

/* SHA256() looks the algorithm up in OpenSSL 3's provider tables on every
 * call (a lock and a hash lookup), a noticeable part of a request that
 * only hashes a credential to find it in the cache: it is fetched once. */
static const EVP_MD *sha256_md(void)
{
    static void *md;
    EVP_MD *have = __atomic_load_n(&md, __ATOMIC_ACQUIRE), *mine;

    if (have) {
        return have;
    }
    if (!(mine = EVP_MD_fetch(NULL, "SHA256", NULL))) {
        return EVP_sha256();
    }
    if ((have = paa_publish_once(&md, mine)) != mine) {
        EVP_MD_free(mine);
    }
    return have;
}

/* EVP_Digest allocates a context and frees it again on every call,
 * natively more of its time than the hash of a credential: each thread
 * keeps one instead, and initialising it again with the same digest
 * reuses it whole. The key is deleted when the library is unloaded (httpd
 * unloads the module at a restart), and the unloading thread's context
 * freed; a thread that ends frees its own. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static int ctx_key_made;

static void ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}
static void ctx_key_make(void)
{
    ctx_key_made = pthread_key_create(&ctx_key, ctx_free) == 0;
}
__attribute__((destructor)) static void ctx_key_drop(void)
{
    if (ctx_key_made) {
        EVP_MD_CTX_free(pthread_getspecific(ctx_key));
        pthread_key_delete(ctx_key);
        ctx_key_made = 0;
    }
}
static EVP_MD_CTX *thread_ctx(void)
{
    EVP_MD_CTX *ctx;

    if (pthread_once(&ctx_once, ctx_key_make) != 0 || !ctx_key_made) {
        return NULL;
    }
    if ((ctx = pthread_getspecific(ctx_key))) {
        return ctx;
    }
    if ((ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

void paa_sha256(const char *data, apr_size_t len, unsigned char *out)
{
    EVP_MD_CTX *ctx = thread_ctx();

    if (ctx && EVP_DigestInit_ex2(ctx, sha256_md(), NULL) &&
        EVP_DigestUpdate(ctx, data, len) &&
        EVP_DigestFinal_ex(ctx, out, NULL)) {
        return;
    }
    if (!EVP_Digest(data, len, out, NULL, sha256_md(), NULL)) {
        SHA256((const unsigned char *)data, len, out);
    }
}

char *paa_sha256_hex(apr_pool_t *p, const char *data, apr_size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    paa_sha256(data, len, md);
    return paa_hex(p, md, sizeof(md));
}

char *paa_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, len,
              md, &mdlen)) {
        return NULL;
    }
    return paa_hex(p, md, mdlen);
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
