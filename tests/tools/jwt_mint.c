/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* jwt_mint: forge JSON Web Tokens for the integration tests, including
 * the malicious ones (alg "none", a header that lies about the algorithm,
 * an RSA public key used as an HMAC secret, a tampered payload). It is
 * deliberately independent of the module: it uses only OpenSSL and
 * jansson, so a bug in mod_paa's own JWT code cannot hide itself by
 * being shared with the tool that tests it.
 *
 *   jwt_mint sign --alg ALG [--key STRING | --key-file PATH]
 *                 [--header JSON] --payload JSON
 *   jwt_mint genkey rsa|ec PRIVATE.pem PUBLIC.pem
 *   jwt_mint tamper TOKEN
 *
 * Results go to stdout, diagnostics to stderr. Exit status: 0 success,
 * 1 failure (bad JSON, unreadable file, unusable key, crypto error),
 * 2 usage error. */

/* Hide everything OpenSSL 3 deprecated, so the tool keeps building when
 * those interfaces disappear. */
#define OPENSSL_API_COMPAT 30000

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

/* A JWS ES256 signature is R||S, each left-padded to the 32-byte size of
 * the P-256 group order (RFC 7518, 3.4). */
#define ES256_HALF 32

typedef struct {
    unsigned char *data;
    size_t len;
} buf_t;

static void buf_free(buf_t *b)
{
    if (b->data) {
        /* Keys pass through these buffers; do not leave them in freed
         * memory. */
        OPENSSL_cleanse(b->data, b->len);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("jwt_mint: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* OpenSSL keeps its reasons on a queue; show them so that a test failing
 * on a bad key says why. */
static void fail_ssl(const char *what)
{
    unsigned long e;
    fail("%s", what);
    while ((e = ERR_get_error()) != 0) {
        char msg[256];
        ERR_error_string_n(e, msg, sizeof(msg));
        fprintf(stderr, "  %s\n", msg);
    }
}

static void usage(FILE *out)
{
    fputs("usage: jwt_mint sign --alg ALG [--key STRING | --key-file PATH]\n"
          "                     [--header JSON] --payload JSON\n"
          "       jwt_mint genkey rsa|ec PRIVATE.pem PUBLIC.pem\n"
          "       jwt_mint tamper TOKEN\n"
          "\n"
          "sign     print base64url(header).base64url(payload)."
          "base64url(signature)\n"
          "         ALG: none HS256 HS384 HS512 RS256 ES256. HS*: the key is"
          " the raw\n"
          "         secret (a --key-file is used byte for byte). RS256/ES256:"
          " the key is\n"
          "         a PEM private key. The header is {\"alg\":ALG,"
          "\"typ\":\"JWT\"} with the\n"
          "         members of --header added or replacing them. In an"
          " object payload,\n"
          "         exp/nbf/iat given as \"now\", \"now+N\" or \"now-N\""
          " become Unix times;\n"
          "         otherwise the payload text is used exactly as given.\n"
          "genkey   write a new RSA 2048 or EC P-256 key pair (PKCS#8 private"
          " key,\n"
          "         SubjectPublicKeyInfo public key)\n"
          "tamper   print TOKEN with \"sub\" in its payload set to"
          " \"attacker\",\n"
          "         keeping the original signature\n",
          out);
}

/* ---- base64url (RFC 4648, section 5, without padding) ---- */

static char *b64url_encode(const unsigned char *in, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    size_t i;
    if (!out) {
        return NULL;
    }
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
    }
    else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
    }
    *o = '\0';
    return out;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* Decodes n characters of unpadded base64url; 0 on malformed input. */
static int b64url_decode(const char *in, size_t n, buf_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t i;
    if (n % 4 == 1) {
        return 0;
    }
    out->data = malloc(n * 3 / 4 + 1);
    out->len = 0;
    if (!out->data) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        int v = b64url_value(in[i]);
        if (v < 0) {
            buf_free(out);
            return 0;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return 1;
}

/* ---- input ---- */

static int read_file(const char *path, buf_t *out)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096;
    out->len = 0;
    out->data = NULL;
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        return 0;
    }
    for (;;) {
        size_t got;
        if (!out->data || out->len == cap) {
            unsigned char *grown;
            if (out->data) {
                cap *= 2;
            }
            grown = realloc(out->data, cap);
            if (!grown) {
                fail("out of memory");
                buf_free(out);
                fclose(f);
                return 0;
            }
            out->data = grown;
        }
        got = fread(out->data + out->len, 1, cap - out->len, f);
        out->len += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        fail("%s: read error", path);
        buf_free(out);
        fclose(f);
        return 0;
    }
    fclose(f);
    return 1;
}

/* ---- "now" in time claims ---- */

/* Tests need tokens that are valid, expired or not yet valid relative to
 * the moment they run, so exp/nbf/iat may be written "now", "now+N" or
 * "now-N" (seconds). Returns 1 and sets *value for such a string, 0 for
 * any other string (left alone: a string exp is itself a useful malformed
 * claim), -1 for "now" followed by something that is not +N or -N, which
 * is almost certainly a typo ("now+1h"). */
static int parse_now(const char *s, json_int_t now, json_int_t *value)
{
    const char *d;
    json_int_t n = 0;
    if (strncasecmp(s, "now", 3) != 0) {
        return 0;
    }
    if (s[3] == '\0') {
        *value = now;
        return 1;
    }
    if (s[3] != '+' && s[3] != '-') {
        return 0;
    }
    if (s[4] == '\0' || strlen(s + 4) > 15) {
        return -1;
    }
    for (d = s + 4; *d; d++) {
        if (*d < '0' || *d > '9') {
            return -1;
        }
        n = n * 10 + (*d - '0');
    }
    *value = s[3] == '+' ? now + n : now - n;
    return 1;
}

/* Returns the number of claims replaced, or -1 on a malformed "now". */
static int resolve_now(json_t *payload)
{
    static const char *const claims[] = {"exp", "nbf", "iat"};
    json_int_t now = (json_int_t)time(NULL), value;
    int replaced = 0;
    size_t i;
    if (!json_is_object(payload)) {
        return 0;
    }
    for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        json_t *c = json_object_get(payload, claims[i]);
        int r;
        if (!json_is_string(c)) {
            continue;
        }
        r = parse_now(json_string_value(c), now, &value);
        if (r < 0) {
            fail("payload: %s: \"%s\" is not now, now+N or now-N", claims[i],
                 json_string_value(c));
            return -1;
        }
        if (r > 0) {
            json_object_set_new(payload, claims[i], json_integer(value));
            replaced++;
        }
    }
    return replaced;
}

