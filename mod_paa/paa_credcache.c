/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The credential cache every child shares (core/authcache.c), in
 * anonymous shared memory created with the configuration, so a restart,
 * graceful included, starts it empty. What keeps it honest is the
 * database's change marker: one request in all the children, every
 * PAA_AUTHCACHE_CHECK, reads that one row on its own connection before it
 * goes on (and so does a request that finds the last reading too old,
 * after a quiet moment: one small query instead of a credential lookup);
 * the cost does not grow with the number of keys or users. The same
 * reading serves the personas' marker, which the pages of GET
 * /api/personas cached by each child follow (api/personas.c). Each
 * server reads its own database's markers into its own set of them
 * (authcache.h): virtual hosts may have databases of their own, whose
 * counters say nothing about each other's. */

#include "paa_private.h"

#include "apr_lib.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"

/* About 64 MB of address space (256 bytes a credential), nearly all of it
 * resident once 100,000 keys are in use, since they are spread over every
 * page. 100,000 keys and tokens fill 40% of the entries, so that few
 * buckets overflow and a key in use is seldom pushed out by another (at
 * 131,072 entries, 100,000 random keys missed the cache often). */
#define PAA_CREDCACHE_ENTRIES 262144
/* At most so many keys are put into a new cache: the most recently used
 * first when more are usable, and never-used ones too (a key not used yet
 * is as likely to come after a restart as one used last week). Then at
 * most PAA_CREDCACHE_WARM_USERS users. Together 57% of the entries, the
 * rest for tokens and keys as they come. */
#define PAA_CREDCACHE_WARM       100000
#define PAA_CREDCACHE_WARM_USERS 50000
/* Read so many at a time: one statement's time (a few milliseconds) is
 * what a request thread's lookup may wait for apr_dbd_sqlite3's mutex,
 * and a chunk's rows are all the memory the read holds. */
#define PAA_CREDCACHE_WARM_CHUNK 1000

static paa_authcache_t *credcache; /* marker set 0: the main server's */
static apr_shm_t *credcache_shm;

static apr_status_t credcache_cleanup(void *unused)
{
    (void)unused;
    credcache = NULL;
    credcache_shm = NULL;
    return APR_SUCCESS;
}

paa_authcache_t *paa_credcache_of(const server_rec *s)
{
    /* NULL unless post_config made the table (it clears every server's
     * view first). */
    const paa_srv_conf *c = ap_get_module_config(s->module_config, &paa_module);
    return c->credcache;
}

