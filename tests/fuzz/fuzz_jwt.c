/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for JWT verification (paa_jwt_verify), the code that
 * decides whether a bearer token from the network is trusted. Each input
 * is verified against three pinned configurations (HS256 with a rotation
 * key, RS256, ES256) at a fixed time, and whatever comes back is checked
 * against invariants that do not depend on the verifier's own code:
 *
 *   - the result is one of paa_jwt_result_e;
 *   - an accepted token has a header, decoded here independently, whose
 *     alg is the pinned one (RFC 8725 3.1), no "crit" and an allowed typ;
 *   - its payload, decoded here independently, is one JSON object and
 *     the claims are the ones in it: non-empty sub, exp not past (with
 *     the leeway), nbf and iat not in the future, the required iss and
 *     aud, and the roles, username and jti as sent.
 *
 * A fuzzer cannot forge a signature, so without help it would never get
 * past the signature check to the claim checks. Two ways in:
 *
 *   - an input that is a token (anything not starting with '{') is also
 *     re-signed here with the HS256 secret (its first two parts, a fresh
 *     HMAC) and verified again;
 *   - an input starting with '{' is "HEADER JSON\nPAYLOAD JSON": both are
 *     base64url-encoded and signed with the HS256 secret here, so the
 *     fuzzer mutates JSON rather than base64 text.
 *
 * The RSA and EC public keys below match tests/fuzz/corpus/jwt/valid_rs256
 * and valid_es256; their private keys are not in the repository (see
 * make_corpus.sh). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/paa.h"
#include "fuzz.h"

/* 2025-11-28T00:00:00Z; the seeds' times are relative to it. */
#define FUZZ_NOW ((apr_int64_t)1764288000)

#define FUZZ_HS_SECRET   "paa-fuzz-hs256-current-secret-0123456789abcdef"
#define FUZZ_HS_PREVIOUS "paa-fuzz-hs256-previous-secret-0123456789abcdef"
#define FUZZ_ISSUER      "https://issuer.test"
#define FUZZ_AUDIENCE    "paa-tests"

/* make_corpus.sh reads these two keys from this file: keep the layout
 * (one quoted PEM line per source line). */
static const char rsa_public_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv4MDdgxuhTUNzdpMxcUA\n"
    "hVXwQGBoCNH3SptTgxklrrvvL+NAIW2u61hWLq1TSjcPALAH2BxdlrVPbpYf2T8s\n"
    "URmqh4xo1jVOcl7OvkO76TK4wHnrULEfD2EXzj94oP3JVTaHHgDfA2JxFV8BEF4k\n"
    "cU01WNDyoAYgwSA787oHBYsbwnD5q8+yhSbxbA/ERVNj2n00AdeU+NDTCAEC0wEo\n"
    "ua2wqF09w50kROHmxSip/pPtGqcsDV0OOEu5syRWl4dsOm+hSe71U5+Wy5+zlnQb\n"
    "V7MNAyktPnm7gJN3fxiaVl42/hd6ntw530XpFLDatLQxwh0twjR3WsexntnEapyP\n"
    "BQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char ec_public_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELdfbiPYkfUPgTGtc2QDIBCdPiP04\n"
    "GdG/qQwK0kq0HRa8pshG1I01nSpqjABpQWX2rcuOZriMZCiEFlKZAhEVoA==\n"
    "-----END PUBLIC KEY-----\n";

/* The configurations every input is verified against. ES256 requires no
 * iss/aud and has no leeway, to cover those paths too. */
enum { CFG_HS256, CFG_RS256, CFG_ES256, NCFG };

static paa_jwt_config_t cfgs[NCFG];

/* What the last input produced, for paa_fuzz_check_seed: one result per
 * configuration, then HS256 after re-signing (-1 when not run). */
#define RESIGNED NCFG
static int last[NCFG + 1];

static const char *const cfg_names[NCFG + 1] = {"HS256", "RS256", "ES256",
                                                "HS256 re-signed"};

