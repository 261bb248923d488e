/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Durations as the guide writes them (JWT_EXPIRES_IN=24h, "rotate every
 * 90 days"). Zero, negative and overflowing values are errors rather than
 * "never expires": a typo must not create an eternal credential. And
 * points in time as people and scripts write them in a query (the audit
 * API's since and until). */

#include "paa.h"

#include <apr_lib.h>
#include <string.h>

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

/* n digits at *c as a number, *c moved past them; -1 when they are not
 * all digits. */
static int digits(const char **c, int n)
{
    int v = 0;
    for (; n > 0; n--, (*c)++) {
        if (!apr_isdigit(**c)) {
            return -1;
        }
        v = v * 10 + (**c - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil): no timegm(), which is neither
 * standard nor free of the process's time zone on every libc. */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* The zone at c ("Z", "+HH:MM", "+HHMM", "+HH", a space for '+') as
 * seconds east of UTC; APR_EINVAL when there is none. */
static apr_status_t zone(const char *c, apr_int64_t *east)
{
    int sign, hh, mm = 0;

    if ((*c == 'Z' || *c == 'z') && !c[1]) {
        *east = 0;
        return APR_SUCCESS;
    }
    if (*c != '+' && *c != '-' && *c != ' ') {
        return APR_EINVAL;
    }
    sign = *c++ == '-' ? -1 : 1;
    if ((hh = digits(&c, 2)) < 0 || hh > 23) {
        return APR_EINVAL;
    }
    if (*c == ':') {
        c++;
    }
    if (*c && ((mm = digits(&c, 2)) < 0 || mm > 59)) {
        return APR_EINVAL;
    }
    if (*c) {
        return APR_EINVAL;
    }
    *east = sign * (hh * 3600 + mm * 60);
    return APR_SUCCESS;
}

apr_status_t paa_time_parse(const char *text, apr_int64_t *seconds)
{
    const char *c = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    apr_int64_t east = 0;

    if (!text || !apr_isdigit(*c)) {
        return APR_EINVAL;
    }
    /* Unix seconds: all digits and not a date (which has '-' at 4). */
    if (strspn(c, "0123456789") == strlen(c)) {
        apr_int64_t n = 0;
        if (strlen(c) > 12) { /* beyond year 33658: a typo */
            return APR_EINVAL;
        }
        for (; *c; c++) {
            n = n * 10 + (*c - '0');
        }
        *seconds = n;
        return APR_SUCCESS;
    }
    if ((y = digits(&c, 4)) < 0 || *c++ != '-' || (mo = digits(&c, 2)) < 1 ||
        mo > 12 || *c++ != '-' || (d = digits(&c, 2)) < 1 ||
        d > days_in_month(y, mo)) {
        return APR_EINVAL;
    }
    if (*c) {
        if (*c != 'T' && *c != 't' && *c != ' ') {
            return APR_EINVAL;
        }
        c++;
        if ((h = digits(&c, 2)) < 0 || h > 23 || *c++ != ':' ||
            (mi = digits(&c, 2)) < 0 || mi > 59) {
            return APR_EINVAL;
        }
        if (*c == ':') {
            c++;
            /* 60: a leap second, counted as the next one as POSIX does. */
            if ((s = digits(&c, 2)) < 0 || s > 60) {
                return APR_EINVAL;
            }
            if (*c == '.' || *c == ',') {
                if (!apr_isdigit(c[1])) {
                    return APR_EINVAL;
                }
                for (c++; apr_isdigit(*c); c++) {
                }
            }
        }
        /* A date and time without a zone could be any of 26 hours. */
        if (zone(c, &east) != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    *seconds =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - east;
    return APR_SUCCESS;
}
