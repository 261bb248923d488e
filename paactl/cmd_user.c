/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl user: the accounts JWTs are issued for. Passwords never travel in
 * argv (where ps and shell history would see them): they come from a pipe
 * or a no-echo prompt on the terminal, are read byte by byte so no stdio
 * buffer keeps a copy, and are wiped once bcrypt has hashed them. */

#include "paactl.h"

#include <apr_strings.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PW_MIN_CHARS 12
/* bcrypt ignores everything after 72 bytes: refusing longer passwords is
 * better than letting their tail silently not matter. */
#define PW_MAX_BYTES 72
#define PW_BUF       1024

#define OPT_ROLE 1
#define OPT_JSON 2

typedef struct {
    const char *id;
    const char *username;
    const char *roles;
    int disabled;
    apr_int64_t created_at;
} user_row_t;

typedef struct {
    apr_array_header_t *roles; /* of const char *, deduplicated */
    int json;
    const char *name;
} user_args_t;

typedef struct {
    const char *name;
    int (*run)(paactl_t *ctl, paa_db_t *db, user_args_t *a);
    int allow; /* OPT_ROLE, OPT_JSON */
    int nargs; /* positional arguments: 0 or 1 (NAME) */
    const char *synopsis;
    const char *help;
} user_sub_t;

static void user_help(FILE *out);

/* ------------------------------------------------------------- passwords */

/* The terminal as the prompt found it, restored also when the operator
 * interrupts the prompt, so the shell does not stay without echo. */
static int tty_fd = -1;
static struct termios tty_saved;
static struct sigaction tty_old_int, tty_old_term, tty_old_hup, tty_old_quit;

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
    if (install) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = tty_restore_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &tty_old_int);
        sigaction(SIGTERM, &sa, &tty_old_term);
        sigaction(SIGHUP, &sa, &tty_old_hup);
        sigaction(SIGQUIT, &sa, &tty_old_quit);
    }
    else {
        sigaction(SIGINT, &tty_old_int, NULL);
        sigaction(SIGTERM, &tty_old_term, NULL);
        sigaction(SIGHUP, &tty_old_hup, NULL);
        sigaction(SIGQUIT, &tty_old_quit, NULL);
    }
}

/* One line from fd without stdio. Returns 0 with the line (newline and a
 * trailing CR removed), 1 at end of input before any byte, -1 on a read
 * error, -2 when the line does not fit. */
