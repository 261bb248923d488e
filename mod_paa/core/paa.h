/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file paa.h
 * @brief libpaa: the httpd-free core shared by mod_paa and paactl.
 *
 * Nothing here may include httpd.h: paactl and the unit tests link this
 * library without httpd. Functions take the pool first and put
 * out-parameters last; they return apr_status_t (APR_SUCCESS or an error,
 * with a human-readable message in *err where one is offered).
 */
#ifndef PAA_H
#define PAA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_dbd.h>
#include <apr_time.h>
#include <jansson.h>

#include "db.h"
#include "store.h"

/* PAA_VERSION_STRING comes from the build (configure.ac AC_INIT). */
#ifndef PAA_VERSION_STRING
#error "PAA_VERSION_STRING must be defined by the build"
#endif

/* ----------------------------------------------------------------- env */

/**
 * Parse a .env-style file (KEY=VALUE lines, '#' comments, optional
 * "export ", single or double quotes) into a table.
 * @param p pool for the table and its strings
 * @param path file to read
 * @param out the variables, in file order
 * @param err a message naming the file and line on failure
 */
apr_status_t paa_env_load(apr_pool_t *p, const char *path, apr_table_t **out,
                          const char **err);

/**
 * Parse .env text already in memory (same rules as paa_env_load).
 * @param name used in error messages
 */
apr_status_t paa_env_parse(apr_pool_t *p, const char *name, const char *text,
                           apr_size_t len, apr_table_t **out, const char **err);

/**
 * Look up NAME, preferring NAME_<SUFFIX> when suffix is non-empty (the
 * guide's JWT_SECRET_PROD). The suffix comes from PAA_ENV in the table.
 * @return the value or NULL
 */
const char *paa_env_get(const apr_table_t *env, const char *name);

/* ------------------------------------------------------------ duration */

/**
 * Parse "90d", "24h", "15m", "30s" or plain seconds into seconds.
 * @return APR_EINVAL on anything else, including zero and overflow
 */
apr_status_t paa_duration_parse(const char *text, apr_int64_t *seconds);

/* ---------------------------------------------------------------- json */

/**
 * An RFC 9457 problem document, serialised.
 * @param status HTTP status
 * @param title short summary; NULL uses the standard reason phrase
 * @param detail human-readable explanation for the client (no internals)
 * @param instance the request path, or NULL
 * @return JSON text allocated from p
 */
const char *paa_problem_json(apr_pool_t *p, int status, const char *title,
                             const char *detail, const char *instance);

/**
 * paa_problem_json with validation errors: errors is a JSON array of
 * {field, message} objects (stolen: the caller must not decref it).
 */
const char *paa_problem_json_errors(apr_pool_t *p, int status,
                                    const char *detail, const char *instance,
                                    json_t *errors);

/** The reason phrase for the status codes mod_paa produces. */
const char *paa_status_title(int status);

/* -------------------------------------------------------------- crypto */

/** Fill buf from OpenSSL's CSPRNG; APR_EGENERAL if it cannot. */
apr_status_t paa_random_bytes(unsigned char *buf, apr_size_t n);

/** Lowercase hex of n bytes. */
char *paa_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t n);

/** Lowercase hex SHA-256 of data. */
char *paa_sha256_hex(apr_pool_t *p, const char *data, apr_size_t len);

/** Lowercase hex HMAC-SHA-256 of data under key; NULL on failure. */
char *paa_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t klen,
                          const char *data, apr_size_t len);

/** Standard base64 (with padding) of n bytes. */
char *paa_base64(apr_pool_t *p, const unsigned char *buf, apr_size_t n);

/**
 * Compare two secrets in time independent of their contents (the length
 * difference is the only thing that can show).
 * @return 1 when equal
 */
int paa_secret_equal(const char *a, apr_size_t alen, const char *b,
                     apr_size_t blen);

/** Overwrite memory in a way the compiler may not optimise away. */
void paa_wipe(void *buf, apr_size_t n);

