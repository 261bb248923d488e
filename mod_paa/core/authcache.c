/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Credentials verified recently (authcache.h), in one table every httpd
 * process shares. Buckets of PAA_WAYS slots of 256 bytes; a credential
 * goes in the bucket its digest names and replaces a free or stale slot,
 * else the oldest one. Each slot is a sequence lock: a writer makes the
 * counter odd, writes and makes it even again, and a reader copies the
 * slot and keeps the copy only when the counter was even and unchanged,
 * so nobody ever waits and a process that dies while writing costs one
 * slot. Strings are packed, so that 100,000 entries take 25 MB; their
 * slots are spread over the table, so a table that many fill is resident
 * nearly in full. */

#include "paa.h"

#include <apr_strings.h>
#include <openssl/sha.h>

#define PAA_WAYS      4
#define PAA_SLOT_DATA 190

enum { KIND_EMPTY, KIND_PRINCIPAL, KIND_UNKNOWN };
enum { F_METHOD, F_ID, F_KEY_ID, F_USERNAME, F_CLIENT, F_ROLES, F_COUNT };

typedef struct {
    apr_uint32_t seq; /* odd while being written */
    apr_uint32_t epoch;
    apr_int64_t stored;    /* apr_time_t */
    apr_int64_t not_after; /* apr_time_t; 0: none */
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char kind;
    unsigned char len[F_COUNT]; /* of each string in data, without NUL */
    unsigned char domain;
    apr_uint16_t set;         /* the marker set it was put under */
    char data[PAA_SLOT_DATA]; /* the strings, each NUL-terminated */
} slot_t;

_Static_assert(sizeof(slot_t) == 256, "a slot is four cache lines");

/* One database's change markers as read for a set of servers, and the
 * epochs they give: each set is read and confirmed on its own, so that
 * servers whose databases differ never take one's counters for the
 * other's (the slots of each server are apart already: paa_credcache.c
 * binds every digest to its server). */
typedef struct {
    _Alignas(64) apr_uint32_t known; /* serial holds a marker read */
    apr_uint32_t epoch[PAA_CACHE_DOMAINS];
    apr_int64_t serial[PAA_CACHE_DOMAINS];
    apr_int64_t verified;   /* start of the newest read that confirmed */
    apr_int64_t next_check; /* claimed by the process that reads next */
} marks_t;

/* The jtis revoked alone (or of a user deleted since) when a set's users
 * were warmed, as a Bloom filter: a jti it says no to was not among them,
 * and one it says yes to (rarely in error: 4 bits of 32,768 a jti, 1 in
 * 5,700 at 1,000 jtis, 1 in 450 at 2,000, 1 in 23 at 5,000) is asked of
 * the database. Kept apart from the marks, which every request reads.
 * Written once, by the warm, before any user entry of its epoch. */
#define PAA_REVOKED_BITS   32768
#define PAA_REVOKED_PROBES 4

typedef struct {
    /* PAA_REVOKED_DONE | epoch once bits holds that epoch's jtis: one
     * word, so that no reader pairs an epoch with bits not yet seen. */
    _Alignas(64) apr_uint64_t done;
    apr_uint64_t bits[PAA_REVOKED_BITS / 64];
} revoked_t;

#define PAA_REVOKED_DONE ((apr_uint64_t)1 << 32)

/* The shared memory: this header, nsets marks_t, nsets revoked_t, then
 * the slots, each part on cache lines (a slot's header and digest are in
 * its first). */
typedef struct {
    _Alignas(64) apr_uint32_t nbuckets;
    apr_uint32_t nsets;
    apr_uint32_t warming; /* claimed by the process that warms it */
} table_t;

/* A process's view of the table under one set of marks. */
struct paa_authcache_t {
    table_t *t;
    marks_t *m;
    revoked_t *revoked;
    slot_t *slots;
    apr_uint32_t nbuckets;
    apr_uint16_t set; /* m's index */
};

/* Sets are numbered in slots; a table has no more of them. */
#define PAA_MARK_SETS_MAX 65535