static int read_line(int fd, char *buf, apr_size_t size, apr_size_t *len)
{
    apr_size_t n = 0;
    int got = 0, rc = 0;
    char c = 0;

    for (;;) {
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
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

static int prompt_tty(int fd, const char *prompt, char *buf, apr_size_t size,
                      apr_size_t *len)
{
    struct termios t;
    int rc;

    if (write(fd, prompt, strlen(prompt)) < 0) {
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
    rc = read_line(fd, buf, size, len);
    tcsetattr(fd, TCSAFLUSH, &tty_saved);
    tty_handlers(0);
    tty_fd = -1;
    if (write(fd, "\n", 1) < 0) {
        /* only cosmetic: the next prompt starts on the same line */
    }
    return rc;
}

/* Characters, not bytes: a passphrase in another script must not count
 * double. */
static apr_size_t utf8_chars(const char *s, apr_size_t n)
{
    apr_size_t i, chars = 0;
    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            chars++;
        }
    }
    return chars;
}

/* Fills pw (PW_BUF bytes) with a password that satisfies the rules, or
 * prints why not and returns the exit status. */
static int password_read(const char *username, char *pw)
{
    char again[PW_BUF];
    apr_size_t len = 0, len2 = 0;
    int rc;

    if (!isatty(STDIN_FILENO)) {
        rc = read_line(STDIN_FILENO, pw, PW_BUF, &len);
        if (rc == 1) {
            return paactl_fail("no password on standard input (pipe it as "
                               "the first line)");
        }
        if (rc == -1) {
            return paactl_fail("cannot read the password from standard "
                               "input: %s",
                               strerror(errno));
        }
    }
    else {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        char prompt[160];
        if (fd < 0) {
            return paactl_fail("cannot open the terminal to ask for the "
                               "password (%s); pipe it on standard input",
                               strerror(errno));
        }
        apr_snprintf(prompt, sizeof(prompt), "New password for %s: ", username);
        rc = prompt_tty(fd, prompt, pw, PW_BUF, &len);
        if (rc == 0) {
            rc = prompt_tty(fd, "Repeat the password: ", again, sizeof(again),
                            &len2);
            if (rc == 0 && (len != len2 || memcmp(pw, again, len) != 0)) {
                paa_wipe(again, sizeof(again));
                close(fd);
                paa_wipe(pw, PW_BUF);
                return paactl_fail("the passwords do not match; nothing "
                                   "was changed");
            }
        }
        paa_wipe(again, sizeof(again));
        close(fd);
        if (rc == 1) {
            paa_wipe(pw, PW_BUF);
            return paactl_fail("no password entered");
        }
        if (rc == -1) {
            paa_wipe(pw, PW_BUF);
            return paactl_fail("cannot read the password from the terminal");
        }
    }
    if (rc == -2 || len > PW_MAX_BYTES) {
        paa_wipe(pw, PW_BUF);
        return paactl_fail("the password is longer than %d bytes, which "
                           "bcrypt would silently truncate",
                           PW_MAX_BYTES);
    }
    if (memchr(pw, '\0', len)) {
        paa_wipe(pw, PW_BUF);
        return paactl_fail("the password contains a NUL byte");
    }
    if (utf8_chars(pw, len) < PW_MIN_CHARS) {
        paa_wipe(pw, PW_BUF);
        return paactl_fail("the password is too short: it needs at least %d "
                           "characters",
                           PW_MIN_CHARS);
    }
    return PAACTL_OK;
}

/* Reads, checks and hashes a password; the plain text never outlives this
 * function. */
static int password_get_hash(paactl_t *ctl, const char *username, char **hash)
{
    char pw[PW_BUF];
    apr_status_t rv;
    int rc;

    memset(pw, 0, sizeof(pw));
    if ((rc = password_read(username, pw)) != PAACTL_OK) {
        paa_wipe(pw, sizeof(pw));
        return rc;
    }
    rv = paa_password_hash(ctl->pool, pw, hash);
    paa_wipe(pw, sizeof(pw));
    if (rv != APR_SUCCESS) {
        return paactl_fail("cannot hash the password (bcrypt failed)");
    }
    return PAACTL_OK;
}

/* -------------------------------------------------------------- database */

static const char *now_str(paactl_t *ctl)
{
    return apr_psprintf(ctl->pool, "%" APR_TIME_T_FMT,
                        apr_time_sec(apr_time_now()));
}

/* Every row is read, as the driver needs to release its cursor. */
static apr_status_t user_find(paactl_t *ctl, paa_db_t *db, const char *name,
                              user_row_t *u, int *found, const char **err)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[1];
    apr_status_t rv;

    *found = 0;
    args[0] = name;
    rv = paa_db_pselect(ctl->pool, db,
                        "SELECT id, username, roles, disabled, created_at"
                        " FROM paa_users WHERE username = %s",
                        1, args, &res, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
        const char *v;
        if (*found) {
            continue;
        }
        *found = 1;
        u->id = apr_pstrdup(ctl->pool, apr_dbd_get_entry(db->driver, row, 0));
        u->username =
            apr_pstrdup(ctl->pool, apr_dbd_get_entry(db->driver, row, 1));
        v = apr_dbd_get_entry(db->driver, row, 2);
        u->roles = apr_pstrdup(ctl->pool, v ? v : "");
        v = apr_dbd_get_entry(db->driver, row, 3);
        u->disabled = v && strcmp(v, "0") != 0;
        v = apr_dbd_get_entry(db->driver, row, 4);
        u->created_at = v ? apr_atoi64(v) : 0;
    }
    return APR_SUCCESS;
}

