/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check --httpd-conf: secrets written into the httpd configuration.
 * PAAJWTSecret, PAAJWTPreviousSecret, PAAAPIKeys and PAAProvider's key=
 * take a source (env:NAME, file:PATH, exec:PATH ARGS); anything else is the
 * secret itself, in a file that is usually world-readable, copied into
 * backups and configuration management. httpd only warns (PAA00401), so
 * the check reads the configuration as httpd would find the directives:
 * the file given and everything it Includes, one line at a time. It does
 * not evaluate <IfModule> or <IfDefine>: a literal in a disabled section
 * is still a secret in a file. */

#include "check.h"

#include <apr_strings.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CONF_MAX_DEPTH 16   /* httpd allows 128; real trees use 3 or 4 */
#define CONF_MAX_FILES 2000 /* a glob that matches a whole disk, stop */
#define CONF_LINE_MAX  16384

static const check_def_t def_conf = {
    "conf.secret-sources", "5.1",
    "Set up secrets management: no literal secret in httpd.conf"};

typedef struct {
    check_t *ck;
    const char *root;    /* ServerRoot: where relative Includes start */
    const char *literal; /* "FILE:LINE DIRECTIVE" of the first literal */
    int nliteral;
    int nsources; /* directives that name a source */
    int nfiles;
} conf_scan_t;

static int is_source(const char *v)
{
    return !strncmp(v, "env:", 4) || !strncmp(v, "file:", 5) ||
           !strncmp(v, "exec:", 5);
}

static void judge(conf_scan_t *cs, const char *file, int lineno,
                  const char *directive, const char *value)
{
    if (is_source(value)) {
        cs->nsources++;
        return;
    }
    if (!cs->nliteral++) {
        cs->literal = apr_psprintf(cs->ck->ctl->pool, "%s:%d %s", file, lineno,
                                   directive);
    }
}

static void scan_file(conf_scan_t *cs, const char *path, int depth);

/* Include and IncludeOptional: a file, a directory (all its files, as
 * httpd reads them) or a wildcard, relative to ServerRoot. */
static void scan_include(conf_scan_t *cs, const char *pattern, int depth)
{
    apr_pool_t *p = cs->ck->ctl->pool;
    struct stat st;
    glob_t g;
    size_t i;

    if (pattern[0] != '/') {
        pattern = apr_pstrcat(p, cs->root, "/", pattern, NULL);
    }
    if (stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
        pattern = apr_pstrcat(p, pattern, "/*", NULL);
    }
    if (glob(pattern, 0, NULL, &g) != 0) {
        return; /* nothing matches: IncludeOptional's normal case */
    }
    for (i = 0; i < g.gl_pathc; i++) {
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            scan_file(cs, apr_pstrdup(p, g.gl_pathv[i]), depth + 1);
        }
    }
    globfree(&g);
}

static void scan_line(conf_scan_t *cs, const char *file, int lineno,
                      const char *line, int depth)
{
    apr_pool_t *p = cs->ck->ctl->pool;
    char **argv = NULL;
    const char *d;
    int i, n;

    if (apr_tokenize_to_argv(line, &argv, p) != APR_SUCCESS || !argv[0] ||
        !argv[1]) {
        return;
    }
    d = argv[0];
    if (!strcasecmp(d, "ServerRoot")) {
        cs->root = argv[1];
    }
    else if (!strcasecmp(d, "Include") || !strcasecmp(d, "IncludeOptional")) {
        scan_include(cs, argv[1], depth);
    }
    else if (!strcasecmp(d, "PAAJWTSecret") ||
             !strcasecmp(d, "PAAJWTPreviousSecret") ||
             !strcasecmp(d, "PAAAPIKeys")) {
        judge(cs, file, lineno, d, argv[1]);
    }
    else if (!strcasecmp(d, "PAAProvider")) {
        for (n = 0; argv[n]; n++) {
        }
        for (i = 4; i < n; i++) { /* NAME URL MODEL, then the options */
            if (!strncmp(argv[i], "key=", 4)) {
                judge(cs, file, lineno, "PAAProvider key=", argv[i] + 4);
            }
        }
    }
}

static void scan_file(conf_scan_t *cs, const char *path, int depth)
{
    char *buf, *line;
    int lineno = 0, start = 0;
    apr_size_t len = 0;
    FILE *f;

    if (depth > CONF_MAX_DEPTH || cs->nfiles >= CONF_MAX_FILES ||
        !(f = fopen(path, "r"))) {
        return;
    }
    cs->nfiles++;
    buf = apr_palloc(cs->ck->ctl->pool, CONF_LINE_MAX);
    /* A line ending in a backslash continues on the next, as for httpd. */
    while (fgets(buf + len, (int)(CONF_LINE_MAX - len), f)) {
        lineno++;
        start = start ? start : lineno;
        len += strlen(buf + len);
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = '\0';
        }
        if (len && buf[len - 1] == '\\' && len + 1 < CONF_LINE_MAX) {
            buf[--len] = '\0';
            continue;
        }
        for (line = buf; *line == ' ' || *line == '\t'; line++) {
        }
        if (*line && *line != '#') {
            scan_line(cs, path, start, line, depth);
        }
        len = 0;
        start = 0;
    }
    fclose(f);
}

void check_conf(check_t *ck)
{
    conf_scan_t cs;
    const char *slash;
    FILE *f;

    if (!ck->httpd_conf) {
        check_add(ck, &def_conf, CHECK_SKIP, NULL,
                  "no --httpd-conf given: httpd's secret directives were not "
                  "read");
        return;
    }
    if (!(f = fopen(ck->httpd_conf, "r"))) {
        check_add(ck, &def_conf, CHECK_FAIL,
                  "give the file httpd starts with (apachectl -V: "
                  "SERVER_CONFIG_FILE)",
                  "cannot read %s: %s", ck->httpd_conf, strerror(errno));
        return;
    }
    fclose(f);
    memset(&cs, 0, sizeof(cs));
    cs.ck = ck;
    slash = strrchr(ck->httpd_conf, '/');
    cs.root = slash ? apr_pstrmemdup(ck->ctl->pool, ck->httpd_conf,
                                     (apr_size_t)(slash - ck->httpd_conf))
                    : ".";
    scan_file(&cs, ck->httpd_conf, 0);
    if (cs.nliteral) {
        check_add(
            ck, &def_conf, CHECK_FAIL,
            "name a source instead: env:JWT_SECRET, "
            "file:/run/secrets/NAME or exec:/path/to/vault-cli ARGS",
            "%s holds a literal secret%s", cs.literal,
            cs.nliteral > 1
                ? apr_psprintf(ck->ctl->pool, " (and %d more)", cs.nliteral - 1)
                : "");
        return;
    }
    check_add(ck, &def_conf, CHECK_PASS, NULL,
              "%d file(s) read: %d secret directive(s), each naming a source",
              cs.nfiles, cs.nsources);
}