/* -------------------------------------------------------------- apikey */

#define PAA_APIKEY_PREFIX "pak_"
#define PAA_APIKEY_LEN    68 /* "pak_" + 64 hex */
#define PAA_APIKEY_SHOWN  12 /* characters kept as the display prefix */

/** A new key and what may be stored about it. */
typedef struct {
    char *key;    /* shown once, never stored */
    char *hash;   /* SHA-256 hex of the whole key */
    char *prefix; /* "pak_" and the first 8 hex digits */
    char *id;     /* "key_" and 16 hex digits */
} paa_apikey_t;

apr_status_t paa_apikey_generate(apr_pool_t *p, paa_apikey_t *out);

/** 1 when s is "pak_" followed by exactly 64 lowercase hex digits. */
int paa_apikey_well_formed(const char *s);

/** What an Authorization header holds, for AuthType PAA. */
typedef enum {
    PAA_AUTHZ_OTHER = 0, /* another scheme (Basic...) or no token at all */
    PAA_AUTHZ_MALFORMED, /* "Bearer" with something that is no b64token */
    PAA_AUTHZ_BEARER     /* a well-formed bearer token in *token */
} paa_authz_header_e;

/**
 * Parse an Authorization header value per RFC 6750 2.1 (scheme matched
 * case-insensitively, one or more spaces, then b64token).
 * @param token points into header on PAA_AUTHZ_BEARER
 */
paa_authz_header_e paa_parse_authorization(const char *header,
                                           const char **token);

/** A random identifier: prefix and 16 hex digits ("key_", "usr_"). */
char *paa_id_generate(apr_pool_t *p, const char *prefix);

/* --------------------------------------------------------------- audit */

/** paa_audit_add for paactl: *err carries the failure. */
apr_status_t paa_audit_write(apr_pool_t *p, paa_db_t *db, const paa_audit_t *a,
                             const char **err);

/* ----------------------------------------------------------- authcache */

/**
 * A verified credential as remembered for a moment, so that a client
 * sending the same key or token many times a second costs one database
 * lookup per PAA_AUTHCACHE_TTL instead of one per request. The TTL is what
 * bounds how long a revoked key, or a deleted or disabled user, can still
 * pass: keep it below the one second the security model promises.
 */
#define PAA_AUTHCACHE_TTL apr_time_from_msec(500)

typedef struct {
    char method[8]; /* "api-key" or "jwt" */
    char id[48];
    char key_id[48];
    char username[104];
    char client[104];
    char roles[504];
} paa_cached_principal_t;

typedef struct paa_authcache_t paa_authcache_t;

/** A direct-mapped cache of slots entries, thread-safe. */
apr_status_t paa_authcache_create(apr_pool_t *p, int slots,
                                  paa_authcache_t **out);

/**
 * @param digest SHA-256 of the credential
 * @return 1 and *out filled when a live entry matches
 */
int paa_authcache_get(paa_authcache_t *c, const unsigned char *digest,
                      apr_time_t now, paa_cached_principal_t *out);

/**
 * Remember a principal until now + PAA_AUTHCACHE_TTL or not_after,
 * whichever is first (not_after: the credential's own expiry, 0 = none).
 * Fields that do not fit are not cached at all.
 */
void paa_authcache_put(paa_authcache_t *c, const unsigned char *digest,
                       apr_time_t now, apr_time_t not_after, const char *method,
                       const char *id, const char *key_id, const char *username,
                       const char *client, const char *roles);

/** SHA-256 of data into out (32 bytes). */
void paa_sha256(const char *data, apr_size_t len, unsigned char *out);

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
    PAA_JWT_NO_SUBJECT
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
} paa_jwt_config_t;

