/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* An external identity provider's key set, shared by every child: the
 * document fetched last (its text) lives in shared memory with a
 * generation number, and each child parses it again only when the
 * generation moves. Fetches are rare and rate-limited across all children
 * by one compare-and-swap on the time of the last attempt: a flood of
 * tokens with random kids costs at most one fetch per interval, however
 * many children see it. A fetch that fails, or returns anything that is
 * not a key set with a usable key, changes nothing: the last good set
 * stays. Readers never wait for a fetch: the text is copied out under a
 * sequence counter (a seqlock), and one writer at a time copies in. */

#include "paa_private.h"

#include "apr_file_io.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <curl/curl.h>

#define PAA_JWKS_REFRESH      apr_time_from_sec(3600)
#define PAA_JWKS_MIN_INTERVAL apr_time_from_sec(10)
#define PAA_JWKS_TIMEOUT_MS   5000L
/* Key sets live in memory that outlasts restarts (the process pool), each
 * in the slot its provider first got: a graceful restart while the
 * provider is down must not leave the new children without keys. */
#define PAA_JWKS_SHM_SLOTS 16
#define PAA_JWKS_SHM_KEY   "paa-jwks-shm"

typedef struct {
    char id[65];               /* hex SHA-256 of alg and source; "": free */
    apr_uint32_t seq;          /* odd while a writer copies in */
    apr_uint32_t writing;      /* 1 while one process copies in */
    apr_uint32_t last_attempt; /* Unix seconds a fetch last began */
    apr_uint32_t fetched_at;   /* ... the current set was confirmed */
    apr_uint32_t gen;          /* moves with every new set; 0: none */
    apr_uint32_t len;
    char text[PAA_JWKS_MAX_LEN];
} shm_slot_t;

/* A child's parsed copy of one generation; freed when replaced and no
 * thread verifies with it any more. */
typedef struct {
    apr_uint32_t gen;
    paa_jwks_t *ks;
    apr_pool_t *pool;
    int refs;
    int retired;
} child_set_t;

int paa_jwks_slots;
static apr_shm_t *jwks_shm;
static int *slot_map; /* a configuration's slot -> its shared slot */
static apr_thread_mutex_t *child_mutex;
static apr_pool_t *child_pool;
static child_set_t **current; /* per slot */

int paa_jwks_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    paa_jwks_slots = 0;
    return OK;
}

static apr_status_t jwks_cleanup(void *unused)
{
    jwks_shm = NULL; /* the memory stays, for the next configuration */
    slot_map = NULL;
    return APR_SUCCESS;
}

/* The shared slots, created once per httpd (not per configuration). */
static apr_status_t shared_slots(server_rec *s, apr_shm_t **out)
{
    apr_pool_t *pp = s->process->pool;
    apr_size_t size = sizeof(shm_slot_t) * PAA_JWKS_SHM_SLOTS;
    void *data = NULL;
    apr_status_t rv;

    apr_pool_userdata_get(&data, PAA_JWKS_SHM_KEY, pp);
    /* Another size is another module version's layout: start afresh. */
    if (data && apr_shm_size_get(data) == size) {
        *out = data;
        return APR_SUCCESS;
    }
    if ((rv = apr_shm_create(out, size, NULL, pp)) != APR_SUCCESS) {
        return rv;
    }
    memset(apr_shm_baseaddr_get(*out), 0, size);
    return apr_pool_userdata_set(*out, PAA_JWKS_SHM_KEY, apr_pool_cleanup_null,
                                 pp);
}

/* What a key set is: the algorithm it was checked for and where it came
 * from. Two configurations with the same identity share the set. */
static const char *identity(apr_pool_t *p, const paa_srv_conf *c)
{
    const char *what = apr_pstrcat(
        p, c->jwt.alg, "\n", c->idp->discover ? "discover:" : c->idp->jwks_url,
        c->idp->discover ? c->jwt.issuer : "", NULL);
    return paa_sha256_hex(p, what, strlen(what));
}

/* The slot with this identity, else a never used one; -1 when none is
 * left. A slot is never given to another identity: children of an older
 * configuration may still write to theirs. */
static int claim_slot(shm_slot_t *base, const char *id)
{
    int i, free_slot = -1;
    for (i = 0; i < PAA_JWKS_SHM_SLOTS; i++) {
        if (!strcmp(base[i].id, id)) {
            return i;
        }
        if (free_slot < 0 && !base[i].id[0]) {
            free_slot = i;
        }
    }
    if (free_slot >= 0) {
        apr_cpystrn(base[free_slot].id, id, sizeof(base[free_slot].id));
    }
    return free_slot;
}