int paa_credcache_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apr_size_t cache, size;
    apr_int64_t *times;
    server_rec *vs;
    apr_status_t rv;
    int servers = 0, i;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_in_use) {
        return OK;
    }
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        c->credcache = NULL;
        c->personas_verified = NULL;
        servers++;
    }
    /* After the cache in the same segment, per server: the start of the
     * newest reading that found the personas' marker (schema version 9).
     * The cache's own time of confirmation says nothing about that row,
     * which a database of version 8 lacks. */
    cache =
        APR_ALIGN_DEFAULT(paa_authcache_size(PAA_CREDCACHE_ENTRIES, servers));
    size = cache + sizeof(apr_int64_t) * (apr_size_t)servers;
    /* Before the children fork, so that they all bind alike. */
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        if ((rv = paa_random_bytes(c->cache_binding,
                                   sizeof(c->cache_binding))) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, vs,
                         PAALOGNO(01514) "no random bytes for the credential "
                                         "cache's binding");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = apr_shm_create(&credcache_shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        /* Correct without it, only slower: every request asks. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     PAALOGNO(01510) "cannot create %" APR_SIZE_T_FMT
                                     " bytes of shared memory for the "
                                     "credential cache: every request will "
                                     "ask the database",
                     size);
        return OK;
    }
    credcache = paa_authcache_init(pconf, apr_shm_baseaddr_get(credcache_shm),
                                   PAA_CREDCACHE_ENTRIES, servers);
    times =
        (apr_int64_t *)((char *)apr_shm_baseaddr_get(credcache_shm) + cache);
    for (vs = s, i = 0; credcache && vs; vs = vs->next, i++) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        c->credcache = paa_authcache_set(pconf, credcache, i);
        c->personas_verified = &times[i];
        *c->personas_verified = 0;
    }
    apr_pool_cleanup_register(pconf, NULL, credcache_cleanup,
                              apr_pool_cleanup_null);
    return OK;
}

/* Read the change markers on db and give them to the cache: APR_SUCCESS
 * when they were there, else *why says what was wrong. Before 'paactl
 * migrate' the table is missing: that is no database error (and no reason
 * to say the database is down), but a cache that falls back to short
 * lives, so the statement is not logged as one. */
static apr_status_t read_markers(apr_pool_t *p, paa_db_t *db, server_rec *s,
                                 const char **why)
{
    const paa_srv_conf *c = ap_get_module_config(s->module_config, &paa_module);
    apr_int64_t serial[PAA_CACHE_DOMAINS];
    paa_db_log_fn log = db->log;
    apr_time_t started = apr_time_now();
    paa_changes_t ch;
    apr_status_t rv;

    db->log = NULL;
    rv = paa_changes_read(p, db, &ch);
    db->log = log;
    if (rv == APR_SUCCESS && ch.found) {
        serial[PAA_CACHE_CREDENTIALS] = ch.credentials;
        serial[PAA_CACHE_MCP_SESSIONS] = ch.mcp_sessions;
        /* Without the personas' row (version 8) nothing of theirs is
         * used (paa_credcache_personas_fresh): the serial does not
         * matter. */
        serial[PAA_CACHE_PERSONAS] = ch.personas_found ? ch.personas : 0;
        serial[PAA_CACHE_KEYS_ADDED] = ch.keys_added;
        paa_authcache_checked(c->credcache, started, serial);
        if (ch.personas_found) {
            /* After the epoch moved: a reader that sees this time sees
             * the epoch it confirms. */
            apr_int64_t v =
                __atomic_load_n(c->personas_verified, __ATOMIC_SEQ_CST);
            while (v < started && !__atomic_compare_exchange_n(
                                      c->personas_verified, &v, started, 0,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            }
        }
        return APR_SUCCESS;
    }
    *why = rv == APR_SUCCESS ? "a row is missing" : db->error;
    return APR_EGENERAL;
}

void paa_credcache_refresh(request_rec *r)
{
    apr_time_t now = apr_time_now();
    paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    paa_authcache_t *cc = sc->credcache;
    const char *why = NULL;
    paa_db_t *db;

    if (!cc ||
        (!paa_authcache_check_due(cc, now) && !paa_authcache_stale(cc, now)) ||
        !(db = paa_db(r))) {
        return;
    }
    if (read_markers(r->pool, db, r->server, &why) == APR_SUCCESS) {
        sc->marker_warned = 0;
        return;
    }
    paa_authcache_check_failed(cc, apr_time_now());
    if (!sc->marker_warned) {
        sc->marker_warned = 1;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      PAALOGNO(01511) "the credentials' change marker cannot "
                                      "be read (%s): verified credentials are "
                                      "remembered for 500 ms only (paactl "
                                      "migrate adds the marker)",
                      why);
    }
}

void paa_credcache_slot(server_rec *s, const unsigned char *digest,
                        unsigned char *out)
{
    /* A credential is cached under its digest bound to the server, so that
     * a token accepted by one virtual host (its secret, audience, database)
     * is never taken on another's word. The binding is 32 random bytes
     * per server: another server's entry would need a credential whose
     * SHA-256 is a chosen value (a preimage), so an XOR binds as well as
     * hashing again did, for none of its cost on every request. */
    const paa_srv_conf *c = ap_get_module_config(s->module_config, &paa_module);
    apr_uint64_t d, b;
    int i;

    /* A word at a time; out may be digest. */
    for (i = 0; i < 32; i += 8) {
        memcpy(&d, digest + i, sizeof(d));
        memcpy(&b, c->cache_binding + i, sizeof(b));
        d ^= b;
        memcpy(out + i, &d, sizeof(d));
    }
}

void paa_credcache_user_slot(server_rec *s, const char *id, unsigned char *out)
{
    /* A NUL first: keys and tokens are printable. */
    static const char tag[] = "\0user\0";
    apr_size_t n = strlen(id);
    char buf[sizeof(tag) - 1 + 128];

    if (n > sizeof(buf) - (sizeof(tag) - 1)) {
        n = sizeof(buf) - (sizeof(tag) - 1); /* ids are VARCHAR(40) */
    }
    memcpy(buf, tag, sizeof(tag) - 1);
    memcpy(buf + sizeof(tag) - 1, id, n);
    paa_sha256(buf, sizeof(tag) - 1 + n, out);
    paa_credcache_slot(s, out, out);
}

/* ------------------------------------------------------------ warming */

static int unhex(const char *hex, unsigned char *out, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        int hi = apr_isxdigit(hex[2 * i]),
            lo = hi && apr_isxdigit(hex[2 * i + 1]);
        if (!lo) {
            return 0;
        }
#define NIBBLE(c) ((c) <= '9' ? (c) - '0' : ((c) | 0x20) - 'a' + 10)
        out[i] =
            (unsigned char)(NIBBLE(hex[2 * i]) << 4 | NIBBLE(hex[2 * i + 1]));
#undef NIBBLE
    }
    return hex[2 * n] == '\0';
}