/** The claims mod_paa uses. roles is NULL when the token has no roles. */
typedef struct {
    const char *sub;
    const char *username;
    apr_array_header_t *roles; /* of const char * */
    apr_int64_t iat;
    apr_int64_t exp;
    const char *jti;
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

/* -------------------------------------------------------------- secret */

/**
 * Resolve a secret source: "env:NAME" (the env file, then the process
 * environment), "file:PATH" (contents, one trailing newline removed),
 * "exec:PATH ARGS" (the program's standard output; run without a shell,
 * must exit 0 within 10 seconds). Anything else is a literal.
 * @param literal set to 1 when the source was a literal value
 */
apr_status_t paa_secret_resolve(apr_pool_t *p, const char *source,
                                const apr_table_t *env, char **value,
                                apr_size_t *len, int *literal,
                                const char **err);

/**
 * Why a JWT secret is unacceptable: too short, a value from the security
 * guide or another well-known default, too few distinct bytes, or a
 * pattern repeated (at least twice, the last copy possibly cut short).
 * NULL when acceptable. httpd refuses to start with such a secret and
 * paactl refuses to write one.
 */
const char *paa_secret_weakness(apr_pool_t *p, const char *secret,
                                apr_size_t len);

/** Split a comma list (API_KEYS, CORS_ORIGIN) into trimmed items. */
apr_array_header_t *paa_split_list(apr_pool_t *p, const char *list);

/* ------------------------------------------------------------ password */

/** bcrypt work factor for new password hashes. */
#define PAA_BCRYPT_COST 12

/** The longest password bcrypt takes into account, in bytes. */
#define PAA_PASSWORD_MAX 72

/** A bcrypt ($2y$) hash of pw with a fresh salt; APR_EINVAL when pw is
 * longer than PAA_PASSWORD_MAX. */
apr_status_t paa_password_hash(apr_pool_t *p, const char *pw, char **hash);

/** 1 when pw matches the bcrypt hash. */
int paa_password_verify(const char *pw, const char *hash);

/** The user-facing rules for usernames: 1..100 of [A-Za-z0-9._@-]. */
int paa_username_valid(const char *name);

/** A role: 1..64 of [A-Za-z0-9._:-]; NULL when valid, else why not. */
const char *paa_role_invalid(const char *role);

/**
 * 1 when any role in have (comma list) is in want (array). Constant-time
 * is not needed: roles are not secrets.
 */
int paa_roles_intersect(apr_pool_t *p, const char *have,
                        const apr_array_header_t *want);

/** The same for a list already split. */
int paa_roles_match(const apr_array_header_t *have,
                    const apr_array_header_t *want);

/* ---------------------------------------------------------------- cors */

/** An allowed origin: exact, or a wildcard over subdomains. */
typedef struct {
    const char *scheme; /* "http" or "https" */
    const char *host;   /* lowercase; for a wildcard, the parent domain */
    int port;           /* explicit or the scheme's default */
    int wildcard;       /* "https://\*.example.com": strict subdomains only */
    int any;            /* "*" */
} paa_origin_t;

/**
 * Parse an allowlist entry: "*", "scheme://host[:port]" or
 * "scheme://\*.domain[:port]" (no path; one trailing slash tolerated).
 */
apr_status_t paa_origin_parse(apr_pool_t *p, const char *text,
                              paa_origin_t *out, const char **err);

/**
 * Match an Origin request header against the allowlist structurally:
 * scheme, host on a label boundary, port. "null", paths, userinfo and
 * anything unparsable never match.
 */
int paa_origin_allowed(apr_pool_t *p, const apr_array_header_t *allow,
                       const char *origin);

/* ----------------------------------------------------------- ratelimit */

/** What one counted request learned. */
typedef struct {
    int allowed;            /* 1: within the limit */
    apr_uint32_t remaining; /* requests left in this window */
    apr_uint32_t reset;     /* seconds until the window ends */
    int first_refusal;      /* 1 on the first refusal of this window */
} paa_rl_result_t;

/** Bytes of shared memory a table of slots entries needs. */
apr_size_t paa_rl_size(apr_uint32_t slots);

/** Format a table in mem (all slots empty). */
void paa_rl_init(void *mem, apr_uint32_t slots);

/**
 * Count one request for key in a fixed window that starts with the key's
 * first request, under the table's lock (a spinlock in the table itself,
 * shared by every process that maps it; a holder that died is detected).
 * A full neighbourhood evicts the entry whose window ends first.
 */
void paa_rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                apr_uint32_t limit, apr_uint32_t window, paa_rl_result_t *res);

