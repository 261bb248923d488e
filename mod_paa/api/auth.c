/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* POST /api/auth/login: username and password for a JWT. Unknown users
 * and wrong passwords get the same answer in the same time (a bcrypt
 * comparison happens either way), and after PAA_LOGIN_MAX_FAILURES for one
 * username from one client within the window, attempts are refused with
 * 429 before any password is checked. Failures live in the database so
 * that every httpd child counts them together. */

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

static int unauthorized(request_rec *r)
{
    return paa_send_problem(r, HTTP_UNAUTHORIZED,
                            "the username or password is incorrect");
}

int paa_api_login(request_rec *r)
{
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    apr_int64_t now = apr_time_sec(r->request_time);
    const char *username, *password, *err = NULL;
    const char *client, *attempt;
    apr_int64_t since = now - PAA_LOGIN_WINDOW;
    paa_db_t *db;
    paa_user_t u;
    json_t *body = NULL, *v;
    int rc, failures = 0, from_client = 0, ok, found = 0;
    apr_int64_t oldest = now;
    char *token;

    if (r->method_number != M_POST) {
        return paa_method_not_allowed(r, "POST");
    }
    if ((rc = paa_read_json(r, PAA_LOGIN_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    v = json_object_get(body, "username");
    username =
        json_is_string(v) ? apr_pstrdup(r->pool, json_string_value(v)) : NULL;
    v = json_object_get(body, "password");
    password =
        json_is_string(v) ? apr_pstrdup(r->pool, json_string_value(v)) : NULL;
    json_decref(body);
    if (!username || !password || !*username || !*password ||
        strlen(username) > 100 || strlen(password) > 1024) {
        return paa_send_problem(r, HTTP_BAD_REQUEST,
                                "username and password are required strings");
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
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "login is temporarily unavailable");
    }
    /* The attempt is recorded before the count is read, so that however
     * many arrive at once, only PAA_LOGIN_MAX_FAILURES of them can find
     * room and reach the (slow) password check. */
    client = r->useragent_ip ? r->useragent_ip : "";
    attempt = paa_id_generate(r->pool, "att_");
    if (!attempt || paa_logins_add(r->pool, db, attempt, username, client,
                                   now) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "login is temporarily unavailable");
    }
    paa_logins_expire(r->pool, db, client, since);
    if (paa_logins_count(r->pool, db, username, client, since, &failures,
                         &oldest) != APR_SUCCESS ||
        paa_logins_count_client(r->pool, db, client, since, &from_client) !=
            APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "login is temporarily unavailable");
    }
    /* Both counts include this attempt. */
    if (failures > PAA_LOGIN_MAX_FAILURES ||
        from_client > PAA_LOGIN_MAX_PER_CLIENT) {
        apr_int64_t wait = failures > PAA_LOGIN_MAX_FAILURES
                               ? oldest + PAA_LOGIN_WINDOW - now
                               : 60;
        /* A refused attempt is not a failure: it must not extend the
         * lock beyond the window the first failures opened. */
        paa_logins_forget(r->pool, db, attempt);
        apr_table_setn(
            r->err_headers_out, "Retry-After",
            apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait > 0 ? wait : 1));
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      PAALOGNO(00702) "user %s: login refused: %d failures "
                                      "for it and %d in all from %s in the "
                                      "last %d minutes",
                      ap_escape_logitem(r->pool, username), failures - 1,
                      from_client - 1, client, PAA_LOGIN_WINDOW / 60);
        paa_audit_failure(r, "auth.login.locked", username,
                          "too many failed logins");
        return paa_send_problem(r, HTTP_TOO_MANY_REQUESTS,
                                "too many failed logins; try again later");
    }

    if (paa_users_by_name(r->pool, db, username, &u, &found) != APR_SUCCESS) {
        return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                "login is temporarily unavailable");
    }
    ok =
        paa_password_verify(password, found && u.password_hash ? u.password_hash
                                                               : dummy_hash) &&
        found && !u.disabled;
    paa_wipe((char *)password, strlen(password));
    if (!ok) {
        /* The attempt recorded above stays: it is this failure. */
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            PAALOGNO(00703) "user %s: authentication failure for \"%s\": %s",
            ap_escape_logitem(r->pool, username), r->uri,
            !found             ? "unknown user"
            : !u.password_hash ? "no password"
            : u.disabled       ? "disabled user"
                               : "password mismatch");
        /* An unknown name is often a password typed in the wrong field:
         * only known users are named in the audit trail. */
        paa_audit_failure(r, "auth.login", found ? u.id : "(unknown user)",
                          "login failed");
        return unauthorized(r);
    }
    paa_logins_clear(r->pool, db, username, client);
    if (paa_jwt_sign(r->pool, &sc->jwt, u.id, u.username,
                     paa_split_list(r->pool, u.roles), now, sc->ttl, &token,
                     &err) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      PAALOGNO(00704) "user %s: cannot sign a token: %s",
                      u.username, err);
        return paa_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, NULL);
    }
    r->user = apr_pstrdup(r->pool, u.id);
    paa_audit(r, "auth.login", "success", u.id, NULL, NULL);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    {
        json_t *roles_json = json_array();
        apr_array_header_t *ra = paa_split_list(r->pool, u.roles);
        int i;
        for (i = 0; i < ra->nelts; i++) {
            json_array_append_new(
                roles_json, json_string(APR_ARRAY_IDX(ra, i, const char *)));
        }
        return paa_send_json(
            r, HTTP_OK,
            json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:o}}", "access_token",
                      token, "token_type", "Bearer", "expires_in",
                      (json_int_t)sc->ttl, "user", "id", u.id, "username",
                      u.username, "roles", roles_json));
    }
}

/* GET /api/me: who the server thinks the caller is, as authenticated. */
int paa_api_me(request_rec *r)
{
    const paa_principal_t *pr = paa_principal(r);
    apr_array_header_t *roles;
    json_t *o, *ra;
    int i;

    if (r->method_number != M_GET) {
        return paa_method_not_allowed(r, "GET, HEAD");
    }
    if (!pr) {
        /* Only reachable when the location lets anonymous requests in. */
        return paa_send_problem(r, HTTP_UNAUTHORIZED,
                                "authentication is required");
    }
    roles = pr->roles;
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
