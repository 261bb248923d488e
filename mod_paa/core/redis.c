/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimitStore redis://: the counters of a cluster of httpd nodes in
 * one Redis, so that a limit holds for the cluster and not per node. Each
 * decision is a Lua script that counts and expires the key atomically
 * (Redis runs scripts one at a time), so two nodes can never both take the
 * last request of a window. Windows end when Redis expires the counter, on
 * Redis's clock, not the node's: they then start and end at the same
 * moment for every node whatever their clocks say.
 *
 * Round trips, not scripts, are most of what a decision costs (a system
 * call or more each way on both sides, a wake-up in Redis and in httpd),
 * so the threads of a process share a connection through a pipe: while
 * one round trip is in flight the decisions that come are queued, and the
 * next one carries them all, written at once and answered in order.
 *
 * The script is sent once per connection (SCRIPT LOAD) and then called by
 * its digest (EVALSHA); a Redis that lost it (SCRIPT FLUSH, a restart
 * behind a proxy) answers NOSCRIPT and gets the whole script (EVAL), which
 * caches it again.
 *
 * A request must never hang on Redis: a hit, connecting included, has
 * the timeout for all it sends, and a failed connection waits out a backoff
 * before trying again, answering "unavailable" at once meanwhile so the
 * caller can fall back (or refuse) without waiting. */

#include "paa.h"

#include <apr_strings.h>
#include <hiredis/hiredis.h>

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAA_REDIS_BACKOFF_MIN apr_time_from_msec(50)
#define PAA_REDIS_BACKOFF_MAX apr_time_from_sec(1)

/* KEYS[1] the counter, named after the caller's key and the window's
 * length (a changed window is another counter, so it starts afresh); ARGV
 * limit, window (s). Returns allowed, remaining, reset (s), first refusal
 * of the window: what paa_rl_hit() tells. The counter is a plain integer
 * that expires with its window, on Redis's clock: the first request of a
 * window creates it, every request adds one (refused ones too: the one
 * that makes it limit + 1 is the first refusal), and when it expires the
 * next request starts a new window. Two calls a decision (INCR, PTTL),
 * not more: inside Redis, each call is a good part of a pipelined
 * decision's cost. */
static const char rl_script[] =
    "local c = redis.call('INCR', KEYS[1])\n"
    "local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local cap = tonumber(ARGV[3]) or 0\n"
    "local from, share = tonumber(ARGV[4]) or 1, tonumber(ARGV[5]) or 1\n"
    "local ttl = -1\n"
    "if c > 1 then ttl = redis.call('PTTL', KEYS[1]) end\n"
    "if ttl < 0 then\n"
    "  redis.call('PEXPIRE', KEYS[1], window * 1000)\n"
    "  ttl = window * 1000\n"
    "end\n"
    "local lease = 0\n"
    "if cap > 0 and limit - c >= from then\n"
    "  lease = math.min(cap, math.floor((limit - c) / share))\n"
    "  redis.call('INCRBY', KEYS[1], lease)\n"
    "end\n"
    "local rem = limit - c - lease\n"
    "if rem < 0 then rem = 0 end\n"
    "local t = redis.call('TIME')\n"
    "local ends = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
    " + ttl\n"
    "return {c <= limit and 1 or 0, rem, math.ceil(ttl / 1000),\n"
    "        c == limit + 1 and 1 or 0, lease, ttl, ends}\n";

struct paa_redis_t {
    redisContext *ctx; /* NULL: not connected */
    char *host;
    char *user;
    char *password;
    int port;
    int db;
    apr_interval_time_t timeout;
    apr_time_t deadline;       /* of the batch under way: its earliest */
    apr_interval_time_t on_fd; /* the socket's timeout now */
    char sha[41];              /* the script's digest once loaded, "" before */
    apr_time_t next_try;
    apr_time_t backoff;
    apr_uint64_t commands;
    int peer_gone; /* the last failure: the server had closed the socket */
    int bad;       /* a reply of this batch made no sense: drop afterwards */
    char errbuf[160];
};

/* One decision of a batch: what to ask, by when, and the answer. */
typedef struct {
    char *key; /* malloc'd: the caller's key, ":", the window */
    char lim[12];
    char win[12];
    char cap[12]; /* the lease asked for (paa_redis_lease_t); cap "0": none */
    char from[12];
    char share[12];
    apr_time_t deadline;
    apr_status_t rv; /* APR_EINCOMPLETE until answered */
    paa_rl_result_t res;
    int sent;     /* in the round under way */
    int noscript; /* Redis lacked the script: send it whole (EVAL) */
    char err[160];
} rl_item_t;