static marks_t *marks(const table_t *t, unsigned set)
{
    return (marks_t *)((char *)t + sizeof(table_t)) + set;
}

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static revoked_t *revoked(const table_t *t, unsigned set)
{
    return (revoked_t *)((char *)t + sizeof(table_t) +
                         t->nsets * sizeof(marks_t)) +
           set;
}

static apr_size_t slots_offset(int sets)
{
    return sizeof(table_t) +
           (apr_size_t)sets * (sizeof(marks_t) + sizeof(revoked_t));
}

apr_size_t paa_authcache_size(int entries, int sets)
{
    apr_size_t buckets = entries > 0 ? (apr_size_t)entries / PAA_WAYS : 0;
    /* And room to start on a cache line: apr_shm's base is 8 bytes into
     * its mapping, and the table's types are aligned on 64. */
    return 64 + slots_offset(sets > 0 ? sets : 1) +
           buckets * PAA_WAYS * sizeof(slot_t);
}

paa_authcache_t *paa_authcache_init(apr_pool_t *p, void *mem, int entries,
                                    int sets)
{
    table_t *t = (table_t *)APR_ALIGN((apr_uintptr_t)mem, 64);
    paa_authcache_t base;

    if (entries < PAA_WAYS || sets < 1 || sets > PAA_MARK_SETS_MAX) {
        return NULL;
    }
    /* The slots are zero already: touching them all here would make the
     * whole table resident in every process. */
    memset(t, 0, slots_offset(sets));
    t->nbuckets = (apr_uint32_t)(entries / PAA_WAYS);
    t->nsets = (apr_uint32_t)sets;
    base.t = t;
    return paa_authcache_set(p, &base, 0);
}

paa_authcache_t *paa_authcache_set(apr_pool_t *p, const paa_authcache_t *c,
                                   int set)
{
    paa_authcache_t *v;

    if (!c || set < 0 || (apr_uint32_t)set >= c->t->nsets) {
        return NULL;
    }
    v = apr_palloc(p, sizeof(*v));
    v->t = c->t;
    v->m = marks(c->t, (unsigned)set);
    v->revoked = revoked(c->t, (unsigned)set);
    v->set = (apr_uint16_t)set;
    v->slots = (slot_t *)((char *)c->t + slots_offset((int)c->t->nsets));
    v->nbuckets = c->t->nbuckets;
    return v;
}

apr_status_t paa_authcache_create(apr_pool_t *p, int entries, int sets,
                                  paa_authcache_t **out)
{
    void *mem;
    if (entries < PAA_WAYS || sets < 1 || sets > PAA_MARK_SETS_MAX) {
        return APR_EINVAL;
    }
    mem = apr_pcalloc(p, paa_authcache_size(entries, sets));
    *out = paa_authcache_init(p, mem, entries, sets);
    return APR_SUCCESS;
}

apr_uint32_t paa_authcache_epoch_of(paa_authcache_t *c,
                                    paa_cache_domain_e domain)
{
    return c ? LOAD(c->m->epoch[domain]) : 0;
}

apr_uint32_t paa_authcache_epoch(paa_authcache_t *c)
{
    return paa_authcache_epoch_of(c, PAA_CACHE_CREDENTIALS);
}

static slot_t *bucket(paa_authcache_t *c, const unsigned char *digest)
{
    apr_uint32_t h = (apr_uint32_t)digest[0] | (apr_uint32_t)digest[1] << 8 |
                     (apr_uint32_t)digest[2] << 16 |
                     (apr_uint32_t)digest[3] << 24;
    return &c->slots[(h % c->nbuckets) * PAA_WAYS];
}

/* A consistent copy of s, or 0 when a writer is at it. */
static int read_slot(slot_t *s, slot_t *copy)
{
    apr_uint32_t before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (before & 1) {
        return 0;
    }
    memcpy(copy, s, sizeof(*copy));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == before;
}

/* An entry may be used at now: of the current epoch of the set it was
 * put under (whoever asks: a writer choosing a slot judges another set's
 * entries by their own set), and that epoch confirmed recently enough,
 * or the entry young enough to be trusted without a confirmation.
 * verified is read before epoch: a reader that sees a new confirmation
 * also sees its epoch. */