/* ---- signing ---- */

static int sign_hmac(const EVP_MD *md, const buf_t *key, const char *input,
                     buf_t *sig)
{
    unsigned int len = 0;
    sig->data = malloc(EVP_MAX_MD_SIZE);
    if (!sig->data) {
        fail("out of memory");
        return 0;
    }
    /* An empty secret is allowed on purpose: a verifier must reject it,
     * and the test needs a token to show that. HMAC() wants a non-NULL
     * pointer even for zero bytes. */
    if (!HMAC(md, key->data ? key->data : (const unsigned char *)"",
              (int)key->len, (const unsigned char *)input, strlen(input),
              sig->data, &len)) {
        fail_ssl("HMAC failed");
        buf_free(sig);
        return 0;
    }
    sig->len = len;
    return 1;
}

static EVP_PKEY *load_private_key(const buf_t *key, const char *type)
{
    BIO *bio = BIO_new_mem_buf(key->data, (int)key->len);
    EVP_PKEY *pkey;
    if (!bio) {
        fail_ssl("cannot read the key");
        return NULL;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!pkey) {
        fail_ssl("the key is not a PEM private key");
        return NULL;
    }
    if (!EVP_PKEY_is_a(pkey, type)) {
        fail("the key is not an %s private key", type);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

static int digest_sign(EVP_PKEY *pkey, const char *input, buf_t *sig)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 0;
    int ok = 0;
    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input,
                       strlen(input)) != 1) {
        fail_ssl("cannot start signing");
        goto done;
    }
    sig->data = malloc(len);
    if (!sig->data) {
        fail("out of memory");
        goto done;
    }
    if (EVP_DigestSign(ctx, sig->data, &len, (const unsigned char *)input,
                       strlen(input)) != 1) {
        fail_ssl("signing failed");
        buf_free(sig);
        goto done;
    }
    sig->len = len;
    ok = 1;
