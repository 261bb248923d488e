/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared by the module's glue files: configuration records, the log tag
 * macro and the functions each concern exports to the others. Nothing
 * outside mod_paa/ includes it. */

#ifndef PAA_PRIVATE_H
#define PAA_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "mod_dbd.h"
#include "util_cfgtree.h"
#include "mod_auth.h"

#include <jansson.h>

#include "core/paa.h"
#include "core/metrics.h"

/* Every file logs as mod_paa so that "LogLevel paa:debug" applies. */
APLOG_USE_MODULE(paa);

extern module AP_MODULE_DECLARE_DATA paa_module;

/* Log tags: unique per call site, never reused (tools/check-lognos). */
#define PAALOGNO(n) "PAA" #n ": "

#define PAA_HANDLER         "paa-api"
#define PAA_METRICS_HANDLER "paa-metrics"
#define PAA_AUTH_TYPE       "PAA"

#define PAA_UNSET -1

/* Authentication methods a location accepts (PAAAuthMethods). */
#define PAA_METHOD_APIKEY 0x1
#define PAA_METHOD_JWT    0x2

/* An LLM provider (PAAProvider), tried in configuration order. */
typedef struct {
    const char *name;
    const char *base_url;
    const char *model;
    const char *key_src; /* NULL: no Authorization header */
    const char *key;     /* resolved at startup; never logged */
    apr_interval_time_t timeout;
    int slot; /* its circuit breaker in shared memory */
} paa_provider_t;

/* PAAJWTUsers: whose tokens a bearer token may carry. */
#define PAA_USERS_LOCAL    0 /* sub is a mod_paa user id (the default) */
#define PAA_USERS_EXTERNAL 1 /* the provider's principal, roles from claims */
#define PAA_USERS_EITHER   2 /* a local user when sub names one */

/* An external identity provider (paa_idp.c, paa_jwks.c): the PAAJWTJWKS
 * family of directives, replaced as a whole by a virtual host that sets
 * any of them. */
typedef struct {
    const char *jwks_url;        /* https://, http:// to loopback, file:PATH */
    apr_interval_time_t refresh; /* 0: default */
    apr_interval_time_t min_interval; /* between fetches; 0: default */
    int users;                        /* PAA_USERS_*, PAA_UNSET: local */
    const char *principal_claim;      /* NULL: sub */
    const char *roles_claim;          /* NULL: no roles */
    apr_table_t *role_map;            /* provider role -> mod_paa role */
    apr_int64_t max_lifetime;         /* seconds; 0: default */
    /* Resolved at startup. */
    int slot;          /* key set in shared memory; -1: none (static PEM) */
    int discover;      /* jwks_uri from the issuer's OpenID configuration */
    const void *owner; /* the server record it was resolved for */
} paa_idp_conf;