static int fresh(paa_authcache_t *c, const slot_t *s, apr_time_t now)
{
    marks_t *m;
    apr_int64_t verified;
    apr_uint32_t epoch;

    if (s->set >= c->t->nsets || s->domain >= PAA_CACHE_DOMAINS) {
        return 0;
    }
    m = marks(c->t, s->set);
    verified = LOAD(m->verified);
    epoch = LOAD(m->epoch[s->domain]);
    if (s->not_after && now >= s->not_after) {
        return 0;
    }
    /* A moved epoch is final; within it, young enough alone will do
     * while no marker can be read (the epoch then never moves). */
    return s->epoch == epoch &&
           (now - verified <= PAA_AUTHCACHE_MAXAGE ||
            (now >= s->stored && now - s->stored < PAA_AUTHCACHE_TTL));
}

static void unpack(const slot_t *s, paa_cached_principal_t *out)
{
    char *dst[F_COUNT];
    apr_size_t size[F_COUNT];
    const char *src = s->data;
    int i;

    dst[F_METHOD] = out->method, size[F_METHOD] = sizeof(out->method);
    dst[F_ID] = out->id, size[F_ID] = sizeof(out->id);
    dst[F_KEY_ID] = out->key_id, size[F_KEY_ID] = sizeof(out->key_id);
    dst[F_USERNAME] = out->username, size[F_USERNAME] = sizeof(out->username);
    dst[F_CLIENT] = out->client, size[F_CLIENT] = sizeof(out->client);
    dst[F_ROLES] = out->roles, size[F_ROLES] = sizeof(out->roles);
    for (i = 0; i < F_COUNT; i++) {
        apr_size_t n = s->len[i] < size[i] ? s->len[i] : size[i] - 1;
        memcpy(dst[i], src, n);
        dst[i][n] = '\0';
        src += s->len[i] + 1;
    }
}

paa_authcache_e paa_authcache_get(paa_authcache_t *c,
                                  const unsigned char *digest, apr_time_t now,
                                  paa_cached_principal_t *out)
{
    slot_t *b, copy;
    int i;

    if (!c) {
        return PAA_AUTHCACHE_MISS;
    }
    b = bucket(c, digest);
    for (i = 0; i < PAA_WAYS; i++) {
        /* The digest is of a secret: compared in constant time. First in
         * place, a peek that the consistent copy confirms: a key looked up
         * reads one cache line of each other slot, not all 256 bytes. */
        if (!paa_digest_equal(b[i].digest, digest) ||
            !read_slot(&b[i], &copy) || copy.kind == KIND_EMPTY ||
            !paa_digest_equal(copy.digest, digest) || copy.set != c->set) {
            continue;
        }
        if (!fresh(c, &copy, now)) {
            return PAA_AUTHCACHE_MISS;
        }
        if (copy.kind == KIND_UNKNOWN) {
            return PAA_AUTHCACHE_UNKNOWN;
        }
        unpack(&copy, out);
        return PAA_AUTHCACHE_HIT;
    }
    return PAA_AUTHCACHE_MISS;
}

/* Where digest goes: its own slot, else a free or stale one, else (for a
 * principal only) the oldest. NULL: leave the bucket alone. */
static slot_t *victim(paa_authcache_t *c, slot_t *b,
                      const unsigned char *digest, apr_time_t now,
                      int principal)
{
    slot_t *oldest = NULL, *free_slot = NULL, copy;
    int i;

    for (i = 0; i < PAA_WAYS; i++) {
        if (!read_slot(&b[i], &copy)) {
            continue;
        }
        if (copy.kind != KIND_EMPTY && paa_digest_equal(copy.digest, digest)) {
            return &b[i];
        }
        if (!free_slot &&
            (copy.kind != KIND_PRINCIPAL || !fresh(c, &copy, now))) {
            free_slot = &b[i];
        }
        if (!oldest || copy.stored < oldest->stored) {
            oldest = &b[i];
        }
    }
    return free_slot ? free_slot : principal ? oldest : NULL;
}