/* ------------------------------------------------------------- persona */

struct paa_persona_t {
    const char *id;
    const char *name;
    const char *description;
    const char *extra_instructions;
    const char *knowledge_category;
    double temperature;
    int max_tokens;
    apr_int64_t created_at; /* as stored; 0 before */
    apr_int64_t updated_at;
};

/**
 * Validate a persona document (POST/PUT body or an import file entry):
 * id ^[a-z0-9-]{1,50}$, name 1..100, description 1..500,
 * extraInstructions 0..2000, knowledgeCategory ^[a-zA-Z0-9-]{1,50}$,
 * temperature 0..2 (0 is valid), maxTokens 1..8000; unknown fields and
 * wrong types are errors. Lengths count characters, not bytes.
 * @param id_from_path the id in the URL for PUT (the body may omit it or
 *        must repeat it), or NULL when the body must carry it
 * @param errors a new JSON array of {field, message}, empty when valid
 * @return APR_SUCCESS when valid
 */
apr_status_t paa_persona_validate(apr_pool_t *p, json_t *body,
                                  const char *id_from_path, paa_persona_t *out,
                                  json_t **errors);

/** A stored persona as the API shows it (new reference). */
json_t *paa_persona_json(apr_pool_t *p, const paa_persona_t *persona);

/** The system prompt a persona gives the model. */
const char *paa_persona_prompt(apr_pool_t *p, const paa_persona_t *persona);

/** Characters (not bytes) in a UTF-8 string: limits count what people see. */
apr_size_t paa_utf8_chars(const char *s);

/** ISO 8601 UTC ("2026-11-28T04:00:00Z") of Unix seconds. */
const char *paa_iso_time(apr_pool_t *p, apr_int64_t unix_seconds);

/* ----------------------------------------------------------------- llm */

/**
 * The body of an OpenAI-compatible POST {base}/chat/completions.
 * @param history alternating {role, content} messages (JSON array), may be
 *        NULL; borrowed
 * @return JSON text allocated from p
 */
const char *paa_llm_request(apr_pool_t *p, const char *model,
                            const paa_persona_t *persona, json_t *history,
                            const char *question);

/**
 * Read choices[0].message.content (and "model") from a provider's answer.
 * @return APR_SUCCESS, or APR_EINVAL when the body is not such an answer
 */
apr_status_t paa_llm_parse(apr_pool_t *p, const char *body, apr_size_t len,
                           const char **answer, const char **model);

/* ------------------------------------------------------------- breaker */

/** One provider's circuit breaker, kept in shared memory. */
typedef struct {
    apr_uint32_t failures;   /* consecutive */
    apr_int64_t open_until;  /* usec; 0 when closed */
    apr_int64_t probe_until; /* usec; a half-open probe is in flight */
} paa_breaker_t;

typedef enum {
    PAA_BREAKER_CLOSED = 0, /* call it */
    PAA_BREAKER_OPEN,       /* skip it */
    PAA_BREAKER_PROBE       /* call it as the one half-open probe */
} paa_breaker_e;

/** Whether to call the provider now (caller holds the lock). */
paa_breaker_e paa_breaker_check(paa_breaker_t *b, apr_time_t now,
                                apr_interval_time_t probe_timeout);

/** Record a call's outcome (caller holds the lock). */
void paa_breaker_record(paa_breaker_t *b, int ok, apr_time_t now,
                        apr_uint32_t threshold, apr_interval_time_t cooldown);

#endif /* PAA_H */