static void setup(void)
{
    static int done = 0;
    paa_jwt_config_t *c;

    if (done) {
        return;
    }
    done = 1;
    apr_initialize();
    atexit(apr_terminate);

    c = &cfgs[CFG_HS256];
    c->alg = "HS256";
    c->key = FUZZ_HS_SECRET;
    c->key_len = strlen(FUZZ_HS_SECRET);
    c->prev_key = FUZZ_HS_PREVIOUS;
    c->prev_key_len = strlen(FUZZ_HS_PREVIOUS);
    c->issuer = FUZZ_ISSUER;
    c->audience = FUZZ_AUDIENCE;
    c->leeway = 30;

    c = &cfgs[CFG_RS256];
    c->alg = "RS256";
    c->key = rsa_public_pem;
    c->key_len = strlen(rsa_public_pem);
    c->issuer = FUZZ_ISSUER;
    c->audience = FUZZ_AUDIENCE;
    c->leeway = 30;

    c = &cfgs[CFG_ES256];
    c->alg = "ES256";
    c->key = ec_public_pem;
    c->key_len = strlen(ec_public_pem);
    c->leeway = 0;
}

static void broken(const char *cfg, const char *token, const char *what)
{
    fprintf(stderr, "fuzz_jwt: invariant broken (%s): %s\ntoken: %.300s\n", cfg,
            what, token);
    abort();
}

/* ------------------------------------------------- independent decoding */

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
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Unpadded base64url to bytes (malloc'd, *len set); NULL when s is not
 * base64url. Unused low bits of the last character are ignored, as most
 * decoders do. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *len)
{
    unsigned char *out;
    size_t i, o = 0;
    unsigned int acc = 0;
    int bits = 0;

    if (n % 4 == 1) {
        return NULL;
    }
    out = malloc(n * 3 / 4 + 1);
    for (i = 0; i < n; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *len = o;
    return out;
}

static char *b64url_encode(const unsigned char *in, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(n / 3 * 4 + 5);
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) |
                          ((unsigned long)in[i + 1] << 8) | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        out[o++] = alphabet[in[i] >> 2];
        out[o++] = alphabet[(in[i] & 3) << 4];
    }
    else if (n - i == 2) {
        out[o++] = alphabet[in[i] >> 2];
        out[o++] = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        out[o++] = alphabet[(in[i + 1] & 15) << 2];
    }
    out[o] = '\0';
    return out;
}

/* A base64url part as JSON, the way libjwt reads claims (a duplicate name
 * keeps its last value); NULL when it is neither. */
static json_t *part_json(const char *s, size_t n)
{
    size_t len;
    unsigned char *raw = b64url_decode(s, n, &len);
    json_t *j;
    json_error_t je;

    if (!raw) {
        return NULL;
    }
    j = json_loadb((const char *)raw, len, 0, &je);
    free(raw);
    return j;
}

/* ----------------------------------------------------------- invariants */

/* A NumericDate as the verifier must treat it (integer or real seconds,
 * fractions truncated): 1 and *i / *r set, or 0 when absent or not a
 * number. */
static int date_of(json_t *v, json_int_t *i, double *r)
{
    if (json_is_integer(v)) {
        *i = json_integer_value(v);
        *r = (double)*i;
        return 1;
    }
    if (json_is_real(v)) {
        *r = json_real_value(v);
        *i = 0;
        return 2;
    }
    return 0;
}

static int same_string(json_t *v, const char *s)
{
    if (!json_is_string(v)) {
        return s == NULL;
    }
    return s && !strcmp(json_string_value(v), s);
}

static void check_header(const char *cfg, const char *token, size_t n,
                         const char *pinned)
{
    json_t *h = part_json(token, n), *typ;

    if (!json_is_object(h)) {
        broken(cfg, token, "accepted a header that is not a JSON object");
    }
    if (!json_is_string(json_object_get(h, "alg")) ||
        strcmp(json_string_value(json_object_get(h, "alg")), pinned)) {
        broken(cfg, token, "accepted a header alg other than the pinned one");
    }
    if (json_object_get(h, "crit")) {
        broken(cfg, token, "accepted a header with crit");
    }
    typ = json_object_get(h, "typ");
    if (typ && (!json_is_string(typ) ||
                (strcasecmp(json_string_value(typ), "JWT") &&
                 strcasecmp(json_string_value(typ), "at+jwt")))) {
        broken(cfg, token, "accepted a header with a foreign typ");
    }
    json_decref(h);
}