typedef struct {
    const char *env_file; /* PAAEnvFile, for messages */
    apr_table_t *env;     /* its variables, read at config time */

    /* As configured: secret sources (env:/file:/exec:/literal) and
     * settings; NULL or PAA_UNSET when not given. */
    const char *jwt_secret_src;
    const char *jwt_prev_src;
    const char *jwt_pubkey_src;
    const char *jwt_alg;
    const char *jwt_issuer;
    const char *jwt_audience;
    int jwt_leeway;
    apr_int64_t jwt_ttl; /* 0: unset */
    const char *api_keys_src;

    /* Resolved by paa_config_check at startup. */
    int configured;                    /* mod_paa is configured here */
    paa_jwt_config_t jwt;              /* jwt.key NULL: JWT disabled */
    apr_int64_t ttl;                   /* lifetime of login tokens */
    apr_array_header_t *legacy_hashes; /* SHA-256 hex of API_KEYS */
    /* Random per server and per start (paa_credcache_post_config): what
     * binds a credential's entry in the shared cache to this server. */
    unsigned char cache_binding[32];
    /* The shared cache as this server's database keeps it right: a view
     * with its own change markers (NULL: no cache), and the newest
     * reading that found the personas' marker there. */
    paa_authcache_t *credcache;
    apr_int64_t *personas_verified;
    /* Per process (the children's copies of the configuration): this
     * server's marker could not be read, and that was logged. */
    int marker_warned;

    apr_array_header_t *trusted_proxies; /* PAATrustedProxy, apr_ipsubnet_t* */
    const char *public_url; /* PAAPublicURL: scheme://host[:port], no slash */
    apr_array_header_t *env_cors;    /* CORS_ORIGIN from the env file */
    int rl_slots;                    /* PAARateLimitSlots */
    const paa_redis_url_t *rl_store; /* PAARateLimitStore; NULL: shm */
    int rl_store_closed;  /* PAARateLimitStoreFailure: 1 closed, 2 open */
    int rl_store_timeout; /* PAARateLimitStoreTimeout, ms; 0: unset */
    int rl_store_leases;  /* PAARateLimitStoreLeases: 1 on, 2 off, 0 unset */

    /* Chat (paa_provider.c, api/chat.c); 0/NULL: unset. */
    apr_array_header_t *providers; /* of paa_provider_t * */
    apr_interval_time_t chat_deadline;
    int breaker_threshold;
    apr_interval_time_t breaker_cooldown;
    apr_int64_t session_ttl; /* seconds */
    int history;             /* messages sent back to the model */

    paa_idp_conf *idp; /* NULL: tokens are ours or a static PEM's */

    /* PAAConsentRequired: the terms version users must accept before chat
     * and MCP tool calls (api/gdpr.c); NULL: no consent asked. */
    const char *consent_version;

    /* PAANodeName: this httpd among several on one database (recorded
     * with each failover); NULL: the host name. */
    const char *node_name;
} paa_srv_conf;

#define PAA_DEFAULT_MAX_BODY (1024 * 1024)
/* An API's policy (OWASP's REST cheat sheet): its JSON loads nothing and
 * is framed nowhere. frame-ancestors must say 'none': browsers that read
 * it ignore X-Frame-Options, so helmet's 'self' here undid the DENY. */
#define PAA_DEFAULT_CSP      "default-src 'none'; frame-ancestors 'none'"
#define PAA_DEFAULT_REFERRER "no-referrer"

typedef struct {
    int enable;  /* PAAEnable: On/Off/PAA_UNSET (automatic) */
    int methods; /* PAAAuthMethods bits, or PAA_UNSET (both) */

    /* Policy (paa_policy.c); NULL or PAA_UNSET when not configured. */
    apr_array_header_t *cors_origins; /* of paa_origin_t */
    int cors_credentials;
    apr_array_header_t *cors_headers; /* extra allowed request headers */
    int cors_max_age;
    int security_headers;
    const char *csp;
    const char *referrer_policy;
    int https_only;
    apr_off_t max_body; /* -1: unset */

    /* Rate limit (paa_ratelimit.c): limit 0 = Off. */
    int rl_limit;
    int rl_window;
    int rl_id;      /* tells one PAARateLimit directive from another */
    int tool_limit; /* PAAMcpToolRateLimit; PAA_UNSET: default */
    int tool_window;
    int resource_metadata;     /* PAAResourceMetadata: advertise RFC 9728 */
    int mcp_require_session;   /* PAAMcpRequireSession: no stateless calls */
    int forward_authorization; /* PAAForwardAuthorization: keep it upstream */
} paa_dir_conf;

/* Who made the request, once authenticated. */
typedef struct {
    const char *method;         /* "api-key" or "jwt" */
    const char *id;             /* REMOTE_USER: key id or user id */
    const char *key_id;         /* API keys only */
    const char *username;       /* JWT only */
    const char *client;         /* API keys only */
    const char *roles_text;     /* comma-separated, never NULL: split only
                                   where a role is asked for, as most
                                   requests never ask */
    apr_array_header_t *scopes; /* an external token's; NULL: none */
    int external;               /* from an external identity provider */
} paa_principal_t;

