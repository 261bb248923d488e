/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* POST /api/auth/login: username and password for a JWT. Unknown users
 * and wrong passwords get the same answer in the same time (a bcrypt
 * comparison happens either way), and after PAA_LOGIN_MAX_FAILURES for one
 * username from one client within the window, attempts are refused with
 * 429 before any password is checked. Failures live in the database so
 * that every httpd child counts them together, under a keyed hash of the
 * name: a password typed into the username field is never stored. */

#include "../paa_private.h"

#include <apr_strings.h>

#define PAA_LOGIN_MAX_FAILURES 5
/* Failures from one address over all usernames, so that changing the name
 * does not buy more password checks (each costs a bcrypt). */
#define PAA_LOGIN_MAX_PER_CLIENT 30
#define PAA_LOGIN_WINDOW         (15 * 60)
#define PAA_LOGIN_BODY_MAX       16384

/* A valid bcrypt hash of a random password, with the cost new hashes get,
 * so a login for an unknown user costs what a real comparison costs. */
static const char dummy_hash[] =
    "$2y$12$0C0UfTSf.KOz0C3GpJHXdup2puA/9wQw7nZzWNWe9RjDEm/Ms7WxS";

static int unavailable(request_rec *r)
{
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                            "login is temporarily unavailable");
}

/* {username, password} and nothing else (core/validate.c: the rules the
 * fuzzers and unit tests check). */
static int read_credentials(request_rec *r, const char **username,
                            const char **password)
{
    json_t *body = NULL, *errors = NULL;
    const char *detail = NULL;
    apr_status_t rv;
    int rc;

    if ((rc = paa_read_json(r, PAA_LOGIN_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    rv =
        paa_login_validate(r->pool, body, username, password, &errors, &detail);
    json_decref(body);
    if (rv == APR_SUCCESS) {
        return DECLINED;
    }
    return errors ? paa_send_invalid(r, errors)
                  : paa_send_problem(r, HTTP_BAD_REQUEST, detail);
}

/* The lockout table's name for username (see paa_login_name_ref). */
static const char *name_ref(request_rec *r, const paa_srv_conf *sc,
                            const char *username)
{
    return paa_login_name_ref(r->pool, sc->jwt.key, sc->jwt.key_len, username);
}

/* Records this attempt, then counts: however many arrive at once, only
 * PAA_LOGIN_MAX_FAILURES of them can find room and reach the (slow)
 * password check. OK with *attempt to clear on success, else the status
 * sent. */
static int throttle(request_rec *r, paa_db_t *db, const char *ref,
                    const char *client, const char **attempt)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t since = now - PAA_LOGIN_WINDOW, oldest = now, wait;
    int failures = 0, from_client = 0;

    *attempt = paa_id_generate(r->pool, "att_");
    if (!*attempt || paa_logins_add(r->pool, db, *attempt, ref, client, now) !=
                         APR_SUCCESS) {
        return unavailable(r);
    }
    paa_logins_expire(r->pool, db, client, since);
    if (paa_logins_count(r->pool, db, ref, client, since, &failures, &oldest) !=
            APR_SUCCESS ||
        paa_logins_count_client(r->pool, db, client, since, &from_client) !=
            APR_SUCCESS) {
        return unavailable(r);
    }
    /* Both counts include this attempt. */
    if (failures <= PAA_LOGIN_MAX_FAILURES &&
        from_client <= PAA_LOGIN_MAX_PER_CLIENT) {
        return OK;
    }
    wait = failures > PAA_LOGIN_MAX_FAILURES ? oldest + PAA_LOGIN_WINDOW - now
                                             : 60;
    /* A refused attempt is not a failure: it must not extend the lock
     * beyond the window the first failures opened. */
    paa_logins_forget(r->pool, db, *attempt);
    apr_table_setn(
        r->err_headers_out, "Retry-After",
        apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait > 0 ? wait : 1));
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  PAALOGNO(00702) "%s: login refused: %d failures for it and "
                                  "%d in all from %s in the last %d minutes",
                  ref, failures - 1, from_client - 1, client,
                  PAA_LOGIN_WINDOW / 60);
    paa_metrics_add(paa_metrics, lockouts, 1);
    paa_audit_failure(r, "auth.login.locked", ref, "too many failed logins");
    return paa_send_problem(r, HTTP_TOO_MANY_REQUESTS,
                            "too many failed logins; try again later");
}