static void rl_disconnect(paa_redis_t *c, const char *why)
{
    apr_time_t now = apr_time_now();

    if (why) {
        apr_cpystrn(c->errbuf, why, sizeof(c->errbuf));
    }
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    c->sha[0] = '\0';
    c->backoff = c->backoff ? c->backoff * 2 : PAA_REDIS_BACKOFF_MIN;
    if (c->backoff > PAA_REDIS_BACKOFF_MAX) {
        c->backoff = PAA_REDIS_BACKOFF_MAX;
    }
    c->next_try = now + c->backoff;
}

static struct timeval rl_tv(apr_interval_time_t t)
{
    struct timeval tv;
    tv.tv_sec = (long)apr_time_sec(t);
    tv.tv_usec = (long)apr_time_usec(t);
    return tv;
}

/* What is left of the batch's time; 0 when it is over. */
static apr_interval_time_t rl_left(const paa_redis_t *c)
{
    apr_interval_time_t left = c->deadline - apr_time_now();
    return left > 0 ? left : 0;
}

/* Before anything is sent or awaited: the socket may wait at most what is
 * left of the batch's time. Changing it costs two system calls, so it is
 * left alone while it is at most a millisecond too long or an eighth too
 * short (a batch's earliest deadline moves with how long its oldest
 * decision queued; a socket a little too short gives up a little early,
 * which is never later than promised). 0, the connection dropped, when the
 * time is over or the timeout cannot be set. */
static int rl_set_timeout(paa_redis_t *c)
{
    apr_interval_time_t left = rl_left(c);

    if (left == 0) {
        rl_disconnect(c, "timed out");
        return 0;
    }
    if (c->on_fd == 0 || c->on_fd > left + apr_time_from_msec(1) ||
        c->on_fd < left - left / 8) {
        if (redisSetTimeout(c->ctx, rl_tv(left)) != REDIS_OK) {
            rl_disconnect(c, "cannot set the command timeout");
            return 0;
        }
        c->on_fd = left;
    }
    return 1;
}

/* The next reply (to free), or NULL with the connection dropped. A reply
 * that came with an earlier one's read costs no system call. */
static redisReply *rl_get(paa_redis_t *c)
{
    void *rep = NULL;

    c->peer_gone = 0;
    if (redisReaderGetReply(c->ctx->reader, &rep) != REDIS_OK) {
        rl_disconnect(c, "protocol error");
        return NULL;
    }
    if (rep) {
        return rep;
    }
    if (!rl_set_timeout(c)) {
        return NULL;
    }
    errno = 0;
    if (redisGetReply(c->ctx, &rep) != REDIS_OK || !rep) {
        c->peer_gone = c->ctx->err == REDIS_ERR_EOF ||
                       (c->ctx->err == REDIS_ERR_IO &&
                        (errno == ECONNRESET || errno == EPIPE));
        /* A timeout leaves the reply in flight: the connection is out of
         * step and must not be reused. */
        rl_disconnect(c, c->ctx->errstr[0] ? c->ctx->errstr : "no reply");
        return NULL;
    }
    return rep;
}

/* Send argv and wait for its reply (to free), or NULL with the connection
 * dropped: a new connection's AUTH, SELECT and SCRIPT LOAD, each waiting
 * only for what is left of the batch's time. */
static redisReply *rl_command(paa_redis_t *c, int argc, const char **argv)
{
    c->peer_gone = 0;
    if (!rl_set_timeout(c)) {
        return NULL;
    }
    if (redisAppendCommandArgv(c->ctx, argc, argv, NULL) != REDIS_OK) {
        rl_disconnect(c, "out of memory");
        return NULL;
    }
    c->commands++;
    return rl_get(c);
}

/* One command whose only interesting answer is "not an error". */
static apr_status_t rl_simple(paa_redis_t *c, int argc, const char **argv,
                              const char *what)
{
    redisReply *rep = rl_command(c, argc, argv);

    if (!rep) {
        return APR_EGENERAL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        freeReplyObject(rep);
        rl_disconnect(c, what);
        return APR_EGENERAL;
    }
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        memcpy(c->sha, rep->str, 40);
        c->sha[40] = '\0';
    }
    freeReplyObject(rep);
    return APR_SUCCESS;
}