static int write_slot(slot_t *s, const slot_t *v)
{
    apr_uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

    if ((seq & 1) ||
        !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return 0; /* another writer has it: this entry is not kept */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy((char *)s + sizeof(s->seq), (const char *)v + sizeof(v->seq),
           sizeof(*s) - sizeof(s->seq));
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
    return 1;
}

static int put(paa_authcache_t *c, paa_cache_domain_e domain,
               const unsigned char *digest, apr_uint32_t epoch, apr_time_t now,
               apr_time_t not_after, const char *const *f)
{
    slot_t v, *s;
    apr_size_t used = 0;
    int i;

    if (!c || (not_after && not_after <= now)) {
        return 0;
    }
    memset(&v, 0, sizeof(v));
    for (i = 0; i < F_COUNT; i++) {
        apr_size_t n = f[i] ? strlen(f[i]) : 0;
        if (n > 255 || used + n + 1 > sizeof(v.data)) {
            return 0;
        }
        memcpy(v.data + used, f[i] ? f[i] : "", n + 1);
        v.len[i] = (unsigned char)n;
        used += n + 1;
    }
    v.kind = KIND_PRINCIPAL;
    v.domain = (unsigned char)domain;
    v.epoch = epoch;
    v.set = c->set;
    v.stored = now;
    v.not_after = not_after;
    memcpy(v.digest, digest, SHA256_DIGEST_LENGTH);
    s = victim(c, bucket(c, digest), digest, now, 1);
    return s && write_slot(s, &v);
}

int paa_authcache_put_principal(paa_authcache_t *c, paa_cache_domain_e domain,
                                const unsigned char *digest, apr_uint32_t epoch,
                                apr_time_t now, apr_time_t not_after,
                                const char *method, const char *id,
                                const char *key_id, const char *username,
                                const char *client, const char *roles)
{
    const char *f[F_COUNT];
    f[F_METHOD] = method, f[F_ID] = id, f[F_KEY_ID] = key_id;
    f[F_USERNAME] = username, f[F_CLIENT] = client, f[F_ROLES] = roles;
    return put(c, domain, digest, epoch, now, not_after, f);
}

int paa_authcache_put(paa_authcache_t *c, const unsigned char *digest,
                      apr_uint32_t epoch, apr_time_t now, apr_time_t not_after,
                      const char *method, const char *id, const char *key_id,
                      const char *username, const char *client,
                      const char *roles)
{
    return paa_authcache_put_principal(c, PAA_CACHE_CREDENTIALS, digest, epoch,
                                       now, not_after, method, id, key_id,
                                       username, client, roles);
}

void paa_authcache_put_in(paa_authcache_t *c, paa_cache_domain_e domain,
                          const unsigned char *digest, apr_uint32_t epoch,
                          apr_time_t now, apr_time_t not_after,
                          const char *method, const char *id)
{
    const char *f[F_COUNT] = {method, id, NULL, NULL, NULL, NULL};
    put(c, domain, digest, epoch, now, not_after, f);
}

void paa_authcache_put_unknown(paa_authcache_t *c, const unsigned char *digest,
                               apr_uint32_t epoch, apr_time_t now)
{
    slot_t v, *s;

    if (!c) {
        return;
    }
    memset(&v, 0, sizeof(v));
    v.kind = KIND_UNKNOWN;
    v.domain = PAA_CACHE_KEYS_ADDED;
    v.epoch = epoch;
    v.set = c->set;
    v.stored = now;
    memcpy(v.digest, digest, SHA256_DIGEST_LENGTH);
    if ((s = victim(c, bucket(c, digest), digest, now, 0))) {
        write_slot(s, &v);
    }
}

/* The filter's bits for jti: PAA_REVOKED_PROBES of 15 bits each from its
 * digest, which a token's holder cannot steer (the jti comes from a
 * verified token, or the database). */
static void revoked_bits(const char *jti, apr_uint32_t *bit)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    int i;

    paa_sha256(jti, strlen(jti), d);
    for (i = 0; i < PAA_REVOKED_PROBES; i++) {
        bit[i] =
            ((apr_uint32_t)d[2 * i] << 8 | d[2 * i + 1]) % PAA_REVOKED_BITS;
    }
}

