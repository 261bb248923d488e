/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check, the env file: who may read and change it, and whether the
 * secrets and settings it gives httpd are fit for production. The JWT and
 * API-key rules are the ones httpd enforces at startup (paa_secret_weakness,
 * paa_apikey_guide_example), so a FAIL here is also a server that would not
 * start; the rest are what httpd accepts but the guide's section 5 does
 * not. Values are never printed: messages name variables. */

#include "check.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const check_def_t def_file = {
    "env.file", "5.1", "secrets management: the env file's owner and mode"};
static const check_def_t def_jwt = {"env.jwt-secret", "5.1",
                                    "Change JWT_SECRET from default"};
static const check_def_t def_prev = {
    "env.jwt-previous", "5.1",
    "JWT_SECRET_PREVIOUS removed once a rotation is over"};
static const check_def_t def_legacy = {
    "env.legacy-keys", "5.1", "Generate unique API keys (no legacy API_KEYS)"};
static const check_def_t def_cors = {"env.cors", "5.1",
                                     "Configure CORS whitelist (no wildcards)"};
static const check_def_t def_sources = {"env.secret-sources", "5.1",
                                        "Set up secrets management (vault)"};

/* The checks that need the file's variables, skipped when it is unread. */
static const check_def_t *const env_defs[] = {
    &def_jwt, &def_prev, &def_legacy, &def_cors, &def_sources, NULL};

static const char *user_name(check_t *ck, uid_t uid)
{
    struct passwd *pw = getpwuid(uid);
    return pw ? apr_pstrdup(ck->ctl->pool, pw->pw_name)
              : apr_psprintf(ck->ctl->pool, "uid %ld", (long)uid);
}

/* The owner and mode first: they matter even when the content is fine.
 * 0600 and 0640 are what the guide's secrets need; anything for "other"
 * hands every local account the JWT secret. */
static void env_file(check_t *ck)
{
    const char *path = ck->ctl->config_path, *err = NULL, *fix;
    struct stat st;
    unsigned mode;

    if (stat(path, &st) != 0) {
        ck->env_error = apr_psprintf(ck->ctl->pool, "cannot read %s: %s", path,
                                     strerror(errno));
        check_add(ck, &def_file, CHECK_FAIL,
                  "give the env file with --config FILE (or PAA_CONFIG)", "%s",
                  ck->env_error);
        return;
    }
    ck->env_mtime = (apr_int64_t)st.st_mtime;
    if (paa_env_load(ck->ctl->pool, path, &ck->env, &err) != APR_SUCCESS) {
        ck->env = NULL;
        ck->env_error = err;
        check_add(ck, &def_file, CHECK_FAIL,
                  "run paactl check as root or the file's owner, and correct "
                  "the line named",
                  "%s", err);
        return;
    }
    mode = (unsigned)(st.st_mode & 07777);
    fix = apr_psprintf(ck->ctl->pool, "chmod 600 %s", path);
    if (mode & 0007) {
        check_add(ck, &def_file, CHECK_FAIL, fix,
                  "%s has mode %04o: every local user can read its secrets",
                  path, mode);
    }
    else if (mode & 0030) {
        struct group *gr = getgrgid(st.st_gid);
        check_add(ck, &def_file, CHECK_WARN, fix,
                  "%s has mode %04o: group %s can change it", path, mode,
                  gr ? gr->gr_name : "?");
    }
    else if (st.st_uid != 0 && st.st_uid != geteuid()) {
        check_add(ck, &def_file, CHECK_WARN,
                  apr_psprintf(ck->ctl->pool, "chown root %s", path),
                  "%s belongs to %s, who can rewrite its secrets", path,
                  user_name(ck, st.st_uid));
    }
    else {
        check_add(ck, &def_file, CHECK_PASS, NULL, "%s: owner %s, mode %04o",
                  path, user_name(ck, st.st_uid), mode);
    }
}

/* The variable paa_env_get read: NAME_<PAA_ENV> when the file has it. */
static const char *env_name(check_t *ck, const char *name)
{
    const char *suffix = apr_table_get(ck->env, "PAA_ENV");
    if (suffix && *suffix) {
        char *specific = apr_pstrcat(ck->ctl->pool, name, "_", suffix, NULL);
        char *c;
        for (c = specific; *c; c++) {
            *c = apr_toupper(*c);
        }
        if (apr_table_get(ck->env, specific)) {
            return specific;
        }
    }
    return name;
}

