/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl secret: random secrets like `openssl rand -base64 32`, from the
 * same CSPRNG the module uses, and setting one in the env file the module
 * reads. That file holds every secret of the deployment, so it is only
 * ever replaced whole (temporary file, fsync, rename): a crash or a full
 * disk leaves the old file, never half of a new one. Values never travel
 * in argv and are never printed. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX_BYTES 1024
/* A value longer than this is a mistake (a pasted file), not a secret. */
#define SECRET_MAX_VALUE 8192
/* paa_env_load refuses larger files. */
#define ENV_MAX_SIZE (1024 * 1024)

static void secret_help(void)
{
    printf("usage: paactl secret gen [--bytes N] [--hex]\n"
           "       paactl secret set NAME [--env ENV] [--generate [--bytes N] "
           "[--hex]]\n\n"
           "gen: print a random secret: N bytes (default 32) from OpenSSL's "
           "CSPRNG,\nbase64-encoded, or hex with --hex. JWT secrets need at "
           "least 32 bytes.\n\n"
           "set: write NAME=VALUE into the env file (--config), creating it "
           "with mode\n0600 if needed. The value is the first line of "
           "standard input (asked\nwithout echo on a terminal), or random "
           "with --generate; it is never printed.\nEvery other line of the "
           "file is kept as it was; the file is replaced\natomically and "
           "keeps mode 0600.\n\n"
           "A value httpd would refuse at startup is refused for "
           "JWT_SECRET,\nJWT_SECRET_PREVIOUS and their NAME_ENV forms: "
           "shorter than 32 bytes,\na published example, too uniform, "
           "or a repeated pattern.\n\n"
           "  NAME        [A-Z_][A-Z0-9_]*, e.g. JWT_SECRET\n"
           "  --env ENV   write NAME_ENV instead (JWT_SECRET_PROD for "
           "--env prod),\n"
           "              the name mod_paa uses when PAA_ENV=ENV\n"
           "  --generate  a random value as 'secret gen' makes it\n"
           "  --bytes N   random bytes for --generate (16 to %d, default "
           "32)\n"
           "  --hex       hex instead of base64 for --generate\n",
           SECRET_MAX_BYTES);
}

/* n bytes from OpenSSL's CSPRNG, base64 or hex, as 'secret gen' prints
 * them and 'secret set --generate' stores them; NULL when the generator
 * fails. The caller wipes the text. */
static char *secret_random(paactl_t *ctl, apr_size_t n, int hex)
{
    unsigned char buf[SECRET_MAX_BYTES];
    char *out;

    if (paa_random_bytes(buf, n) != APR_SUCCESS) {
        return NULL;
    }
    out = hex ? paa_hex(ctl->pool, buf, n) : paa_base64(ctl->pool, buf, n);
    paa_wipe(buf, sizeof(buf));
    return out;
}

/* --bytes N of gen and set --generate. */
static int bytes_parse(const char *cmd, const char *arg, long *n)
{
    char *end;

    *n = strtol(arg, &end, 10);
    if (!*arg || *end || *n < 16 || *n > SECRET_MAX_BYTES) {
        return paactl_usage_error(cmd, "--bytes must be 16 to %d",
                                  SECRET_MAX_BYTES);
    }
    return PAACTL_OK;
}