done:
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* RS256: RSASSA-PKCS1-v1_5 with SHA-256, OpenSSL's default RSA padding. */
static int sign_rs256(const buf_t *key, const char *input, buf_t *sig)
{
    EVP_PKEY *pkey = load_private_key(key, "RSA");
    int ok;
    if (!pkey) {
        return 0;
    }
    ok = digest_sign(pkey, input, sig);
    EVP_PKEY_free(pkey);
    return ok;
}

/* ES256: OpenSSL produces a DER ECDSA-Sig-Value; JWS wants the two
 * integers as fixed-width big-endian R||S. */
static int sign_es256(const buf_t *key, const char *input, buf_t *sig)
{
    EVP_PKEY *pkey = load_private_key(key, "EC");
    char group[64];
    buf_t der = {NULL, 0};
    const unsigned char *p;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r, *s;
    int ok = 0;
    if (!pkey) {
        return 0;
    }
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                        sizeof(group), NULL) ||
        strcmp(group, "prime256v1") != 0) {
        fail("ES256 needs a P-256 (prime256v1) key");
        goto done;
    }
    if (!digest_sign(pkey, input, &der)) {
        goto done;
    }
    p = der.data;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der.len);
    if (!es) {
        fail_ssl("cannot parse the ECDSA signature");
        goto done;
    }
    ECDSA_SIG_get0(es, &r, &s);
    sig->data = malloc(2 * ES256_HALF);
    if (!sig->data) {
        fail("out of memory");
        goto done;
    }
    if (BN_bn2binpad(r, sig->data, ES256_HALF) != ES256_HALF ||
        BN_bn2binpad(s, sig->data + ES256_HALF, ES256_HALF) != ES256_HALF) {
        fail("ECDSA signature does not fit P-256");
        buf_free(sig);
        goto done;
    }
    sig->len = 2 * ES256_HALF;
    ok = 1;
done:
    ECDSA_SIG_free(es);
    buf_free(&der);
    EVP_PKEY_free(pkey);
    return ok;
}

/* Assembles "encoded-header.encoded-payload" plus the base64url of sig;
 * returns a malloc'd string or NULL. */
static char *join_token(const char *signing_input, const buf_t *sig)
{
    char *enc = b64url_encode(sig->data, sig->len), *token;
    size_t n;
    if (!enc) {
        return NULL;
    }
    n = strlen(signing_input) + 1 + strlen(enc) + 1;
    token = malloc(n);
    if (token) {
        snprintf(token, n, "%s.%s", signing_input, enc);
    }
    free(enc);
    return token;
}