static void env_jwt(check_t *ck)
{
    const char *alg = paa_env_get(ck->env, "JWT_ALGORITHM");
    const char *name = env_name(ck, "JWT_SECRET");
    const char *v = paa_env_get(ck->env, "JWT_SECRET"), *weak;

    if (alg && strncasecmp(alg, "HS", 2)) {
        check_add(ck, &def_jwt, CHECK_SKIP, NULL,
                  "JWT_ALGORITHM %s verifies tokens with a public key: there "
                  "is no shared secret",
                  alg);
        return;
    }
    if (!v) {
        check_add(ck, &def_jwt, CHECK_SKIP, NULL,
                  "JWT_SECRET is not in the env file: httpd takes it from "
                  "PAAJWTSecret, and refuses a weak one at startup");
        return;
    }
    if ((weak = paa_secret_weakness(ck->ctl->pool, v, strlen(v)))) {
        check_add(ck, &def_jwt, CHECK_FAIL,
                  apr_psprintf(ck->ctl->pool,
                               "paactl secret set %s --generate, then "
                               "apachectl graceful",
                               name),
                  "%s is unacceptable, httpd refuses to start: %s", name, weak);
        return;
    }
    check_add(ck, &def_jwt, CHECK_PASS, NULL,
              "%s: %" APR_SIZE_T_FMT
              " bytes, not a published value, no repeated pattern",
              name, strlen(v));
}

/* When the JWT secret was last rotated: the newest audit record of
 * 'paactl secret set' (or another secret.* event) about a JWT_SECRET
 * variable, else the env file's last change, which is the latest the
 * rotation can have been. */
static apr_int64_t rotation_time(check_t *ck, const char **how)
{
    paa_audit_filter_t f;
    apr_array_header_t *rows;
    paa_db_t *db = check_db(ck);
    int i;

    memset(&f, 0, sizeof(f));
    f.event_prefix = "secret.";
    f.limit = 200;
    if (db && paa_audit_query(ck->ctl->pool, db, &f, &rows) == APR_SUCCESS) {
        for (i = 0; i < rows->nelts; i++) {
            const paa_audit_t *a = &APR_ARRAY_IDX(rows, i, paa_audit_t);
            if (!strncmp(a->subject, "JWT_SECRET", 10)) {
                *how = apr_psprintf(ck->ctl->pool, "audit record %s of %s",
                                    a->event, a->subject);
                return a->at;
            }
        }
    }
    *how = "the env file's last change; no audit record of the rotation";
    return ck->env_mtime;
}

static void env_previous(check_t *ck)
{
    const char *name = env_name(ck, "JWT_SECRET_PREVIOUS"), *how = NULL;
    const char *v = paa_env_get(ck->env, "JWT_SECRET_PREVIOUS"), *weak, *ttl;
    apr_int64_t lifetime = 86400, age;

    if (!v) {
        check_add(ck, &def_prev, CHECK_PASS, NULL,
                  "not set: no secret rotation in progress");
        return;
    }
    if ((weak = paa_secret_weakness(ck->ctl->pool, v, strlen(v)))) {
        check_add(
            ck, &def_prev, CHECK_FAIL,
            apr_psprintf(ck->ctl->pool, "remove %s from the env file", name),
            "%s is unacceptable, httpd refuses to start: %s", name, weak);
        return;
    }
    /* Tokens signed with the old secret were issued before the rotation
     * and live at most JWT_EXPIRES_IN: after that nobody needs it. */
    ttl = paa_env_get(ck->env, "JWT_EXPIRES_IN");
    if (ttl && paa_duration_parse(ttl, &lifetime) != APR_SUCCESS) {
        lifetime = 86400;
    }
    age = ck->now - rotation_time(ck, &how);
    if (age > lifetime) {
        check_add(ck, &def_prev, CHECK_WARN,
                  apr_psprintf(ck->ctl->pool,
                               "remove %s from %s, then apachectl graceful",
                               name, ck->ctl->config_path),
                  "%s is still accepted %s after the rotation (%s); every "
                  "token signed with it expired after %s (JWT_EXPIRES_IN)",
                  name, check_age(ck, age), how, check_age(ck, lifetime));
        return;
    }
    check_add(ck, &def_prev, CHECK_PASS, NULL,
              "%s accepted for tokens issued before the rotation %s ago (%s); "
              "remove it once %s have passed",
              name, check_age(ck, age), how, check_age(ck, lifetime));
}

static void env_legacy(check_t *ck)
{
    const char *v = paa_env_get(ck->env, "API_KEYS");
    const char *fix = "give each client its own key with paactl keygen "
                      "--expires 90d, then remove API_KEYS";
    apr_array_header_t *keys = paa_split_list(ck->ctl->pool, v);
    int i;

    if (!keys->nelts) {
        check_add(ck, &def_legacy, CHECK_PASS, NULL,
                  "API_KEYS is not set: every API key is in the database");
        return;
    }
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);
        const char *published = paa_apikey_guide_example(k);
        if (published) {
            check_add(ck, &def_legacy, CHECK_FAIL, fix,
                      "API_KEYS holds the security guide's example %s, which "
                      "anyone who read the guide can send (httpd refuses to "
                      "start)",
                      published);
            return;
        }
        if (strlen(k) < 16) {
            check_add(ck, &def_legacy, CHECK_FAIL, fix,
                      "API_KEYS holds a key shorter than 16 characters "
                      "(httpd refuses to start)");
            return;
        }
    }
    check_add(ck, &def_legacy, CHECK_WARN, fix,
              "%d legacy key(s) in API_KEYS: they never expire and cannot be "
              "rotated or revoked one by one",
              keys->nelts);
}