static apr_status_t rl_connect(paa_redis_t *c)
{
    char db[16];
    const char *auth[3] = {"AUTH", NULL, NULL};
    const char *sel[2] = {"SELECT", db};
    const char *load[3] = {"SCRIPT", "LOAD", rl_script};

    if (rl_left(c) == 0) {
        rl_disconnect(c, "timed out");
        return APR_EGENERAL;
    }
    c->ctx = redisConnectWithTimeout(c->host, c->port, rl_tv(rl_left(c)));
    if (!c->ctx || c->ctx->err) {
        rl_disconnect(c, c->ctx ? c->ctx->errstr : "out of memory");
        return APR_EGENERAL;
    }
    c->on_fd = 0; /* none yet: the first command sets it */
    if (c->password) {
        /* The reply to a wrong password is not repeated: it may quote. */
        auth[1] = c->user ? c->user : c->password;
        auth[2] = c->user ? c->password : NULL;
        if (rl_simple(c, c->user ? 3 : 2, auth, "AUTH refused") !=
            APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (c->db) {
        apr_snprintf(db, sizeof(db), "%d", c->db);
        if (rl_simple(c, 2, sel, "SELECT refused") != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (rl_simple(c, 3, load, "SCRIPT LOAD refused") != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The script's answer as a result; 0 when it is not one. */
static int rl_reply(const redisReply *rep, paa_rl_result_t *res)
{
    size_t i;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7) {
        return 0;
    }
    for (i = 0; i < 7; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER ||
            rep->element[i]->integer < 0) {
            return 0;
        }
    }
    res->allowed = rep->element[0]->integer == 1;
    res->remaining = (apr_uint32_t)rep->element[1]->integer;
    res->reset = (apr_uint32_t)rep->element[2]->integer;
    res->first_refusal = rep->element[3]->integer == 1;
    res->recovered = 0;
    res->lease = (apr_uint32_t)rep->element[4]->integer;
    res->lease_ms = (apr_uint32_t)rep->element[5]->integer;
    res->window_ends = (apr_int64_t)rep->element[6]->integer;
    return 1;
}

/* The decisions still unanswered fail with rv and the connection's why. */
static void rl_fail(paa_redis_t *c, rl_item_t **items, int n, apr_status_t rv)
{
    int i;

    for (i = 0; i < n; i++) {
        items[i]->sent = 0;
        if (items[i]->rv == APR_EINCOMPLETE) {
            items[i]->rv = rv;
            apr_cpystrn(items[i]->err, c->errbuf, sizeof(items[i]->err));
        }
    }
}

/* One round trip for every unanswered decision: all written at once
 * (pipelined), then the answers read in order. Each is still one script,
 * atomic in Redis. *again: some met NOSCRIPT and want another round.
 * 0 when the connection failed (the unanswered keep APR_EINCOMPLETE). */
static int rl_round(paa_redis_t *c, rl_item_t **items, int n, int *again)
{
    const char *argv[9];
    redisReply *rep;
    rl_item_t *it;
    int i, eval;

    *again = 0;
    if (!rl_set_timeout(c)) {
        return 0;
    }
    argv[2] = "1";
    for (i = 0; i < n; i++) {
        it = items[i];
        if (it->rv != APR_EINCOMPLETE) {
            continue;
        }
        eval = it->noscript || !c->sha[0];
        argv[0] = eval ? "EVAL" : "EVALSHA";
        argv[1] = eval ? rl_script : c->sha;
        argv[3] = it->key;
        argv[4] = it->lim;
        argv[5] = it->win;
        argv[6] = it->cap;
        argv[7] = it->from;
        argv[8] = it->share;
        if (redisAppendCommandArgv(c->ctx, 9, argv, NULL) != REDIS_OK) {
            rl_disconnect(c, "out of memory");
            return 0;
        }
        it->sent = 1;
        c->commands++;
    }
    for (i = 0; i < n; i++) {
        it = items[i];
        if (!it->sent) {
            continue;
        }
        if (!(rep = rl_get(c))) {
            return 0;
        }
        it->sent = 0;
        if (!it->noscript && rep->type == REDIS_REPLY_ERROR &&
            strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            it->noscript = *again = 1;
        }
        else if (rl_reply(rep, &it->res)) {
            it->rv = APR_SUCCESS;
        }
        else {
            apr_snprintf(it->err, sizeof(it->err), "unexpected reply%s%.100s",
                         rep->type == REDIS_REPLY_ERROR ? ": " : "",
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "");
            apr_cpystrn(c->errbuf, it->err, sizeof(c->errbuf));
            it->rv = APR_EGENERAL;
            c->bad = 1;
        }
        freeReplyObject(rep);
    }
    return 1;
}

/* Rounds until every decision is answered: a second one for those whose
 * script Redis had lost (EVAL caches it again). */
static int rl_rounds(paa_redis_t *c, rl_item_t **items, int n)
{
    int again = 0;

    if (!rl_round(c, items, n, &again)) {
        return 0;
    }
    return again ? rl_round(c, items, n, &again) : 1;
}

/* Decide n decisions on c: each gets rv, res or err. The batch has the
 * time of its earliest deadline, for all it sends. */
static void rl_batch(paa_redis_t *c, rl_item_t **items, int n)
{
    int i, pending = 0, fresh = !c->ctx;
    apr_time_t now = apr_time_now();

    /* A decision whose time is over (it queued that long) fails without
     * costing the others theirs, or the connection. */
    for (i = 0; i < n; i++) {
        if (items[i]->deadline <= now) {
            items[i]->rv = APR_TIMEUP;
            apr_cpystrn(items[i]->err, "timed out waiting for a connection",
                        sizeof(items[i]->err));
        }
        else if (!pending++ || items[i]->deadline < c->deadline) {
            c->deadline = items[i]->deadline;
        }
    }
    if (!pending) {
        return;
    }
    c->bad = c->peer_gone = 0;
    if (!c->ctx) {
        if (apr_time_now() < c->next_try) {
            rl_fail(c, items, n, APR_EAGAIN);
            return;
        }
        if (rl_connect(c) != APR_SUCCESS) {
            rl_fail(c, items, n, APR_EGENERAL);
            return;
        }
    }
    if (!rl_rounds(c, items, n) && !fresh && c->peer_gone) {
        /* An idle connection whose server went away meanwhile (a restart,
         * a proxy's idle timeout): that says nothing about the server now,
         * so one new connection is tried at once for the decisions still
         * unanswered. Their scripts had not run (nobody read them); at
         * worst, a server that ran one and then closed the socket counts
         * that request twice, which refuses, never grants, more. */
        c->backoff = 0;
        for (i = 0; i < n; i++) {
            items[i]->sent = 0;
        }
        if (rl_connect(c) == APR_SUCCESS) {
            rl_rounds(c, items, n);
        }
    }
    rl_fail(c, items, n, APR_EGENERAL);
    if (c->bad) {
        rl_disconnect(c, NULL);
    }
    else if (c->ctx) {
        c->backoff = 0;
    }
}

/* 0 without memory. */
static int rl_item_init(rl_item_t *it, const char *key, apr_uint32_t limit,
                        apr_uint32_t window, const paa_redis_lease_t *lease,
                        apr_interval_time_t timeout)
{
    size_t len = strlen(key);

    apr_snprintf(it->lim, sizeof(it->lim), "%u", limit);
    apr_snprintf(it->win, sizeof(it->win), "%u", window);
    apr_snprintf(it->cap, sizeof(it->cap), "%u",
                 lease && lease->share ? lease->cap : 0);
    apr_snprintf(it->from, sizeof(it->from), "%u", lease ? lease->from : 0);
    apr_snprintf(it->share, sizeof(it->share), "%u",
                 lease && lease->share ? lease->share : 1);
    it->key = malloc(len + 1 + strlen(it->win) + 1);
    if (!it->key) {
        return 0;
    }
    memcpy(it->key, key, len);
    it->key[len] = ':';
    strcpy(it->key + len + 1, it->win);
    it->deadline = apr_time_now() + timeout;
    it->rv = APR_EINCOMPLETE;
    it->sent = it->noscript = 0;
    it->err[0] = '\0';
    return 1;
}

apr_status_t paa_redis_rl_hit(paa_redis_t *c, const char *key,
                              apr_uint32_t limit, apr_uint32_t window,
                              paa_rl_result_t *res, const char **err)
{
    rl_item_t it, *items[1] = {&it};

    if (!rl_item_init(&it, key, limit, window, NULL, c->timeout)) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    rl_batch(c, items, 1);
    free(it.key);
    if (it.rv != APR_SUCCESS && it.err[0]) {
        apr_cpystrn(c->errbuf, it.err, sizeof(c->errbuf));
    }
    *err = it.rv == APR_SUCCESS ? NULL : c->errbuf;
    if (it.rv == APR_SUCCESS) {
        *res = it.res;
    }
    return it.rv;
}

paa_redis_t *paa_redis_create(const paa_redis_url_t *u, int timeout_ms)
{
    paa_redis_t *c = calloc(1, sizeof(*c));

    if (!c) {
        return NULL;
    }
    c->host = strdup(u->host);
    c->user = u->user ? strdup(u->user) : NULL;
    c->password = u->password ? strdup(u->password) : NULL;
    if (!c->host || (u->user && !c->user) || (u->password && !c->password)) {
        paa_redis_destroy(c);
        return NULL;
    }
    c->port = u->port;
    c->db = u->db;
    c->timeout = apr_time_from_msec(timeout_ms);
    return c;
}

void paa_redis_destroy(paa_redis_t *c)
{
    if (!c) {
        return;
    }
    if (c->ctx) {
        redisFree(c->ctx);
    }
    if (c->password) {
        paa_wipe(c->password, strlen(c->password));
    }
    free(c->host);
    free(c->user);
    free(c->password);
    free(c);
}

apr_uint64_t paa_redis_commands(const paa_redis_t *c)
{
    return c->commands;
}

/* ---------------------------------------------------------------- pipe */

#define PIPE_BATCH_MAX 64
/* Batches one leader carries before it hands over: the second comes at no
 * wake-up (see pipe_lead). */
#define PIPE_LEAD_ROUNDS 2

/* A waiter's state: its thread sleeps on it (a futex) until it changes.
 * QUEUED and LEAD only change under the pipe's mutex; DONE is the last
 * change, after which the leader no longer reads the waiter. */
enum { W_QUEUED, W_LEAD, W_TAKEN, W_DONE };

typedef struct rl_waiter rl_waiter_t;
struct rl_waiter {
    rl_item_t item;
    int state;
    rl_waiter_t *next;
};

struct paa_redis_pipe_t {
    pthread_mutex_t mutex;
    rl_waiter_t *head, *tail; /* queued: no connection free when they came */
    paa_redis_t **conns;
    paa_redis_t **idle;
    int nconns, nidle;
    apr_uint64_t rounds, decisions;
};

/* Waits are futexes on the waiter's state word, woken after the mutex is
 * released: a condition variable would have to be signalled under the
 * mutex (its waiter may otherwise return and destroy it first), and each
 * waiter it wakes would then block on that mutex, a second sleep and
 * wake-up per decision. A futex wake that comes after its waiter returned
 * (the state already final) finds nobody or, on reused memory, causes a
 * spurious wake-up, which every futex user tolerates. */
static void pipe_sleep(int *state, int seen, const struct timespec *until)
{
    /* FUTEX_WAIT_BITSET: an absolute deadline, on the realtime clock
     * as apr_time_now() */
    syscall(SYS_futex, state,
            FUTEX_WAIT_BITSET_PRIVATE | (until ? FUTEX_CLOCK_REALTIME : 0),
            seen, until, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void pipe_wake(int *state)
{
    syscall(SYS_futex, state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* With the mutex held: the queue's head, up to a batch, taken. */
static int pipe_take(paa_redis_pipe_t *p, rl_waiter_t **batch,
                     rl_item_t **items)
{
    int n = 0;

    while (p->head && n < PIPE_BATCH_MAX) {
        batch[n] = p->head;
        items[n] = &p->head->item;
        __atomic_store_n(&p->head->state, W_TAKEN, __ATOMIC_RELAXED);
        p->head = p->head->next;
        n++;
    }
    if (!p->head) {
        p->tail = NULL;
    }
    p->rounds++;
    p->decisions += (apr_uint64_t)n;
    return n;
}

/* With the mutex held and a connection idle: the queue's head, if any, is
 * woken to lead (under the mutex, so that it cannot leave the queue and
 * return before its wake-up). */
static void pipe_hand_over(paa_redis_pipe_t *p)
{
    if (p->head && p->nidle > 0) {
        __atomic_store_n(&p->head->state, W_LEAD, __ATOMIC_RELAXED);
        pipe_wake(&p->head->state);
    }
}

/* With the mutex held, a connection idle and someone queued: decide the
 * queue's head (up to a batch) on that connection without the mutex, then
 * wake each decision's thread. If more queued meanwhile, the leader sends
 * them too before it hands over: it is awake, whereas the next in the queue
 * would need a wake-up to lead and another when its answers come. After
 * PIPE_LEAD_ROUNDS the next in the queue leads, so that the leader's own
 * request does not wait for ever. Returns with the mutex held. */
static void pipe_lead(paa_redis_pipe_t *p)
{
    rl_waiter_t *batch[PIPE_BATCH_MAX];
    rl_item_t *items[PIPE_BATCH_MAX];
    paa_redis_t *c = p->idle[--p->nidle];
    int n, i, round;

    n = pipe_take(p, batch, items);
    for (round = 1;; round++) {
        pthread_mutex_unlock(&p->mutex);
        rl_batch(c, items, n);
        for (i = 0; i < n; i++) {
            /* release: the answer is visible to whoever sees DONE */
            __atomic_store_n(&batch[i]->state, W_DONE, __ATOMIC_RELEASE);
            pipe_wake(&batch[i]->state);
        }
        pthread_mutex_lock(&p->mutex);
        if (!p->head || round == PIPE_LEAD_ROUNDS) {
            break;
        }
        n = pipe_take(p, batch, items);
    }
    p->idle[p->nidle++] = c;
    pipe_hand_over(p);
}

/* A queued waiter whose time is over leaves the queue. */
static void pipe_unlink(paa_redis_pipe_t *p, rl_waiter_t *w)
{
    rl_waiter_t **pp = &p->head, *prev = NULL;

    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = w->next;
        if (p->tail == w) {
            p->tail = prev;
        }
    }
}

apr_status_t paa_redis_pipe_hit(paa_redis_pipe_t *p, const char *key,
                                apr_uint32_t limit, apr_uint32_t window,
                                const paa_redis_lease_t *lease, int timeout_ms,
                                paa_rl_result_t *res, apr_pool_t *pool,
                                const char **err)
{
    rl_waiter_t w;
    struct timespec until;
    int st, locked = 1;

    if (!rl_item_init(&w.item, key, limit, window, lease,
                      apr_time_from_msec(timeout_ms))) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    until.tv_sec = (time_t)apr_time_sec(w.item.deadline);
    until.tv_nsec = (long)apr_time_usec(w.item.deadline) * 1000;
    w.state = W_QUEUED;
    w.next = NULL;
    pthread_mutex_lock(&p->mutex);
    if (p->tail) {
        p->tail->next = &w;
    }
    else {
        p->head = &w;
    }
    p->tail = &w;
    while ((st = __atomic_load_n(&w.state, __ATOMIC_ACQUIRE)) != W_DONE) {
        if (st != W_TAKEN && apr_time_now() >= w.item.deadline) {
            /* Every connection busy past this decision's deadline (a
             * leader's batch may have started with a later one). */
            pipe_unlink(p, &w);
            w.item.rv = APR_TIMEUP;
            apr_cpystrn(w.item.err, "timed out waiting for a connection",
                        sizeof(w.item.err));
            pipe_hand_over(p); /* in case it was to lead */
            break;
        }
        if (st != W_TAKEN && p->nidle > 0) {
            pipe_lead(p);
            continue;
        }
        if (st == W_LEAD) {
            /* Asked to lead, but another took the connection first: the
             * next hand-over must change the state, or its wake-up could
             * come before this sleep and be missed. */
            st = W_QUEUED;
            __atomic_store_n(&w.state, st, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&p->mutex);
        /* Taken: the leader waits at most until the batch's earliest
         * deadline, which is at most this one's. */
        pipe_sleep(&w.state, st, st == W_TAKEN ? NULL : &until);
        if (__atomic_load_n(&w.state, __ATOMIC_ACQUIRE) == W_DONE) {
            locked = 0; /* the answer is in: no need of the mutex */
            break;
        }
        pthread_mutex_lock(&p->mutex);
    }
    if (locked) {
        pthread_mutex_unlock(&p->mutex);
    }
    free(w.item.key);
    if (w.item.rv == APR_SUCCESS) {
        *res = w.item.res;
        *err = NULL;
    }
    else {
        *err = apr_pstrdup(pool, w.item.err);
    }
    return w.item.rv;
}

paa_redis_pipe_t *paa_redis_pipe_create(const paa_redis_url_t *u, int conns)
{
    paa_redis_pipe_t *p = calloc(1, sizeof(*p));
    int i;

    if (!p) {
        return NULL;
    }
    if (pthread_mutex_init(&p->mutex, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->conns = calloc((size_t)conns, sizeof(*p->conns));
    p->idle = calloc((size_t)conns, sizeof(*p->idle));
    if (!p->conns || !p->idle) {
        paa_redis_pipe_destroy(p);
        return NULL;
    }
    for (i = 0; i < conns; i++) {
        /* the timeout is each decision's: this one is unused */
        if (!(p->conns[i] = paa_redis_create(u, 1))) {
            paa_redis_pipe_destroy(p);
            return NULL;
        }
        p->idle[p->nidle++] = p->conns[i];
        p->nconns++;
    }
    return p;
}

void paa_redis_pipe_destroy(paa_redis_pipe_t *p)
{
    int i;

    if (!p) {
        return;
    }
    for (i = 0; i < p->nconns; i++) {
        paa_redis_destroy(p->conns[i]);
    }
    free(p->conns);
    free(p->idle);
    pthread_mutex_destroy(&p->mutex);
    free(p);
}

void paa_redis_pipe_stats(paa_redis_pipe_t *p, apr_uint64_t *rounds,
                          apr_uint64_t *decisions)
{
    pthread_mutex_lock(&p->mutex);
    *rounds = p->rounds;
    *decisions = p->decisions;
    pthread_mutex_unlock(&p->mutex);
}

/* host[:port] or [v6]:port into out; NULL or the error. */
static const char *url_host(apr_pool_t *p, const char *hp, paa_redis_url_t *out)
{
    const char *colon;
    char *end;
    long port = 6379;

    if (*hp == '[') {
        const char *close = strchr(hp, ']');
        if (!close) {
            return "an IPv6 address needs its closing ]";
        }
        out->host = apr_pstrndup(p, hp + 1, (apr_size_t)(close - hp - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] && !colon) {
            return "junk after the IPv6 address";
        }
    }
    else {
        colon = strrchr(hp, ':');
        out->host = colon ? apr_pstrndup(p, hp, (apr_size_t)(colon - hp))
                          : apr_pstrdup(p, hp);
    }
    if (colon) {
        port = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || port < 1 || port > 65535) {
            return "the port must be 1 to 65535";
        }
    }
    if (!*out->host) {
        return "no host";
    }
    out->port = (int)port;
    return NULL;
}

apr_status_t paa_redis_url_parse(apr_pool_t *p, const char *url,
                                 paa_redis_url_t *out, const char **err)
{
    const char *rest, *at, *slash, *msg;
    char *hp, *end;
    long db = 0;

    memset(out, 0, sizeof(*out));
    if (strncmp(url, "redis://", 8) != 0) {
        *err = "expects redis://[[user]:password@]host[:port][/db]";
        return APR_EINVAL;
    }
    rest = url + 8;
    slash = strchr(rest, '/');
    at = NULL;
    /* The last @ before the path: a password may hold one. */
    for (hp = (char *)rest; *hp && hp != slash; hp++) {
        at = *hp == '@' ? hp : at;
    }
    if (slash && at && at > slash) {
        at = NULL;
    }
    if (at) {
        const char *colon = memchr(rest, ':', (apr_size_t)(at - rest));
        if (!colon) {
            *err = "the user part must be [user]:password";
            return APR_EINVAL;
        }
        out->user = colon > rest
                        ? apr_pstrndup(p, rest, (apr_size_t)(colon - rest))
                        : NULL;
        out->password =
            apr_pstrndup(p, colon + 1, (apr_size_t)(at - colon - 1));
        rest = at + 1;
    }
    hp = slash ? apr_pstrndup(p, rest, (apr_size_t)(slash - rest))
               : apr_pstrdup(p, rest);
    if ((msg = url_host(p, hp, out)) != NULL) {
        *err = msg;
        return APR_EINVAL;
    }
    if (slash && slash[1]) {
        db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > 65535) {
            *err = "the database must be a number (/0 to /65535)";
            return APR_EINVAL;
        }
    }
    out->db = (int)db;
    return APR_SUCCESS;
}

const char *paa_redis_url_redacted(apr_pool_t *p, const paa_redis_url_t *u)
{
    int v6 = strchr(u->host, ':') != NULL;

    return apr_psprintf(p, "redis://%s%s%s%s%s:%d/%d", u->user ? u->user : "",
                        u->password ? ":***@" : "", v6 ? "[" : "", u->host,
                        v6 ? "]" : "", u->port, u->db);
}