typedef struct {
    server_rec *s;
    paa_authcache_t *cache; /* as s sees it */
    apr_uint32_t epoch;
    apr_time_t now;
    int keys, users; /* entries stored */
    int revoked;     /* jtis given to the filter, which is done */
    int revoked_done;
} warm_t;

static void warm_key(void *baton, const paa_key_t *k, const char *hash)
{
    warm_t *w = baton;
    unsigned char digest[32], slot[32];

    if (unhex(hash, digest, sizeof(digest))) {
        paa_credcache_slot(w->s, digest, slot);
        w->keys += paa_authcache_put(
            w->cache, slot, w->epoch, w->now,
            k->expires_at ? apr_time_from_sec(k->expires_at) : 0, "api-key",
            k->id, k->id, NULL, k->client, k->roles);
    }
}

/* A token revoked by its jti alone: no user's entry speaks for it, so
 * the filter sends a token with that jti to the database. */
static void warm_revoked(void *baton, const char *jti)
{
    warm_t *w = baton;
    paa_authcache_revoked_add(w->cache, jti);
    w->revoked += *jti != '\0';
}

/* A user whose tokens a lookup would accept unless too old or revoked by
 * jti alone: their entry, so that a token of theirs seen first after the
 * restart needs only its signature checked (paa_authn.c). The first one
 * comes after every such jti (paa_users_warm), which the filter then
 * holds for the entries' epoch. */
static void warm_user(void *baton, const paa_user_t *u)
{
    warm_t *w = baton;
    unsigned char slot[32];
    char nbf[32];

    if (!w->revoked_done) {
        paa_authcache_revoked_done(w->cache, w->epoch);
        w->revoked_done = 1;
    }
    paa_credcache_user_slot(w->s, u->id, slot);
    apr_snprintf(nbf, sizeof(nbf), "%" APR_INT64_T_FMT, u->tokens_not_before);
    w->users += paa_authcache_put(w->cache, slot, w->epoch, w->now, 0, "user",
                                  u->id, nbf, u->username, NULL, u->roles);
}

/* How far a warm got: rows read (the budget counts those), and entries
 * stored. */
typedef struct {
    int keys, users, keys_stored, users_stored, revoked;
} warmed_t;

/* Put the usable keys of s's database into the cache, then its users:
 * at most keys and users of each. The same principal, under the same epoch
 * rule, as a lookup on the request path would put (paa_authn.c), read after the
 * markers so that a change during the read makes them stale. Adds to *t. */
