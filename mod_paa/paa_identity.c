/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Identity at the edge of httpd: what a verified principal looks like to
 * the rest of the server (REMOTE_USER, the PAA_* environment for logs and
 * CGI, X-PAA-* headers for proxied backends), and what never goes further:
 * inbound X-PAA-* copies and the caller's own credentials. */

#include "paa_private.h"

#include "apr_strings.h"
#include "apr_lib.h"

/* The entries of t whose names family() claims: any at all? */
static int any_entry(const apr_table_t *t, int (*family)(const char *))
{
    const apr_array_header_t *h = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    int i;

    for (i = 0; i < h->nelts; i++) {
        if (e[i].key && family(e[i].key)) {
            return 1;
        }
    }
    return 0;
}

static int env_name(const char *name)
{
    return !ap_cstr_casecmpn(name, "PAA_", 4);
}

/* "X-PAA-..." or "X_PAA_...": many backends fold '_' into '-' (CGI
 * HTTP_X_PAA_...), so both spellings are ours. */
static int identity_header(const char *name)
{
    static const char prefix[] = "x-paa-";
    int i;
    for (i = 0; prefix[i]; i++) {
        char c = apr_tolower(name[i]);
        if ((c == '_' ? '-' : c) != prefix[i]) {
            return 0;
        }
    }
    return 1;
}

typedef void (*set_fn)(apr_table_t *, const char *, const char *);

/* The X-PAA-* headers are for proxied backends, set after every inbound
 * copy was removed in post_read_request. Each family (PAA_* variables,
 * X-PAA-* headers) is set as a whole: replaced when one of its names is
 * there already (mod_headers' early RequestHeader, or SetEnvIf, ran
 * before authentication, and a backend or a log must see ours alone),
 * else added without apr_table_setn's search for an earlier entry, which
 * compares with every name whose first four characters match (APR's
 * checksum): ours all do, so each set paid one strcasecmp per set before
 * it, on every authenticated request. */
static void export_principal(request_rec *r, const paa_principal_t *pr)
{
    apr_table_t *e = r->subprocess_env, *h = r->headers_in;
    set_fn env_set = any_entry(e, env_name) ? apr_table_setn : apr_table_addn;
    set_fn hdr_set =
        any_entry(h, identity_header) ? apr_table_setn : apr_table_addn;
    const char *scopes = NULL;

    r->user = apr_pstrdup(r->pool, pr->id);
    r->ap_auth_type = PAA_AUTH_TYPE;
    env_set(e, "PAA_AUTH_METHOD", pr->method);
    env_set(e, "PAA_PRINCIPAL", pr->id);
    env_set(e, "PAA_ROLES", pr->roles_text);
    if (pr->key_id) {
        env_set(e, "PAA_KEY_ID", pr->key_id);
        env_set(e, "PAA_CLIENT", pr->client ? pr->client : "");
    }
    if (pr->username) {
        env_set(e, "PAA_USERNAME", pr->username);
    }
    if (pr->scopes) {
        scopes = apr_array_pstrcat(r->pool, pr->scopes, ' ');
        env_set(e, "PAA_SCOPES", scopes);
    }
    hdr_set(h, "X-PAA-Principal", pr->id);
    hdr_set(h, "X-PAA-Auth-Method", pr->method);
    hdr_set(h, "X-PAA-Roles", pr->roles_text);
    if (pr->key_id) {
        hdr_set(h, "X-PAA-Key-Id", pr->key_id);
    }
    if (pr->username) {
        hdr_set(h, "X-PAA-Username", pr->username);
    }
    if (scopes) {
        hdr_set(h, "X-PAA-Scopes", scopes);
    }
}

/* Credentials go no further than here: a proxied backend or a CGI gets
 * the verified identity (X-PAA-*), not a key or token it could replay.
 * PAAForwardAuthorization On keeps Authorization for a backend that
 * verifies the token itself; an API key never travels on. */
static void drop_credentials(request_rec *r)
{
    paa_dir_conf *d = ap_get_module_config(r->per_dir_config, &paa_module);
    apr_table_unset(r->headers_in, "X-API-Key");
    if (d->forward_authorization != 1) {
        apr_table_unset(r->headers_in, "Authorization");
    }
}

void paa_identity_export(request_rec *r, const paa_principal_t *pr)
{
    export_principal(r, pr);
    drop_credentials(r);
}

/* httpd skips authentication for an internal redirect whose per-directory
 * configuration is its predecessor's (request.c copies r->prev->user), so
 * authn never exports for it; yet post_read_request has stripped the
 * X-PAA-* headers, from the table both requests share, and an early
 * RequestHeader may have set its own since. The predecessor's verified
 * principal is exported again, before any other fixup or a proxied
 * backend reads them. */
int paa_identity_redirect(request_rec *r)
{
    const paa_req_t *prev;

    /* The predecessor's own principal only, the one httpd's copy of its
     * user stands for: one further back was verified for another
     * configuration. Recorded here too, for a redirect of this one. */
    if (!r->prev || r->prev->per_dir_config != r->per_dir_config ||
        !(prev = ap_get_module_config(r->prev->request_config, &paa_module)) ||
        !prev->principal || !r->user || strcmp(r->user, prev->principal->id)) {
        return DECLINED;
    }
    paa_req(r)->principal = prev->principal;
    paa_identity_export(r, prev->principal);
    return DECLINED;
}

/* Identity headers are ours to set: strip every inbound copy before any
 * module (or a proxied backend) could believe one. */
int paa_strip_identity(request_rec *r)
{
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    int i;

    if (any_entry(r->headers_in, identity_header)) {
        apr_table_t *clean = apr_table_make(r->pool, h->nelts);
        for (i = 0; i < h->nelts; i++) {
            if (e[i].key && !identity_header(e[i].key)) {
                apr_table_addn(clean, e[i].key, e[i].val);
            }
        }
        r->headers_in = clean;
    }
    return DECLINED;
}
