/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Secret sources, so that no secret has to be written into httpd.conf:
 * env:NAME (the shared .env file, then the environment: Docker and
 * systemd), file:PATH (Docker/Kubernetes secrets under /run/secrets) and
 * exec:PATH ARGS (the vault CLIs: aws, az, vault). exec runs the program
 * directly, never through a shell, and only at startup. */

#include "paa.h"

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#define SECRET_MAX   (64 * 1024)
#define EXEC_TIMEOUT apr_time_from_sec(10)

apr_array_header_t *paa_split_list(apr_pool_t *p, const char *list)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *copy, *tok, *state;

    if (!list) {
        return a;
    }
    copy = apr_pstrdup(p, list);
    for (tok = apr_strtok(copy, ",", &state); tok;
         tok = apr_strtok(NULL, ",", &state)) {
        char *end;
        while (apr_isspace(*tok)) {
            tok++;
        }
        end = tok + strlen(tok);
        while (end > tok && apr_isspace(end[-1])) {
            *--end = '\0';
        }
        if (*tok) {
            APR_ARRAY_PUSH(a, const char *) = tok;
        }
    }
    return a;
}

static void chomp(char *s, apr_size_t *len)
{
    if (*len && s[*len - 1] == '\n') {
        s[--*len] = '\0';
        if (*len && s[*len - 1] == '\r') {
            s[--*len] = '\0';
        }
    }
}

/* At most SECRET_MAX bytes: one more is read to tell "exactly the limit"
 * from "larger". */
static apr_status_t read_all(apr_pool_t *p, apr_file_t *f, char **out,
                             apr_size_t *len, const char *what,
                             const char **err)
{
    char *buf = apr_palloc(p, SECRET_MAX + 1);
    apr_size_t total = 0;
    apr_status_t rv;

    for (;;) {
        apr_size_t n = SECRET_MAX + 1 - total;
        rv = apr_file_read(f, buf + total, &n);
        total += n;
        if (total > SECRET_MAX) {
            *err =
                apr_psprintf(p, "%s is larger than %d bytes", what, SECRET_MAX);
            return APR_EINVAL;
        }
        if (rv == APR_EOF) {
            break;
        }
        if (rv != APR_SUCCESS) {
            char ebuf[120];
            *err = apr_psprintf(p, "cannot read %s: %s", what,
                                apr_strerror(rv, ebuf, sizeof(ebuf)));
            return rv;
        }
    }
    buf[total] = '\0';
    *out = buf;
    *len = total;
    return APR_SUCCESS;
}

static apr_status_t from_file(apr_pool_t *p, const char *path, char **value,
                              apr_size_t *len, const char **err)
{
    apr_file_t *f;
    apr_status_t rv;
    char ebuf[120];

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = read_all(p, f, value, len, path, err);
    apr_file_close(f);
    if (rv == APR_SUCCESS) {
        chomp(*value, len);
    }
    return rv;
}

static apr_status_t from_exec(apr_pool_t *p, const char *cmdline, char **value,
                              apr_size_t *len, const char **err)
{
    char **argv = NULL;
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_exit_why_e why;
    int code = 0;
    apr_status_t rv;
    char ebuf[120];

    if (apr_tokenize_to_argv(cmdline, &argv, p) != APR_SUCCESS || !argv[0] ||
        argv[0][0] != '/') {
        *err = "exec: needs an absolute program path";
        return APR_EINVAL;
    }
    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_NO_PIPE, APR_FULL_BLOCK,
                                  APR_NO_PIPE)) != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM)) != APR_SUCCESS ||
        (rv = apr_proc_create(&proc, argv[0], (const char *const *)argv, NULL,
                              attr, p)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot run %s: %s", argv[0],
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    apr_file_pipe_timeout_set(proc.out, EXEC_TIMEOUT);
    rv = read_all(p, proc.out, value, len, argv[0], err);
    apr_file_close(proc.out);
    if (rv != APR_SUCCESS) {
        apr_proc_kill(&proc, SIGKILL);
        apr_proc_wait(&proc, &code, &why, APR_WAIT);
        return rv;
    }
    apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (why != APR_PROC_EXIT || code != 0) {
        *err = apr_psprintf(p, "%s exited with status %d", argv[0], code);
        return APR_EGENERAL;
    }
    chomp(*value, len);
    return APR_SUCCESS;
}