/* Looks NAME up for the commands that change an existing user. */
static int user_need(paactl_t *ctl, paa_db_t *db, const char *name,
                     user_row_t *u)
{
    const char *err = NULL;
    int found = 0;
    if (user_find(ctl, db, name, u, &found, &err) != APR_SUCCESS) {
        return paactl_fail("cannot read users from %s database %s: %s "
                           "(has 'paactl init' been run?)",
                           db->driver_name, db->label, err);
    }
    if (!found) {
        return paactl_fail("no user named %s", name);
    }
    return PAACTL_OK;
}

static void audit(paactl_t *ctl, paa_db_t *db, const char *event,
                  const char *subject, const char *detail)
{
    paa_audit_t a;
    const char *err = NULL;

    memset(&a, 0, sizeof(a));
    a.event = event;
    a.outcome = "success";
    a.actor = paactl_actor(ctl);
    a.subject = subject;
    a.detail = detail;
    if (paa_audit_write(ctl->pool, db, &a, &err) != APR_SUCCESS) {
        paactl_fail("warning: the change was made but its audit record "
                    "(%s) failed: %s",
                    event, err);
    }
}

static const char *roles_join(paactl_t *ctl, const apr_array_header_t *roles)
{
    return roles->nelts ? apr_array_pstrcat(ctl->pool, roles, ',') : "";
}

/* ----------------------------------------------------------- subcommands */

static int user_add(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *roles = roles_join(ctl, a->roles), *err = NULL, *args[6];
    user_row_t u;
    char *hash = NULL;
    int found = 0, rc;

    if (user_find(ctl, db, a->name, &u, &found, &err) != APR_SUCCESS) {
        return paactl_fail("cannot read users from %s database %s: %s "
                           "(has 'paactl init' been run?)",
                           db->driver_name, db->label, err);
    }
    /* Before the prompt, so nobody types a password for nothing. */
    if (found) {
        return paactl_fail("user %s already exists", a->name);
    }
    if ((rc = password_get_hash(ctl, a->name, &hash)) != PAACTL_OK) {
        return rc;
    }
    args[0] = paa_id_generate(ctl->pool, "usr_");
    if (!args[0]) {
        return paactl_fail("the random number generator failed; no user "
                           "was created");
    }
    args[1] = a->name;
    args[2] = hash;
    args[3] = roles;
    args[4] = now_str(ctl);
    args[5] = args[4];
    if (paa_db_pquery(ctl->pool, db,
                      "INSERT INTO paa_users (id, username, password_hash,"
                      " roles, disabled, created_at, updated_at)"
                      " VALUES (%s, %s, %s, %s, 0, %lld, %lld)",
                      6, args, NULL, &err) != APR_SUCCESS) {
        const char *err2 = NULL;
        /* Someone else may have added the same name since the check. */
        if (user_find(ctl, db, a->name, &u, &found, &err2) == APR_SUCCESS &&
            found) {
            return paactl_fail("user %s already exists", a->name);
        }
        return paactl_fail("cannot store the user in %s database %s: %s",
                           db->driver_name, db->label, err);
    }
    audit(ctl, db, "user.add", args[0],
          apr_psprintf(ctl->pool, "username=%s roles=%s", a->name, roles));
    fprintf(stderr, "created user %s (%s) roles=%s\n", a->name, args[0],
            *roles ? roles : "-");
    printf("%s\n", args[0]);
    return PAACTL_OK;
}