void paa_authcache_revoked_add(paa_authcache_t *c, const char *jti)
{
    apr_uint32_t bit[PAA_REVOKED_PROBES];
    int i;

    if (!c) {
        return;
    }
    revoked_bits(jti, bit);
    for (i = 0; i < PAA_REVOKED_PROBES; i++) {
        __atomic_fetch_or(&c->revoked->bits[bit[i] / 64],
                          (apr_uint64_t)1 << (bit[i] % 64), __ATOMIC_RELAXED);
    }
}

void paa_authcache_revoked_done(paa_authcache_t *c, apr_uint32_t epoch)
{
    if (!c) {
        return;
    }
    /* Releases the bits to whoever sees it. */
    __atomic_store_n(&c->revoked->done, PAA_REVOKED_DONE | epoch,
                     __ATOMIC_RELEASE);
}

int paa_authcache_revoked_not(paa_authcache_t *c, apr_uint32_t epoch,
                              const char *jti)
{
    apr_uint32_t bit[PAA_REVOKED_PROBES];
    int i;

    if (!c || __atomic_load_n(&c->revoked->done, __ATOMIC_ACQUIRE) !=
                  (PAA_REVOKED_DONE | epoch)) {
        return 0;
    }
    /* Without one, as the lookup asks for it (paa_users_for_token). */
    revoked_bits(jti ? jti : "", bit);
    for (i = 0; i < PAA_REVOKED_PROBES; i++) {
        if (!(__atomic_load_n(&c->revoked->bits[bit[i] / 64],
                              __ATOMIC_RELAXED) &
              ((apr_uint64_t)1 << (bit[i] % 64)))) {
            return 1;
        }
    }
    return 0;
}

int paa_authcache_claim_warm(paa_authcache_t *c)
{
    apr_uint32_t none = 0;
    return c && __atomic_compare_exchange_n(&c->t->warming, &none, 1, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int paa_authcache_check_due(paa_authcache_t *c, apr_time_t now)
{
    apr_int64_t next;

    if (!c) {
        return 0;
    }
    next = LOAD(c->m->next_check);
    if (now < next) {
        return 0;
    }
    return __atomic_compare_exchange_n(&c->m->next_check, &next,
                                       now + PAA_AUTHCACHE_CHECK, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

void paa_authcache_checked(paa_authcache_t *c, apr_time_t started,
                           const apr_int64_t *serial)
{
    apr_uint32_t known;
    apr_int64_t v;
    int d;

    if (!c) {
        return;
    }
    /* A change, or the first reading: every entry of that domain is
     * dropped (entries looked up before it carry the old epoch). Two
     * processes reading at once may both drop: harmless. */
    known = LOAD(c->m->known);
    for (d = 0; d < PAA_CACHE_DOMAINS; d++) {
        if (!known || LOAD(c->m->serial[d]) != serial[d]) {
            STORE(c->m->serial[d], serial[d]);
            /* Whatever drops the keys drops what was not a key. */
            if (d == PAA_CACHE_CREDENTIALS) {
                __atomic_fetch_add(&c->m->epoch[PAA_CACHE_KEYS_ADDED], 1,
                                   __ATOMIC_SEQ_CST);
            }
            __atomic_fetch_add(&c->m->epoch[d], 1, __ATOMIC_SEQ_CST);
        }
    }
    STORE(c->m->known, 1);
    v = LOAD(c->m->verified);
    while (v < started &&
           !__atomic_compare_exchange_n(&c->m->verified, &v, started, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
}

void paa_authcache_check_soon(paa_authcache_t *c)
{
    if (c) {
        STORE(c->m->next_check, 0);
    }
}

int paa_authcache_stale(paa_authcache_t *c, apr_time_t now)
{
    return c && LOAD(c->m->known) &&
           now - LOAD(c->m->verified) > PAA_AUTHCACHE_MAXAGE / 2;
}

void paa_authcache_check_failed(paa_authcache_t *c, apr_time_t now)
{
    if (c) {
        /* Until a reading succeeds, no request reads on its own. */
        STORE(c->m->known, 0);
        STORE(c->m->next_check, now + PAA_AUTHCACHE_BACKOFF);
    }
}