static void check_claims(const char *cfg, const paa_jwt_config_t *c,
                         const char *token, const char *part, size_t n,
                         const paa_jwt_claims_t *claims)
{
    apr_int64_t lo = FUZZ_NOW - c->leeway, hi = FUZZ_NOW + c->leeway;
    json_t *pl = part_json(part, n), *v, *role;
    json_int_t i;
    double r;
    size_t k;
    int kind;

    if (!json_is_object(pl)) {
        /* Also when the JSON is followed by more bytes (after a NUL), or
         * the part is no base64url (length 4n+1): the claims must be
         * exactly what was signed. */
        broken(cfg, token,
               "accepted a payload that is not one base64url JSON object");
    }
    if (!same_string(json_object_get(pl, "sub"), claims->sub)) {
        broken(cfg, token, "claims.sub is not the payload's sub");
    }
    kind = date_of(json_object_get(pl, "exp"), &i, &r);
    if (!kind) {
        broken(cfg, token, "accepted a token without a numeric exp");
    }
    if ((kind == 1 && (i < lo || claims->exp != i)) ||
        (kind == 2 && !(r >= (double)lo))) {
        broken(cfg, token, "accepted an expired token");
    }
    if ((v = json_object_get(pl, "nbf"))) {
        kind = date_of(v, &i, &r);
        /* A real nbf is truncated: up to hi + 1 (exclusive) passes. */
        if (!kind || (kind == 1 && i > hi) ||
            (kind == 2 && !(r < (double)hi + 1))) {
            broken(cfg, token, "accepted a token whose nbf is in the future");
        }
    }
    if ((v = json_object_get(pl, "iat"))) {
        kind = date_of(v, &i, &r);
        if (!kind || (kind == 1 && i > hi) ||
            (kind == 2 && !(r < (double)hi + 1))) {
            broken(cfg, token, "accepted a token issued in the future");
        }
    }
    if (claims->iat > hi) {
        broken(cfg, token, "claims.iat is in the future");
    }
    if (c->issuer && !same_string(json_object_get(pl, "iss"), c->issuer)) {
        broken(cfg, token, "accepted a token from another issuer");
    }
    if (c->audience) {
        int found = 0;
        v = json_object_get(pl, "aud");
        if (json_is_string(v)) {
            found = !strcmp(json_string_value(v), c->audience);
        }
        json_array_foreach(v, k, role)
        {
            found |= same_string(role, c->audience);
        }
        if (!found) {
            broken(cfg, token, "accepted a token for another audience");
        }
    }
    /* same_string: a payload value that is no string must give NULL. */
    if (!same_string(json_object_get(pl, "username"), claims->username)) {
        broken(cfg, token, "claims.username is not the payload's");
    }
    if (!same_string(json_object_get(pl, "jti"), claims->jti)) {
        broken(cfg, token, "claims.jti is not the payload's");
    }
    v = json_object_get(pl, "roles");
    if (!v != !claims->roles) {
        broken(cfg, token, "claims.roles present/absent unlike the payload");
    }
    if (v) {
        if (!json_is_array(v) ||
            json_array_size(v) != (size_t)claims->roles->nelts) {
            broken(cfg, token, "claims.roles is not the payload's roles");
        }
        json_array_foreach(v, k, role)
        {
            if (!same_string(role,
                             APR_ARRAY_IDX(claims->roles, k, const char *))) {
                broken(cfg, token, "claims.roles is not the payload's roles");
            }
        }
    }
    json_decref(pl);
}