apr_status_t paa_secret_resolve(apr_pool_t *p, const char *source,
                                const apr_table_t *env, char **value,
                                apr_size_t *len, int *literal, const char **err)
{
    apr_status_t rv;

    *literal = 0;
    if (!strncmp(source, "env:", 4)) {
        const char *name = source + 4;
        const char *v = env ? paa_env_get(env, name) : NULL;
        char *pv = NULL;
        if (!v && apr_env_get(&pv, name, p) == APR_SUCCESS) {
            v = pv;
        }
        if (!v) {
            *err = apr_psprintf(p, "%s is not set", name);
            return APR_ENOENT;
        }
        *value = apr_pstrdup(p, v);
        *len = strlen(v);
        return APR_SUCCESS;
    }
    if (!strncmp(source, "file:", 5)) {
        rv = from_file(p, source + 5, value, len, err);
    }
    else if (!strncmp(source, "exec:", 5)) {
        rv = from_exec(p, source + 5, value, len, err);
    }
    else {
        *literal = 1;
        *value = apr_pstrdup(p, source);
        *len = strlen(source);
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && *len == 0) {
        *err = "the secret is empty";
        return APR_EINVAL;
    }
    return rv;
}

/* Values published in the security guide, its .env.example and common
 * framework defaults: a deployment using one of them has no secret. */
static const char *const known_defaults[] = {"your_generated_secret_here",
                                             "your-secret",
                                             "your-secret-key",
                                             "your_jwt_secret",
                                             "dev-secret-here",
                                             "staging-secret-here",
                                             "prod-secret-here",
                                             "secret",
                                             "changeme",
                                             "change-me",
                                             "change-this-in-production",
                                             "supersecret",
                                             "jwt-secret",
                                             "default",
                                             NULL};

/* The shortest period of s: the least k with s[i] == s[i + k] for every i,
 * len when there is none shorter. From the KMP failure function, so that a
 * 64 KiB secret from file: costs linear time, not quadratic. */
static apr_size_t shortest_period(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t *border, i, k = 0;

    if (len < 2) {
        return len;
    }
    border = apr_palloc(p, len * sizeof(*border));
    border[0] = 0;
    for (i = 1; i < len; i++) {
        while (k > 0 && s[i] != s[k]) {
            k = border[k - 1];
        }
        if (s[i] == s[k]) {
            k++;
        }
        border[i] = k;
    }
    return len - border[len - 1];
}

const char *paa_secret_weakness(apr_pool_t *p, const char *secret,
                                apr_size_t len)
{
    apr_size_t i, distinct = 0, period;
    int seen[256] = {0};
    int k;

    for (k = 0; known_defaults[k]; k++) {
        if (len == strlen(known_defaults[k]) &&
            !strncasecmp(secret, known_defaults[k], len)) {
            return "it is a published example or default value";
        }
    }
    if (len < PAA_JWT_MIN_SECRET) {
        return apr_psprintf(
            p, "it is %" APR_SIZE_T_FMT " bytes; at least %d are required", len,
            PAA_JWT_MIN_SECRET);
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (!seen[c]++) {
            distinct++;
        }
    }
    if (distinct < 8) {
        return "it has too little variety to be random "
               "(generate one with: paactl secret gen)";
    }
    /* "abcdefgh" four times has enough distinct bytes and length, and the
     * entropy of eight characters. A random secret repeats itself at least
     * twice with negligible probability. */
    period = shortest_period(p, secret, len);
    if (period * 2 <= len) {
        return apr_psprintf(p,
                            "it repeats a %" APR_SIZE_T_FMT
                            "-byte pattern, so it is not random "
                            "(generate one with: paactl secret gen)",
                            period);
    }
    return NULL;
}