/* What mod_paa decided about one request, each thing computed once
 * (paa_req). Subrequests and internal redirects have their own record
 * but find the principal and the error detail of the request they serve. */
typedef struct {
    int enabled; /* PAA_UNSET until paa_enabled first asks */
    int https;   /* PAA_UNSET until paa_request_is_https first asks */
    const paa_principal_t *principal; /* set by authentication */
    const char *detail;  /* the client's explanation of an error status */
    const char *problem; /* a whole problem document (validation errors) */
    int problem_status;  /* the error status that problem was made for */
    int rl_rule;         /* the PAARateLimit rule counted, 0: none yet */
    int rl_status;       /* its verdict: OK or the refusal's status */
} paa_req_t;

/* paa_identity.c: inbound X-PAA-* headers dropped on arrival; a verified
 * principal exported (REMOTE_USER, PAA_* env, X-PAA-* headers) and the
 * caller's credentials removed before anything else sees them. */
int paa_strip_identity(request_rec *r);
int paa_identity_redirect(request_rec *r);
void paa_identity_export(request_rec *r, const paa_principal_t *pr);

/* paa_authn.c: the request's record, created on first use. */
paa_req_t *paa_req(request_rec *r);

/* paa_config.c */
extern const command_rec paa_cmds[];
void *paa_create_dir_conf(apr_pool_t *p, char *dir);
void *paa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *paa_create_srv_conf(apr_pool_t *p, server_rec *s);
void *paa_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

int paa_config_pre(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
/* Seen by the directive handlers, judged together at startup: credentials
 * must never go with a wildcard origin. */
extern int paa_cors_any_seen, paa_cors_credentials_seen;

/* paa_startup.c */
/* 1 when the configuration uses mod_paa anywhere (set by check_config):
 * otherwise nothing is created and nothing is logged. */
extern int paa_in_use;
int paa_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s);
int paa_config_post(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);

/* paa_log.c: access-log items as JSON values (%{VAR}^je ...) */
int paa_log_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);

/* paa_child.c: a HOME the child's user can search, for libpq */
void paa_child_home(apr_pool_t *p, server_rec *s);

/* paa_policy.c: CORS, security headers, HTTPS-only, body limits */
#define PAA_HEADERS_FILTER "PAA_HEADERS"
/* Registered handles: adding a filter by name looks the name up per request. */
extern ap_filter_rec_t *paa_headers_filter_handle;
int paa_policy_check(request_rec *r);
int paa_policy_fixups(request_rec *r);
void paa_policy_insert_filter(request_rec *r);
apr_status_t paa_headers_filter(ap_filter_t *f, apr_bucket_brigade *bb);
int paa_request_is_https(request_rec *r);
/* An absolute URL of this server for path, as clients should use it:
 * PAAPublicURL, else ServerName and the port the request arrived on; never
 * the request's Host header. scheme NULL: the request's own. */
const char *paa_public_url(request_rec *r, const char *scheme,
                           const char *path);
/* The security headers, for errors raised before header_parser ran. */
void paa_policy_security_headers(request_rec *r);
apr_off_t paa_max_body(request_rec *r);

/* paa_ratelimit.c */
int paa_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int paa_rl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s);
int paa_rl_check(request_rec *r);
/* PAARateLimit, PAAMcpToolRateLimit, PAARateLimitSlots */
const char *paa_set_rate_limit(cmd_parms *cmd, void *dconf, const char *limit,
                               const char *window);
const char *paa_set_tool_limit(cmd_parms *cmd, void *dconf, const char *limit,
                               const char *window);
const char *paa_set_rl_slots(cmd_parms *cmd, void *dconf, const char *arg);
extern int paa_ratelimit_used; /* set at config time */
/* Count one request against (rule, principal); OK, or the 429/503 status
 * with the problem detail noted. Rule 0 is MCP's tools/call. */
