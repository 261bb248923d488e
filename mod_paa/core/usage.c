/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key uses, counted in memory (usage.h). Two tables: the one the
 * request threads note into, swapped for an empty one at every take so
 * that the mutex is held for a hash update or a pointer swap, never for a
 * scan; and the taker's own table of open windows, which only the taking
 * thread touches and so needs no lock at all. */

#include "paa.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>

/* A pair noted since the last take (in the noting pool). */
typedef struct {
    const void *owner;
    const char *key_id;
    const char *ip;
    apr_int64_t first, last, uses;
    int touch; /* a use came with the duty to write the last-used time */
} note_t;

/* An open window (malloc'ed: windows come and go one by one). The hash
 * key is key[0 .. klen - 1]; key_id and ip point into it. */
typedef struct {
    const void *owner;
    const char *key_id;
    const char *ip;
    apr_int64_t first, last, uses;
    apr_int64_t written; /* the last_used_at written for it, 0: none */
    int touch;           /* write the last-used time at the next take */
    apr_size_t klen;
    char key[1];
} window_t;

struct paa_usage_t {
    apr_thread_mutex_t *mutex;
    int max;
    apr_pool_t *pools[2]; /* the noting table's, alternately */
    int which;
    apr_hash_t *notes;
    int count;
    apr_int64_t dropped;
    apr_hash_t *windows; /* the taker's */
};

/* Request threads and the taker allocate at the same time: the pools get
 * an allocator of their own, with a mutex, rather than sharing the
 * parent's (httpd's child pool has none). */
static apr_status_t private_pools(apr_pool_t *p, apr_pool_t **out, int n)
{
    apr_allocator_t *a;
    apr_thread_mutex_t *m;
    apr_status_t rv;
    int i;

    if ((rv = apr_allocator_create(&a)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = apr_thread_mutex_create(&m, APR_THREAD_MUTEX_DEFAULT, p)) !=
        APR_SUCCESS) {
        apr_allocator_destroy(a);
        return rv;
    }
    apr_allocator_mutex_set(a, m);
    for (i = 0; i < n; i++) {
        if ((rv = apr_pool_create_ex(&out[i], p, NULL, a)) != APR_SUCCESS) {
            return rv;
        }
        if (i == 0) {
            apr_allocator_owner_set(a, out[0]);
        }
    }
    return APR_SUCCESS;
}