int paa_jwks_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s)
{
    server_rec *vs;
    shm_slot_t *base;
    apr_status_t rv;
    int i;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !paa_jwks_slots) {
        return OK;
    }
    /* Before any thread exists; children inherit it. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rv = shared_slots(s, &jwks_shm)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     PAALOGNO(01700) "cannot create shared memory for the "
                                     "identity provider key sets");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, jwks_cleanup, apr_pool_cleanup_null);
    base = apr_shm_baseaddr_get(jwks_shm);
    slot_map = apr_palloc(pconf, sizeof(int) * (apr_size_t)paa_jwks_slots);
    for (i = 0; i < paa_jwks_slots; i++) {
        slot_map[i] = -1;
    }
    for (vs = s; vs; vs = vs->next) {
        paa_srv_conf *c = ap_get_module_config(vs->module_config, &paa_module);
        if (!c->idp || c->idp->slot < 0 || slot_map[c->idp->slot] >= 0) {
            continue;
        }
        if ((slot_map[c->idp->slot] = claim_slot(base, identity(ptemp, c))) <
            0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs,
                         PAALOGNO(01704) "more than %d identity provider key "
                                         "sets since httpd started: stop and "
                                         "start httpd to forget the old ones",
                         PAA_JWKS_SHM_SLOTS);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

void paa_jwks_child_init(apr_pool_t *p, server_rec *s)
{
    if (!jwks_shm) {
        return;
    }
    apr_pool_create(&child_pool, p);
    current = apr_pcalloc(child_pool, sizeof(*current) * paa_jwks_slots);
    if (apr_thread_mutex_create(&child_mutex, APR_THREAD_MUTEX_DEFAULT, p) !=
        APR_SUCCESS) {
        child_mutex = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     PAALOGNO(01701) "cannot create a mutex: tokens of the "
                                     "identity provider will be refused");
    }
}

static shm_slot_t *slot_of(int slot)
{
    return jwks_shm && slot_map && slot >= 0 && slot < paa_jwks_slots &&
                   slot_map[slot] >= 0
               ? (shm_slot_t *)apr_shm_baseaddr_get(jwks_shm) + slot_map[slot]
               : NULL;
}

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* The shared text and its generation, copied out consistently; 0 when a
 * writer kept getting in the way (the caller keeps what it has). */
static int copy_out(apr_pool_t *p, shm_slot_t *sh, char **text, apr_size_t *len,
                    apr_uint32_t *gen)
{
    int tries;
    for (tries = 0; tries < 100; tries++) {
        apr_uint32_t s1 = LOAD(sh->seq), s2;
        if (s1 & 1) {
            continue;
        }
        *len = sh->len > PAA_JWKS_MAX_LEN ? PAA_JWKS_MAX_LEN : sh->len;
        *gen = sh->gen;
        *text = apr_pmemdup(p, sh->text, *len);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
        if (s1 == s2) {
            return 1;
        }
    }
    return 0;
}