static int secret_gen(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"bytes", required_argument, NULL, 'b'},
        {"hex", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    long n = 32;
    int hex = 0, c, rc;
    char *out;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if ((rc = bytes_parse("secret gen", optarg, &n)) != PAACTL_OK) {
                return rc;
            }
            break;
        case 'x':
            hex = 1;
            break;
        case 'h':
            secret_help();
            return PAACTL_OK;
        default:
            return paactl_usage_error("secret gen",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("secret gen", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if ((out = secret_random(ctl, (apr_size_t)n, hex)) == NULL) {
        return paactl_fail("the random number generator failed");
    }
    printf("%s\n", out);
    paa_wipe(out, strlen(out));
    return PAACTL_OK;
}

/* ------------------------------------------------------------ secret set */

/* One line from standard input: the value of NAME, asked without echo on
 * a terminal. Returns as paactl_read_line. */
static int value_read(paactl_t *ctl, const char *name, char *buf,
                      apr_size_t size, apr_size_t *len)
{
    if (!isatty(STDIN_FILENO)) {
        return paactl_read_line(STDIN_FILENO, buf, size, len);
    }
    return paactl_prompt_hidden(
        STDIN_FILENO, STDERR_FILENO,
        apr_psprintf(ctl->pool, "Value for %s (not shown): ", name), buf, size,
        len);
}

static int name_valid(const char *s)
{
    if (!*s || strlen(s) > 200 || !(apr_isupper(*s) || *s == '_')) {
        return 0;
    }
    for (; *s; s++) {
        if (!(apr_isupper(*s) || apr_isdigit(*s) || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

/* Why the value cannot be written, or NULL. The env grammar has no escapes:
 * a double quote or a line break could not be read back. */
static const char *value_invalid(const char *v, apr_size_t len)
{
    apr_size_t i;
    if (!len) {
        return "the value is empty";
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"') {
            return "the value contains a double quote, which the env file "
                   "cannot hold";
        }
        if (c == '\n' || c == '\r') {
            return "the value contains a line break";
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return "the value contains a control character";
        }
    }
    return NULL;
}

/* The variables httpd reads as JWT secrets: JWT_SECRET, JWT_SECRET_PREVIOUS
 * and their NAME_ENV forms. A value httpd would refuse at startup must not
 * get into the file: the next reload would fail, and a weak secret is not
 * a secret. */
static int is_jwt_secret(const char *var)
{
    return !strcmp(var, "JWT_SECRET") || !strncmp(var, "JWT_SECRET_", 11);
}

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

/* Reads the whole file into *buf; *exists is 0 when there is none. */
static int env_read(paactl_t *ctl, const char *path, char **buf,
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
static int env_replace(paactl_t *ctl, const char *path, const char *text,
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

/* The audit record goes to the database the new file names, if it names
 * one: a fresh env file may have no database yet. */
static void secret_audit(paactl_t *ctl, const char *text, apr_size_t len,
                         const char *var, const char *path, int replaced)
{
    apr_table_t *env = NULL;
    const char *err = NULL;
    paa_db_t *db;

    if (paa_env_parse(ctl->pool, path, text, len, &env, &err) != APR_SUCCESS ||
        !paa_env_get(env, "PAA_DB_DRIVER") ||
        !paa_env_get(env, "PAA_DB_PARAMS")) {
        return;
    }
    ctl->env = env;
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        fprintf(stderr, "paactl: warning: the secret was written but not "
                        "audited\n");
        return;
    }
    if (paactl_audit(ctl, db, "secret.set", var, NULL,
                     apr_psprintf(ctl->pool, "file=%s %s", path,
                                  replaced ? "replaced" : "added"),
                     &err) != APR_SUCCESS) {
        paactl_fail("warning: the secret was written but its audit record "
                    "failed: %s",
                    err);
    }
}

static int secret_set(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"generate", no_argument, NULL, 'g'},
        {"bytes", required_argument, NULL, 'b'},
        {"hex", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *env = NULL, *var, *why, *path = ctl->config_path;
    char value[SECRET_MAX_VALUE + 2], resolved[PATH_MAX];
    char *old = NULL, *text, *assignment;
    apr_size_t vlen = 0, oldlen = 0, textlen = 0;
    int generate = 0, hex = 0, exists = 0, replaced = 0, c, rc;
    long nbytes = 32;
    struct stat st;

    memset(&st, 0, sizeof(st));
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            env = optarg;
            break;
        case 'g':
            generate = 1;
            break;
        case 'b':
            if ((rc = bytes_parse("secret set", optarg, &nbytes)) !=
                PAACTL_OK) {
                return rc;
            }
            break;
        case 'x':
            hex = 1;
            break;
        case 'h':
            secret_help();
            return PAACTL_OK;
        default:
            return paactl_usage_error("secret set",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return paactl_usage_error("secret set", "NAME is missing");
    }
    if (argc - optind > 1) {
        return paactl_usage_error("secret set",
                                  "unexpected argument '%s' (the value is "
                                  "read from stdin, never from argv)",
                                  argv[optind + 1]);
    }
    var = argv[optind];
    if (!name_valid(var)) {
        return paactl_usage_error("secret set",
                                  "NAME must be upper case letters, digits "
                                  "and _ (e.g. JWT_SECRET), not '%s'",
                                  var);
    }
    if (env) {
        const char *e;
        if (!*env || strlen(env) > 32) {
            return paactl_usage_error("secret set", "--env must be 1 to 32 "
                                                    "characters");
        }
        for (e = env; *e; e++) {
            if (!apr_isalnum(*e) && *e != '_') {
                return paactl_usage_error("secret set",
                                          "--env may only contain letters, "
                                          "digits and _");
            }
        }
        {
            char *u = apr_pstrcat(ctl->pool, var, "_", env, NULL), *p;
            for (p = u; *p; p++) {
                *p = apr_toupper(*p);
            }
            var = u;
        }
    }
    if ((!generate && (nbytes != 32 || hex))) {
        return paactl_usage_error("secret set", "--bytes and --hex go with "
                                                "--generate");
    }
    if (generate && is_jwt_secret(var) &&
        (hex ? 2 * nbytes : 4 * ((nbytes + 2) / 3)) < PAA_JWT_MIN_SECRET) {
        return paactl_usage_error("secret set",
                                  "--bytes %ld makes a value shorter than "
                                  "the %d bytes a JWT secret needs",
                                  nbytes, PAA_JWT_MIN_SECRET);
    }
    /* Through a symlink (/etc/paa/paa.env -> a secrets volume) the file,
     * not the link, is replaced. */
    if (realpath(path, resolved)) {
        path = apr_pstrdup(ctl->pool, resolved);
    }
    if ((rc = env_read(ctl, path, &old, &oldlen, &st, &exists)) != PAACTL_OK) {
        return rc;
    }
    if (exists && access(path, W_OK) != 0) {
        rc = paactl_fail("cannot write %s: %s; it was left unchanged", path,
                         strerror(errno));
        paa_wipe(old, oldlen);
        return rc;
    }
    {
        apr_table_t *t = NULL;
        const char *err = NULL;
        if (paa_env_parse(ctl->pool, path, old, oldlen, &t, &err) !=
            APR_SUCCESS) {
            paa_wipe(old, oldlen);
            return paactl_fail("%s; fix that line first, nothing was changed",
                               err);
        }
    }

    if (generate) {
        char *out = secret_random(ctl, (apr_size_t)nbytes, hex);
        if (!out) {
            paa_wipe(old, oldlen);
            return paactl_fail("the random number generator failed");
        }
        vlen = strlen(out);
        memcpy(value, out, vlen + 1);
        paa_wipe(out, vlen);
    }
    else {
        rc = value_read(ctl, var, value, sizeof(value), &vlen);
        if (rc != 0) {
            paa_wipe(value, sizeof(value));
            paa_wipe(old, oldlen);
            return paactl_fail(
                "%s", rc == 1    ? "no value on standard input (pipe it as the "
                                   "first line, or use --generate)"
                      : rc == -2 ? "the value is longer than 8192 bytes"
                                 : "cannot read the value from standard input");
        }
    }
    if ((why = value_invalid(value, vlen)) != NULL) {
        paa_wipe(value, sizeof(value));
        paa_wipe(old, oldlen);
        return paactl_fail("%s; nothing was changed", why);
    }
    /* The reason comes from the check httpd runs at startup, worded as
     * httpd words it, so an operator sees the same words in both places. */
    if (is_jwt_secret(var) &&
        (why = paa_secret_weakness(ctl->pool, value, vlen)) != NULL) {
        paa_wipe(value, sizeof(value));
        paa_wipe(old, oldlen);
        return paactl_fail("%s: the JWT secret is unacceptable: %s. Nothing "
                           "was changed; generate one with: paactl secret "
                           "set %s --generate",
                           var, why, var);
    }
    assignment = value_needs_quotes(value, vlen)
                     ? apr_pstrcat(ctl->pool, "\"", value, "\"", NULL)
                     : apr_pstrdup(ctl->pool, value);
    paa_wipe(value, sizeof(value));
    text = env_rewrite(ctl->pool, old, oldlen, var, assignment, &textlen,
                       &replaced);
    paa_wipe(assignment, strlen(assignment));
    paa_wipe(old, oldlen);
    rc = env_replace(ctl, path, text, textlen, &st, exists);
    if (rc == PAACTL_OK) {
        if (exists && (st.st_mode & 07777) != (S_IRUSR | S_IWUSR)) {
            fprintf(stderr, "%s had mode %04o; it now has 0600\n", path,
                    (unsigned)(st.st_mode & 07777));
        }
        fprintf(stderr, "%s %s in %s%s (the value is not shown)\n",
                replaced ? "replaced" : "added", var, path,
                replaced > 1
                    ? apr_psprintf(ctl->pool, " (all %d definitions)", replaced)
                    : "");
        fprintf(stderr, "reload httpd (apachectl graceful) for mod_paa to "
                        "read it\n");
        secret_audit(ctl, text, textlen, var, path, replaced);
    }
    paa_wipe(text, textlen);
    return rc;
}

int paactl_cmd_secret(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        return paactl_usage_error("secret",
                                  "a subcommand is needed: gen or "
                                  "set (usage: paactl secret gen|set)");
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        secret_help();
        return PAACTL_OK;
    }
    if (!strcmp(argv[1], "gen")) {
        return secret_gen(ctl, argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "set")) {
        return secret_set(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("secret", "unknown subcommand '%s'", argv[1]);
}