apr_status_t paa_usage_create(apr_pool_t *p, int max, paa_usage_t **out)
{
    paa_usage_t *u = apr_pcalloc(p, sizeof(*u));
    apr_pool_t *pools[3];
    apr_status_t rv;

    if (max < 1) {
        return APR_EINVAL;
    }
    rv = apr_thread_mutex_create(&u->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    u->max = max;
    if ((rv = private_pools(p, pools, 3)) != APR_SUCCESS) {
        return rv;
    }
    u->pools[0] = pools[1];
    u->pools[1] = pools[2];
    u->notes = apr_hash_make(u->pools[0]);
    u->windows = apr_hash_make(pools[0]);
    *out = u;
    return APR_SUCCESS;
}

int paa_usage_note(paa_usage_t *u, const void *owner, const char *key_id,
                   const char *client_ip, apr_int64_t now, int touch)
{
    /* The hash key: the owner's address, the key id, a NUL, the address. */
    char buf[sizeof(void *) + 128];
    const char *ip = client_ip ? client_ip : "";
    apr_size_t kl = strlen(key_id), il = strlen(ip), len;
    note_t *n;
    int full;

    if (sizeof(owner) + kl + 1 + il > sizeof(buf)) {
        return 0; /* ids and addresses are far shorter: not a key of ours */
    }
    memcpy(buf, &owner, sizeof(owner));
    memcpy(buf + sizeof(owner), key_id, kl + 1);
    memcpy(buf + sizeof(owner) + kl + 1, ip, il);
    len = sizeof(owner) + kl + 1 + il;
    if (apr_thread_mutex_lock(u->mutex) != APR_SUCCESS) {
        return 0;
    }
    n = apr_hash_get(u->notes, buf, len);
    if (!n && u->count >= 2 * u->max) {
        u->dropped++;
    }
    else if (!n) {
        apr_pool_t *p = u->pools[u->which];
        n = apr_palloc(p, sizeof(*n));
        n->owner = owner;
        n->key_id = apr_pstrmemdup(p, key_id, kl);
        n->ip = apr_pstrmemdup(p, ip, il);
        n->first = n->last = now;
        n->uses = 1;
        n->touch = touch;
        apr_hash_set(u->notes, apr_pmemdup(p, buf, len), len, n);
        u->count++;
    }
    else {
        n->first = now < n->first ? now : n->first;
        n->last = now > n->last ? now : n->last;
        n->uses++;
        n->touch |= touch;
    }
    full = u->count >= u->max;
    apr_thread_mutex_unlock(u->mutex);
    return full;
}

/* Add what was noted to the open windows; 1 when there are too many. */
static int merge(paa_usage_t *u, apr_pool_t *p, apr_hash_t *notes)
{
    apr_hash_index_t *hi;
    int full = 0;

    for (hi = apr_hash_first(p, notes); hi; hi = apr_hash_next(hi)) {
        const void *k;
        apr_ssize_t klen;
        void *v;
        const note_t *n;
        window_t *w;

        apr_hash_this(hi, &k, &klen, &v);
        n = v;
        w = apr_hash_get(u->windows, k, klen);
        if (!w) {
            w = calloc(1, sizeof(*w) + (apr_size_t)klen);
            if (!w) {
                continue;
            }
            memcpy(w->key, k, (apr_size_t)klen);
            w->klen = (apr_size_t)klen;
            w->owner = n->owner;
            w->key_id = w->key + sizeof(void *);
            w->ip = w->key_id + strlen(w->key_id) + 1;
            /* The address ends the key: the calloc'ed byte after it is
             * its NUL. */
            w->first = n->first;
            w->last = n->last;
            apr_hash_set(u->windows, w->key, klen, w);
        }
        else {
            w->first = n->first < w->first ? n->first : w->first;
            w->last = n->last > w->last ? n->last : w->last;
        }
        w->uses += n->uses;
        w->touch |= n->touch;
    }
    full = (int)apr_hash_count(u->windows) >= u->max;
    return full;
}

static void emit(apr_array_header_t *out, apr_pool_t *p, const window_t *w,
                 apr_int64_t touch_at, int record)
{
    paa_key_use_t *e = apr_array_push(out);
    e->owner = w->owner;
    e->key_id = apr_pstrdup(p, w->key_id);
    e->client_ip = apr_pstrdup(p, w->ip);
    e->first = w->first;
    e->last = w->last;
    e->uses = w->uses;
    e->touch_at = touch_at;
    e->record = record;
}

apr_array_header_t *paa_usage_take(paa_usage_t *u, apr_pool_t *p,
                                   apr_int64_t now, int window, int all,
                                   apr_int64_t *dropped)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(paa_key_use_t));
    apr_hash_t *notes = NULL;
    apr_pool_t *used = NULL;
    apr_hash_index_t *hi;
    apr_int64_t lost = 0;

    if (apr_thread_mutex_lock(u->mutex) == APR_SUCCESS) {
        notes = u->notes;
        used = u->pools[u->which];
        u->which ^= 1;
        u->notes = apr_hash_make(u->pools[u->which]);
        u->count = 0;
        lost = u->dropped;
        u->dropped = 0;
        apr_thread_mutex_unlock(u->mutex);
    }
    if (dropped) {
        *dropped = lost;
    }
    if (notes && merge(u, p, notes)) {
        all = 1;
    }
    if (used) {
        apr_pool_clear(used);
    }
    for (hi = apr_hash_first(p, u->windows); hi; hi = apr_hash_next(hi)) {
        window_t *w = apr_hash_this_val(hi);
        int close = all || now - w->first >= window;
        apr_int64_t touch = 0;

        /* The last-used time: when this process was given the duty
         * (paa_usage_note's touch), and at the window's close when it saw a
         * use later than it wrote, so that no record outdates it. */
        if (w->touch || (close && w->last > w->written)) {
            touch = w->last;
            w->written = w->last;
            w->touch = 0;
        }
        if (touch || close) {
            emit(out, p, w, touch, close);
        }
        if (close) {
            /* Deleting the current entry is safe while iterating. */
            apr_hash_set(u->windows, w->key, (apr_ssize_t)w->klen, NULL);
            free(w);
        }
    }
    return out;
}

int paa_usage_open(paa_usage_t *u)
{
    return (int)apr_hash_count(u->windows);
}
