/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl token: issue a JWT for a user without a login endpoint (service
 * accounts, first admin, tests) and check what a token says and whether
 * mod_paa would accept it. Tokens are bearer credentials: an issued one
 * goes to stdout alone and is never logged or audited, and inspect can
 * read one from stdin so it need not appear in argv. */

#include "paactl.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void token_help(FILE *out)
{
    fprintf(out, "usage: paactl token issue --sub USER [--role ROLE]... [--ttl "
                 "DURATION]\n"
                 "       paactl token inspect TOKEN|-\n"
                 "       paactl token revoke JTI|TOKEN|- [--reason TEXT]\n\n"
                 "Issue, inspect and revoke JWTs signed with the env file's "
                 "JWT_SECRET.\n\n"
                 "Run 'paactl token SUBCOMMAND --help' for details.\n");
}

static void issue_help(void)
{
    printf("usage: paactl token issue --sub USER [--role ROLE]... [--ttl "
           "DURATION]\n\n"
           "Sign a JWT for an enabled user and print it alone on stdout.\n\n"
           "  --sub USER      the user's name or id (required)\n"
           "  --role ROLE     put only this role in the token (the user must "
           "have it);\n"
           "                  repeat for several; default: all the user's "
           "roles\n"
           "  --ttl DURATION  lifetime, e.g. 1h, 15m (default: "
           "JWT_EXPIRES_IN, else 24h)\n");
}

static void inspect_help(void)
{
    printf("usage: paactl token inspect TOKEN|-\n\n"
           "Verify a token as mod_paa would (algorithm, signature, expiry, "
           "issuer,\naudience, and that its user exists and is enabled) and "
           "print its claims.\nWith '-' the token is read from standard "
           "input, which keeps it out of\nthe process list. Exit status 0 "
           "when the token is accepted, 1 when not.\n");
}

/* A username wins over an id, so a user cannot be shadowed by another
 * whose name looks like an id. */
static apr_status_t user_by_name_or_id(paactl_t *ctl, paa_db_t *db,
                                       const char *who, int by_name,
                                       paa_user_t *u, int *found,
                                       const char **err)
{
    apr_status_t rv = APR_SUCCESS;
    *found = 0;
    if (by_name) {
        rv = paa_users_by_name(ctl->pool, db, who, u, found);
    }
    if (rv == APR_SUCCESS && !*found) {
        rv = paa_users_by_id(ctl->pool, db, who, u, found);
    }
    if (rv != APR_SUCCESS) {
        *err = db->error;
    }
    return rv;
}