/* Everything that must hold for one verification result. */
static void check(int which, const char *token, paa_jwt_result_e r,
                  const paa_jwt_claims_t *claims)
{
    const char *cfg = cfg_names[which];
    const paa_jwt_config_t *c = &cfgs[which == RESIGNED ? CFG_HS256 : which];
    const char *dot1, *dot2;

    if ((int)r < PAA_JWT_OK || r > PAA_JWT_NO_SUBJECT) {
        broken(cfg, token, "result is not a paa_jwt_result_e");
    }
    if (!strcmp(paa_jwt_result_str(r), "invalid") ||
        (paa_jwt_result_error(r) == NULL) != (r == PAA_JWT_OK)) {
        broken(cfg, token, "result has no description or error code");
    }
    if (r != PAA_JWT_OK) {
        return;
    }
    if (!claims->sub || !*claims->sub) {
        broken(cfg, token, "accepted without a subject");
    }
    if (claims->exp < FUZZ_NOW - c->leeway) {
        broken(cfg, token, "claims.exp + leeway is before now");
    }
    if (strlen(token) > PAA_JWT_MAX_LEN) {
        broken(cfg, token, "accepted a token over PAA_JWT_MAX_LEN");
    }
    dot1 = strchr(token, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.') || !dot2[1]) {
        broken(cfg, token, "accepted a token that is not header.payload.sig");
    }
    check_header(cfg, token, (size_t)(dot1 - token), c->alg);
    check_claims(cfg, c, token, dot1 + 1, (size_t)(dot2 - dot1 - 1), claims);
}

static void verify(apr_pool_t *p, int which, const char *token)
{
    paa_jwt_claims_t claims;
    const paa_jwt_config_t *c = &cfgs[which == RESIGNED ? CFG_HS256 : which];
    paa_jwt_result_e r = paa_jwt_verify(p, c, token, FUZZ_NOW, &claims);

    check(which, token, r, &claims);
    last[which] = (int)r;
}

/* signing_input + "." + base64url(HMAC-SHA256(secret, signing_input)) */
static char *hs256_sign(const char *signing_input, size_t n)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *sig, *token;

    if (!HMAC(EVP_sha256(), FUZZ_HS_SECRET, (int)strlen(FUZZ_HS_SECRET),
              (const unsigned char *)signing_input, n, mac, &mac_len)) {
        abort();
    }
    sig = b64url_encode(mac, mac_len);
    token = malloc(n + strlen(sig) + 2);
    memcpy(token, signing_input, n);
    token[n] = '.';
    strcpy(token + n + 1, sig);
    free(sig);
    return token;
}

