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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PW_MIN_CHARS 12
/* bcrypt ignores everything after PAA_PASSWORD_MAX (72) bytes: refusing
 * longer passwords is better than letting their tail silently not matter. */
#define PW_BUF 1024

#define OPT_ROLE 1
#define OPT_JSON 2
#define OPT_ALL  4

typedef struct {
    apr_array_header_t *roles; /* of const char *, deduplicated */
    int json;
    int all; /* --all instead of NAME */
    const char *name;
} user_args_t;

typedef struct {
    const char *name;
    int (*run)(paactl_t *ctl, paa_db_t *db, user_args_t *a);
    int allow; /* OPT_ROLE, OPT_JSON, OPT_ALL */
    int nargs; /* positional arguments: 0 or 1 (NAME) */
    const char *synopsis;
    const char *help;
} user_sub_t;

static void user_help(FILE *out);

/* ------------------------------------------------------------- passwords */

/* Fills pw (PW_BUF bytes) with a password that satisfies the rules, or
 * prints why not and returns the exit status. */
static int password_read(const char *username, char *pw)
{
    char again[PW_BUF];
    apr_size_t len = 0, len2 = 0;
    int rc;

    if (!isatty(STDIN_FILENO)) {
        rc = paactl_read_line(STDIN_FILENO, pw, PW_BUF, &len);
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
        rc = paactl_prompt_hidden(fd, fd, prompt, pw, PW_BUF, &len);
        if (rc == 0) {
            rc = paactl_prompt_hidden(fd, fd, "Repeat the password: ", again,
                                      sizeof(again), &len2);
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
    if (rc == -2 || len > PAA_PASSWORD_MAX) {
        paa_wipe(pw, PW_BUF);
        return paactl_fail("the password is longer than %d bytes, which "
                           "bcrypt would silently truncate",
                           PAA_PASSWORD_MAX);
    }
    if (memchr(pw, '\0', len)) {
        paa_wipe(pw, PW_BUF);
        return paactl_fail("the password contains a NUL byte");
    }
    /* Characters, not bytes: a passphrase in another script must not
     * count double. pw has no NUL before len (checked above). */
    if (paactl_utf8_chars(pw) < PW_MIN_CHARS) {
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

/* Looks NAME up for the commands that change an existing user. */
static int user_need(paactl_t *ctl, paa_db_t *db, const char *name,
                     paa_user_t *u)
{
    int found = 0;
    if (paa_users_by_name(ctl->pool, db, name, u, &found) != APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }
    if (!found) {
        return paactl_fail("no user named %s", name);
    }
    return PAACTL_OK;
}

static const char *roles_join(paactl_t *ctl, const apr_array_header_t *roles)
{
    return roles->nelts ? apr_array_pstrcat(ctl->pool, roles, ',') : "";
}

/* ----------------------------------------------------------- subcommands */

static int user_add(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *roles = roles_join(ctl, a->roles), *err;
    paa_user_t u, other;
    char *hash = NULL;
    int found = 0, rc;

    if (paa_users_by_name(ctl->pool, db, a->name, &other, &found) !=
        APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }
    /* Before the prompt, so nobody types a password for nothing. */
    if (found) {
        return paactl_fail("user %s already exists", a->name);
    }
    if ((rc = password_get_hash(ctl, a->name, &hash)) != PAACTL_OK) {
        return rc;
    }
    memset(&u, 0, sizeof(u));
    if (!(u.id = paa_id_generate(ctl->pool, "usr_"))) {
        return paactl_fail("the random number generator failed; no user "
                           "was created");
    }
    u.username = a->name;
    u.password_hash = hash;
    u.roles = roles;
    u.created_at = u.updated_at = apr_time_sec(apr_time_now());
    if (paa_users_add(ctl->pool, db, &u) != APR_SUCCESS) {
        err = db->error;
        /* Someone else may have added the same name since the check. */
        if (paa_users_by_name(ctl->pool, db, a->name, &other, &found) ==
                APR_SUCCESS &&
            found) {
            return paactl_fail("user %s already exists", a->name);
        }
        return paactl_fail("cannot store the user in %s database %s: %s",
                           db->driver_name, db->label, err);
    }
    paactl_audit_change(
        ctl, db, "user.add", u.id, NULL,
        apr_psprintf(ctl->pool, "username=%s roles=%s", a->name, roles));
    fprintf(stderr, "created user %s (%s) roles=%s\n", a->name, u.id,
            *roles ? roles : "-");
    printf("%s\n", u.id);
    return PAACTL_OK;
}

static int user_passwd(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    paa_user_t u;
    char *hash = NULL;
    apr_int64_t now;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    if ((rc = password_get_hash(ctl, a->name, &hash)) != PAACTL_OK) {
        return rc;
    }
    /* Tokens issued with the old password end with it (it may be why it
     * changes); + 1 as for 'user logout': iat is in whole seconds. */
    now = apr_time_sec(apr_time_now());
    if (paa_users_set_password(ctl->pool, db, u.id, hash, now, now + 1, NULL) !=
        APR_SUCCESS) {
        return paactl_fail("cannot change the password of %s: %s", a->name,
                           db->error);
    }
    paactl_audit_change(ctl, db, "user.passwd", u.id, NULL,
                        apr_psprintf(ctl->pool,
                                     "username=%s not_before=%" APR_INT64_T_FMT,
                                     u.username, now + 1));
    fprintf(stderr,
            "changed the password of user %s (%s); every token issued before "
            "%s is refused\n",
            u.username, u.id, paactl_time(ctl, now + 1));
    return PAACTL_OK;
}

static int user_roles(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    const char *roles = roles_join(ctl, a->roles);
    paa_user_t u;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    if (paa_users_set_roles(ctl->pool, db, u.id, roles,
                            apr_time_sec(apr_time_now()),
                            NULL) != APR_SUCCESS) {
        return paactl_fail("cannot change the roles of %s: %s", a->name,
                           db->error);
    }
    paactl_audit_change(ctl, db, "user.roles", u.id, NULL,
                        apr_psprintf(ctl->pool,
                                     "username=%s roles=%s previous=%s",
                                     u.username, roles, u.roles));
    fprintf(stderr, "user %s (%s) roles=%s (was %s)\n", u.username, u.id,
            *roles ? roles : "-", *u.roles ? u.roles : "-");
    return PAACTL_OK;
}

static int set_disabled(paactl_t *ctl, paa_db_t *db, user_args_t *a,
                        int disabled)
{
    const char *word = disabled ? "disabled" : "enabled";
    paa_user_t u;
    int rc;

    if ((rc = user_need(ctl, db, a->name, &u)) != PAACTL_OK) {
        return rc;
    }
    if (u.disabled == disabled) {
        fprintf(stderr, "user %s (%s) is already %s; nothing changed\n",
                u.username, u.id, word);
        return PAACTL_OK;
    }
    if (paa_users_set_disabled(ctl->pool, db, u.id, disabled,
                               apr_time_sec(apr_time_now()),
                               NULL) != APR_SUCCESS) {
        return paactl_fail("cannot change user %s: %s", a->name, db->error);
    }
    paactl_audit_change(ctl, db, disabled ? "user.disable" : "user.enable",
                        u.id, NULL,
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
    return paactl_user_del(ctl, db, a->name);
}

static int user_export(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return paactl_user_export(ctl, db, a->name);
}

static int user_erase(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return paactl_user_erase(ctl, db, a->name);
}

static int user_unlock(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return paactl_user_unlock(ctl, db, a->name);
}

static int user_logout(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    return paactl_user_logout(ctl, db, a->all ? NULL : a->name);
}

static int user_list(paactl_t *ctl, paa_db_t *db, user_args_t *a)
{
    apr_array_header_t *users;
    int i, w_id = 2, w_name = 8, w_roles = 5;

    if (paa_users_list(ctl->pool, db, &users) != APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }

    if (a->json) {
        json_t *arr = json_array();
        for (i = 0; i < users->nelts; i++) {
            const paa_user_t *u = &APR_ARRAY_IDX(users, i, paa_user_t);
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
        return paactl_json_print(arr);
    }

    if (users->nelts == 0) {
        fprintf(stderr, "no users (add one with: paactl user add NAME)\n");
        return PAACTL_OK;
    }
    for (i = 0; i < users->nelts; i++) {
        const paa_user_t *u = &APR_ARRAY_IDX(users, i, paa_user_t);
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
        const paa_user_t *u = &APR_ARRAY_IDX(users, i, paa_user_t);
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
     "Set a new password (read as for 'user add'), and log the user out:\n"
     "every token issued before the change is refused.\n"},
    {"roles", user_roles, OPT_ROLE, 1, "roles NAME [--role ROLE]...",
     "Replace the user's roles; without --role the user has none.\n"},
    {"disable", user_disable, 0, 1, "disable NAME",
     "Refuse the user's logins and tokens until enabled again.\n"},
    {"enable", user_enable, 0, 1, "enable NAME", "Re-enable a user.\n"},
    {"del", user_del, 0, 1, "del NAME",
     "Delete the user with its chat sessions and messages and MCP sessions,\n"
     "in one transaction. Audit records about the user are kept, naming its\n"
     "id; use 'user erase' to pseudonymise them too.\n"},
    {"export", user_export, 0, 1, "export NAME",
     "Print everything stored about the user as one JSON document (the\n"
     "same as GET /api/me/export): account, chat sessions and messages,\n"
     "MCP sessions, audit records.\n"},
    {"erase", user_erase, 0, 1, "erase NAME",
     "Erase the user (GDPR), in one transaction: chat sessions and\n"
     "messages, MCP sessions, consents and the account are deleted; audit\n"
     "records are kept with the user's id replaced by a pseudonym (an HMAC\n"
     "keyed with JWT_SECRET, as DELETE /api/me computes it). Audited as\n"
     "user.erase.\n"},
    {"unlock", user_unlock, 0, 1, "unlock NAME",
     "Clear the user's login lockout (failures from every address).\n"},
    {"logout", user_logout, OPT_ALL, 1, "logout NAME | --all",
     "Refuse every JWT issued to the user (with --all: to every user) up to\n"
     "now, in every httpd child within a second, and after restarts; tokens\n"
     "issued after this second work. API keys are not touched (see 'paactl\n"
     "revoke --all'). Audited as user.logout.\n"},
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
    if (s->allow & OPT_ALL) {
        printf("\n  --all         every user instead of NAME\n");
    }
}

static int sub_parse(paactl_t *ctl, const user_sub_t *s, const char *cmd,
                     int argc, char **argv, user_args_t *a)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            const char *bad;
            if (!(s->allow & OPT_ROLE)) {
                return paactl_usage_error(cmd, "--role is not an option here");
            }
            if ((bad = paactl_role_add(a->roles, optarg)) != NULL) {
                return paactl_usage_error(cmd, "--role %s: %s", optarg, bad);
            }
            break;
        }
        case 'j':
            if (!(s->allow & OPT_JSON)) {
                return paactl_usage_error(cmd, "--json is not an option here");
            }
            a->json = 1;
            break;
        case 'a':
            if (!(s->allow & OPT_ALL)) {
                return paactl_usage_error(cmd, "--all is not an option here");
            }
            a->all = 1;
            break;
        case 'h':
            sub_help(s);
            return -1;
        default:
            return paactl_usage_error(cmd, "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (a->all && optind < argc) {
        return paactl_usage_error(cmd, "give a user NAME or --all, not both");
    }
    if (s->nargs == 1 && !a->all) {
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
