/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file util.h
 * @brief Settings, durations, secrets and problem documents: what both the
 * module and paactl parse from files and the environment.
 */
#ifndef PAA_UTIL_H
#define PAA_UTIL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

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

/**
 * Parse a point in time: Unix seconds ("1795824000"), an ISO 8601 date
 * ("2026-11-28", midnight UTC) or an ISO 8601 / RFC 3339 date and time with
 * a zone ("2026-11-28T09:30:00Z", "...T09:30+01:00", fractions of a second
 * ignored). A space stands for '+' before the zone's hours, as an unencoded
 * '+' in a query string arrives as one.
 * @return APR_EINVAL on anything else, a time without a zone included
 */
apr_status_t paa_time_parse(const char *text, apr_int64_t *seconds);

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

/** paa_problem_json with a type URI of its own instead of about:blank. */
const char *paa_problem_json_typed(apr_pool_t *p, int status, const char *type,
                                   const char *detail, const char *instance);

/**
 * paa_problem_json with validation errors: errors is a JSON array of
 * {field, message} objects (stolen: the caller must not decref it).
 */
const char *paa_problem_json_errors(apr_pool_t *p, int status,
                                    const char *detail, const char *instance,
                                    json_t *errors);

/**
 * s as a JSON string, quotes included ("null" for NULL), for a log line:
 * '"' and '\\' escaped, control characters and DEL as \u00XX, and each
 * byte that is not part of valid UTF-8 as the four characters \xNN (JSON
 * "\\xNN"), as httpd's own log escaping shows it. One line, always valid
 * JSON, whatever bytes a client sent.
 */
const char *paa_json_quote(apr_pool_t *p, const char *s);

/** The length of the valid UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), 0 when it is not one. */
int paa_utf8_seq(const unsigned char *s);

/** The reason phrase for the status codes mod_paa produces. */
const char *paa_status_title(int status);

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

/* ---------------------------------------------------------------- once */

/**
 * Publish mine in *slot, made lazily by whichever thread comes first, or
 * keep the value another thread published meanwhile.
 * @return what *slot holds now: mine, or the earlier value (the caller
 * then frees mine)
 */
static inline void *paa_publish_once(void **slot, void *mine)
{
    void *have = NULL;
    return __atomic_compare_exchange_n(slot, &have, mine, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE)
               ? mine
               : have;
}

#endif /* PAA_UTIL_H */
