/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared by the fuzz targets: see reference.h. Nothing here calls the
 * code under test. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

void fuzz_setup(void)
{
    static int done = 0;
    if (!done) {
        done = 1;
        apr_initialize();
        atexit(apr_terminate);
    }
}

void fuzz_broken(const char *target, const char *what, const char *input)
{
    fprintf(stderr, "%s: invariant broken: %s\ninput: %.300s\n", target, what,
            input);
    abort();
}

char *fuzz_text(const unsigned char *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

apr_int64_t ref_duration(const char *s)
{
    static const apr_int64_t units[] = {1, 60, 3600, 86400, 7 * 86400};
    apr_int64_t n = 0, unit = 1;
    const char *c = s;

    if (!isdigit((unsigned char)*c)) {
        return 0;
    }
    for (; isdigit((unsigned char)*c); c++) {
        if (n <= FUZZ_DURATION_MAX) {
            n = n * 10 + (*c - '0');
        }
    }
    if (*c) {
        const char *u = strchr("smhdw", *c);
        if (!u || c[1]) {
            return 0;
        }
        unit = units[u - "smhdw"];
    }
    if (n == 0 || n > FUZZ_DURATION_MAX / unit) {
        return 0;
    }
    return n * unit;
}

long ref_utf8_chars(const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    long n = 0;

    while (*c) {
        unsigned long cp;
        int more, i;
        if (*c < 0x80) {
            c++;
            n++;
            continue;
        }
        if (*c >= 0xc2 && *c <= 0xdf) {
            cp = *c & 0x1f;
            more = 1;
        }
        else if (*c >= 0xe0 && *c <= 0xef) {
            cp = *c & 0x0f;
            more = 2;
        }
        else if (*c >= 0xf0 && *c <= 0xf4) {
            cp = *c & 0x07;
            more = 3;
        }
        else {
            return -1;
        }
        for (i = 1; i <= more; i++) {
            if ((c[i] & 0xc0) != 0x80) {
                return -1;
            }
            cp = (cp << 6) | (c[i] & 0x3f);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return -1;
        }
        c += more + 1;
        n++;
    }
    return n;
}

const char *ref_errors_shape(json_t *errors)
{
    size_t i;
    json_t *e;

    if (!json_is_array(errors)) {
        return "the error list is not an array";
    }
    json_array_foreach(errors, i, e)
    {
        json_t *m = json_object_get(e, "message");
        if (!json_is_object(e) || json_object_size(e) != 2 ||
            !json_is_string(json_object_get(e, "field")) ||
            !json_is_string(m) || !*json_string_value(m)) {
            return "an error is not {field, message}";
        }
    }
    return NULL;
}

int ref_errors_name(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;

    json_array_foreach(errors, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "field")), field)) {
            return 1;
        }
    }
    return 0;
}