int paa_ratelimit_take(request_rec *r, int rule, int limit, int window,
                       const char *what);
/* The location's PAARateLimit for this client request, counted once
 * however often it is asked (a failed authentication, then fixups). */
int paa_ratelimit_request(request_rec *r);
/* The table's live entries and slots, for the status page; 0 when there
 * is no table or its lock cannot be taken. */
int paa_ratelimit_usage(apr_uint32_t *used, apr_uint32_t *total);

/* paa_rlstore.c: PAARateLimitStore (the counters in Redis). */
typedef enum {
    PAA_RLS_DONE,  /* decided by the store: res filled in */
    PAA_RLS_SHM,   /* no store, or it failed open: decide with the node's */
    PAA_RLS_REFUSE /* it failed closed: answer 503 */
} paa_rls_e;
int paa_rlstore_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);
paa_rls_e paa_rlstore_hit(request_rec *r, const char *who, int limit,
                          int window, paa_rl_result_t *res);
const char *paa_set_rl_store(cmd_parms *cmd, void *dconf, const char *arg);
const char *paa_set_rl_store_failure(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *paa_set_rl_store_timeout(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *paa_set_rl_store_leases(cmd_parms *cmd, void *dconf, int flag);

/* paa_provider.c */
int paa_provider_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp);
int paa_provider_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s);
void paa_provider_child_init(apr_pool_t *p, server_rec *s);
const char *paa_provider_directive(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[]);
/* PAAChatDeadline (info 0) and PAAChatSessionTTL (info 1) */
const char *paa_set_chat_duration(cmd_parms *cmd, void *dconf, const char *arg);
const char *paa_set_node_name(cmd_parms *cmd, void *dconf, const char *arg);
const char *paa_set_breaker(cmd_parms *cmd, void *dconf, const char *n,
                            const char *cooldown);
const char *paa_set_history(cmd_parms *cmd, void *dconf, const char *arg);
extern int paa_provider_count; /* breaker slots, set at config time */

/* The outcome of asking the configured providers. */
typedef struct {
    int status; /* 200, or 502/504 when nobody answered */
    const char *answer;
    const char *model;    /* as the provider reported it */
    const char *provider; /* who answered */
} paa_chat_result_t;

void paa_provider_chat(request_rec *r, const paa_persona_t *persona,
                       json_t *history, const char *question,
                       paa_chat_result_t *out);
/* A provider's breaker as the status page shows it, read-only: "closed",
 * "open", "half-open" (cooled down, the next request probes it) or
 * "unknown" (no breaker table or lock). */
const char *paa_provider_breaker_state(const paa_provider_t *pv);

/* paa_status.c: mod_status's status_hook */
int paa_status_hook(request_rec *r, int flags);

/* api/mcp.c */
int paa_api_mcp(request_rec *r);
int paa_api_resource_metadata(request_rec *r);

/* paa_policy.c: 1 when the Origin header is in this location's allowlist */
int paa_origin_ok(request_rec *r, const char *origin);

/* api/chat.c */
int paa_api_chat(request_rec *r);

typedef struct {
    const char *answer;
    const char *model;
    const char *session;
} paa_chat_answer_t;

/* Ask an agent as r->user (the chat endpoint and MCP's ask_agent): the
 * HTTP status, with *detail for the client when it is not 200. */
int paa_chat_ask(request_rec *r, const char *agent, const char *question,
                 const char *session, paa_chat_answer_t *out,
                 const char **detail);

/* paa_authn.c */
int paa_authn_check(request_rec *r);
int paa_note_auth_failure(request_rec *r, const char *type);
void paa_authn_child_init(apr_pool_t *p, server_rec *s);
const paa_principal_t *paa_principal(request_rec *r);
void paa_audit(request_rec *r, const char *event, const char *outcome,
               const char *subject, const char *key_id, const char *detail);
