/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What the fuzz targets share: reference implementations written from the
 * documented grammars (so that a disagreement with the code under test is
 * a bug in one of the two), the checks every JSON error list must pass,
 * and the way a target reports a broken invariant. */

#ifndef PAA_FUZZ_REFERENCE_H
#define PAA_FUZZ_REFERENCE_H

#include <stddef.h>

#include <apr_general.h>
#include <jansson.h>

/* paa_duration_parse's documented ceiling: 100 years. */
#define FUZZ_DURATION_MAX ((apr_int64_t)100 * 366 * 86400)

/** apr_initialize once per process. */
void fuzz_setup(void);

/** Report a broken invariant with (up to 300 bytes of) the input, abort. */
void fuzz_broken(const char *target, const char *what, const char *input)
    __attribute__((noreturn));

/** A NUL-terminated copy of the input (malloc). */
char *fuzz_text(const unsigned char *data, size_t size);

/** Digits, then at most one of s m h d w; positive and at most 100 years.
 * Returns the seconds, or 0 for anything else. */
apr_int64_t ref_duration(const char *s);

/** Code points in s, or -1 when s is not valid UTF-8 (RFC 3629: shortest
 * form, no surrogates, at most U+10FFFF). */
long ref_utf8_chars(const char *s);

/**
 * A validation error list as the API sends it: an array of objects with
 * exactly a string "field" and a non-empty string "message".
 * @return NULL when it is one, else what is wrong
 */
const char *ref_errors_shape(json_t *errors);

/** 1 when the error list names field (with any message). */
int ref_errors_name(json_t *errors, const char *field);

#endif /* PAA_FUZZ_REFERENCE_H */