static void copy_in(shm_slot_t *sh, const char *text, apr_size_t len,
                    apr_uint32_t now)
{
    __atomic_store_n(&sh->seq, sh->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(sh->text, text, len);
    sh->len = (apr_uint32_t)len;
    sh->gen = sh->gen + 1 ? sh->gen + 1 : 1;
    STORE(sh->seq, sh->seq + 1);
    STORE(sh->fetched_at, now);
}

static void unref(child_set_t *cs)
{
    if (cs && --cs->refs == 0 && cs->retired) {
        apr_pool_destroy(cs->pool);
    }
}

/* This child's set for the slot, parsed again when the shared generation
 * moved; a reference the caller gives back with release(). */
static child_set_t *acquire(request_rec *r, int slot, const char *alg)
{
    shm_slot_t *sh = slot_of(slot);
    child_set_t *cs;
    char *text;
    apr_size_t len;
    apr_uint32_t gen;
    const char *err;

    if (!sh || !child_mutex ||
        apr_thread_mutex_lock(child_mutex) != APR_SUCCESS) {
        return NULL;
    }
    cs = current[slot];
    if (LOAD(sh->gen) && (!cs || cs->gen != LOAD(sh->gen)) &&
        copy_out(r->pool, sh, &text, &len, &gen)) {
        child_set_t *fresh;
        apr_pool_t *p;
        apr_pool_create(&p, child_pool);
        fresh = apr_pcalloc(p, sizeof(*fresh));
        fresh->pool = p;
        fresh->gen = gen;
        if (paa_jwks_parse(p, text, len, alg, &fresh->ks, &err) ==
            APR_SUCCESS) {
            if (cs) {
                cs->retired = 1;
                cs->refs++; /* so that unref can free it */
                unref(cs);
            }
            current[slot] = cs = fresh;
        }
        else {
            apr_pool_destroy(p); /* checked before it was stored */
        }
    }
    if (cs) {
        cs->refs++;
    }
    apr_thread_mutex_unlock(child_mutex);
    return cs;
}

static void release(child_set_t *cs)
{
    if (cs && apr_thread_mutex_lock(child_mutex) == APR_SUCCESS) {
        unref(cs);
        apr_thread_mutex_unlock(child_mutex);
    }
}

typedef struct {
    char *buf;
    apr_size_t len;
    int overflow;
} body_t;

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    body_t *b = ud;
    size_t bytes = size * n;
    if (b->len + bytes > PAA_JWKS_MAX_LEN) {
        b->overflow = 1;
        return 0; /* aborts the transfer */
    }
    memcpy(b->buf + b->len, data, bytes);
    b->len += bytes;
    return bytes;
}

static char *fetch_file(apr_pool_t *p, const char *path, apr_size_t *len,
                        const char **err)
{
    apr_file_t *f;
    char *buf = apr_palloc(p, PAA_JWKS_MAX_LEN + 1);
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);

    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open %s: %pm", path, &rv);
        return NULL;
    }
    rv = apr_file_read_full(f, buf, PAA_JWKS_MAX_LEN + 1, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        return NULL;
    }
    if (*len > PAA_JWKS_MAX_LEN) {
        *err = "the document is larger than 64 KB";
        return NULL;
    }
    return buf;
}

/* GET url (the policy of paa_jwks_url_invalid was applied): the body of a
 * 200 answer, or NULL with *err. */
static char *fetch(request_rec *r, const char *url, apr_size_t *len,
                   const char **err)
{
    CURL *curl;
    body_t b = {apr_palloc(r->pool, PAA_JWKS_MAX_LEN + 1), 0, 0};
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode rc;

    if (!strncmp(url, "file:", 5)) {
        return fetch_file(r->pool, url + 5, len, err);
    }
    if (!(curl = curl_easy_init())) {
        *err = "libcurl could not start";
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, PAA_JWKS_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, PAA_JWKS_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_paa/" PAA_VERSION_STRING);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (b.overflow) {
        *err = "the document is larger than 64 KB";
        return NULL;
    }
    if (rc != CURLE_OK) {
        *err = apr_pstrdup(r->pool, *errbuf ? errbuf : curl_easy_strerror(rc));
        return NULL;
    }
    if (status != 200) {
        *err = apr_psprintf(r->pool, "HTTP status %ld", status);
        return NULL;
    }
    b.buf[b.len] = '\0';
    *len = b.len;
    return b.buf;
}

/* OpenID Connect Discovery 1.0: the issuer's configuration names the key
 * set; its issuer must be the one configured (section 4.3). */
static const char *discover(request_rec *r, const char *issuer,
                            const char **err)
{
    apr_size_t n = strlen(issuer), len;
    const char *url = apr_pstrcat(
        r->pool,
        apr_pstrndup(r->pool, issuer, n && issuer[n - 1] == '/' ? n - 1 : n),
        "/.well-known/openid-configuration", NULL);
    char *text = fetch(r, url, &len, err);
    json_error_t je;
    json_t *doc = text ? json_loadb(text, len, 0, &je) : NULL;
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    const char *jwks = json_string_value(json_object_get(doc, "jwks_uri"));
    const char *out = NULL;

    if (text && (!iss || strcmp(iss, issuer))) {
        *err = apr_psprintf(r->pool, "%s: issuer is not %s", url, issuer);
    }
    else if (text && (!jwks || !strncmp(jwks, "file:", 5) ||
                      paa_jwks_url_invalid(jwks))) {
        *err = apr_psprintf(r->pool, "%s: jwks_uri missing or refused", url);
    }
    else if (text) {
        out = apr_pstrdup(r->pool, jwks);
    }
    json_decref(doc);
    return out;
}