static int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"alg", required_argument, NULL, 'a'},
        {"key", required_argument, NULL, 'k'},
        {"key-file", required_argument, NULL, 'f'},
        {"header", required_argument, NULL, 'H'},
        {"payload", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *alg = NULL, *key_str = NULL, *key_file = NULL;
    const char *header_arg = NULL, *payload_arg = NULL;
    const EVP_MD *hmac_md = NULL;
    json_t *header = NULL, *extra = NULL, *payload = NULL;
    json_error_t jerr;
    char *header_json = NULL, *payload_json = NULL;
    char *h64 = NULL, *p64 = NULL, *input = NULL, *token = NULL;
    buf_t key = {NULL, 0}, sig = {NULL, 0};
    int c, rc = 1, replaced;
    size_t n;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            alg = optarg;
            break;
        case 'k':
            key_str = optarg;
            break;
        case 'f':
            key_file = optarg;
            break;
        case 'H':
            header_arg = optarg;
            break;
        case 'p':
            payload_arg = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fail("sign: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!alg || !payload_arg) {
        fail("sign: --alg and --payload are required");
        return EXIT_USAGE;
    }
    if (key_str && key_file) {
        fail("sign: give --key or --key-file, not both");
        return EXIT_USAGE;
    }
    if (strcmp(alg, "HS256") == 0) {
        hmac_md = EVP_sha256();
    }
    else if (strcmp(alg, "HS384") == 0) {
        hmac_md = EVP_sha384();
    }
    else if (strcmp(alg, "HS512") == 0) {
        hmac_md = EVP_sha512();
    }
    else if (strcmp(alg, "none") != 0 && strcmp(alg, "RS256") != 0 &&
             strcmp(alg, "ES256") != 0) {
        fail("sign: unknown --alg '%s' (none, HS256, HS384, HS512, RS256,"
             " ES256)",
             alg);
        return EXIT_USAGE;
    }
    /* alg none signs nothing, so a key given with it is simply unused. */
    if (strcmp(alg, "none") != 0 && !key_str && !key_file) {
        fail("sign: --alg %s needs --key or --key-file", alg);
        return EXIT_USAGE;
    }

    if (key_file) {
        if (!read_file(key_file, &key)) {
            goto done;
        }
    }
    else if (key_str) {
        key.len = strlen(key_str);
        key.data = malloc(key.len + 1);
        if (!key.data) {
            fail("out of memory");
            goto done;
        }
        memcpy(key.data, key_str, key.len + 1);
    }

    header = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
    if (!header) {
        fail("out of memory");
        goto done;
    }
    if (header_arg) {
        extra = json_loads(header_arg, 0, &jerr);
        if (!json_is_object(extra)) {
            fail("--header: %s", extra ? "not a JSON object" : jerr.text);
            goto done;
        }
        /* Replacing, not only adding, is the point: it lets a token claim
         * one algorithm while being signed with another. */
        json_object_update(header, extra);
    }
    header_json = json_dumps(header, JSON_COMPACT);

    /* Any JSON value is accepted, not just an object, so that tests can
     * send an array or a bare string as the claims set. */
    payload = json_loads(payload_arg, JSON_DECODE_ANY, &jerr);
    if (!payload) {
        fail("--payload: line %d: %s", jerr.line, jerr.text);
        goto done;
    }
    replaced = resolve_now(payload);
    if (replaced < 0) {
        goto done;
    }
    /* Without a "now" to fill in, sign the text exactly as given, so that
     * tests can send payloads jansson would not produce itself (duplicate
     * members, odd spacing). */
    payload_json = replaced
                       ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY)
                       : strdup(payload_arg);
    if (!header_json || !payload_json) {
        fail("out of memory");
        goto done;
    }

    h64 =
        b64url_encode((const unsigned char *)header_json, strlen(header_json));
    p64 = b64url_encode((const unsigned char *)payload_json,
                        strlen(payload_json));
    if (!h64 || !p64) {
        fail("out of memory");
        goto done;
    }
    n = strlen(h64) + 1 + strlen(p64) + 1;
    input = malloc(n);
    if (!input) {
        fail("out of memory");
        goto done;
    }
    snprintf(input, n, "%s.%s", h64, p64);

    if (hmac_md) {
        if (!sign_hmac(hmac_md, &key, input, &sig)) {
            goto done;
        }
    }
    else if (strcmp(alg, "RS256") == 0) {
        if (!sign_rs256(&key, input, &sig)) {
            goto done;
        }
    }
    else if (strcmp(alg, "ES256") == 0) {
        if (!sign_es256(&key, input, &sig)) {
            goto done;
        }
    }
    /* For none, sig stays empty and the token ends with '.'. */

    token = join_token(input, &sig);
    if (!token) {
        fail("out of memory");
        goto done;
    }
    printf("%s\n", token);
    rc = 0;
