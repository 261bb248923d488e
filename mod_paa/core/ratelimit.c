/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A fixed-size table of fixed-window counters, laid out in memory that
 * every httpd child maps (offsets only, no pointers). The table is cut
 * into stripes, up to 64, each with its own lock, and a key lives in one
 * stripe: each hit runs under its stripe's lock, so the count is exact (no
 * window ever accepts more than the limit), while hits of keys in other
 * stripes go on at once on other CPUs. With one lock for the whole table,
 * two threads hitting different keys took 100 ns a hit each where one
 * took 19 (tests/tools/rl_bench). Within its stripe a key is looked up
 * over a short neighbourhood; when that is full, the entry whose window
 * ends first is evicted (its client starts a fresh window early), so
 * memory stays bounded whatever the number of clients.
 *
 * A lock is a process-shared robust pthread mutex in the segment itself,
 * not httpd's Mutex machinery: every limited request takes one, and httpd's
 * global mutex (a thread mutex plus a process lock, often a file or a
 * semaphore) cost about 10% of throughput on a trivial handler, while this
 * one stays in user space (one atomic instruction each way) when nobody
 * else holds it and sleeps in the kernel, not spinning, when someone does.
 * Robust: when a process dies holding it, the kernel hands it to the next taker
 * with EOWNERDEAD as the holder exits, so neither a pid reused by then nor a
 * holder that is a zombie can keep it taken (a home-made pid-owned spinlock
 * could spin forever on both). */

#include "paa.h"
#include "ratelimit_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define PAA_RL_PROBES      16
#define PAA_RL_MAX_STRIPES 64
/* A stripe keeps at least this many entries, four neighbourhoods, so that
 * a small table is not cut into stripes that evict sooner than it would. */
#define PAA_RL_STRIPE_MIN (4 * PAA_RL_PROBES)
#define PAA_RL_HEAD       APR_ALIGN(sizeof(paa_rl_header_t), 64)
/* The memory given may start anywhere (apr_shm's base is 8 bytes into its
 * mapping): the table starts at its first 64-byte boundary. */
#define PAA_RL_SLACK 64

/* A process may die between any two stores of an update (SIGKILL, the OOM
 * killer, a crash) and the next holder then works on what it left, so the
 * compiler must keep the stores of rl_start() in program order. Only the
 * compiler matters: every store a dead process made is visible to whoever
 * takes the lock after it, and nobody else reads the stripe meanwhile. */
#define RL_STORE_ORDER() atomic_signal_fence(memory_order_seq_cst)

static apr_uint32_t stripes_for(apr_uint32_t slots)
{
    apr_uint32_t n = 1;
    while (n < PAA_RL_MAX_STRIPES && slots / (n * 2) >= PAA_RL_STRIPE_MIN) {
        n *= 2;
    }
    return n;
}

static void *rl_base(void *mem)
{
    return (void *)APR_ALIGN((apr_uintptr_t)mem, 64);
}

static paa_rl_stripe_t *stripe_locks(void *mem)
{
    return (paa_rl_stripe_t *)((char *)mem + PAA_RL_HEAD);
}

/* The stripe of key: its high half (the table's index within a stripe
 * comes from the low half). */
static apr_uint32_t stripe_of(const paa_rl_header_t *h, apr_uint64_t key)
{
    return (apr_uint32_t)(key >> 32) & (h->stripes - 1);
}

/* Stripe i's entries, and how many. */
static paa_rl_entry_t *stripe_entries(void *mem, apr_uint32_t i,
                                      apr_uint32_t *n)
{
    paa_rl_header_t *h = mem;
    paa_rl_entry_t *t = (paa_rl_entry_t *)(stripe_locks(mem) + h->stripes);

    *n = i == h->stripes - 1 ? h->slots - i * h->per : h->per;
    return t + (apr_size_t)i * h->per;
}

static apr_size_t layout_size(apr_uint32_t slots)
{
    return PAA_RL_HEAD + stripes_for(slots) * sizeof(paa_rl_stripe_t) +
           (apr_size_t)slots * sizeof(paa_rl_entry_t);
}

apr_size_t paa_rl_size(apr_uint32_t slots)
{
    return PAA_RL_SLACK + layout_size(slots);
}

