/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The env file as paactl secret set rewrites it. It holds every secret of
 * the deployment, so one variable is changed by rewriting the text with
 * every other byte kept, and the file is only ever replaced whole
 * (temporary file, fsync, rename): a crash or a full disk leaves the old
 * file, never half of a new one. Kept apart from cmd_secret.c so that the
 * command reads as its steps and this file as the file's rules. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* paa_env_load refuses larger files. */
#define ENV_MAX_SIZE (1024 * 1024)

/* Unquoted, the parser would trim spaces, cut at " #" or take a leading
 * quote as quoting; other dotenv readers also expand $ and backslashes. */
static int value_needs_quotes(const char *v, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; i < len; i++) {
        if (!(apr_isalnum(v[i]) || strchr("_-+/=.,:@%^~", v[i]))) {
            return 1;
        }
    }
    return 0;
}

/* If line [s, e) assigns NAME, the length of its part up to and including
 * '=' (indentation, "export " and spacing kept), else 0. */
static apr_size_t line_assigns(const char *s, const char *e, const char *name)
{
    const char *p = s;
    apr_size_t nl = strlen(name);

    while (p < e && (*p == ' ' || *p == '\t')) {
        p++;
    }
    if (e - p > 7 && !strncmp(p, "export ", 7)) {
        p += 7;
        while (p < e && (*p == ' ' || *p == '\t')) {
            p++;
        }
    }
    if ((apr_size_t)(e - p) <= nl || strncmp(p, name, nl)) {
        return 0;
    }
    p += nl;
    while (p < e && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p < e && *p == '=' ? (apr_size_t)(p + 1 - s) : 0;
}

/* The new file: every definition of NAME gets the new value (the parser
 * keeps the last, and an old secret must not linger in the file); every
 * other byte stays as it was. */
static char *env_rewrite(apr_pool_t *p, const char *old, apr_size_t len,
                         const char *name, const char *assignment,
                         apr_size_t *outlen, int *replaced)
{
    apr_size_t alen = strlen(assignment), n = 0;
    /* Room for a missing final newline and an appended "NAME=VALUE\n". */
    apr_size_t cap = len + 1 + strlen(name) + 1 + alen + 2;
    const char *pos = old, *end = old + len;
    char *out;

    *replaced = 0;
    while (pos < end) {
        const char *eol = memchr(pos, '\n', end - pos);
        const char *le = eol ? eol : end;
        if (line_assigns(pos, le, name)) {
            cap += alen + 1;
        }
        pos = eol ? eol + 1 : end;
    }
    out = apr_palloc(p, cap);
    for (pos = old; pos < end;) {
        const char *eol = memchr(pos, '\n', end - pos);
        const char *le = eol ? eol : end, *next = eol ? eol + 1 : end;
        apr_size_t head = line_assigns(pos, le, name);
        if (head) {
            /* Keep a CRLF line ending where the file uses them. */
            int cr = le > pos && le[-1] == '\r';
            memcpy(out + n, pos, head);
            n += head;
            memcpy(out + n, assignment, alen);
            n += alen;
            if (cr) {
                out[n++] = '\r';
            }
            if (eol) {
                out[n++] = '\n';
            }
            (*replaced)++;
        }
        else {
            memcpy(out + n, pos, next - pos);
            n += next - pos;
        }
        pos = next;
    }
    if (!*replaced) {
        if (n && out[n - 1] != '\n') {
            out[n++] = '\n';
        }
        n += apr_snprintf(out + n, cap - n, "%s=%s\n", name, assignment);
    }
    *outlen = n;
    return out;
}

char *paactl_env_assign(apr_pool_t *p, const char *old, apr_size_t len,
                        const char *name, const char *value, apr_size_t vlen,
                        apr_size_t *outlen, int *replaced)
{
    char *assignment = value_needs_quotes(value, vlen)
                           ? apr_pstrcat(p, "\"", value, "\"", NULL)
                           : apr_pstrdup(p, value);
    char *text = env_rewrite(p, old, len, name, assignment, outlen, replaced);

    paa_wipe(assignment, strlen(assignment));
    return text;
}

char *paactl_env_remove(apr_pool_t *p, const char *old, apr_size_t len,
                        const char *name, apr_size_t *outlen, int *removed)
{
    const char *pos = old, *end = old + len;
    char *out = apr_palloc(p, len + 1);
    apr_size_t n = 0;

    *removed = 0;
    while (pos < end) {
        const char *eol = memchr(pos, '\n', end - pos);
        const char *le = eol ? eol : end, *next = eol ? eol + 1 : end;
        if (line_assigns(pos, le, name)) {
            (*removed)++;
        }
        else {
            memcpy(out + n, pos, next - pos);
            n += next - pos;
        }
        pos = next;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

static int write_all(int fd, const char *buf, apr_size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1;
        }
        buf += w;
        len -= (apr_size_t)w;
    }
    return 0;
}

int paactl_env_read(paactl_t *ctl, const char *path, char **buf,
                    apr_size_t *len, struct stat *st, int *exists)
{
    apr_size_t n = 0;
    int fd;

    *exists = 0;
    *len = 0;
    *buf = apr_pcalloc(ctl->pool, 1);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
        return PAACTL_OK;
    }
    if (fd < 0 || fstat(fd, st) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return paactl_fail("cannot read %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return paactl_fail("%s is not a regular file", path);
    }
    if (st->st_size > ENV_MAX_SIZE) {
        close(fd);
        return paactl_fail("%s is larger than %d bytes", path, ENV_MAX_SIZE);
    }
    *buf = apr_palloc(ctl->pool, (apr_size_t)st->st_size + 1);
    if (paactl_read_full(fd, *buf, (apr_size_t)st->st_size, &n) != 0) {
        int e = errno;
        close(fd);
        return paactl_fail("cannot read %s: %s", path, strerror(e));
    }
    close(fd);
    (*buf)[n] = '\0';
    *len = n;
    *exists = 1;
    return PAACTL_OK;
}

/* Replaces path by text: a temporary file in the same directory (rename
 * is only atomic within one file system), mode 0600 and the old owner,
 * fsync before the rename, and the directory synced after it. */
int paactl_env_replace(paactl_t *ctl, const char *path, const char *text,
                       apr_size_t len, const struct stat *old, int exists)
{
    char *dir = dirname(apr_pstrdup(ctl->pool, path));
    char *tmp =
        apr_pstrcat(ctl->pool, dir, "/.",
                    basename(apr_pstrdup(ctl->pool, path)), ".XXXXXX", NULL);
    const char *step;
    int fd, dfd, e;

    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        return paactl_fail("cannot write %s: %s (an atomic update needs a "
                           "temporary file in %s)",
                           path, strerror(e), dir);
    }
    step = "cannot set its mode";
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
        goto fail;
    }
    step = "cannot keep its owner (run paactl as root or as the owner)";
    if (exists && (old->st_uid != geteuid() || old->st_gid != getegid()) &&
        fchown(fd, old->st_uid, old->st_gid) != 0) {
        goto fail;
    }
    step = NULL;
    if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        goto fail;
    }
    /* Durability of the rename itself; the file is already complete, so a
     * failure here is not worth undoing it. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return PAACTL_OK;

fail:
    e = errno;
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return paactl_fail("cannot write %s: %s%s%s; it was left unchanged", path,
                       step ? step : strerror(e), step ? ": " : "",
                       step ? strerror(e) : "");
}

void paactl_env_mode_report(const paactl_env_file_t *f)
{
    if (f->exists && (f->st.st_mode & 07777) != (S_IRUSR | S_IWUSR)) {
        fprintf(stderr, "%s had mode %04o; it now has 0600\n", f->path,
                (unsigned)(f->st.st_mode & 07777));
    }
}