done:
    free(token);
    free(input);
    free(h64);
    free(p64);
    free(header_json);
    free(payload_json);
    json_decref(header);
    json_decref(extra);
    json_decref(payload);
    buf_free(&key);
    buf_free(&sig);
    return rc;
}

/* ---- genkey ---- */

/* The private key file is created 0600: it is a secret even in a test
 * directory, and some loaders refuse world-readable keys. */
static int write_pem(const char *path, EVP_PKEY *pkey, int private_key)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC, private_key ? 0600 : 0644);
    FILE *f;
    int ok;
    if (fd < 0) {
        fail("%s: %s", path, strerror(errno));
        return 0;
    }
    f = fdopen(fd, "w");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        close(fd);
        return 0;
    }
    ok = private_key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                     : PEM_write_PUBKEY(f, pkey);
    if (fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        fail_ssl("cannot write the key");
        fprintf(stderr, "  to %s\n", path);
    }
    return ok;
}

static int cmd_genkey(int argc, char **argv)
{
    EVP_PKEY *pkey;
    int ok;
    if (argc != 4) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "rsa") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    }
    else if (strcmp(argv[1], "ec") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    else {
        fail("genkey: key type must be rsa or ec, not '%s'", argv[1]);
        return EXIT_USAGE;
    }
    if (!pkey) {
        fail_ssl("key generation failed");
        return 1;
    }
    ok = write_pem(argv[2], pkey, 1) && write_pem(argv[3], pkey, 0);
    EVP_PKEY_free(pkey);
    return ok ? 0 : 1;
}

/* ---- tamper ---- */

static int cmd_tamper(int argc, char **argv)
{
    const char *token, *dot1, *dot2;
    buf_t raw = {NULL, 0};
    json_t *payload = NULL, *sub;
    json_error_t jerr;
    char *text = NULL, *p64 = NULL, *out = NULL;
    size_t n;
    int rc = 1;
    if (argc != 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    token = argv[1];
    dot1 = strchr(token, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.')) {
        fail("tamper: a JWS compact token has exactly two dots");
        return 1;
    }
    if (!b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw)) {
        fail("tamper: the payload is not base64url");
        return 1;
    }
    payload = json_loadb((const char *)raw.data, raw.len, 0, &jerr);
    if (!payload) {
        fail("tamper: payload: %s", jerr.text);
        goto done;
    }
    sub = json_object_get(payload, "sub");
    if (!json_is_string(sub)) {
        fail("tamper: the payload has no \"sub\" string to change");
        goto done;
    }
    /* Leaving the token unchanged would make a tampering test pass for
     * the wrong reason. */
    if (strcmp(json_string_value(sub), "attacker") == 0) {
        fail("tamper: \"sub\" is already \"attacker\"");
        goto done;
    }
    json_object_set_new(payload, "sub", json_string("attacker"));
    text = json_dumps(payload, JSON_COMPACT);
    p64 =
        text ? b64url_encode((const unsigned char *)text, strlen(text)) : NULL;
    if (!p64) {
        fail("out of memory");
        goto done;
    }
    n = (size_t)(dot1 - token) + 1 + strlen(p64) + strlen(dot2) + 1;
    out = malloc(n);
    if (!out) {
        fail("out of memory");
        goto done;
    }
    snprintf(out, n, "%.*s.%s%s", (int)(dot1 - token), token, p64, dot2);
    printf("%s\n", out);
    rc = 0;
done:
    free(out);
    free(p64);
    free(text);
    json_decref(payload);
    buf_free(&raw);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "sign") == 0) {
        rc = cmd_sign(argc - 1, argv + 1);
    }
    else if (strcmp(argv[1], "genkey") == 0) {
        rc = cmd_genkey(argc - 1, argv + 1);
    }
    else if (strcmp(argv[1], "tamper") == 0) {
        rc = cmd_tamper(argc - 1, argv + 1);
    }
    else {
        fail("unknown command '%s'", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* A failed write (full disk, closed pipe) must not look like a
     * token. */
    if (fflush(stdout) != 0 && rc == 0) {
        fail("write error on stdout");
        rc = 1;
    }
    return rc;
}
