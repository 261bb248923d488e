/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A fixed-size table of fixed-window counters, laid out in memory that
 * every httpd child maps (offsets only, no pointers). Each hit runs under
 * the table's own lock, so the count is exact: no window ever accepts
 * more than the limit. The table is open-addressed over a short neighbourhood;
 * when that is full, the entry whose window ends first is evicted (its
 * client starts a fresh window early), so memory stays bounded whatever
 * the number of clients. */

#include "paa.h"

#include <apr_atomic.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#define PAA_RL_PROBES 16
/* Spins before yielding, and yields before asking whether the holder is
 * still alive (a child killed while holding the lock must not stop every
 * other process). */
#define PAA_RL_SPINS               128
#define PAA_RL_YIELDS_BEFORE_CHECK 2000

typedef struct {
    apr_uint64_t key;   /* 0: empty */
    apr_uint32_t start; /* Unix second the window began */
    apr_uint32_t window;
    apr_uint32_t count;
    apr_uint32_t refused; /* refusals in this window */
} rl_entry_t;

typedef struct {
    apr_uint32_t slots;
    volatile apr_uint32_t lock; /* 0, or the pid of the holder */
} rl_header_t;

apr_size_t paa_rl_size(apr_uint32_t slots)
{
    return sizeof(rl_header_t) + (apr_size_t)slots * sizeof(rl_entry_t);
}

void paa_rl_init(void *mem, apr_uint32_t slots)
{
    rl_header_t *h = mem;
    memset(mem, 0, paa_rl_size(slots));
    h->slots = slots;
}

/* The critical section is a handful of loads and stores, so a spinlock in
 * the segment itself is far cheaper than a kernel-backed mutex: every
 * limited request takes it, often from many threads at once. */
static void rl_lock(rl_header_t *h)
{
    apr_uint32_t me = (apr_uint32_t)getpid(), holder;
    unsigned int spins = 0, yields = 0;

    for (;;) {
        holder = apr_atomic_read32(&h->lock);
        if (holder == 0 && apr_atomic_cas32(&h->lock, me, 0) == 0) {
            return;
        }
        if (++spins < PAA_RL_SPINS) {
            continue;
        }
        spins = 0;
        sched_yield();
        if (++yields >= PAA_RL_YIELDS_BEFORE_CHECK) {
            yields = 0;
            if (holder && holder != me && kill((pid_t)holder, 0) != 0 &&
                errno == ESRCH) {
                /* The holder died in its critical section: take over. */
                apr_atomic_cas32(&h->lock, 0, holder);
            }
        }
    }
}

static void rl_unlock(rl_header_t *h)
{
    apr_atomic_set32(&h->lock, 0);
}

static void rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                   apr_uint32_t limit, apr_uint32_t window,
                   paa_rl_result_t *res)
{
    rl_header_t *h = mem;
    rl_entry_t *t = (rl_entry_t *)(h + 1), *e = NULL, *free_slot = NULL;
    rl_entry_t *oldest = NULL;
    apr_uint32_t i, n = h->slots < PAA_RL_PROBES ? h->slots : PAA_RL_PROBES;

    if (key == 0) {
        key = 1; /* 0 marks an empty slot */
    }
    /* Entries are never deleted, only reused, so the whole neighbourhood
     * is searched before a slot is taken. */
    for (i = 0; i < n && !e; i++) {
        rl_entry_t *c = &t[(key + i) % h->slots];
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
        e->key = key;
        e->window = 0; /* forces a fresh window below */
    }
    if (now >= e->start + e->window || e->window != window) {
        e->start = now;
        e->window = window;
        e->count = 0;
        e->refused = 0;
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

void paa_rl_hit(void *mem, apr_uint64_t key, apr_uint32_t now,
                apr_uint32_t limit, apr_uint32_t window, paa_rl_result_t *res)
{
    rl_header_t *h = mem;
    rl_lock(h);
    rl_hit(mem, key, now, limit, window, res);
    rl_unlock(h);
}
