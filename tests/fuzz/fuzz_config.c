/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Fuzz target for directive arguments that are parsed rather than copied:
 * the rate-limit specifications of PAARateLimit and PAAMcpToolRateLimit
 * (paa_ratelimit_spec_parse), durations (paa_duration_parse: the windows,
 * PAAJWTExpiresIn, PAAChatDeadline, ...) and the secret sources of
 * PAAJWTSecret, PAAAPIKeys, PAAProvider key=... (paa_secret_resolve).
 *
 * The input's first line is the directive's argument text; the rest is
 * the payload: the .env file the secrets are looked up in, or a secret
 * file's contents.
 *
 *   rate limit  the line split into words as httpd splits a TAKE12
 *               directive (when it has one or two), and also whole and cut
 *               at its first space (quoted arguments can hold spaces);
 *               compared with a reference from validate.h: "Off" alone,
 *               or a count that strtol reads whole (leading white space
 *               and a sign allowed) in 1..10^9 and a duration of 1 s to
 *               1 d.
 *   duration    compared with the grammar (see reference.c).
 *   secret      never runs a program or opens a path from the input: an
 *               "exec:" line is skipped, and a "file:" line reads a
 *               temporary file of this process holding the payload,
 *               whose value must be the payload less one trailing
 *               newline (CRLF too), refused when empty. Other lines are
 *               "env:NAME", looked up in the payload parsed as an .env
 *               file, then in the environment (both read here too), or a
 *               literal, which must come back byte for byte and flagged
 *               as one. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "core/paa.h"
#include "fuzz.h"
#include "reference.h"

/* What the last input produced, for paa_fuzz_check_seed. */
static struct {
    int limit, window; /* the first line as "N WINDOW": -1 when refused */
    int secret;        /* 0 refused, 1 literal, 2 env:, 3 file:, 4 exec: */
} last;

static const char *input;
static char secret_path[64];

static void broken(const char *what)
{
    fuzz_broken("fuzz_config", what, input);
}

static void remove_secret_file(void)
{
    if (*secret_path) {
        unlink(secret_path);
    }
}