static int user_passwd(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *err = NULL, *args[3];
    user_row_t u;
    char *hash = NULL;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    if ((rc = password_get_hash(ctl, a->name, &hash)) != PAACTL_OK) {
        return rc;
    }
    args[0] = hash;
    args[1] = now_str(ctl);
    args[2] = u.id;
    if (paa_db_pquery(ctl->pool, db,
                      "UPDATE paa_users SET password_hash = %s,"
                      " updated_at = %lld WHERE id = %s",
                      3, args, NULL, &err) != APR_SUCCESS) {
        return paactl_fail("cannot change the password of %s: %s", a->name,
                           err);
    }
    audit(ctl, db, "user.passwd", u.id,
          apr_psprintf(ctl->pool, "username=%s", u.username));
    fprintf(stderr, "changed the password of user %s (%s)\n", u.username, u.id);
    return PAACTL_OK;
}

static int user_roles(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *roles = roles_join(ctl, a->roles), *err = NULL, *args[3];
    user_row_t u;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    args[0] = roles;
    args[1] = now_str(ctl);
    args[2] = u.id;
    if (paa_db_pquery(ctl->pool, db,
                      "UPDATE paa_users SET roles = %s, updated_at = %lld"
                      " WHERE id = %s",
                      3, args, NULL, &err) != APR_SUCCESS) {
        return paactl_fail("cannot change the roles of %s: %s", a->name, err);
    }
    audit(ctl, db, "user.roles", u.id,
          apr_psprintf(ctl->pool, "username=%s roles=%s previous=%s",
                       u.username, roles, u.roles));
    fprintf(stderr, "user %s (%s) roles=%s (was %s)\n", u.username, u.id,
            *roles ? roles : "-", *u.roles ? u.roles : "-");
    return PAACTL_OK;
}

static int set_disabled(paactl_t *ctl, paa_db_t *db, user_args_t *a,
                        int disabled)
{
    const char *err = NULL, *args[3];
    const char *word = disabled ? "disabled" : "enabled";
    user_row_t u;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    if (u.disabled == disabled) {
        fprintf(stderr, "user %s (%s) is already %s; nothing changed\n",
                u.username, u.id, word);
        return PAACTL_OK;
    }
    args[0] = disabled ? "1" : "0";
    args[1] = now_str(ctl);
    args[2] = u.id;
    if (paa_db_pquery(ctl->pool, db,
                      "UPDATE paa_users SET disabled = %d, updated_at = %lld"
                      " WHERE id = %s",
                      3, args, NULL, &err) != APR_SUCCESS) {
        return paactl_fail("cannot change user %s: %s", a->name, err);
    }
    audit(ctl, db, disabled ? "user.disable" : "user.enable", u.id,
          apr_psprintf(ctl->pool, "username=%s", u.username));
    fprintf(stderr, "user %s (%s) is %s\n", u.username, u.id, word);
    return PAACTL_OK;
}

static int user_disable(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return set_disabled(ctl, db, a, 1);
}

static int user_enable(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return set_disabled(ctl, db, a, 0);
}

static int user_del(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *err = NULL, *args[1];
    user_row_t u;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    args[0] = u.id;
    if (paa_db_pquery(ctl->pool, db, "DELETE FROM paa_users WHERE id = %s", 1,
                      args, NULL, &err) != APR_SUCCESS) {
        return paactl_fail("cannot delete user %s: %s", a->name, err);
    }
    audit(ctl, db, "user.delete", u.id,
          apr_psprintf(ctl->pool, "username=%s roles=%s", u.username, u.roles));
    fprintf(stderr, "deleted user %s (%s); its audit records are kept\n",
            u.username, u.id);
    return PAACTL_OK;
}