/* "HEADER\nPAYLOAD" (raw JSON text, any bytes) to a signed token. */
static char *token_from_json(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    size_t plen = nl ? size - hlen - 1 : 0;
    char *h = b64url_encode(data, hlen);
    char *pl = b64url_encode(nl ? nl + 1 : data + size, plen);
    char *input = malloc(strlen(h) + strlen(pl) + 2), *token;

    sprintf(input, "%s.%s", h, pl);
    token = hs256_sign(input, strlen(input));
    free(h);
    free(pl);
    free(input);
    return token;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *token;
    int i, json_mode = size > 0 && data[0] == '{';

    setup();
    for (i = 0; i <= NCFG; i++) {
        last[i] = -1;
    }
    if (json_mode) {
        token = token_from_json(data, size);
    }
    else {
        token = malloc(size + 1);
        memcpy(token, data, size);
        token[size] = '\0';
    }

    apr_pool_create(&p, NULL);
    for (i = 0; i < NCFG; i++) {
        verify(p, i, token);
    }
    if (!json_mode) {
        const char *dot1 = strchr(token, '.');
        const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (dot2) {
            char *resigned = hs256_sign(token, (size_t)(dot2 - token));
            verify(p, RESIGNED, resigned);
            free(resigned);
        }
    }
    apr_pool_destroy(p);
    free(token);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

#define ANY   -1
#define NOTOK -2 /* refused, for any reason */
#define OK    PAA_JWT_OK
#define MAL   PAA_JWT_MALFORMED
#define MIS   PAA_JWT_ALG_MISMATCH
#define SIG   PAA_JWT_BAD_SIGNATURE
#define NOEXP PAA_JWT_NO_EXP
#define EXP   PAA_JWT_EXPIRED
#define NBF   PAA_JWT_NOT_YET_VALID
#define IAT   PAA_JWT_IAT_FUTURE
#define ISS   PAA_JWT_BAD_ISSUER
#define AUD   PAA_JWT_BAD_AUDIENCE
#define SUB   PAA_JWT_NO_SUBJECT

/* What each named seed must produce: HS256, RS256, ES256, and HS256 after
 * re-signing (ANY: not checked). */
static const struct {
    const char *name;
    int want[NCFG + 1];
} seeds[] = {
    {"alg_lowercase_hs256.jwt", {MIS, MIS, MIS, MIS}},
    {"alg_missing.jwt", {MAL, MAL, MAL, MAL}},
    {"alg_none.jwt", {MIS, MIS, MIS, MIS}},
    {"alg_none_uppercase.jwt", {MIS, MIS, MIS, MIS}},
    {"alg_not_string.jwt", {MAL, MAL, MAL, MAL}},
    {"alg_with_nul_escape.jwt", {MAL, MAL, MAL, MAL}},
    {"aud_array_without_ours.jwt", {AUD, MIS, MIS, AUD}},
    {"bad_base64_char.jwt", {MAL, MAL, MAL, MAL}},
    {"base64_padding.jwt", {MAL, MAL, MAL, OK}},
    {"bearer_prefix.jwt", {MAL, MAL, MAL, MAL}},
    {"crit_header.jwt", {MAL, MIS, MIS, MAL}},
    /* libjwt keeps the last of duplicate claims (RFC 7519 4 allows it);
     * the invariants check that claims.sub is that last one. */
    {"duplicate_claims.jwt", {ANY, MIS, MIS, ANY}},
    {"duplicate_header_alg.jwt", {MAL, MAL, MAL, MAL}},
    {"empty", {MAL, MAL, MAL, ANY}},
    {"empty_sub.jwt", {SUB, MIS, MIS, SUB}},
    {"es256_der_signature.jwt", {MIS, MIS, SIG, MIS}},
    {"es256_header_hmac_signature.jwt", {MIS, MIS, SIG, MIS}},
    {"es256_pubkey_as_hmac.jwt", {SIG, MIS, MIS, OK}},
    {"es256_tampered_payload.jwt", {MIS, MIS, SIG, MIS}},
    {"es256_truncated_signature.jwt", {MIS, MIS, SIG, MIS}},
    {"exp_null.jwt", {NOEXP, MIS, MIS, NOEXP}},
    {"exp_string.jwt", {NOEXP, MIS, MIS, NOEXP}},
    {"expired.jwt", {EXP, MIS, MIS, EXP}},
    {"expired_beyond_leeway.jwt", {EXP, MIS, MIS, EXP}},
    {"four_parts.jwt", {MAL, MAL, MAL, OK}},
    {"future_iat.jwt", {IAT, MIS, MIS, IAT}},
    {"future_nbf.jwt", {NBF, MIS, MIS, NBF}},
    {"header_length_mod4_1.jwt", {MAL, MAL, MAL, MAL}},
    {"header_not_json.jwt", {MAL, MAL, MAL, MAL}},
    {"hs384_against_hs256.jwt", {MIS, MIS, MIS, MIS}},
    {"hs512_against_hs256.jwt", {MIS, MIS, MIS, MIS}},
    {"huge_header.jwt", {MAL, MAL, MAL, MAL}},
    {"iat_string.jwt", {MAL, MIS, MIS, MAL}},
    {"json_alg_none", {MIS, MIS, MIS, ANY}},
    {"json_aud_array", {OK, MIS, MIS, ANY}},
    {"json_duplicate_sub", {ANY, MIS, MIS, ANY}},
    {"json_header_only", {MAL, MAL, MAL, ANY}},
    {"json_nbf_beyond_leeway", {NBF, MIS, MIS, ANY}},
    {"json_no_typ_many_roles", {OK, MIS, MIS, ANY}},
    {"json_payload_array", {MAL, MIS, MIS, ANY}},
    {"json_real_times", {OK, MIS, MIS, ANY}},
    {"json_valid", {OK, MIS, MIS, ANY}},
    {"nbf_string.jwt", {MAL, MIS, MIS, MAL}},
    {"near_max_len_valid.jwt", {OK, MIS, MIS, OK}},
    {"no_aud.jwt", {AUD, MIS, MIS, AUD}},
    {"no_exp.jwt", {NOEXP, MIS, MIS, NOEXP}},
    {"no_iss.jwt", {ISS, MIS, MIS, ISS}},
    {"no_sub.jwt", {SUB, MIS, MIS, SUB}},
    {"non_object_header.jwt", {MAL, MAL, MAL, MAL}},
    {"non_object_payload.jwt", {MAL, MIS, MIS, MAL}},
    {"one_part", {MAL, MAL, MAL, ANY}},
    {"over_max_len.jwt", {MAL, MAL, MAL, MAL}},
    {"payload_not_json.jwt", {NOTOK, MIS, MIS, NOTOK}},
    {"roles_non_string.jwt", {MAL, MIS, MIS, MAL}},
    {"roles_not_array.jwt", {MAL, MIS, MIS, MAL}},
    {"rs256_header_hmac_signature.jwt", {MIS, SIG, MIS, MIS}},
    {"rs256_pubkey_as_hmac.jwt", {SIG, MIS, MIS, OK}},
    {"rs256_tampered_payload.jwt", {MIS, SIG, MIS, MIS}},
    {"signature_from_other_token.jwt", {SIG, MIS, MIS, OK}},
    {"sub_number.jwt", {SUB, MIS, MIS, SUB}},
    {"tampered_payload.jwt", {SIG, MIS, MIS, OK}},
    {"tampered_signature.jwt", {SIG, MIS, MIS, OK}},
    {"trailing_newline.jwt", {MAL, MAL, MAL, OK}},
    {"two_dots_only", {MAL, MAL, MAL, MAL}},
    {"typ_foreign.jwt", {MAL, MIS, MIS, MAL}},
    {"typ_not_string.jwt", {MAL, MIS, MIS, MAL}},
    {"unsigned_hs256.jwt", {SIG, MIS, MIS, OK}},
    {"valid_es256.jwt", {MIS, MIS, OK, MIS}},
    {"valid_hs256.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_aud_array.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_minimal.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_no_typ.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_previous_key.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_real_exp.jwt", {OK, MIS, MIS, OK}},
    /* jwt.c allows typ "at+jwt" (RFC 9068), but libjwt 1.10 refuses any
     * typ but "JWT" and this comes back as a bad signature: see README. */
    {"valid_hs256_typ_at_jwt.jwt", {ANY, MIS, MIS, ANY}},
    {"valid_hs256_unicode_sub.jwt", {OK, MIS, MIS, OK}},
    {"valid_hs256_within_leeway.jwt", {OK, MIS, MIS, OK}},
    {"valid_rs256.jwt", {MIS, OK, MIS, MIS}},
    {"whitespace_in_token.jwt", {MAL, MAL, MAL, MAL}},
    {"wrong_aud.jwt", {AUD, MIS, MIS, AUD}},
    {"wrong_iss.jwt", {ISS, MIS, MIS, ISS}},
    {NULL, {0}},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[256];
    int i, k;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    for (k = 0; seeds[i].name && k <= NCFG; k++) {
        int want = seeds[i].want[k];
        if (want == ANY || last[k] == want ||
            (want == NOTOK && last[k] > PAA_JWT_OK)) {
            continue;
        }
        snprintf(msg, sizeof(msg), "%s: got %s, want %s", cfg_names[k],
                 last[k] < 0 ? "(not run)" : paa_jwt_result_str(last[k]),
                 want == NOTOK ? "refused" : paa_jwt_result_str(want));
        return msg;
    }
    return NULL;
}