apr_status_t paa_rl_init(void *mem, apr_uint32_t slots)
{
    paa_rl_header_t *h = mem = rl_base(mem);
    pthread_mutexattr_t attr;
    apr_uint32_t i;
    int rc;

    memset(mem, 0, layout_size(slots));
    h->slots = slots;
    h->stripes = stripes_for(slots);
    h->per = slots / h->stripes;
    rc = pthread_mutexattr_init(&attr);
    if (rc != 0) {
        return APR_FROM_OS_ERROR(rc);
    }
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    for (i = 0; rc == 0 && i < h->stripes; i++) {
        rc = pthread_mutex_init(&stripe_locks(mem)[i].lock, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    return rc == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(rc);
}

pthread_mutex_t *paa_rl_mutex(void *mem, apr_uint64_t key)
{
    mem = rl_base(mem);
    return &stripe_locks(mem)[stripe_of(mem, key)].lock;
}

static apr_status_t lock_stripe(pthread_mutex_t *m, int *recovered)
{
    int rc = pthread_mutex_lock(m);

    *recovered = 0;
    if (rc == EOWNERDEAD) {
        /* The holder died in its critical section. What it left is a state
         * the stripe reaches anyway (see rl_start), so it is usable as it
         * is: say so, or unlocking would leave the mutex unusable for
         * everyone (ENOTRECOVERABLE). */
        rc = pthread_mutex_consistent(m);
        if (rc != 0) {
            pthread_mutex_unlock(m);
            return APR_FROM_OS_ERROR(rc);
        }
        *recovered = 1;
    }
    /* ENOTRECOVERABLE only follows a taker that unlocked without making the
     * mutex consistent, which lock_stripe never does: it is a bug or memory
     * corruption. Re-initialising a mutex that other processes may be
     * waiting on is undefined, so the caller fails closed instead (for the
     * keys of this stripe), until a new table is formatted (a restart). */
    return rc == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(rc);
}

apr_status_t paa_rl_lock(void *mem, apr_uint64_t key, int *recovered)
{
    return lock_stripe(paa_rl_mutex(mem, key), recovered);
}

void paa_rl_unlock(void *mem, apr_uint64_t key)
{
    pthread_mutex_unlock(paa_rl_mutex(mem, key));
}

/* (Re)start e as key's window. The key is cleared first and written last,
 * so a process dying half-way leaves the old entry, an empty slot (what an
 * eviction leaves: the old client starts a new window early, which the
 * table does by design) or the new entry, never a mix such as the new key
 * with the old client's count, which would refuse the new client early. A
 * key torn in two stores (32-bit builds) matches no client and expires
 * with its window. A counter is one aligned store, done or not. */
static void rl_start(paa_rl_entry_t *e, apr_uint64_t key, apr_uint32_t now,
                     apr_uint32_t window)
{
    e->key = 0;
    RL_STORE_ORDER();
    e->start = now;
    e->window = window;
    e->count = 0;
    e->refused = 0;
    RL_STORE_ORDER();
    e->key = key;
}

static void rl_hit(paa_rl_entry_t *t, apr_uint32_t slots, apr_uint64_t key,
                   apr_uint32_t now, apr_uint32_t limit, apr_uint32_t window,
                   paa_rl_result_t *res)
{
    paa_rl_entry_t *e = NULL, *free_slot = NULL, *oldest = NULL;
    apr_uint32_t i, n = slots < PAA_RL_PROBES ? slots : PAA_RL_PROBES;

    /* Entries are never deleted, only reused, so the whole neighbourhood
     * is searched before a slot is taken. */
    for (i = 0; i < n && !e; i++) {
        paa_rl_entry_t *c = &t[(key + i) % slots];
        if (c->key == key) {
            e = c;
        }
        else if (c->key == 0 || now >= c->start + c->window) {
            free_slot = free_slot ? free_slot : c;
        }
        else if (!oldest ||
                 c->start + c->window < oldest->start + oldest->window) {
            oldest = c;
        }
    }
    if (!e) {
        e = free_slot ? free_slot : oldest;
        rl_start(e, key, now, window);
    }
    else if (now >= e->start + e->window || e->window != window) {
        rl_start(e, key, now, window);
    }
    res->reset = e->start + e->window - now;
    if (e->count < limit) {
        e->count++;
        res->allowed = 1;
        res->first_refusal = 0;
    }
    else {
        res->allowed = 0;
        res->first_refusal = e->refused++ == 0;
    }
    res->remaining = limit - e->count;
}

apr_status_t paa_rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                        apr_uint32_t limit, apr_uint32_t window,
                        paa_rl_result_t *res)
{
    apr_uint32_t s, n;
    pthread_mutex_t *m;
    paa_rl_entry_t *t;
    int recovered;
    apr_status_t rv;

    if (key == 0) {
        key = 1; /* 0 marks an empty slot */
    }
    mem = rl_base(mem);
    s = stripe_of(mem, key);
    m = &stripe_locks(mem)[s].lock;
    rv = lock_stripe(m, &recovered);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    t = stripe_entries(mem, s, &n);
    rl_hit(t, n, key, now, limit, window, res);
    pthread_mutex_unlock(m);
    res->recovered = recovered;
    res->lease = res->lease_ms = 0;
    res->window_ends = 0;
    return APR_SUCCESS;
}

/* Each stripe under its own lock, so that no entry is seen half-written
 * (rl_start() clears the key first, and a racy reader could count a slot
 * twice or not at all while it moves); the sum is each stripe's count at
 * its moment. One pass over the table (16384 entries by default, some
 * tens of microseconds), taken only by a status page, never per request. */
apr_status_t paa_rl_usage(void *mem, apr_uint32_t now, apr_uint32_t *used,
                          apr_uint32_t *total)
{
    paa_rl_header_t *h = mem = rl_base(mem);
    apr_uint32_t s, i, n, live = 0;
    int recovered;
    apr_status_t rv;

    for (s = 0; s < h->stripes; s++) {
        const paa_rl_entry_t *t = stripe_entries(mem, s, &n);
        pthread_mutex_t *m = &stripe_locks(mem)[s].lock;

        rv = lock_stripe(m, &recovered);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n; i++) {
            if (t[i].key != 0 && now < t[i].start + t[i].window) {
                live++;
            }
        }
        pthread_mutex_unlock(m);
    }
    *total = h->slots;
    *used = live;
    return APR_SUCCESS;
}
