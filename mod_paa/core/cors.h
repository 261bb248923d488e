/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file cors.h
 * @brief CORS allowlist entries and structural origin matching.
 */
#ifndef PAA_CORS_H
#define PAA_CORS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

/* ---------------------------------------------------------------- cors */

/** An allowed origin: exact, or a wildcard over subdomains. */
typedef struct {
    const char *scheme; /* "http" or "https" */
    const char *host;   /* lowercase; for a wildcard, the parent domain */
    int port;           /* explicit or the scheme's default */
    int wildcard;       /* "https://\*.example.com": strict subdomains only */
    int any;            /* "*" */
    /* An exact entry as browsers send it (RFC 6454 serialization: scheme,
     * lowercase host, the port only when not the scheme's default), else
     * NULL: an Origin equal to it is allowed without being parsed. */
    const char *serialized;
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

#endif /* PAA_CORS_H */