static void warm_server(apr_pool_t *p, server_rec *s, int keys_max,
                        int users_max, warmed_t *t)
{
    const char *why = NULL;
    void *handle;
    paa_db_t *db = paa_db_server_open(p, s, &handle);
    warm_t w = {s, paa_credcache_of(s), 0, 0, 0, 0, 0, 0};
    int n = 0, m = 0;

    if (!db) {
        return;
    }
    w.now = apr_time_now();
    /* Without a marker an entry would live 500 ms: not worth the read. */
    if (w.cache && read_markers(p, db, s, &why) == APR_SUCCESS) {
        w.epoch = paa_authcache_epoch(w.cache);
        if (paa_keys_usable(p, db, apr_time_sec(w.now), keys_max,
                            PAA_CREDCACHE_WARM_CHUNK, warm_key, &w,
                            &n) == APR_SUCCESS) {
            apr_status_t rv = paa_users_warm(
                p, db, apr_time_sec(w.now) - PAA_JWT_MAX_LEEWAY, users_max,
                PAA_CREDCACHE_WARM_CHUNK, warm_revoked, warm_user, &w, &m);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                             PAALOGNO(01516) "the credential cache's warm "
                                             "could not read the users or "
                                             "the revoked tokens (%s): a "
                                             "token seen first is looked up",
                             db->error ? db->error : "database error");
            }
        }
    }
    paa_db_server_close(s, handle);
    t->revoked += w.revoked;
    t->keys += n;
    t->users += m;
    t->keys_stored += w.keys;
    t->users_stored += w.users;
}

static apr_thread_t *warmer;

static void *APR_THREAD_FUNC warm_thread(apr_thread_t *t, void *data)
{
    server_rec *main_server = data, *s;
    apr_time_t started = apr_time_now();
    apr_pool_t *p;
    warmed_t w = {0, 0, 0, 0, 0};

    /* A pool of its own, allocator included: the child pool's allocator
     * has no mutex, and request threads use it meanwhile. */
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS) {
        apr_thread_exit(t, APR_ENOMEM);
        return NULL;
    }
    for (s = main_server; s && (w.keys < PAA_CREDCACHE_WARM ||
                                w.users < PAA_CREDCACHE_WARM_USERS);
         s = s->next) {
        warm_server(p, s, PAA_CREDCACHE_WARM - w.keys,
                    PAA_CREDCACHE_WARM_USERS - w.users, &w);
    }
    apr_pool_destroy(p);
    /* Read but not stored: fields too long for a slot, or a slot that a
     * request thread was writing at that moment. */
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                 PAALOGNO(01512) "credential cache warmed with %d usable API "
                                 "keys and %d users, in %" APR_TIME_T_FMT
                                 " ms (%d keys and %d users read; tokens "
                                 "revoked by jti alone: %d)",
                 w.keys_stored, w.users_stored,
                 apr_time_as_msec(apr_time_now() - started), w.keys, w.users,
                 w.revoked);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup: the thread uses mod_dbd's connections, which the child
 * pool's subpools hold. */
static apr_status_t stop_warmer(void *unused)
{
    apr_status_t ignored;
    (void)unused;
    if (warmer) {
        apr_thread_join(&ignored, warmer);
        warmer = NULL;
    }
    return APR_SUCCESS;
}

void paa_credcache_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    warmer = NULL;
    /* One child of a new generation (restart, graceful included) fills
     * the empty cache with the usable keys, in the background, so
     * that a restart does not send every client's first request to the
     * database at once. */
    if (!paa_authcache_claim_warm(credcache)) {
        return;
    }
    rv = apr_thread_create(&warmer, NULL, warm_thread, s, p);
    if (rv != APR_SUCCESS) {
        warmer = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     PAALOGNO(01513) "cannot start the thread that warms the "
                                     "credential cache: keys are looked up "
                                     "as they come");
        return;
    }
    apr_pool_pre_cleanup_register(p, NULL, stop_warmer);
}

int paa_credcache_personas_fresh(const server_rec *s, apr_uint32_t epoch,
                                 apr_time_t now)
{
    const paa_srv_conf *c = ap_get_module_config(s->module_config, &paa_module);
    apr_int64_t verified;

    if (!c->credcache) {
        return 0;
    }
    /* As a credential (authcache.c, fresh()), verified is read before the
     * epoch; unlike one, no short life without a marker: a request that
     * follows a change through the API finds it, in any process. */
    verified = __atomic_load_n(c->personas_verified, __ATOMIC_SEQ_CST);
    return epoch == paa_authcache_epoch_of(c->credcache, PAA_CACHE_PERSONAS) &&
           now - verified <= PAA_AUTHCACHE_MAXAGE;
}
