/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl secret: random secrets like `openssl rand -base64 32`, from the
 * same CSPRNG the module uses, and setting one in the env file the module
 * reads. That file holds every secret of the deployment, so it is only
 * ever replaced whole (temporary file, fsync, rename; cmd_secret_file.c):
 * a crash or a full disk leaves the old file, never half of a new one.
 * Values never travel in argv and are never printed. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX_BYTES 1024
/* A value longer than this is a mistake (a pasted file), not a secret. */
#define SECRET_MAX_VALUE 8192

static void secret_help(void)
{
    printf("usage: paactl secret gen [--bytes N] [--hex]\n"
           "       paactl secret set NAME [--env ENV] [--generate [--bytes N] "
           "[--hex]]\n"
           "       paactl secret rotate JWT_SECRET [--env ENV] [--bytes N] "
           "[--hex]\n"
           "       paactl secret unset NAME [--env ENV] [--force]\n\n"
           "rotate and unset: see 'paactl secret rotate --help' and "
           "'paactl secret unset\n--help'.\n\n"
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
char *paactl_secret_random(paactl_t *ctl, apr_size_t n, int hex)
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
    if ((out = paactl_secret_random(ctl, (apr_size_t)n, hex)) == NULL) {
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

/* The audit record goes to the database the new file names, if it names
 * one: a fresh env file may have no database yet. */
void paactl_secret_audit(paactl_t *ctl, const char *text, apr_size_t len,
                         const char *event, const char *var, const char *path,
                         const char *detail)
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
        fprintf(stderr, "paactl: warning: the env file was written but the "
                        "change was not audited\n");
        return;
    }
    if (paactl_audit(ctl, db, event, var, NULL,
                     apr_psprintf(ctl->pool, "file=%s %s", path, detail),
                     &err) != APR_SUCCESS) {
        paactl_fail("warning: the env file was written but its audit record "
                    "failed: %s",
                    err);
    }
}

/* What secret set was asked to do, and the env file it changes. */
typedef struct {
    const char *var; /* NAME, or NAME_ENV with --env */
    int generate;
    int hex;
    long nbytes;
    paactl_env_file_t f;
} secret_set_t;

/* The options of secret set, with --env's argument in *env. Returns
 * PAACTL_OK, -1 after printing help, or the usage error's exit status. */
static int set_opts(int argc, char **argv, secret_set_t *s, const char **env)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"generate", no_argument, NULL, 'g'},
        {"bytes", required_argument, NULL, 'b'},
        {"hex", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            *env = optarg;
            break;
        case 'g':
            s->generate = 1;
            break;
        case 'b':
            if ((rc = bytes_parse("secret set", optarg, &s->nbytes)) !=
                PAACTL_OK) {
                return rc;
            }
            break;
        case 'x':
            s->hex = 1;
            break;
        case 'h':
            secret_help();
            return -1;
        default:
            return paactl_usage_error("secret set",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    return PAACTL_OK;
}

/* The variable to write: NAME checked, and with --env ENV the NAME_ENV
 * that mod_paa reads when PAA_ENV=ENV, upper-cased as paa_env_get looks
 * it up. */
int paactl_secret_var(paactl_t *ctl, const char *cmd, const char *name,
                      const char *env, const char **var)
{
    const char *e;
    char *u, *p;

    if (!name_valid(name)) {
        return paactl_usage_error(cmd,
                                  "NAME must be upper case letters, digits "
                                  "and _ (e.g. JWT_SECRET), not '%s'",
                                  name);
    }
    *var = name;
    if (!env) {
        return PAACTL_OK;
    }
    if (!*env || strlen(env) > 32) {
        return paactl_usage_error(cmd, "--env must be 1 to 32 "
                                       "characters");
    }
    for (e = env; *e; e++) {
        if (!apr_isalnum(*e) && *e != '_') {
            return paactl_usage_error(cmd, "--env may only contain letters, "
                                           "digits and _");
        }
    }
    u = apr_pstrcat(ctl->pool, name, "_", env, NULL);
    for (p = u; *p; p++) {
        *p = apr_toupper(*p);
    }
    *var = u;
    return PAACTL_OK;
}

/* --bytes and --hex only shape a generated value; and a generated JWT
 * secret too short for httpd is refused here, before the file is read,
 * rather than by the weakness check after it. base64 makes 4 characters
 * of every 3 bytes (rounded up), hex 2 of every byte. */
static int set_generate_check(const secret_set_t *s)
{
    long len = s->hex ? 2 * s->nbytes : 4 * ((s->nbytes + 2) / 3);

    if (!s->generate && (s->nbytes != 32 || s->hex)) {
        return paactl_usage_error("secret set", "--bytes and --hex go with "
                                                "--generate");
    }
    if (s->generate && is_jwt_secret(s->var) && len < PAA_JWT_MIN_SECRET) {
        return paactl_usage_error("secret set",
                                  "--bytes %ld makes a value shorter than "
                                  "the %d bytes a JWT secret needs",
                                  s->nbytes, PAA_JWT_MIN_SECRET);
    }
    return PAACTL_OK;
}

/* The command line of secret set into *s. Returns as set_opts. */
static int set_args(paactl_t *ctl, int argc, char **argv, secret_set_t *s)
{
    const char *env = NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    s->nbytes = 32;
    if ((rc = set_opts(argc, argv, s, &env)) != PAACTL_OK) {
        return rc;
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
    if ((rc = paactl_secret_var(ctl, "secret set", argv[optind], env,
                                &s->var)) != PAACTL_OK) {
        return rc;
    }
    return set_generate_check(s);
}

/* The env file as it is now, into f. It must be writable, and every line
 * must parse: the rewrite keeps other lines as they are, so a line the
 * parser refuses would still make httpd refuse the file after the write. */
int paactl_env_file_load(paactl_t *ctl, paactl_env_file_t *f)
{
    char resolved[PATH_MAX];
    const char *err = NULL;
    int rc;

    f->path = ctl->config_path;
    f->env = NULL;
    /* Through a symlink (/etc/paa/paa.env -> a secrets volume) the file,
     * not the link, is replaced. */
    if (realpath(f->path, resolved)) {
        f->path = apr_pstrdup(ctl->pool, resolved);
    }
    rc = paactl_env_read(ctl, f->path, &f->old, &f->oldlen, &f->st, &f->exists);
    if (rc != PAACTL_OK) {
        return rc;
    }
    if (f->exists && access(f->path, W_OK) != 0) {
        rc = paactl_fail("cannot write %s: %s; it was left unchanged", f->path,
                         strerror(errno));
        paa_wipe(f->old, f->oldlen);
        return rc;
    }
    if (paa_env_parse(ctl->pool, f->path, f->old, f->oldlen, &f->env, &err) !=
        APR_SUCCESS) {
        paa_wipe(f->old, f->oldlen);
        return paactl_fail("%s; fix that line first, nothing was changed", err);
    }
    return PAACTL_OK;
}

/* The value into value (size bytes): random with --generate, else the
 * first line of standard input. */
static int set_value_get(paactl_t *ctl, const secret_set_t *s, char *value,
                         apr_size_t size, apr_size_t *vlen)
{
    int rc;

    if (s->generate) {
        char *out = paactl_secret_random(ctl, (apr_size_t)s->nbytes, s->hex);
        if (!out) {
            return paactl_fail("the random number generator failed");
        }
        *vlen = strlen(out);
        memcpy(value, out, *vlen + 1);
        paa_wipe(out, *vlen);
        return PAACTL_OK;
    }
    rc = value_read(ctl, s->var, value, size, vlen);
    if (rc != 0) {
        return paactl_fail(
            "%s", rc == 1    ? "no value on standard input (pipe it as the "
                               "first line, or use --generate)"
                  : rc == -2 ? "the value is longer than 8192 bytes"
                             : "cannot read the value from standard input");
    }
    return PAACTL_OK;
}

/* Whether the env file can hold the value and, for a JWT secret, whether
 * httpd would accept it. */
static int set_value_check(paactl_t *ctl, const char *var, const char *value,
                           apr_size_t vlen)
{
    const char *why;

    if ((why = value_invalid(value, vlen)) != NULL) {
        return paactl_fail("%s; nothing was changed", why);
    }
    /* The reason comes from the check httpd runs at startup, worded as
     * httpd words it, so an operator sees the same words in both places. */
    if (is_jwt_secret(var) &&
        (why = paa_secret_weakness(ctl->pool, value, vlen)) != NULL) {
        return paactl_fail("%s: the JWT secret is unacceptable: %s. Nothing "
                           "was changed; generate one with: paactl secret "
                           "set %s --generate",
                           var, why, var);
    }
    return PAACTL_OK;
}

/* What was written where, on stderr: stdout stays empty, as the value is
 * never printed. */
static void set_report(paactl_t *ctl, const secret_set_t *s, int replaced)
{
    paactl_env_mode_report(&s->f);
    fprintf(stderr, "%s %s in %s%s (the value is not shown)\n",
            replaced ? "replaced" : "added", s->var, s->f.path,
            replaced > 1
                ? apr_psprintf(ctl->pool, " (all %d definitions)", replaced)
                : "");
    fprintf(stderr, "reload httpd (apachectl graceful) for mod_paa to "
                    "read it\n");
}

/* Every check that needs no value runs before the value is asked for, so
 * nobody types a secret into a prompt only to see it refused; the value
 * and the old text are wiped on every path. */
static int secret_set(paactl_t *ctl, int argc, char **argv)
{
    secret_set_t s;
    char value[SECRET_MAX_VALUE + 2];
    char *text;
    apr_size_t vlen = 0, textlen = 0;
    int replaced = 0, rc;

    if ((rc = set_args(ctl, argc, argv, &s)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = paactl_env_file_load(ctl, &s.f)) != PAACTL_OK) {
        return rc;
    }
    if ((rc = set_value_get(ctl, &s, value, sizeof(value), &vlen)) !=
            PAACTL_OK ||
        (rc = set_value_check(ctl, s.var, value, vlen)) != PAACTL_OK) {
        paa_wipe(value, sizeof(value));
        paa_wipe(s.f.old, s.f.oldlen);
        return rc;
    }
    text = paactl_env_assign(ctl->pool, s.f.old, s.f.oldlen, s.var, value, vlen,
                             &textlen, &replaced);
    paa_wipe(value, sizeof(value));
    paa_wipe(s.f.old, s.f.oldlen);
    rc = paactl_env_replace(ctl, s.f.path, text, textlen, &s.f.st, s.f.exists);
    if (rc == PAACTL_OK) {
        set_report(ctl, &s, replaced);
        paactl_secret_audit(ctl, text, textlen, "secret.set", s.var, s.f.path,
                            replaced ? "replaced" : "added");
    }
    paa_wipe(text, textlen);
    return rc;
}

int paactl_cmd_secret(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        return paactl_usage_error("secret", "a subcommand is needed (usage: "
                                            "paactl secret "
                                            "gen|set|rotate|unset)");
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
    if (!strcmp(argv[1], "rotate")) {
        return paactl_secret_rotate(ctl, argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "unset")) {
        return paactl_secret_unset(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("secret", "unknown subcommand '%s'", argv[1]);
}