static int user_list(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    apr_array_header_t *users =
        apr_array_make(ctl->pool, 16, sizeof(user_row_t));
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *err = NULL;
    int i, w_id = 2, w_name = 8, w_roles = 5;

    if (paa_db_pselect(ctl->pool, db,
                       "SELECT id, username, roles, disabled, created_at"
                       " FROM paa_users ORDER BY username",
                       0, NULL, &res, &err) != APR_SUCCESS) {
        return paactl_fail("cannot read users from %s database %s: %s "
                           "(has 'paactl init' been run?)",
                           db->driver_name, db->label, err);
    }
    while (apr_dbd_get_row(db->driver, ctl->pool, res, &row, -1) == 0) {
        user_row_t *u = apr_array_push(users);
        const char *v;
        u->id = apr_pstrdup(ctl->pool, apr_dbd_get_entry(db->driver, row, 0));
        u->username =
            apr_pstrdup(ctl->pool, apr_dbd_get_entry(db->driver, row, 1));
        v = apr_dbd_get_entry(db->driver, row, 2);
        u->roles = apr_pstrdup(ctl->pool, v ? v : "");
        v = apr_dbd_get_entry(db->driver, row, 3);
        u->disabled = v && strcmp(v, "0") != 0;
        v = apr_dbd_get_entry(db->driver, row, 4);
        u->created_at = v ? apr_atoi64(v) : 0;
    }

    if (a->json) {
        json_t *arr = json_array();
        char *text;
        for (i = 0; i < users->nelts; i++) {
            const user_row_t *u = &APR_ARRAY_IDX(users, i, user_row_t);
            apr_array_header_t *r = paa_split_list(ctl->pool, u->roles);
            json_t *roles = json_array();
            int j;
            for (j = 0; j < r->nelts; j++) {
                json_array_append_new(
                    roles, json_string(APR_ARRAY_IDX(r, j, const char *)));
            }
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", u->id,
                               "username", u->username, "roles", roles,
                               "status", u->disabled ? "disabled" : "active",
                               "created", paactl_time(ctl, u->created_at)));
        }
        text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (!text) {
            return paactl_fail("cannot encode the user list as JSON");
        }
        printf("%s\n", text);
        free(text);
        return PAACTL_OK;
    }

    if (users->nelts == 0) {
        fprintf(stderr, "no users (add one with: paactl user add NAME)\n");
        return PAACTL_OK;
    }
    for (i = 0; i < users->nelts; i++) {
        const user_row_t *u = &APR_ARRAY_IDX(users, i, user_row_t);
        int n;
        if ((n = (int)strlen(u->id)) > w_id) {
            w_id = n;
        }
        if ((n = (int)strlen(u->username)) > w_name) {
            w_name = n;
        }
        if ((n = (int)strlen(u->roles)) > w_roles) {
            w_roles = n;
        }
    }
    printf("%-*s  %-*s  %-*s  %-8s  %s\n", w_id, "ID", w_name, "USERNAME",
           w_roles, "ROLES", "STATUS", "CREATED");
    for (i = 0; i < users->nelts; i++) {
        const user_row_t *u = &APR_ARRAY_IDX(users, i, user_row_t);
        printf("%-*s  %-*s  %-*s  %-8s  %s\n", w_id, u->id, w_name, u->username,
               w_roles, *u->roles ? u->roles : "-",
               u->disabled ? "disabled" : "active",
               paactl_time(ctl, u->created_at));
    }
    return PAACTL_OK;
}

/* ------------------------------------------------------------- dispatch */

static const user_sub_t subs[] = {
    {"add", user_add, OPT_ROLE, 1, "add NAME [--role ROLE]...",
     "Create a user. The password is read from standard input (first line)\n"
     "when it is not a terminal, else asked twice without echo. It needs at\n"
     "least 12 characters and is stored only as a bcrypt hash. The new\n"
     "user's id is printed alone on stdout.\n"},
    {"passwd", user_passwd, 0, 1, "passwd NAME",
     "Set a new password (read as for 'user add').\n"},
    {"roles", user_roles, OPT_ROLE, 1, "roles NAME [--role ROLE]...",
     "Replace the user's roles; without --role the user has none.\n"},
    {"disable", user_disable, 0, 1, "disable NAME",
     "Refuse the user's logins and tokens until enabled again.\n"},
    {"enable", user_enable, 0, 1, "enable NAME", "Re-enable a user.\n"},
    {"del", user_del, 0, 1, "del NAME",
     "Delete the user. Audit records about the user are kept.\n"},
    {"list", user_list, OPT_JSON, 0, "list [--json]",
     "List users: id, username, roles, status and creation time (UTC).\n"},
    {NULL, NULL, 0, 0, NULL, NULL}};

