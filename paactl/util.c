/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Helpers more than one paactl command needs: terminal and JSON output of
 * stored text, reading credentials from standard input or a no-echo
 * prompt, and audit records. They live here so that each rule (what a key
 * id looks like, how a tty is restored, what an audit record of paactl
 * holds) is written once; what does not need paactl_t belongs in libpaa
 * (mod_paa/core) instead, and SQL only in its stores. */

#include "paactl.h"

#include <apr_strings.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* ---------------------------------------------------------------- output */

const char *paactl_printable(paactl_t *ctl, const char *s)
{
    char *c, *out;
    if (!s || !*s) {
        return "-";
    }
    out = apr_pstrdup(ctl->pool, s);
    for (c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return out;
}

json_t *paactl_json_str(paactl_t *ctl, const char *s)
{
    json_t *j;
    char *copy, *c;

    if (!s) {
        return json_null();
    }
    if ((j = json_string(s)) != NULL) {
        return j;
    }
    copy = apr_pstrdup(ctl->pool, s);
    for (c = copy; *c; c++) {
        if ((unsigned char)*c >= 0x80) {
            *c = '?';
        }
    }
    return json_string(copy);
}

int paactl_json_print(json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text) {
        return paactl_fail("cannot format the JSON output (out of memory)");
    }
    printf("%s\n", text);
    free(text);
    return PAACTL_OK;
}

int paactl_utf8_chars(const char *s)
{
    return (int)paa_utf8_chars(s); /* column widths are small ints */
}

void paactl_table_print(paactl_t *ctl, int ncols, const char *const *head,
                        const char *const *cells, int nrows)
{
    int *w = apr_palloc(ctl->pool, sizeof(int) * (apr_size_t)ncols), i, c;

    for (c = 0; c < ncols; c++) {
        w[c] = paactl_utf8_chars(head[c]);
    }
    for (i = 0; i < nrows; i++) {
        const char *const *cell = cells + i * ncols;
        for (c = 0; c < ncols; c++) {
            if (paactl_utf8_chars(cell[c]) > w[c]) {
                w[c] = paactl_utf8_chars(cell[c]);
            }
        }
    }
    for (i = -1; i < nrows; i++) {
        const char *const *cell = i < 0 ? head : cells + i * ncols;
        for (c = 0; c < ncols - 1; c++) {
            printf("%s%*s", cell[c], w[c] - paactl_utf8_chars(cell[c]) + 2, "");
        }
        printf("%s\n", cell[ncols - 1]);
    }
}

/* ------------------------------------------------------------- arguments */

int paactl_key_id_well_formed(const char *s)
{
    int i;
    if (strncmp(s, "key_", 4) || strlen(s) != 20) {
        return 0;
    }
    for (i = 4; i < 20; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

const char *paactl_role_add(apr_array_header_t *roles, const char *role)
{
    const char *bad = paa_role_invalid(role);
    int i;

    if (bad) {
        return bad;
    }
    for (i = 0; i < roles->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(roles, i, const char *), role)) {
            return NULL;
        }
    }
    APR_ARRAY_PUSH(roles, const char *) = role;
    return NULL;
}

/* ----------------------------------------------------------------- input */

int paactl_read_line(int fd, char *buf, apr_size_t size, apr_size_t *len)
{
    apr_size_t n = 0, r;
    int got = 0, rc = 0;
    char c = 0;

    for (;;) {
        if (paactl_read_full(fd, &c, 1, &r) != 0) {
            rc = -1;
            break;
        }
        if (r == 0) {
            rc = got ? 0 : 1;
            break;
        }
        got = 1;
        if (c == '\n') {
            break;
        }
        if (n + 1 >= size) {
            rc = -2;
            break;
        }
        buf[n++] = c;
    }
    c = 0;
    if (n && buf[n - 1] == '\r') {
        n--;
    }
    buf[n] = '\0';
    *len = n;
    return rc;
}

int paactl_read_full(int fd, char *buf, apr_size_t size, apr_size_t *len)
{
    apr_size_t n = 0;
    int rc = 0;

    while (n < size) {
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0) {
            break;
        }
        n += (apr_size_t)r;
    }
    *len = n;
    return rc;
}

/* The terminal as the prompt found it, restored also when the operator
 * interrupts the prompt, so the shell does not stay without echo. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;
static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct sigaction tty_old[sizeof(tty_signals) / sizeof(tty_signals[0])];

static void tty_restore_on_signal(int sig)
{
    if (tty_fd >= 0) {
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void tty_handlers(int install)
{
    struct sigaction sa;
    apr_size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tty_restore_on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof(tty_signals) / sizeof(tty_signals[0]); i++) {
        if (install) {
            sigaction(tty_signals[i], &sa, &tty_old[i]);
        }
        else {
            sigaction(tty_signals[i], &tty_old[i], NULL);
        }
    }
}

int paactl_prompt_hidden(int fd, int out, const char *prompt, char *buf,
                         apr_size_t size, apr_size_t *len)
{
    struct termios t;
    int rc;

    if (write(out, prompt, strlen(prompt)) < 0) {
        return -1;
    }
    if (tcgetattr(fd, &tty_saved) != 0) {
        return -1;
    }
    t = tty_saved;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    tty_fd = fd;
    tty_handlers(1);
    if (tcsetattr(fd, TCSAFLUSH, &t) != 0) {
        tty_handlers(0);
        tty_fd = -1;
        return -1;
    }
    rc = paactl_read_line(fd, buf, size, len);
    tcsetattr(fd, TCSAFLUSH, &tty_saved);
    tty_handlers(0);
    tty_fd = -1;
    if (write(out, "\n", 1) < 0) {
        /* only cosmetic: the next output starts on the prompt's line */
    }
    return rc;
}

int paactl_key_hash_stdin(paactl_t *ctl, const char *cmd, const char **hash)
{
    char buf[PAA_APIKEY_LEN + 2];
    apr_size_t len = 0;
    int rc = paactl_read_line(STDIN_FILENO, buf, sizeof(buf), &len);

    if (rc != 0 || !paa_apikey_well_formed(buf)) {
        paa_wipe(buf, sizeof(buf));
        return paactl_usage_error(cmd, "standard input does not hold an API "
                                       "key (pak_ + 64 lowercase hex digits)");
    }
    *hash = paa_sha256_hex(ctl->pool, buf, PAA_APIKEY_LEN);
    paa_wipe(buf, sizeof(buf));
    return PAACTL_OK;
}

/* ----------------------------------------------------------------- audit */

apr_status_t paactl_audit(paactl_t *ctl, paa_db_t *db, const char *event,
                          const char *subject, const char *key_id,
                          const char *detail, const char **err)
{
    paa_audit_t a;

    memset(&a, 0, sizeof(a));
    a.event = event;
    a.outcome = "success";
    a.actor = paactl_actor(ctl);
    a.subject = subject;
    a.key_id = key_id;
    a.detail = detail;
    return paa_audit_write(ctl->pool, db, &a, err);
}

void paactl_audit_change(paactl_t *ctl, paa_db_t *db, const char *event,
                         const char *subject, const char *key_id,
                         const char *detail)
{
    const char *err = NULL;

    if (paactl_audit(ctl, db, event, subject, key_id, detail, &err) !=
        APR_SUCCESS) {
        paactl_fail("warning: the change was made but its audit record "
                    "(%s) failed: %s",
                    event, err);
    }
}
