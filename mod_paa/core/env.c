/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The .env file is the one source of truth shared by mod_paa (read at
 * config time) and paactl, as the security guide's JWT_SECRET / API_KEYS /
 * CORS_ORIGIN examples expect. The grammar is the common subset of
 * dotenv implementations, strict enough to report a line it cannot read
 * instead of guessing. */

#include "paa.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_lib.h>

#define PAA_ENV_MAX_SIZE (1024 * 1024)

static int valid_name(const char *s, apr_size_t n)
{
    apr_size_t i;
    if (n == 0 || apr_isdigit(s[0])) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* An error "FILE:LINE: what", as every refused line is reported. */
static apr_status_t line_error(apr_pool_t *p, const char *name, int lineno,
                               const char *what, const char **err)
{
    *err = apr_psprintf(p, "%s:%d: %s", name, lineno, what);
    return APR_EINVAL;
}

/* A quoted value [*vs, *ve) narrowed to what is inside its quotes, taken
 * verbatim: the grammar has no escapes, so only a comment may follow. */
static apr_status_t quoted_value(apr_pool_t *p, const char *name, int lineno,
                                 const char **vs, const char **ve,
                                 const char **err)
{
    char q = **vs;
    const char *close = memchr(*vs + 1, q, *ve - *vs - 1);
    const char *after;

    if (!close) {
        return line_error(p, name, lineno, "unterminated quote", err);
    }
    after = close + 1;
    while (after < *ve && apr_isspace(*after)) {
        after++;
    }
    if (after < *ve && *after != '#') {
        return line_error(p, name, lineno, "text after closing quote", err);
    }
    (*vs)++;
    *ve = close;
    return APR_SUCCESS;
}

/* An unquoted value [vs, *ve) ends at " #" (an inline comment), without
 * the spaces before it. */
static void unquoted_value(const char *vs, const char **ve)
{
    const char *c;
    for (c = vs; c < *ve; c++) {
        if (*c == '#' && c > vs && apr_isspace(c[-1])) {
            *ve = c;
            break;
        }
    }
    while (*ve > vs && apr_isspace((*ve)[-1])) {
        (*ve)--;
    }
}

/* One NAME=VALUE line [ls, le), already trimmed, into t. */
static apr_status_t assignment_parse(apr_pool_t *p, const char *name,
                                     int lineno, const char *ls, const char *le,
                                     apr_table_t *t, const char **err)
{
    const char *eq, *ke, *vs, *ve = le;
    apr_status_t rv;

    if (le - ls > 7 && !strncmp(ls, "export ", 7)) {
        ls += 7;
        while (ls < le && apr_isspace(*ls)) {
            ls++;
        }
    }
    eq = memchr(ls, '=', le - ls);
    if (!eq) {
        return line_error(p, name, lineno, "expected NAME=VALUE", err);
    }
    ke = eq;
    while (ke > ls && apr_isspace(ke[-1])) {
        ke--;
    }
    if (!valid_name(ls, ke - ls)) {
        return line_error(p, name, lineno, "invalid variable name", err);
    }
    vs = eq + 1;
    while (vs < ve && apr_isspace(*vs)) {
        vs++;
    }
    if (vs < ve && (*vs == '"' || *vs == '\'')) {
        rv = quoted_value(p, name, lineno, &vs, &ve, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        unquoted_value(vs, &ve);
    }
    apr_table_setn(t, apr_pstrmemdup(p, ls, ke - ls),
                   apr_pstrmemdup(p, vs, ve - vs));
    return APR_SUCCESS;
}

apr_status_t paa_env_parse(apr_pool_t *p, const char *name, const char *text,
                           apr_size_t len, apr_table_t **out, const char **err)
{
    apr_table_t *t = apr_table_make(p, 16);
    const char *pos = text, *end = text + len;
    int lineno = 0;

    while (pos < end) {
        const char *eol = memchr(pos, '\n', end - pos);
        const char *ls = pos, *le = eol ? eol : end;
        apr_status_t rv;

        pos = eol ? eol + 1 : end;
        lineno++;
        if (le > ls && le[-1] == '\r') {
            le--;
        }
        while (ls < le && apr_isspace(*ls)) {
            ls++;
        }
        while (le > ls && apr_isspace(le[-1])) {
            le--;
        }
        /* Blank lines and comments. */
        if (ls == le || *ls == '#') {
            continue;
        }
        rv = assignment_parse(p, name, lineno, ls, le, t, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *out = t;
    return APR_SUCCESS;
}

apr_status_t paa_env_load(apr_pool_t *p, const char *path, apr_table_t **out,
                          const char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t n;
    char *buf;
    char ebuf[120];

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
        *err = apr_psprintf(p, "%s is not a regular file", path);
        apr_file_close(f);
        return APR_EINVAL;
    }
    if (rv == APR_SUCCESS && fi.size > PAA_ENV_MAX_SIZE) {
        *err = apr_psprintf(p, "%s is larger than %d bytes", path,
                            PAA_ENV_MAX_SIZE);
        apr_file_close(f);
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot stat %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_file_close(f);
        return rv;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "cannot read %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    buf[n] = '\0';
    return paa_env_parse(p, path, buf, n, out, err);
}

const char *paa_env_get(const apr_table_t *env, const char *name)
{
    const char *suffix = apr_table_get(env, "PAA_ENV");
    if (suffix && *suffix) {
        char specific[256];
        const char *v;
        apr_size_t i, nl = strlen(name);
        if (nl + 1 + strlen(suffix) < sizeof(specific)) {
            memcpy(specific, name, nl);
            specific[nl] = '_';
            for (i = 0; suffix[i]; i++) {
                specific[nl + 1 + i] = apr_toupper(suffix[i]);
            }
            specific[nl + 1 + i] = '\0';
            v = apr_table_get(env, specific);
            if (v) {
                return v;
            }
        }
    }
    return apr_table_get(env, name);
}