/* The database is opened first because that is what loads the env file. */
static int jwt_settings(paactl_t *ctl, paa_db_t **db, paa_jwt_config_t *cfg,
                        apr_int64_t *ttl)
{
    const char *err = NULL;
    if (paactl_db(ctl, db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_jwt_config_from_env(ctl->pool, ctl->env, cfg, ttl, &err) !=
        APR_SUCCESS) {
        return paactl_fail("%s: %s", ctl->config_path, err);
    }
    return PAACTL_OK;
}

/* What token issue was asked for; ttl_text NULL for the default. */
typedef struct {
    const char *sub;
    const char *ttl_text;
    apr_int64_t ttl;
    apr_array_header_t *want; /* roles asked for, none: all the user's */
} issue_args_t;

static int issue_parse(paactl_t *ctl, int argc, char **argv, issue_args_t *a)
{
    static const struct option opts[] = {{"sub", required_argument, NULL, 's'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"ttl", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    a->want = apr_array_make(ctl->pool, 4, sizeof(char *));
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            a->sub = optarg;
            break;
        case 'r': {
            const char *bad = paactl_role_add(a->want, optarg);
            if (bad) {
                return paactl_usage_error("token issue", "--role %s: %s",
                                          optarg, bad);
            }
            break;
        }
        case 't':
            a->ttl_text = optarg;
            break;
        case 'h':
            issue_help();
            return -1;
        default:
            return paactl_usage_error("token issue",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("token issue", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if (!a->sub || !*a->sub) {
        return paactl_usage_error("token issue", "--sub USER is required");
    }
    if (!paa_username_valid(a->sub)) {
        return paactl_usage_error(
            "token issue", "--sub '%s' is not a user name or id", a->sub);
    }
    if (a->ttl_text &&
        paa_duration_parse(a->ttl_text, &a->ttl) != APR_SUCCESS) {
        return paactl_usage_error("token issue",
                                  "--ttl '%s' is not a duration "
                                  "(e.g. 1h, 15m, 7d)",
                                  a->ttl_text);
    }
    return PAACTL_OK;
}

/* The token's roles: those asked for, each of which the user must have,
 * or else all the user's. */
static int issue_roles(paactl_t *ctl, const paa_user_t *u,
                       apr_array_header_t *want, apr_array_header_t **roles)
{
    int i;

    if (!want->nelts) {
        *roles = paa_split_list(ctl->pool, u->roles);
        return PAACTL_OK;
    }
    for (i = 0; i < want->nelts; i++) {
        const char *r = APR_ARRAY_IDX(want, i, const char *);
        apr_array_header_t *one = apr_array_make(ctl->pool, 1, sizeof(r));
        APR_ARRAY_PUSH(one, const char *) = r;
        if (!paa_roles_intersect(ctl->pool, u->roles, one)) {
            return paactl_fail("user %s does not have role %s", u->username, r);
        }
    }
    *roles = want;
    return PAACTL_OK;
}

static int token_issue(paactl_t *ctl, int argc, char **argv)
{
    apr_array_header_t *roles = NULL;
    const char *err = NULL, *roles_text;
    apr_int64_t default_ttl = 0, now;
    issue_args_t a = {NULL, NULL, 0, NULL};
    paa_jwt_config_t cfg;
    paa_user_t u;
    paa_db_t *db;
    char *token = NULL;
    int found = 0, rc;

    if ((rc = issue_parse(ctl, argc, argv, &a)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = jwt_settings(ctl, &db, &cfg, &default_ttl)) != PAACTL_OK) {
        return rc;
    }
    if (!a.ttl_text) {
        a.ttl = default_ttl;
    }
    if (!paa_jwt_alg_is_hmac(cfg.alg)) {
        return paactl_fail("JWT_ALGORITHM is %s: mod_paa only verifies such "
                           "tokens; issue them with the holder of the "
                           "private key",
                           cfg.alg);
    }
    if (user_by_name_or_id(ctl, db, a.sub, 1, &u, &found, &err) !=
        APR_SUCCESS) {
        return paactl_db_error(db, "read users", err);
    }
    if (!found) {
        return paactl_fail("no user named %s (and no user with that id)",
                           a.sub);
    }
    if (u.disabled) {
        return paactl_fail("user %s (%s) is disabled; no token was issued",
                           u.username, u.id);
    }
    if ((rc = issue_roles(ctl, &u, a.want, &roles)) != PAACTL_OK) {
        return rc;
    }
    roles_text = roles->nelts ? apr_array_pstrcat(ctl->pool, roles, ',') : "";

    now = apr_time_sec(apr_time_now());
    if (paa_jwt_sign(ctl->pool, &cfg, u.id, u.username, roles, now, a.ttl,
                     &token, &err) != APR_SUCCESS) {
        return paactl_fail("cannot sign the token: %s", err);
    }

    if (paactl_audit(ctl, db, "token.issue", u.id, NULL,
                     apr_psprintf(ctl->pool, "username=%s roles=%s exp=%s",
                                  u.username, roles_text,
                                  paactl_time(ctl, now + a.ttl)),
                     &err) != APR_SUCCESS) {
        /* An unaudited credential is worse than none. */
        paa_wipe(token, strlen(token));
        return paactl_fail("cannot write the audit record, so no token was "
                           "issued: %s",
                           err);
    }
    fprintf(stderr, "token for %s (%s) roles=%s expires at %s\n", u.username,
            u.id, *roles_text ? roles_text : "-",
            paactl_time(ctl, now + a.ttl));
    printf("%s\n", token);
    fflush(stdout);
    paa_wipe(token, strlen(token));
    return PAACTL_OK;
}

/* The token from stdin, whitespace around it removed; bounded so a wrong
 * pipe cannot make paactl read forever into memory. */
static char *read_token_stdin(paactl_t *ctl)
{
    apr_size_t cap = PAA_JWT_MAX_LEN + 2, n = 0;
    char *buf = apr_palloc(ctl->pool, cap + 1), *s, *e;

    /* A read error ends the input: what arrived is checked as the token. */
    (void)paactl_read_full(STDIN_FILENO, buf, cap, &n);
    buf[n] = '\0';
    for (s = buf; apr_isspace(*s); s++) {
    }
    for (e = s + strlen(s); e > s && apr_isspace(e[-1]); e--) {
    }
    *e = '\0';
    return s;
}

/* The signature is not the whole story: mod_paa also refuses tokens of
 * users deleted, disabled or logged out since they were issued, and
 * revoked tokens; the same lookup as mod_paa's tells. */
static int inspect_user(paactl_t *ctl, paa_db_t *db, const paa_jwt_claims_t *c)
{
    paa_user_t u;
    int found = 0, revoked = 0;

    if (paa_users_for_token(ctl->pool, db, c->sub, c->jti, &u, &revoked,
                            &found) != APR_SUCCESS) {
        return paactl_db_error(db, "read users", db->error);
    }
    if (!found) {
        fprintf(stderr, "token refused: user %s no longer exists\n", c->sub);
        return PAACTL_FAIL;
    }
    if (u.disabled) {
        fprintf(stderr, "token refused: user %s (%s) is disabled\n", u.username,
                u.id);
        return PAACTL_FAIL;
    }
    if (revoked) {
        fprintf(stderr,
                "token refused: it was revoked (paactl token revoke)\n");
        return PAACTL_FAIL;
    }
    if (c->iat < u.tokens_not_before) {
        fprintf(stderr,
                "token refused: user %s was logged out after it was issued "
                "(tokens before %s are refused)\n",
                u.username, paactl_time(ctl, u.tokens_not_before));
        return PAACTL_FAIL;
    }
    fprintf(stderr,
            "token accepted: signature and claims are valid and "
            "user %s is enabled\n",
            u.username);
    return PAACTL_OK;
}

static int token_inspect(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    paa_jwt_config_t cfg;
    paa_jwt_claims_t claims;
    paa_jwt_result_e r;
    apr_int64_t ttl = 0;
    const char *roles = "-";
    paa_db_t *db;
    char *token;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            inspect_help();
            return PAACTL_OK;
        default:
            /* "-" is not an option to getopt, so this is a real mistake. */
            return paactl_usage_error("token inspect",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return paactl_usage_error("token inspect",
                                  "a TOKEN (or - to read it from standard "
                                  "input) is required");
    }
    if (optind + 1 < argc) {
        return paactl_usage_error("token inspect", "unexpected argument '%s'",
                                  argv[optind + 1]);
    }
    if (!strcmp(argv[optind], "-")) {
        token = read_token_stdin(ctl);
    }
    else {
        token = apr_pstrdup(ctl->pool, argv[optind]);
    }
    if ((rc = jwt_settings(ctl, &db, &cfg, &ttl)) != PAACTL_OK) {
        paa_wipe(token, strlen(token));
        return rc;
    }
    if (!paa_jwt_alg_is_hmac(cfg.alg)) {
        paa_wipe(token, strlen(token));
        return paactl_fail("JWT_ALGORITHM is %s: paactl has no public key to "
                           "verify %s tokens with (httpd's PAAJWTPublicKey "
                           "does)",
                           cfg.alg, cfg.alg);
    }
    r = paa_jwt_verify(ctl->pool, &cfg, token, apr_time_sec(apr_time_now()),
                       &claims);
    paa_wipe(token, strlen(token));
    if (r != PAA_JWT_OK) {
        fprintf(stderr, "token refused: %s\n", paa_jwt_result_str(r));
        return PAACTL_FAIL;
    }
    if (claims.roles && claims.roles->nelts) {
        roles = apr_array_pstrcat(ctl->pool, claims.roles, ',');
    }
    printf("sub:      %s\n"
           "username: %s\n"
           "roles:    %s\n"
           "issued:   %s\n"
           "expires:  %s\n"
           "jti:      %s\n",
           claims.sub, claims.username ? claims.username : "-", roles,
           claims.iat ? paactl_time(ctl, claims.iat) : "-",
           paactl_time(ctl, claims.exp), claims.jti ? claims.jti : "-");
    fflush(stdout);
    return inspect_user(ctl, db, &claims);
}

/* ---------------------------------------------------------------- revoke */

static void revoke_help(void)
{
    printf("usage: paactl token revoke JTI|TOKEN|- [--reason TEXT]\n\n"
           "Refuse one JWT from now on: every httpd child refuses it within "
           "a second,\nand after restarts. Give the token itself, its jti "
           "(as 'token inspect'\nprints it), or '-' to read either from "
           "standard input, which keeps a\ntoken out of the process list. A "
           "token is verified first; its\nrevocation is kept until it "
           "expires. A jti alone is kept for good.\nThe jti is printed alone "
           "on stdout. Audited as token.revoke. To refuse\nall of a user's "
           "tokens: paactl user logout NAME.\n\n"
           "  --reason TEXT  why, for the records (up to 500 characters)\n");
}

/* The three dot-separated parts of a compact JWS. */
static int looks_like_token(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot && strchr(dot + 1, '.') != NULL;
}

static int jti_valid(const char *s)
{
    apr_size_t n = strlen(s);
    if (n == 0 || n > 128) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("-_:", *s)) {
            return 0;
        }
    }
    return 1;
}

/* Fills t from a token mod_paa would accept. PAACTL_OK with t->jti NULL:
 * it has expired, so there is nothing to revoke. The token is wiped. */
static int revoke_claims(paactl_t *ctl, const paa_jwt_config_t *cfg,
                         char *token, apr_int64_t now, paa_revoked_token_t *t)
{
    paa_jwt_claims_t claims;
    paa_jwt_result_e r;

    if (!paa_jwt_alg_is_hmac(cfg->alg)) {
        paa_wipe(token, strlen(token));
        return paactl_fail("JWT_ALGORITHM is %s: paactl cannot verify the "
                           "token; give its jti instead",
                           cfg->alg);
    }
    r = paa_jwt_verify(ctl->pool, cfg, token, now, &claims);
    paa_wipe(token, strlen(token));
    if (r == PAA_JWT_EXPIRED) {
        fprintf(stderr, "the token has expired: mod_paa refuses it already, "
                        "nothing revoked\n");
        return PAACTL_OK;
    }
    if (r != PAA_JWT_OK) {
        return paactl_fail("nothing revoked: mod_paa refuses this token "
                           "anyway (%s)",
                           paa_jwt_result_str(r));
    }
    if (!claims.jti || !jti_valid(claims.jti)) {
        return paactl_fail("the token has no usable jti, so it cannot be "
                           "revoked alone: use 'paactl user logout %s'",
                           claims.sub);
    }
    t->jti = claims.jti;
    t->user_id = claims.sub;
    t->expires_at = claims.exp;
    return PAACTL_OK;
}

static int revoke_parse(int argc, char **argv, const char **arg,
                        const char **reason)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            *reason = optarg;
            break;
        case 'h':
            revoke_help();
            return -1;
        default:
            return paactl_usage_error("token revoke",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return paactl_usage_error("token revoke",
                                  "a JTI or TOKEN (or - to read it from "
                                  "standard input) is required");
    }
    if (optind + 1 < argc) {
        return paactl_usage_error("token revoke", "unexpected argument '%s'",
                                  argv[optind + 1]);
    }
    if (*reason && strlen(*reason) > 500) {
        return paactl_usage_error("token revoke",
                                  "--reason is longer than 500 characters");
    }
    if (*reason && paactl_contains_key(*reason)) {
        return paactl_usage_error("token revoke",
                                  "--reason contains an API key; describe "
                                  "it instead");
    }
    *arg = argv[optind];
    return PAACTL_OK;
}

static int token_revoke(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now()), ttl = 0;
    const char *arg = NULL, *reason = NULL;
    paa_revoked_token_t t, was;
    paa_jwt_config_t cfg;
    paa_db_t *db;
    char *input;
    int rc, added = 0, found = 0;

    if ((rc = revoke_parse(argc, argv, &arg, &reason)) != PAACTL_OK) {
        return rc == -1 ? PAACTL_OK : rc;
    }
    input =
        strcmp(arg, "-") ? apr_pstrdup(ctl->pool, arg) : read_token_stdin(ctl);
    if ((rc = jwt_settings(ctl, &db, &cfg, &ttl)) != PAACTL_OK) {
        paa_wipe(input, strlen(input));
        return rc;
    }
    memset(&t, 0, sizeof(t));
    t.revoked_at = now;
    t.reason = reason ? reason : "";
    if (looks_like_token(input)) {
        if ((rc = revoke_claims(ctl, &cfg, input, now, &t)) != PAACTL_OK ||
            !t.jti) {
            return rc;
        }
    }
    else if (!jti_valid(input)) {
        /* Not echoed: it may be a mistyped token. */
        paa_wipe(input, strlen(input));
        return paactl_usage_error("token revoke",
                                  "that is neither a token nor a jti (1 to "
                                  "128 of A-Z a-z 0-9 - _ :)");
    }
    else {
        t.jti = input;
    }
    if (paa_tokens_revoke(ctl->pool, db, &t, now - PAA_JWT_MAX_LEEWAY,
                          &added) != APR_SUCCESS) {
        return paactl_db_error(db, "revoke the token", db->error);
    }
    if (!added) {
        if (paa_tokens_revoked(ctl->pool, db, t.jti, &was, &found) ==
                APR_SUCCESS &&
            found) {
            t.revoked_at = was.revoked_at;
        }
        fprintf(stderr, "token %s was revoked already (at %s)\n", t.jti,
                paactl_time(ctl, t.revoked_at));
        printf("%s\n", t.jti);
        return PAACTL_OK;
    }
    paactl_audit_change(
        ctl, db, "token.revoke", t.user_id && *t.user_id ? t.user_id : NULL,
        NULL,
        apr_psprintf(ctl->pool, "jti=%s expires=%s reason=%s", t.jti,
                     t.expires_at ? paactl_time(ctl, t.expires_at) : "unknown",
                     t.reason));
    fprintf(stderr, "token %s revoked%s%s\n", t.jti,
            t.expires_at ? "; it would have expired at " : " for good",
            t.expires_at ? paactl_time(ctl, t.expires_at) : "");
    printf("%s\n", t.jti);
    return PAACTL_OK;
}

int paactl_cmd_token(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        token_help(stderr);
        return PAACTL_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        token_help(stdout);
        return PAACTL_OK;
    }
    if (!strcmp(argv[1], "issue")) {
        return token_issue(ctl, argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "inspect")) {
        return token_inspect(ctl, argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "revoke")) {
        return token_revoke(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("token", "unknown subcommand '%s'", argv[1]);
}