static apr_uint32_t interval_sec(apr_interval_time_t t, apr_interval_time_t def)
{
    apr_int64_t s = apr_time_sec(t ? t : def);
    return s < 1 ? 1 : (apr_uint32_t)s;
}

/* One fetch, if no process began one within the minimum interval. 1 when
 * a new set was stored. */
static int try_fetch(request_rec *r, const paa_srv_conf *sc, const char *why)
{
    const paa_idp_conf *idp = sc->idp;
    shm_slot_t *sh = slot_of(idp->slot);
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = sh ? LOAD(sh->last_attempt) : now;
    const char *url = idp->jwks_url, *err = NULL;
    paa_jwks_t *ks;
    apr_size_t len = 0;
    char *text = NULL;
    int stored = 0;

    if (!sh ||
        (last &&
         now - last < interval_sec(idp->min_interval, PAA_JWKS_MIN_INTERVAL)) ||
        !__atomic_compare_exchange_n(&sh->last_attempt, &last, now, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        return 0;
    }
    if (idp->discover) {
        url = discover(r, sc->jwt.issuer, &err);
    }
    if (url && (text = fetch(r, url, &len, &err)) &&
        paa_jwks_parse(r->pool, text, len, sc->jwt.alg, &ks, &err) ==
            APR_SUCCESS) {
        apr_uint32_t idle = 0;
        if (LOAD(sh->gen) && sh->len == len && !memcmp(sh->text, text, len)) {
            STORE(sh->fetched_at, now); /* unchanged: no child reparses */
        }
        else if (__atomic_compare_exchange_n(&sh->writing, &idle, 1, 0,
                                             __ATOMIC_ACQ_REL,
                                             __ATOMIC_RELAXED)) {
            copy_in(sh, text, len, now);
            STORE(sh->writing, 0);
            stored = 1;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      PAALOGNO(01702) "key set fetched from %s (%s): %d "
                                      "usable key(s)%s",
                      url, why, paa_jwks_count(ks),
                      stored ? "" : ", unchanged");
        return stored;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  PAALOGNO(01703) "key set not updated from %s (%s): %s; "
                                  "the last good set is kept (%s)",
                  url ? url : sc->jwt.issuer, why, err ? err : "failed",
                  LOAD(sh->gen) ? "it has keys" : "there is none yet");
    return 0;
}

/* A fetch when there is no set, or a refresh is due. */
static void fetch_if_due(request_rec *r, const paa_srv_conf *sc, shm_slot_t *sh,
                         apr_uint32_t now)
{
    if (sh && (!LOAD(sh->gen) ||
               now - LOAD(sh->fetched_at) >=
                   interval_sec(sc->idp->refresh, PAA_JWKS_REFRESH))) {
        try_fetch(r, sc, LOAD(sh->gen) ? "refresh due" : "no key set yet");
    }
}

apr_uint32_t paa_jwks_generation(request_rec *r)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    shm_slot_t *sh = slot_of(sc->idp->slot);

    if (!sh) {
        return 0;
    }
    fetch_if_due(r, sc, sh, (apr_uint32_t)apr_time_sec(apr_time_now()));
    return LOAD(sh->gen);
}

paa_jwt_result_e paa_jwks_verify_token(request_rec *r, const char *token,
                                       paa_jwt_claims_t *claims,
                                       apr_uint32_t *gen)
{
    const paa_srv_conf *sc =
        ap_get_module_config(r->server->module_config, &paa_module);
    shm_slot_t *sh = slot_of(sc->idp->slot);
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    paa_jwt_config_t cfg = sc->jwt;
    child_set_t *cs;
    paa_jwt_result_e result;

    fetch_if_due(r, sc, sh, now);
    cs = acquire(r, sc->idp->slot, cfg.alg);
    cfg.jwks = cs ? cs->ks : paa_jwks_empty(r->pool);
    result = paa_jwt_verify(r->pool, &cfg, token, now, claims);
    if (result == PAA_JWT_UNKNOWN_KID &&
        try_fetch(r, sc, "a token names an unknown kid")) {
        release(cs);
        cs = acquire(r, sc->idp->slot, cfg.alg);
        cfg.jwks = cs ? cs->ks : paa_jwks_empty(r->pool);
        result = paa_jwt_verify(r->pool, &cfg, token, now, claims);
    }
    if (gen) {
        *gen = cs ? cs->gen : 0;
    }
    release(cs);
    return result;
}