static void env_cors(check_t *ck)
{
    const char *v = paa_env_get(ck->env, "CORS_ORIGIN"), *err = NULL;
    apr_array_header_t *list = paa_split_list(ck->ctl->pool, v);
    const char *plain = NULL;
    int i, nplain = 0;

    if (!list->nelts) {
        check_add(ck, &def_cors, CHECK_PASS, NULL,
                  "CORS_ORIGIN is not set: no origin is allowed (unless a "
                  "PAACorsOrigin directive allows some)");
        return;
    }
    for (i = 0; i < list->nelts; i++) {
        const char *text = APR_ARRAY_IDX(list, i, const char *);
        paa_origin_t o;
        if (paa_origin_parse(ck->ctl->pool, text, &o, &err) != APR_SUCCESS) {
            check_add(ck, &def_cors, CHECK_FAIL,
                      "list origins as scheme://host[:port]",
                      "CORS_ORIGIN: %s (httpd refuses to start)", err);
            return;
        }
        if (o.any) {
            check_add(ck, &def_cors, CHECK_FAIL,
                      "list the origins, e.g. "
                      "CORS_ORIGIN=https://app.example.com",
                      "CORS_ORIGIN allows every origin (*): any web site can "
                      "call the API from its visitors' browsers");
            return;
        }
        if (!strcmp(o.scheme, "http")) {
            plain = plain ? plain : text;
            nplain++;
        }
    }
    if (plain) {
        check_add(ck, &def_cors, CHECK_WARN,
                  "allow only the https:// origins of production",
                  "CORS_ORIGIN allows %d plain-http origin(s), e.g. %s (the "
                  "guide's development setup)",
                  nplain, plain);
        return;
    }
    check_add(ck, &def_cors, CHECK_PASS, NULL,
              "%d https origin(s), no *; subdomain wildcards match on label "
              "boundaries",
              list->nelts);
}

/* Names that hold secrets by the guide's conventions (JWT_SECRET,
 * API_KEYS, OPENAI_API_KEY, ..._PASSWORD, ..._TOKEN). */
static int secret_name(const char *n)
{
    apr_size_t len = strlen(n);
    return strstr(n, "SECRET") || strstr(n, "PASSWORD") || strstr(n, "TOKEN") ||
           !strncmp(n, "API_KEYS", 8) ||
           (len > 4 && !strcmp(n + len - 4, "_KEY"));
}

/* A libpq connection string with a password (password=..., or the
 * user:password@ of a URI). */
static int params_have_password(const char *v)
{
    const char *scheme = strstr(v, "://"), *at = strchr(v, '@');
    return strstr(v, "password=") != NULL ||
           (scheme && at && at > scheme &&
            memchr(scheme + 3, ':', (apr_size_t)(at - scheme - 3)));
}

/* The env file is read as it is: its values are the secrets themselves.
 * The guide's production answer is a secret manager, which httpd reaches
 * through PAAJWTSecret exec:/file: sources; a value written in the source
 * syntax here would be taken literally, a trap worth a FAIL. */
static void env_sources(check_t *ck)
{
    const apr_array_header_t *a = apr_table_elts(ck->env);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    const char *names = NULL, *trap = NULL;
    int i;

    for (i = 0; i < a->nelts; i++) {
        const char *n = e[i].key, *v = e[i].val ? e[i].val : "";
        int secret = secret_name(n);
        if (!strcmp(n, "PAA_DB_PARAMS")) {
            secret = params_have_password(v);
        }
        if (!secret || !*v) {
            continue;
        }
        if (!strncmp(v, "env:", 4) || !strncmp(v, "file:", 5) ||
            !strncmp(v, "exec:", 5)) {
            trap = trap ? trap : n;
        }
        names = names ? apr_pstrcat(ck->ctl->pool, names, ", ", n, NULL) : n;
    }
    if (trap) {
        check_add(ck, &def_sources, CHECK_FAIL,
                  "give the source to httpd instead (PAAJWTSecret file:... or "
                  "exec:...) and remove the variable",
                  "%s is written as a source (env:/file:/exec:), but the env "
                  "file is not resolved: that text itself is the secret",
                  trap);
    }
    else if (names) {
        check_add(ck, &def_sources, CHECK_WARN,
                  "for production keep secrets in a secret manager and point "
                  "httpd at it: PAAJWTSecret exec:... or file:/run/secrets/... "
                  "(guide 3.2)",
                  "secrets stored as plain values in %s: %s",
                  ck->ctl->config_path, names);
    }
    else {
        check_add(ck, &def_sources, CHECK_PASS, NULL,
                  "no secret values in the env file");
    }
}

void check_env(check_t *ck)
{
    env_file(ck);
    if (!ck->env) {
        check_skip_all(ck, env_defs, ck->env_error);
        return;
    }
    env_jwt(ck);
    env_previous(ck);
    env_legacy(ck);
    env_cors(ck);
    env_sources(ck);
}