static void user_help(FILE *out)
{
    const user_sub_t *s;
    fprintf(out, "usage: paactl user SUBCOMMAND [ARGS]\n\n"
                 "Manage the users JWTs are issued for.\n\n");
    for (s = subs; s->name; s++) {
        fprintf(out, "  paactl user %s\n", s->synopsis);
    }
    fprintf(out, "\nRun 'paactl user SUBCOMMAND --help' for details. Every "
                 "change is audited.\n");
}

static void sub_help(const user_sub_t *s)
{
    printf("usage: paactl user %s\n\n%s", s->synopsis, s->help);
    if (s->allow & OPT_ROLE) {
        printf("\n  --role ROLE   a role (letters, digits, - _ . :); repeat "
               "for several\n");
    }
    if (s->allow & OPT_JSON) {
        printf("\n  --json        a JSON array instead of a table\n");
    }
}

static int sub_parse(paactl_t *ctl, const user_sub_t *s, const char *cmd,
                     int argc, char **argv, user_args_t *a)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, i;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            const char *bad = paa_role_invalid(optarg);
            if (!(s->allow & OPT_ROLE)) {
                return paactl_usage_error(cmd, "--role is not an option here");
            }
            if (bad) {
                return paactl_usage_error(cmd, "--role %s: %s", optarg, bad);
            }
            for (i = 0; i < a->roles->nelts; i++) {
                if (!strcmp(APR_ARRAY_IDX(a->roles, i, const char *), optarg)) {
                    break;
                }
            }
            if (i == a->roles->nelts) {
                APR_ARRAY_PUSH(a->roles, const char *) = optarg;
            }
            break;
        }
        case 'j':
            if (!(s->allow & OPT_JSON)) {
                return paactl_usage_error(cmd, "--json is not an option here");
            }
            a->json = 1;
            break;
        case 'h':
            sub_help(s);
            return -1;
        default:
            return paactl_usage_error(cmd, "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (s->nargs == 1) {
        if (optind >= argc) {
            return paactl_usage_error(cmd, "a user NAME is required");
        }
        a->name = argv[optind++];
        if (!paa_username_valid(a->name)) {
            return paactl_usage_error(cmd,
                                      "'%s' is not a valid user name (1 to "
                                      "100 of A-Z a-z 0-9 . _ @ -)",
                                      a->name);
        }
    }
    if (optind < argc) {
        return paactl_usage_error(cmd, "unexpected argument '%s'",
                                  argv[optind]);
    }
    return PAACTL_OK;
}

int paactl_cmd_user(paactl_t *ctl, int argc, char **argv)
{
    const user_sub_t *s;
    const char *cmd;
    user_args_t a;
    paa_db_t *db;
    int rc;

    if (argc < 2) {
        user_help(stderr);
        return PAACTL_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        user_help(stdout);
        return PAACTL_OK;
    }
    for (s = subs; s->name; s++) {
        if (!strcmp(s->name, argv[1])) {
            break;
        }
    }
    if (!s->name) {
        return paactl_usage_error("user", "unknown subcommand '%s'", argv[1]);
    }
    cmd = apr_pstrcat(ctl->pool, "user ", s->name, NULL);
    memset(&a, 0, sizeof(a));
    a.roles = apr_array_make(ctl->pool, 4, sizeof(const char *));
    rc = sub_parse(ctl, s, cmd, argc - 1, argv + 1, &a);
    if (rc == -1) {
        return PAACTL_OK;
    }
    if (rc != PAACTL_OK) {
        return rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    return s->run(ctl, db, &a);
}
