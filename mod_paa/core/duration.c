/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Durations as the guide writes them (JWT_EXPIRES_IN=24h, "rotate every
 * 90 days"). Zero, negative and overflowing values are errors rather than
 * "never expires": a typo must not create an eternal credential. */

#include "paa.h"

#include <apr_lib.h>

/* 100 years: long enough for any expiry, far below overflow of apr_time_t. */
#define PAA_DURATION_MAX ((apr_int64_t)100 * 366 * 86400)

apr_status_t paa_duration_parse(const char *text, apr_int64_t *seconds)
{
    apr_int64_t n = 0, unit = 1;
    const char *c = text;

    if (!text || !apr_isdigit(*c)) {
        return APR_EINVAL;
    }
    for (; apr_isdigit(*c); c++) {
        n = n * 10 + (*c - '0');
        if (n > PAA_DURATION_MAX) {
            return APR_EINVAL;
        }
    }
    switch (*c) {
    case '\0':
        break;
    case 's':
        unit = 1;
        c++;
        break;
    case 'm':
        unit = 60;
        c++;
        break;
    case 'h':
        unit = 3600;
        c++;
        break;
    case 'd':
        unit = 86400;
        c++;
        break;
    case 'w':
        unit = 7 * 86400;
        c++;
        break;
    default:
        return APR_EINVAL;
    }
    if (*c != '\0' || n == 0 || n > PAA_DURATION_MAX / unit) {
        return APR_EINVAL;
    }
    *seconds = n * unit;
    return APR_SUCCESS;
}