/* The password check, the same work for unknown users; 1 when it holds. */
static int check_password(request_rec *r, const char *ref, const char *password,
                          const paa_user_t *u, int found)
{
    int ok = paa_password_verify(password, found && u->password_hash
                                               ? u->password_hash
                                               : dummy_hash) &&
             found && !u->disabled;
    paa_wipe((char *)password, strlen(password));
    if (ok) {
        return 1;
    }
    /* The attempt recorded stays: it is this failure. Only known users
     * are named; an unknown name is logged and audited as its ref. */
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PAALOGNO(00703) "%s: authentication failure for \"%s\": %s",
                  found ? ap_escape_logitem(r->pool, u->username) : ref, r->uri,
                  !found              ? "unknown user"
                  : !u->password_hash ? "no password"
                  : u->disabled       ? "disabled user"
                                      : "password mismatch");
    paa_audit_failure(r, "auth.login", found ? u->id : ref, "login failed");
    return 0;
}

static int send_token(request_rec *r, const paa_srv_conf *sc,
                      const paa_user_t *u)
{
    apr_array_header_t *roles = paa_split_list(r->pool, u->roles);
    const char *err = NULL;
    json_t *roles_json;
    char *token;
    int i;

    if (paa_jwt_sign(r->pool, &sc->jwt, u->id, u->username, roles,
                     apr_time_sec(r->request_time), sc->ttl, &token,
                     &err) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00704) "user %s: cannot sign a token: %s",
                      u->username, err);
        return paa_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, NULL);
    }
    r->user = apr_pstrdup(r->pool, u->id);
    paa_audit(r, "auth.login", "success", u->id, NULL, NULL);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    roles_json = json_array();
    for (i = 0; i < roles->nelts; i++) {
        json_array_append_new(
            roles_json, json_string(APR_ARRAY_IDX(roles, i, const char *)));
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:o}}",
                                   "access_token", token, "token_type",
                                   "Bearer", "expires_in", (json_int_t)sc->ttl,
                                   "user", "id", u->id, "username", u->username,
                                   "roles", roles_json));
}

int paa_api_login(request_rec *r)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    const char *username, *password, *client, *attempt, *ref;
    paa_db_t *db;
    paa_user_t u;
    int rc, found = 0;

    if (r->method_number != M_POST) {
        return paa_method_not_allowed(r, "POST");
    }
    if ((rc = read_credentials(r, &username, &password)) != DECLINED) {
        return rc;
    }
    if (!sc->jwt.key || !paa_jwt_alg_is_hmac(sc->jwt.alg)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            PAALOGNO(00701) "login needs an HMAC JWT secret (PAAJWTSecret); "
                            "with %s tokens come from an external issuer",
            sc->jwt.alg ? sc->jwt.alg : "no JWT configuration");
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "login is not available on this server");
    }
    if (!(db = paa_db(r))) {
        return unavailable(r);
    }
    client = r->useragent_ip ? r->useragent_ip : "";
    ref = name_ref(r, sc, username);
    if ((rc = throttle(r, db, ref, client, &attempt)) != OK) {
        return rc;
    }
    if (paa_users_by_name(r->pool, db, username, &u, &found) != APR_SUCCESS) {
        return unavailable(r);
    }
    if (!check_password(r, ref, password, &u, found)) {
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "the username or password is incorrect");
    }
    paa_logins_clear(r->pool, db, ref, client);
    return send_token(r, sc, &u);
}

/* GET /api/me: who the server thinks the caller is, as authenticated. */
int paa_api_me(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    apr_array_header_t *roles;
    json_t *o, *ra;
    int i;

    if (r->method_number == M_DELETE) {
        return paa_api_me_erase(r);
    }
    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD, DELETE");
    }
    if (!pr) {
        /* Only reachable when the location lets anonymous requests in. */
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    roles = paa_split_list(r->pool, pr->roles_text);
    ra = json_array();
    for (i = 0; i < roles->nelts; i++) {
        json_array_append_new(
            ra, json_string(APR_ARRAY_IDX(roles, i, const char *)));
    }
    o = json_pack("{s:s, s:s, s:o}", "id", pr->id, "method", pr->method,
                  "roles", ra);
    if (pr->key_id) {
        json_object_set_new(o, "keyId", json_string(pr->key_id));
        json_object_set_new(o, "client", json_string(pr->client));
    }
    if (pr->username) {
        json_object_set_new(o, "username", json_string(pr->username));
    }
    return paa_send_json(r, HTTP_OK, o); /* no-store: paa_policy_fixups */
}
