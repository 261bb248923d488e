/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key uses, counted in one table for all the processes of a node
 * (usage.h), so that a key used by every child is written once per window,
 * not once per child. The table is open addressing in stripes: a (key,
 * address) pair hashes to one stripe, a fixed run of slots under one
 * mutex, so noting a use locks one stripe for a probe and a few stores,
 * and a take walks the stripes one at a time. The mutexes are
 * process-shared and robust: a child that dies holding one costs at most
 * the use it was noting, never the table. */

#include "paa.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define STRIPES   256
#define KEY_MAX   32 /* key ids are "key_" and 16 hex digits */
#define IP_MAX    46 /* an IPv6 address in text is at most 45 */
#define TOMBSTONE 2

/* 128 bytes: 262,144 of them take 32 MB of shared memory. */
typedef struct {
    unsigned char state; /* 0 free, 1 open window, TOMBSTONE */
    unsigned char touch; /* the last-used time is to be written */
    const void *owner;
    apr_int64_t first, last, uses;
    apr_int64_t written; /* the last_used_at written for it, 0: none */
    char key_id[KEY_MAX];
    char ip[IP_MAX];
} uslot_t;

typedef struct {
    pthread_mutex_t mutex;
    int open, dead; /* slots with a window; tombstones */
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
    return sizeof(paa_usage_t) + (apr_size_t)per * n * sizeof(uslot_t);
}

paa_usage_t *paa_usage_init(void *mem, int max, int shared)
{
    paa_usage_t *u = mem;
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

static int lock(stripe_t *s)
{
    int rv = pthread_mutex_lock(&s->mutex);
    if (rv == EOWNERDEAD) {
        /* Its owner died in the middle of a note: at worst that slot
         * counts one use fewer. */
        pthread_mutex_consistent(&s->mutex);
        rv = 0;
    }
    return rv == 0;
}

/* APR's string hash over the owner's address, the key id, a NUL and the
 * address (each shorter than its slot field: the caller checked). */
static apr_uint32_t hash(const void *owner, const char *key_id, const char *ip)
{
    char buf[sizeof(owner) + KEY_MAX + IP_MAX];
    apr_size_t kl = strlen(key_id), il = strlen(ip);
    apr_ssize_t len = (apr_ssize_t)(sizeof(owner) + kl + 1 + il);

    memcpy(buf, &owner, sizeof(owner));
    memcpy(buf + sizeof(owner), key_id, kl + 1);
    memcpy(buf + sizeof(owner) + kl + 1, ip, il);
    return apr_hashfunc_default(buf, &len);
}

int paa_usage_note(paa_usage_t *u, const void *owner, const char *key_id,
                   const char *client_ip, apr_int64_t now)
{
    const char *ip = client_ip ? client_ip : "";
    apr_uint32_t h;
    stripe_t *st;
    uslot_t *run, *s, *grave = NULL;
    int i, full;

    if (strlen(key_id) >= KEY_MAX || strlen(ip) >= IP_MAX) {
        return 0; /* not a key id or an address of ours */
    }
    h = hash(owner, key_id, ip);
    st = &u->stripes[h % (apr_uint32_t)u->nstripes];
    run = &u->slots[(apr_size_t)(h % (apr_uint32_t)u->nstripes) *
                    (apr_size_t)u->per_stripe];
    if (!lock(st)) {
        __atomic_fetch_add(&u->dropped, 1, __ATOMIC_RELAXED);
        return 0;
    }
    for (i = 0; i < u->per_stripe; i++) {
        s = &run[(h / (apr_uint32_t)u->nstripes + (apr_uint32_t)i) %
                 (apr_uint32_t)u->per_stripe];
        if (s->state == TOMBSTONE) {
            grave = grave ? grave : s;
            continue;
        }
        if (!s->state) {
            break;
        }
        if (s->owner == owner && !strcmp(s->key_id, key_id) &&
            !strcmp(s->ip, ip)) {
            s->first = now < s->first ? now : s->first;
            s->last = now > s->last ? now : s->last;
            s->uses++;
            goto done;
        }
    }
    s = grave ? grave : i < u->per_stripe ? s : NULL;
    if (!s) {
        __atomic_fetch_add(&u->dropped, 1, __ATOMIC_RELAXED);
        goto done;
    }
    if (s->state == TOMBSTONE) {
        st->dead--;
    }
    s->state = 1;
    s->touch = 1; /* the first use of a window writes the last-used time */
    s->owner = owner;
    s->first = s->last = now;
    s->uses = 1;
    s->written = 0;
    apr_cpystrn(s->key_id, key_id, sizeof(s->key_id));
    apr_cpystrn(s->ip, ip, sizeof(s->ip));
    st->open++;
done:
    full = (st->open + st->dead) * 4 >= u->per_stripe * 3;
    pthread_mutex_unlock(&st->mutex);
    return full;
}

static void emit(apr_array_header_t *out, apr_pool_t *p, const uslot_t *s,
                 apr_int64_t touch_at, int record)
{
    paa_key_use_t *e = apr_array_push(out);
    e->owner = s->owner;
    e->key_id = apr_pstrdup(p, s->key_id);
    e->client_ip = apr_pstrdup(p, s->ip);
    e->first = s->first;
    e->last = s->last;
    e->uses = s->uses;
    e->touch_at = touch_at;
    e->record = record;
}

/* Tombstones lengthen every probe: when they are many, the stripe's open
 * windows are put back in place (under the stripe's lock). */
static void compact(paa_usage_t *u, uslot_t *run, stripe_t *st)
{
    uslot_t *keep = malloc(sizeof(uslot_t) * (apr_size_t)st->open);
    int i, n = 0;

    if (!keep) {
        return;
    }
    for (i = 0; i < u->per_stripe; i++) {
        if (run[i].state == 1) {
            keep[n++] = run[i];
        }
        run[i].state = 0;
    }
    for (i = 0; i < n; i++) {
        apr_uint32_t h = hash(keep[i].owner, keep[i].key_id, keep[i].ip);
        apr_uint32_t j = h / (apr_uint32_t)u->nstripes;
        while (run[j % (apr_uint32_t)u->per_stripe].state) {
            j++;
        }
        run[j % (apr_uint32_t)u->per_stripe] = keep[i];
    }
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
        uslot_t *run = &u->slots[(apr_size_t)k * (apr_size_t)u->per_stripe];
        /* A stripe three quarters full closes all its windows early, so
         * that new keys find room. */
        int every;

        if (!lock(st)) {
            continue;
        }
        every = all || (st->open + st->dead) * 4 >= u->per_stripe * 3;
        for (i = 0; i < u->per_stripe && st->open; i++) {
            uslot_t *s = &run[i];
            int close;
            apr_int64_t touch = 0;

            if (s->state != 1) {
                continue;
            }
            close = every || now - s->first >= window;
            /* The last-used time: at the window's first take, and at its
             * close when a later use came, so no record outdates it. */
            if (s->touch || (close && s->last > s->written)) {
                touch = s->last;
                s->written = s->last;
                s->touch = 0;
            }
            if (touch || close) {
                emit(out, p, s, touch, close);
            }
            if (close) {
                s->state = TOMBSTONE;
                st->open--;
                st->dead++;
            }
        }
        if (!st->open && st->dead) {
            memset(run, 0, sizeof(uslot_t) * (apr_size_t)u->per_stripe);
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
        if (lock(&u->stripes[k])) {
            n += u->stripes[k].open;
            pthread_mutex_unlock(&u->stripes[k].mutex);
        }
    }
    return n;
}