/* The payload in this process's own temporary file, its path. */
static const char *secret_file(const char *payload, size_t len)
{
    FILE *f;

    if (!*secret_path) {
        const char *dir = getenv("TMPDIR");
        int fd;
        snprintf(secret_path, sizeof(secret_path), "%s/paa-fuzz-XXXXXX",
                 dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
        fd = mkstemp(secret_path);
        if (fd < 0) {
            perror("fuzz_config: mkstemp");
            abort();
        }
        close(fd);
        atexit(remove_secret_file);
    }
    f = fopen(secret_path, "wb");
    if (!f || fwrite(payload, 1, len, f) != len || fclose(f)) {
        perror("fuzz_config: writing the secret file");
        abort();
    }
    return secret_path;
}

/* ----------------------------------------------------------- rate limit */

/* 1 with *n, *w when the reference accepts; *n = 0 for Off */
static int ref_ratelimit(const char *limit, const char *window, long *n,
                         long *w)
{
    const char *c = limit;
    int neg = 0;
    long v = 0;
    apr_int64_t secs;

    if (!strcasecmp(limit, "off") && !window) {
        *n = 0;
        return 1;
    }
    while (isspace((unsigned char)*c)) {
        c++;
    }
    if (*c == '+' || *c == '-') {
        neg = *c++ == '-';
    }
    if (!isdigit((unsigned char)*c)) {
        return 0;
    }
    for (; isdigit((unsigned char)*c); c++) {
        if (v <= PAA_RATELIMIT_LIMIT_MAX) {
            v = v * 10 + (*c - '0');
        }
    }
    if (*c || neg || v < 1 || v > PAA_RATELIMIT_LIMIT_MAX || !window) {
        return 0;
    }
    secs = ref_duration(window);
    if (secs < 1 || secs > PAA_RATELIMIT_WINDOW_MAX) {
        return 0;
    }
    *n = v;
    *w = (long)secs;
    return 1;
}

static int check_ratelimit(const char *limit, const char *window)
{
    int n = -7, w = -7;
    long rn = 0, rw = -7;
    const char *err = "x";
    apr_status_t rv = paa_ratelimit_spec_parse(limit, window, &n, &w, &err);
    int want = ref_ratelimit(limit, window, &rn, &rw);

    if ((rv == APR_SUCCESS) != want) {
        broken(want ? "paa_ratelimit_spec_parse refused a valid spec"
                    : "paa_ratelimit_spec_parse accepted an invalid spec");
    }
    if (rv != APR_SUCCESS) {
        if (!err || strncmp(err, "the ", 4)) {
            broken("paa_ratelimit_spec_parse refused without saying why");
        }
        return -1;
    }
    if (err || n != rn || (rn ? w != rw : w != -7)) {
        broken("paa_ratelimit_spec_parse: not the reference's numbers");
    }
    return n;
}

/* httpd's TAKE12 with unquoted words: split on white space. */
static void rate_limits(apr_pool_t *p, const char *line)
{
    char *copy = apr_pstrdup(p, line), *words[3] = {NULL, NULL, NULL};
    char *state, *tok, *sp;
    int nw = 0, n;

    last.limit = last.window = -1;
    for (tok = apr_strtok(copy, " \t", &state); tok;
         tok = apr_strtok(NULL, " \t", &state)) {
        if (nw < 3) {
            words[nw] = tok;
        }
        nw++;
    }
    if (nw == 1 || nw == 2) {
        int w = -7;
        const char *err;
        n = check_ratelimit(words[0], words[1]);
        if (n > 0) {
            paa_ratelimit_spec_parse(words[0], words[1], &n, &w, &err);
            last.window = w;
        }
        last.limit = n;
    }
    check_ratelimit(line, NULL);
    if ((sp = strchr(line, ' '))) {
        char *first = apr_pstrmemdup(p, line, (apr_size_t)(sp - line));
        check_ratelimit(first, sp + 1);
    }
}

/* ------------------------------------------------------------- secrets */

static void check_secret(apr_pool_t *p, const char *line, const char *payload,
                         size_t len)
{
    char *value = NULL;
    apr_size_t vlen = 0;
    int literal = -1;
    const char *err = NULL;
    apr_status_t rv;

    if (!strncmp(line, "exec:", 5)) {
        last.secret = 4; /* never run: a program the input names */
        return;
    }
    if (!strncmp(line, "file:", 5)) {
        size_t want = len;
        const char *path = secret_file(payload, len);
        rv = paa_secret_resolve(p, apr_pstrcat(p, "file:", path, NULL), NULL,
                                &value, &vlen, &literal, &err);
        if (want && payload[want - 1] == '\n') {
            want--;
            if (want && payload[want - 1] == '\r') {
                want--;
            }
        }
        if (want == 0 || len > 64 * 1024) {
            if (rv == APR_SUCCESS || !err) {
                broken("file: accepted an empty or oversized secret");
            }
            last.secret = 0;
            return;
        }
        if (rv != APR_SUCCESS || literal || vlen != want ||
            memcmp(value, payload, want) || value[vlen] != '\0') {
            broken("file: the value is not the file less one newline");
        }
        last.secret = 3;
        return;
    }
    {
        apr_table_t *env = NULL;
        const char *perr = NULL, *v = NULL;
        if (paa_env_parse(p, "fuzz.env", payload, len, &env, &perr) !=
            APR_SUCCESS) {
            env = NULL;
        }
        rv = paa_secret_resolve(p, line, env, &value, &vlen, &literal, &err);
        if (!strncmp(line, "env:", 4)) {
            v = env ? paa_env_get(env, line + 4) : NULL;
            if (!v) {
                v = getenv(line + 4);
            }
            if (!v) {
                if (rv != APR_ENOENT || !err || !strstr(err, "is not set")) {
                    broken("env: an unset name is not refused as unset");
                }
                last.secret = 0;
                return;
            }
            if (rv != APR_SUCCESS || literal || strcmp(value, v) ||
                vlen != strlen(v)) {
                broken("env: the value is not the variable's");
            }
            last.secret = 2;
            return;
        }
        if (rv != APR_SUCCESS || literal != 1 || strcmp(value, line) ||
            vlen != strlen(line)) {
            broken("a literal secret did not come back as itself");
        }
        last.secret = 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), *line, *payload;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    size_t plen = nl ? size - n - 1 : 0;
    apr_int64_t secs = -1;
    apr_status_t rv;
    apr_pool_t *p;

    fuzz_setup();
    memset(&last, 0, sizeof(last));
    input = text;
    apr_pool_create(&p, NULL);
    line = apr_pstrmemdup(p, text, n);
    payload = apr_pstrmemdup(p, text + (nl ? n + 1 : n), plen);

    rate_limits(p, line);
    rv = paa_duration_parse(line, &secs);
    if ((rv == APR_SUCCESS ? secs : 0) != ref_duration(line)) {
        broken("paa_duration_parse disagrees with the grammar");
    }
    check_secret(p, line, payload, plen);

    apr_pool_destroy(p);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- seed cases */

#define ANY -2

/* What each named seed must produce: the first line's rate limit and
 * window as TAKE12 arguments (-1 refused; ANY not checked), and the
 * secret source's outcome (0 refused, 1 literal, 2 env:, 3 file:,
 * 4 exec: skipped). */
static const struct {
    const char *name;
    int limit, window, secret;
} seeds[] = {
    {"limit_100_60s", 100, 60, 1},
    {"limit_max", 1000000000, 86400, ANY},
    {"limit_off", 0, -1, 1},
    {"limit_off_uppercase", 0, -1, ANY},
    {"limit_off_with_window", -1, -1, ANY},
    {"limit_zero", -1, -1, ANY},
    {"limit_negative", -1, -1, ANY},
    {"limit_over_max", -1, -1, ANY},
    {"limit_overflow", -1, -1, ANY},
    {"limit_no_window", -1, -1, ANY},
    {"limit_window_too_long", -1, -1, ANY},
    {"limit_window_1d", 5, 86400, ANY},
    {"limit_window_plain_seconds", 5, 30, ANY},
    {"limit_window_zero", -1, -1, ANY},
    {"limit_trailing_text", -1, -1, ANY},
    {"limit_three_words", -1, -1, ANY},
    {"secret_literal", ANY, ANY, 1},
    {"secret_env_file", ANY, ANY, 2},
    {"secret_env_suffix", ANY, ANY, 2},
    {"secret_env_unset", ANY, ANY, 0},
    {"secret_env_empty_name", ANY, ANY, 0},
    {"secret_file", ANY, ANY, 3},
    {"secret_file_crlf", ANY, ANY, 3},
    {"secret_file_two_newlines", ANY, ANY, 3},
    {"secret_file_empty", ANY, ANY, 0},
    {"secret_file_only_newline", ANY, ANY, 0},
    {"secret_file_nul_inside", ANY, ANY, 3},
    {"secret_file_other_path", ANY, ANY, 3},
    {"secret_exec", ANY, ANY, 4},
    {"empty", -1, -1, 1},
    {NULL, 0, 0, 0},
};

const char *paa_fuzz_check_seed(const char *name)
{
    static char msg[200];
    int i;

    for (i = 0; seeds[i].name && strcmp(seeds[i].name, name); i++) {
    }
    if (!seeds[i].name) {
        return NULL;
    }
    if ((seeds[i].limit != ANY && seeds[i].limit != last.limit) ||
        (seeds[i].window != ANY && seeds[i].window != last.window) ||
        (seeds[i].secret != ANY && seeds[i].secret != last.secret)) {
        snprintf(msg, sizeof(msg),
                 "not what the seed is for: limit=%d window=%d secret=%d",
                 last.limit, last.window, last.secret);
        return msg;
    }
    return NULL;
}