/* A failure record, at most a few a second per process (the rest are
 * counted into the next): attackers must not be able to flood the table. */
void paa_audit_failure(request_rec *r, const char *event, const char *subject,
                       const char *detail);

/* paa_authz.c */
extern const authz_provider paa_role_provider;
extern const authz_provider paa_scope_provider;

/* paa_idp.c: the external identity provider's directives, its startup
 * checks and the principals of its tokens. */
const char *paa_idp_set(cmd_parms *cmd, void *dconf, const char *arg);
const char *paa_idp_set_refresh(cmd_parms *cmd, void *dconf, const char *max,
                                const char *min);
const char *paa_idp_set_role_map(cmd_parms *cmd, void *dconf, const char *from,
                                 const char *to);
/* Completes c->jwt for a key set or discovery; an error stops httpd. */
const char *paa_idp_check(apr_pool_t *p, paa_srv_conf *c);
/* 1: the token's principal is external; 0: a local user; -1: the user
 * database could not tell (the local path then reports it). */
int paa_idp_is_external(request_rec *r, const paa_jwt_claims_t *claims);
/* The principal of an external token; NULL, or why it is refused. */
const char *paa_idp_principal(request_rec *r, const paa_jwt_claims_t *claims,
                              paa_principal_t *pr);

/* paa_jwks.c: key sets in shared memory, fetched with libcurl. */
extern int paa_jwks_slots; /* assigned at config time */
int paa_jwks_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int paa_jwks_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s);
void paa_jwks_child_init(apr_pool_t *p, server_rec *s);
/* paa_jwt_verify with the server's current key set, fetched when there is
 * none, when it is due, or (rate-limited) when the token's kid is unknown;
 * *gen (may be NULL): the generation of the set it was verified with. */
paa_jwt_result_e paa_jwks_verify_token(request_rec *r, const char *token,
                                       paa_jwt_claims_t *claims,
                                       apr_uint32_t *gen);
/* The generation of the server's key set, after the fetch that is due (as
 * paa_jwks_verify_token would start it): what a token was verified with
 * stands while it has not moved. 0: no set yet. */
apr_uint32_t paa_jwks_generation(request_rec *r);

/* api/auth.c */
int paa_api_login(request_rec *r);
int paa_api_me(request_rec *r);

/* paa_dbd.c: the request's database connection for the stores (NULL, and
 * the reason logged, when there is none); failed statements are logged
 * with the request. */
int paa_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s);
paa_db_t *paa_db(request_rec *r);
/* A connection for work outside any request (a background thread): NULL
 * when mod_dbd has none to give; give it back with paa_db_server_close. */
paa_db_t *paa_db_server_open(apr_pool_t *p, server_rec *s, void **handle);
void paa_db_server_close(server_rec *s, void *handle);

/* paa_credcache.c: the credential cache shared by the children, as server
 * s sees it (NULL: none, every request asks), and the change-marker check
 * a request makes when it is due, before looking into the cache. */
paa_authcache_t *paa_credcache_of(const server_rec *s);
int paa_credcache_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s);
void paa_credcache_refresh(request_rec *r);
/* The cache's name for a credential's digest at server s. */
void paa_credcache_slot(server_rec *s, const unsigned char *digest,
                        unsigned char *out);
/* The cache's name for the entry of user id at server s, which the warm
 * puts (method "user"; its key_id holds the user's tokens_not_before in
 * decimal): no key or token has its digest. */
void paa_credcache_user_slot(server_rec *s, const char *id, unsigned char *out);
void paa_credcache_child_init(apr_pool_t *p, server_rec *s);
/* What was read from the personas in epoch (paa_authcache_epoch_of
 * PAA_CACHE_PERSONAS, taken before the query) may be used at now: no
 * persona changed since, as a reading of their marker that started less
 * than PAA_AUTHCACHE_MAXAGE ago confirms. 0 without that marker (schema
 * version 9) or without the shared cache. */
