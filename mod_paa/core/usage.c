/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key uses, counted in one table for all the processes of a node
 * (usage.h), so that a key used by every child is written once per window,
 * not once per child. The table is open addressing in stripes: a (key,
 * address) pair hashes to one stripe, a fixed run of slots under one
 * mutex. A use of a window already open, in a second it already spans, is
 * one compare-and-swap of its slot's word, without the mutex; opening a
 * window or moving its first or last second locks the stripe for a probe
 * and a few stores, and a take walks the stripes one at a time. The
 * mutexes are process-shared and robust: a child that dies holding one
 * costs at most the use it was noting, never the table. */

#include "paa.h"

#include <apr_strings.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define STRIPES 256
#define KEY_MAX 32 /* key ids are "key_" and 16 hex digits */
#define IP_MAX  48 /* an IPv6 address in text is at most 45 */

/* A slot's state and use count share one word, so that a use of a window
 * already open is one compare-and-swap, without the stripe's lock: every
 * request of a busy key takes that path, on every CPU of the node. The
 * generation, new at each opening, fails the swap of a use that read the
 * slot before it was closed and given to another pair. */
#define W_USES     ((APR_UINT64_C(1) << 38) - 1)
#define W_STATE(w) ((int)(((w) >> 38) & 3))
#define W_OPEN     APR_UINT64_C(1)
#define W_TOMB     APR_UINT64_C(2) /* closed: a probe goes on past it */
#define W_MAKE(gen, state, uses)                                               \
    ((apr_uint64_t)((gen)&0xffffff) << 40 | (state) << 38 | (uses))

/* A key id and an address, zero-padded, compared and copied a word at a
 * time: the lock-free path reads them with atomic loads while the
 * stripe's holder may be writing them for a new pair. */
typedef struct {
    apr_uint64_t key[KEY_MAX / 8];
    apr_uint64_t ip[IP_MAX / 8];
} ident_t;

/* 128 bytes: 262,144 of them take 32 MB of shared memory. */
typedef struct {
    apr_uint64_t word;       /* atomic: generation, state, uses */
    const void *owner;       /* written under the lock, read without it */
    apr_int64_t first, last; /* the same */
    apr_int64_t written;     /* the last_used_at written for it, 0: none */
    ident_t id;              /* the same as owner */
    unsigned char touch;     /* the last-used time is to be written */
} uslot_t;
_Static_assert(sizeof(uslot_t) == 128, "a slot is two cache lines");

typedef struct {
    pthread_mutex_t mutex;
    int open, dead;   /* slots with a window; tombstones */
    apr_uint32_t gen; /* generations given out */
} stripe_t;

struct paa_usage_t {
    int nstripes, per_stripe;
    apr_int64_t dropped;   /* atomic */
    apr_int64_t next_take; /* atomic: seconds, the next take is due */
    stripe_t stripes[STRIPES];
    uslot_t slots[];
};

/* Stripes of at least 64 slots, so that one is not full while the table
 * is mostly empty; at most STRIPES of them. */
static int stripes_for(int max)
{
    int n = max / 64;
    return n < 1 ? 1 : n > STRIPES ? STRIPES : n;
}

apr_size_t paa_usage_size(int max)
{
    int n = stripes_for(max), per = max > 0 ? (max + n - 1) / n : 0;
    /* And room to start on a cache line (apr_shm's base is 8 bytes into
     * its mapping), so that a slot is two lines, not three. */
    return 64 + sizeof(paa_usage_t) + (apr_size_t)per * n * sizeof(uslot_t);
}

paa_usage_t *paa_usage_init(void *mem, int max, int shared)
{
    paa_usage_t *u = (paa_usage_t *)APR_ALIGN((apr_uintptr_t)mem, 64);
    pthread_mutexattr_t a;
    int i, bad = 0;

    if (max < 1 || pthread_mutexattr_init(&a) != 0) {
        return NULL;
    }
    if (shared && (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
                   pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST))) {
        bad = 1;
    }
    memset(u, 0, sizeof(*u));
    u->nstripes = stripes_for(max);
    u->per_stripe = (max + u->nstripes - 1) / u->nstripes;
    for (i = 0; !bad && i < u->nstripes; i++) {
        bad = pthread_mutex_init(&u->stripes[i].mutex, &a) != 0;
    }
    pthread_mutexattr_destroy(&a);
    return bad ? NULL : u;
}

static apr_status_t usage_cleanup(void *data)
{
    paa_usage_t *u = data;
    int i;
    for (i = 0; i < u->nstripes; i++) {
        pthread_mutex_destroy(&u->stripes[i].mutex);
    }
    return APR_SUCCESS;
}

apr_status_t paa_usage_create(apr_pool_t *p, int max, paa_usage_t **out)
{
    void *mem;

    if (max < 1) {
        return APR_EINVAL;
    }
    mem = apr_pcalloc(p, paa_usage_size(max));
    if (!(*out = paa_usage_init(mem, max, 0))) {
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(p, *out, usage_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define WORD(s)     LOAD((s)->word)

/* Stripe k's run of slots. */
static uslot_t *run_of(paa_usage_t *u, apr_size_t k)
{
    return &u->slots[k * (apr_size_t)u->per_stripe];
}

/* One more use in the window the word w (last read) stands for, as long
 * as it stays that window: 0 when it closed or was given to another pair
 * since, or its count is full. */
static int count_use(uslot_t *s, apr_uint64_t w)
{
    apr_uint64_t gen = w >> 40;

    while (W_STATE(w) == W_OPEN && w >> 40 == gen && (w & W_USES) != W_USES) {
        if (__atomic_compare_exchange_n(&s->word, &w, w + 1, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            return 1;
        }
        /* Another use of the same window came first: again. */
    }
    return 0;
}

/* The stripe's counts from its slots' words, when its holder died: it
 * may have changed a word and not yet the counts, and a count too low
 * would have a take wipe the stripe, or compact more windows than it
 * made room for. */
static void recount(paa_usage_t *u, stripe_t *st)
{
    uslot_t *run = run_of(u, (apr_size_t)(st - u->stripes));
    int i;

    st->open = st->dead = 0;
    for (i = 0; i < u->per_stripe; i++) {
        int state = W_STATE(WORD(&run[i]));
        st->open += state == (int)W_OPEN;
        st->dead += state == (int)W_TOMB;
    }
}

static int lock(paa_usage_t *u, stripe_t *st)
{
    int rv = pthread_mutex_lock(&st->mutex);
    if (rv == EOWNERDEAD) {
        /* Its owner died in the middle of a note or a take: at worst the
         * use it was noting, or the windows a compaction had not put
         * back yet, are lost; never the table. */
        recount(u, st);
        pthread_mutex_consistent(&st->mutex);
        rv = 0;
    }
    return rv == 0;
}

/* The pair's words, or 0 when the key id or the address is too long for
 * a slot (not a key id or an address of ours). */
static int ident_make(ident_t *id, const char *key_id, const char *ip)
{
    apr_size_t kl = strlen(key_id), il = strlen(ip);

    if (kl >= KEY_MAX || il >= IP_MAX) {
        return 0;
    }
    memset(id, 0, sizeof(*id));
    memcpy(id->key, key_id, kl);
    memcpy(id->ip, ip, il);
    return 1;
}

/* The owner's address and the pair's words, a word at a time: APR's
 * string hash, a byte at a time, cost more than the rest of a use counted
 * without the lock. */
static apr_uint32_t hash(const void *owner, const ident_t *id)
{
    const apr_uint64_t k = APR_UINT64_C(0x9e3779b97f4a7c15);
    apr_uint64_t h = (apr_uint64_t)(apr_uintptr_t)owner * k;
    apr_size_t i;

    for (i = 0; i < KEY_MAX / 8; i++) {
        h = (h ^ id->key[i]) * k;
    }
    for (i = 0; i < IP_MAX / 8; i++) {
        h = (h ^ id->ip[i]) * k;
    }
    /* A product carries a word's bits only upwards: MurmurHash3's
     * finaliser brings the high ones down to the bits that pick the
     * stripe and the slot. */
    h ^= h >> 33;
    h *= APR_UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= APR_UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return (apr_uint32_t)h;
}

static int ident_is(const uslot_t *s, const void *owner, const ident_t *id)
{
    apr_uint64_t d =
        (apr_uint64_t)((apr_uintptr_t)LOAD(s->owner) ^ (apr_uintptr_t)owner);
    apr_size_t i;

    for (i = 0; i < KEY_MAX / 8; i++) {
        d |= LOAD(s->id.key[i]) ^ id->key[i];
    }
    for (i = 0; i < IP_MAX / 8; i++) {
        d |= LOAD(s->id.ip[i]) ^ id->ip[i];
    }
    return d == 0;
}

/* A slot for a pair (the lock held, the slot not open): its fields, then
 * the word that opens it, released after them. The fence comes first so
 * that a use which reads any of the new fields, yet the old word, fails
 * its swap (the seqlock's writer). */
static void slot_fill(stripe_t *st, uslot_t *s, const void *owner,
                      const ident_t *id, apr_int64_t first, apr_int64_t last,
                      apr_int64_t uses, apr_int64_t written, int touch)
{
    apr_size_t i;

    __atomic_thread_fence(__ATOMIC_RELEASE);
    STORE(s->owner, owner);
    for (i = 0; i < KEY_MAX / 8; i++) {
        STORE(s->id.key[i], id->key[i]);
    }
    for (i = 0; i < IP_MAX / 8; i++) {
        STORE(s->id.ip[i], id->ip[i]);
    }
    STORE(s->first, first);
    STORE(s->last, last);
    s->written = written;
    s->touch = (unsigned char)touch;
    __atomic_store_n(&s->word, W_MAKE(++st->gen, W_OPEN, (apr_uint64_t)uses),
                     __ATOMIC_RELEASE);
}

/* A use of a window already open within its seconds so far: counted
 * without the lock. 0 when it needs the lock: no open window for the
 * pair, or one whose first or last use it would move. */
static int note_open(paa_usage_t *u, uslot_t *run, apr_uint32_t start,
                     const void *owner, const ident_t *id, apr_int64_t now)
{
    int i;

    for (i = 0; i < u->per_stripe; i++) {
        uslot_t *s =
            &run[(start + (apr_uint32_t)i) % (apr_uint32_t)u->per_stripe];
        apr_uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);

        if (!W_STATE(w)) {
            return 0;
        }
        if (W_STATE(w) != W_OPEN || !ident_is(s, owner, id)) {
            continue;
        }
        if (now < LOAD(s->first) || now > LOAD(s->last)) {
            return 0;
        }
        /* What was read above belongs to the word's generation if the
         * word has not changed when swapped (the seqlock's reader). */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        return count_use(s, w);
    }
    return 0;
}

int paa_usage_note(paa_usage_t *u, const void *owner, const char *key_id,
                   const char *client_ip, apr_int64_t now)
{
    ident_t id;
    apr_uint32_t h, start;
    stripe_t *st;
    uslot_t *run, *s = NULL, *grave = NULL;
    int i, full;

    if (!ident_make(&id, key_id, client_ip ? client_ip : "")) {
        return 0;
    }
    h = hash(owner, &id);
    st = &u->stripes[h % (apr_uint32_t)u->nstripes];
    run = run_of(u, h % (apr_uint32_t)u->nstripes);
    start = h / (apr_uint32_t)u->nstripes;
    if (note_open(u, run, start, owner, &id, now)) {
        return 0; /* a use adds no window */
    }
    if (!lock(u, st)) {
        __atomic_fetch_add(&u->dropped, 1, __ATOMIC_RELAXED);
        return 0;
    }
    for (i = 0; i < u->per_stripe; i++) {
        apr_uint64_t w;
        s = &run[(start + (apr_uint32_t)i) % (apr_uint32_t)u->per_stripe];
        w = WORD(s);
        if (W_STATE(w) == W_TOMB) {
            grave = grave ? grave : s;
            continue;
        }
        if (!W_STATE(w)) {
            break;
        }
        if (s->owner == owner && !memcmp(&s->id, &id, sizeof(id))) {
            /* Only a use may change the word meanwhile: closing and
             * opening take the lock. A use without the lock that reads
             * these stores must fail its swap if the window it saw open
             * has closed since: the fence, as in slot_fill. */
            __atomic_thread_fence(__ATOMIC_RELEASE);
            STORE(s->first, now < s->first ? now : s->first);
            STORE(s->last, now > s->last ? now : s->last);
            if (!count_use(s, w)) { /* its count is full */
                __atomic_fetch_add(&u->dropped, 1, __ATOMIC_RELAXED);
            }
            goto done;
        }
    }
    s = grave ? grave : i < u->per_stripe ? s : NULL;
    if (!s) {
        __atomic_fetch_add(&u->dropped, 1, __ATOMIC_RELAXED);
        goto done;
    }
    if (W_STATE(WORD(s)) == W_TOMB) {
        st->dead--;
    }
    /* The first use of a window writes the last-used time. */
    slot_fill(st, s, owner, &id, now, now, 1, 0, 1);
    st->open++;
done:
    full = (st->open + st->dead) * 4 >= u->per_stripe * 3;
    pthread_mutex_unlock(&st->mutex);
    return full;
}

static void emit(apr_array_header_t *out, apr_pool_t *p, const uslot_t *s,
                 apr_int64_t uses, apr_int64_t touch_at, int record)
{
    paa_key_use_t *e = apr_array_push(out);
    e->owner = s->owner;
    /* Zero-padded and shorter than their fields: NUL-terminated. */
    e->key_id = apr_pstrdup(p, (const char *)s->id.key);
    e->client_ip = apr_pstrdup(p, (const char *)s->id.ip);
    e->first = s->first;
    e->last = s->last;
    e->uses = uses;
    e->touch_at = touch_at;
    e->record = record;
}

/* A slot's word set to st (under the lock) whatever uses come meanwhile:
 * the uses it had, every one counted once. */
static apr_int64_t slot_close(uslot_t *s, apr_uint64_t state)
{
    apr_uint64_t w = WORD(s);
    while (!__atomic_compare_exchange_n(
        &s->word, &w, (w & ~(APR_UINT64_C(3) << 38)) | state << 38, 0,
        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
    }
    return (apr_int64_t)(w & W_USES);
}

/* Tombstones lengthen every probe: when they are many, the stripe's open
 * windows are put back in place (under the stripe's lock). Each is
 * closed first, so that no use lands in its old place, and opened again
 * in its new one with a new generation. */
static void compact(paa_usage_t *u, uslot_t *run, stripe_t *st)
{
    uslot_t *keep = malloc(sizeof(uslot_t) * (apr_size_t)st->open);
    int i, n = 0;

    if (!keep) {
        return;
    }
    for (i = 0; i < u->per_stripe; i++) {
        if (W_STATE(WORD(&run[i])) == W_OPEN && n < st->open) {
            /* Closed before the copy: its word no longer changes. */
            apr_int64_t uses = slot_close(&run[i], 0);
            keep[n] = run[i];
            keep[n++].word = (apr_uint64_t)uses;
        }
        STORE(run[i].word, 0);
    }
    for (i = 0; i < n; i++) {
        apr_uint32_t j =
            hash(keep[i].owner, &keep[i].id) / (apr_uint32_t)u->nstripes;
        while (W_STATE(WORD(&run[j % (apr_uint32_t)u->per_stripe]))) {
            j++;
        }
        slot_fill(st, &run[j % (apr_uint32_t)u->per_stripe], keep[i].owner,
                  &keep[i].id, keep[i].first, keep[i].last,
                  (apr_int64_t)keep[i].word, keep[i].written, keep[i].touch);
    }
    st->open = n;
    st->dead = 0;
    free(keep);
}

apr_array_header_t *paa_usage_take(paa_usage_t *u, apr_pool_t *p,
                                   apr_int64_t now, int window, int all,
                                   apr_int64_t *dropped)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(paa_key_use_t));
    apr_int64_t lost = __atomic_exchange_n(&u->dropped, 0, __ATOMIC_RELAXED);
    int k, i;

    if (dropped) {
        *dropped = lost;
    }
    for (k = 0; k < u->nstripes; k++) {
        stripe_t *st = &u->stripes[k];
        uslot_t *run = run_of(u, (apr_size_t)k);
        /* A stripe three quarters full closes all its windows early, so
         * that new keys find room. */
        int every;

        if (!lock(u, st)) {
            continue;
        }
        every = all || (st->open + st->dead) * 4 >= u->per_stripe * 3;
        for (i = 0; i < u->per_stripe && st->open; i++) {
            uslot_t *s = &run[i];
            int close;
            apr_int64_t touch = 0, uses = 0;

            if (W_STATE(WORD(s)) != W_OPEN) {
                continue;
            }
            close = every || now - s->first >= window;
            if (close) {
                uses = slot_close(s, W_TOMB);
                st->open--;
                st->dead++;
            }
            else {
                uses = (apr_int64_t)(WORD(s) & W_USES); /* so far */
            }
            /* The last-used time: at the window's first take, and at its
             * close when a later use came, so no record outdates it. */
            if (s->touch || (close && s->last > s->written)) {
                touch = s->last;
                s->written = s->last;
                s->touch = 0;
            }
            if (touch || close) {
                emit(out, p, s, uses, touch, close);
            }
        }
        if (!st->open && st->dead) {
            for (i = 0; i < u->per_stripe; i++) {
                STORE(run[i].word, 0);
            }
            st->dead = 0;
        }
        else if (st->dead * 4 >= u->per_stripe) {
            compact(u, run, st);
        }
        pthread_mutex_unlock(&st->mutex);
    }
    return out;
}

int paa_usage_take_due(paa_usage_t *u, apr_int64_t now, int interval)
{
    apr_int64_t next = __atomic_load_n(&u->next_take, __ATOMIC_SEQ_CST);
    return now >= next &&
           __atomic_compare_exchange_n(&u->next_take, &next, now + interval, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int paa_usage_open(paa_usage_t *u)
{
    int k, n = 0;
    for (k = 0; k < u->nstripes; k++) {
        if (lock(u, &u->stripes[k])) {
            n += u->stripes[k].open;
            pthread_mutex_unlock(&u->stripes[k].mutex);
        }
    }
    return n;
}