int paa_credcache_personas_fresh(const server_rec *s, apr_uint32_t epoch,
                                 apr_time_t now);

/* paa_usage.c: API key uses, noted on the request path and written in
 * batches by one thread per child (and at the child's exit). */
void paa_usage_child_init(apr_pool_t *p, server_rec *s);
int paa_usage_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s);
void paa_usage_key(request_rec *r, const char *key_id);

/* paa_errors.c: problem+json for every error in a mod_paa location */
int paa_enabled(request_rec *r);
int paa_error(request_rec *r, int status, const char *detail);
#define PAA_PROBLEM_FILTER "PAA_PROBLEM"
extern ap_filter_rec_t *paa_problem_filter_handle;
void paa_insert_error_filter(request_rec *r);
apr_status_t paa_problem_type_filter(ap_filter_t *f, apr_bucket_brigade *bb);

/* api/api.c: the paa-api handler and response helpers */
int paa_api_handler(request_rec *r);
int paa_send_json(request_rec *r, int status, json_t *body);
/* The same for a body serialised already (JSON_COMPACT). */
int paa_send_json_text(request_rec *r, int status, const char *text);
/* The status to return from a handler for an error; the problem document
 * is written by the error path (paa_errors.c). */
int paa_send_problem(request_rec *r, int status, const char *detail);
int paa_method_not_allowed(request_rec *r, const char *allow);
/* Read a body (application/json, at most limit bytes, NUL-terminated):
 * DECLINED with it, else the problem response sent. */
int paa_read_body(request_rec *r, apr_size_t limit, char **out,
                  apr_size_t *out_len);
/* ?page=&pageSize= (positive integers; pageSize at most 100, default 20):
 * 1, or 0 with each bad one added to errors as {field, message}. */
int paa_paging(request_rec *r, int *page, int *size, json_t *errors);
/* 400 with errors:[{field,message}] (errors is stolen). */
int paa_send_invalid(request_rec *r, json_t *errors);
/* Read a JSON object body of at most limit bytes; on failure the problem
 * response has been sent and the handler returns the status given. */
int paa_read_json(request_rec *r, apr_size_t limit, json_t **body);

/* api/gdpr.c: the caller's own data, exported or erased */
int paa_api_me_export(request_rec *r);
int paa_api_me_erase(request_rec *r);
int paa_api_me_consent(request_rec *r);
/* OK when the caller may use chat and MCP tools as far as consent goes;
 * else the status to return (403 problem of type PAA_CONSENT_PROBLEM, or
 * 503). API keys are clients, not people: they are never asked. */
int paa_consent_check(request_rec *r);
#define PAA_CONSENT_PROBLEM "urn:mod-paa:problem:consent-required"

/* api/api.c: the route table, for the metrics' route label: the index of
 * the route uri matches, -1 when none; and every route's pattern (with
 * room for one more label after them). */
int paa_api_route(const char *uri);
int paa_api_route_count(void);
const char **paa_api_route_names(apr_pool_t *p, int *n);

/* paa_metrics.c: the shared counter table (NULL where mod_paa is not in
 * use, or before post_config), its request counting and handler. */
extern paa_metrics_t *paa_metrics;
extern int paa_metrics_enabled; /* PAAMetrics, read at config time */
const char *paa_set_metrics(cmd_parms *cmd, void *dconf, int on);
int paa_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);
int paa_metrics_log(request_rec *r);
/* An authentication's verdict (why PAA_AUTH_OK: a success). */
void paa_metrics_auth(request_rec *r, paa_auth_method_e method,
                      paa_auth_reason_e why);
int paa_metrics_handler(request_rec *r);

/* api/audit.c */
int paa_api_audit_logs(request_rec *r);

/* api/personas.c */
int paa_api_personas(request_rec *r);
int paa_api_persona(request_rec *r);

/* api/health.c */
int paa_api_health(request_rec *r);
int paa_api_ready(request_rec *r);

#endif /* PAA_PRIVATE_H */
