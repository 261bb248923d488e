/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimitStore's Redis client against a real redis-server, started
 * per test on a free loopback port (the tests that need one are skipped,
 * with a note, where redis-server is not installed): the window semantics
 * of the shm table (limit, remaining, reset, one first refusal, a changed
 * window starts afresh), keys that expire, a script Redis forgot, a Redis
 * that restarts under idle connections, and one that is down or never
 * answers, which must cost at most the timeout and then nothing during the
 * backoff. The pipe (threads sharing one connection, their decisions
 * pipelined) must count exactly however many threads decide at once, give
 * each its own answer, and let no queued decision wait past its own
 * deadline. The URL parser and its redaction need no server. */

#include "paa_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REDIS_BIN  "redis-server"
#define TIMEOUT_MS 200

extern char **environ;

static pid_t redis_pid;
static int redis_port;

/* A port nobody listens on now (the kernel's choice). */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    return rc == 0;
}

static int have_redis(void)
{
    return system(REDIS_BIN " --version >/dev/null 2>&1") == 0;
}

/* redis-server on port (0: a free one), nothing saved; up when it
 * accepts connections (bounded: a busy machine gets 10 s). */
static void redis_start(int port)
{
    char portbuf[16];
    char *argv[] = {REDIS_BIN,   "--port", portbuf, "--bind",
                    "127.0.0.1", "--save", "",      "--appendonly",
                    "no",        "--dir",  "/tmp",  "--logfile",
                    "/dev/null", NULL};
    int i;

    redis_port = port ? port : free_port();
    snprintf(portbuf, sizeof(portbuf), "%d", redis_port);
    ck_assert_int_eq(
        posix_spawnp(&redis_pid, REDIS_BIN, NULL, NULL, argv, environ), 0);
    for (i = 0; i < 1000 && !port_open(redis_port); i++) {
        usleep(10000);
    }
    ck_assert_msg(port_open(redis_port), "redis-server did not start");
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = 0;
    }
}

static void setup(void)
{
    paa_test_setup();
    redis_pid = 0;
    /* as httpd does: a write to a closed socket is an error, not death */
    signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
    redis_stop();
    paa_test_teardown();
}

static paa_redis_t *client(int port)
{
    paa_redis_url_t u = {"127.0.0.1", port, 3, NULL, NULL};
    paa_redis_t *c = paa_redis_create(&u, TIMEOUT_MS);
    ck_assert_ptr_nonnull(c);
    return c;
}

static apr_status_t hit(paa_redis_t *c, const char *key, apr_uint32_t limit,
                        apr_uint32_t window, paa_rl_result_t *res)
{
    const char *err;
    return paa_redis_rl_hit(c, key, limit, window, res, &err);
}

/* A failed connection backs off (50 ms, doubling to 1 s) and answers
 * EAGAIN meanwhile, without trying. A busy machine may sleep past a short
 * backoff between two calls, but not past each of the longer ones that
 * further failures bring: some call of a few in a row meets it. */
static int backs_off(paa_redis_t *c)
{
    paa_rl_result_t res;
    int i;

    for (i = 0; i < 10; i++) {
        if (hit(c, "k", 5, 60, &res) == APR_EAGAIN) {
            return 1;
        }
    }
    return 0;
}

#define NEED_REDIS()                                                           \
    do {                                                                       \
        if (!have_redis()) {                                                   \
            fprintf(stderr, "# SKIP: redis-server is not installed\n");        \
            return;                                                            \
        }                                                                      \
    } while (0)

START_TEST(url_parse)
{
    paa_redis_url_t u;
    const char *err;

    ck_assert_int_eq(paa_redis_url_parse(tp, "redis://10.0.0.5", &u, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(u.host, "10.0.0.5");
    ck_assert_int_eq(u.port, 6379);
    ck_assert_int_eq(u.db, 0);
    ck_assert_ptr_null(u.password);
    ck_assert_int_eq(
        paa_redis_url_parse(tp, "redis://app:p@ss:w@[::1]:7000/4", &u, &err),
        APR_SUCCESS);
    ck_assert_str_eq(u.user, "app");
    ck_assert_str_eq(u.password, "p@ss:w");
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 7000);
    ck_assert_int_eq(u.db, 4);
    ck_assert_str_eq(paa_redis_url_redacted(tp, &u),
                     "redis://app:***@[::1]:7000/4");
    ck_assert_int_eq(paa_redis_url_parse(tp, "redis://:s3cret@h:1/0", &u, &err),
                     APR_SUCCESS);
    ck_assert_ptr_null(u.user);
    ck_assert_str_eq(paa_redis_url_redacted(tp, &u), "redis://:***@h:1/0");
}
END_TEST

START_TEST(url_refused)
{
    static const char *const bad[] = {
        "http://h",        "redis://",         "redis://h:0",
        "redis://h:99999", "redis://h:x",      "redis://h/x",
        "redis://[::1",    "redis://s3cret@h", "redis://h:6379/-1"};
    paa_redis_url_t u;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(paa_redis_url_parse(tp, bad[i], &u, &err) == APR_EINVAL,
                      "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(strstr(err, "s3cret"));
    }
}
END_TEST

START_TEST(window_semantics)
{
    paa_rl_result_t res;
    paa_redis_t *c, *d;
    int i;

    NEED_REDIS();
    redis_start(0);
    c = client(redis_port);
    d = client(redis_port); /* another node: the same counter */
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(hit(i % 2 ? d : c, "k1", 3, 60, &res), APR_SUCCESS);
        ck_assert_int_eq(res.allowed, 1);
        ck_assert_uint_eq(res.remaining, (apr_uint32_t)(2 - i));
        ck_assert_uint_le(res.reset, 60);
        ck_assert_uint_ge(res.reset, 1);
    }
    ck_assert_int_eq(hit(d, "k1", 3, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 0);
    ck_assert_int_eq(res.first_refusal, 1);
    ck_assert_uint_eq(res.remaining, 0);
    ck_assert_int_eq(hit(c, "k1", 3, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 0);
    ck_assert_int_eq(res.first_refusal, 0); /* one per window */
    /* control: another key has its own budget */
    ck_assert_int_eq(hit(c, "k2", 3, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 1);
    /* a changed window (a new configuration) starts afresh */
    ck_assert_int_eq(hit(c, "k1", 3, 30, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 1);
    ck_assert_uint_eq(res.remaining, 2);
    ck_assert_uint_le(res.reset, 30);
    ck_assert_uint_ge(paa_redis_commands(c), 4);
    paa_redis_destroy(c);
    paa_redis_destroy(d);
}
END_TEST

START_TEST(window_ends)
{
    paa_rl_result_t res;
    paa_redis_t *c;

    NEED_REDIS();
    redis_start(0);
    c = client(redis_port);
    ck_assert_int_eq(hit(c, "short", 1, 1, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 1);
    ck_assert_int_eq(hit(c, "short", 1, 1, &res), APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 0);
    ck_assert_uint_le(res.reset, 1);
    /* Redis expires the key with its window: past it, a new window (the
     * bound is a busy machine's, the wait is about 1 s). */
    for (int i = 0; i < 100 && !res.allowed; i++) {
        usleep(50000);
        ck_assert_int_eq(hit(c, "short", 1, 1, &res), APR_SUCCESS);
    }
    ck_assert_int_eq(res.allowed, 1);
    paa_redis_destroy(c);
}
END_TEST

/* The running redis-server forgets every script (SCRIPT FLUSH). */
static void script_flush(void)
{
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d script flush >/dev/null 2>&1",
             redis_port);
    ck_assert_int_eq(system(cmd), 0);
}

/* SCRIPT FLUSH under a live connection: NOSCRIPT, then EVAL, counting on. */
START_TEST(script_forgotten)
{
    paa_rl_result_t res;
    paa_redis_t *c;

    NEED_REDIS();
    redis_start(0);
    c = client(redis_port);
    ck_assert_int_eq(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    script_flush();
    ck_assert_int_eq(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    ck_assert_uint_eq(res.remaining, 3);
    ck_assert_int_eq(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    ck_assert_uint_eq(res.remaining, 2);
    paa_redis_destroy(c);
}
END_TEST

/* Down: an error at once, then nothing but EAGAIN during the backoff;
 * back (a restart under the idle connection): counting resumes without a
 * failed request. */
START_TEST(down_and_back)
{
    paa_rl_result_t res;
    paa_redis_t *c;
    int port, i;
    apr_time_t t0;
    apr_status_t rv = APR_EGENERAL;

    NEED_REDIS();
    redis_start(0);
    port = redis_port;
    c = client(port);
    ck_assert_int_eq(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    redis_stop();
    t0 = apr_time_now();
    ck_assert_int_ne(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    ck_assert(backs_off(c));
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(5));
    redis_start(port);
    /* the backoff (1 s at most) ends: bounded for a busy machine */
    for (i = 0; i < 200 && rv != APR_SUCCESS; i++) {
        usleep(20000);
        rv = hit(c, "k", 5, 60, &res);
    }
    ck_assert_int_eq(rv, APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 1);
    /* restarted under an idle, connected client: no request fails */
    redis_stop();
    redis_start(port);
    ck_assert_int_eq(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    paa_redis_destroy(c);
}
END_TEST

/* A server that accepts and never answers costs the timeout, not more. */
START_TEST(never_answers)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    paa_rl_result_t res;
    paa_redis_t *c;
    apr_time_t t0, took;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    c = client(ntohs(a.sin_port));
    t0 = apr_time_now();
    ck_assert_int_ne(hit(c, "k", 5, 60, &res), APR_SUCCESS);
    took = apr_time_now() - t0;
    /* at least the timeout (it did wait for an answer), and far less than
     * forever: the upper bound is a busy machine's */
    ck_assert_int_ge(took, apr_time_from_msec(TIMEOUT_MS - 20));
    ck_assert_int_lt(took, apr_time_from_sec(10));
    ck_assert(backs_off(c));
    paa_redis_destroy(c);
    close(fd);
}
END_TEST

/* --------------------------------------------------------------- pipe */

#define FLOOD_THREADS 16
#define FLOOD_EACH    40
#define FLOOD_LIMIT   250

typedef struct {
    paa_redis_pipe_t *pipe;
    const char *key;
    pthread_barrier_t *start;
    int allowed, first, failed;
    int seen[FLOOD_LIMIT]; /* remaining as answered to allowed decisions */
} flooder_t;

static void *flooder(void *arg)
{
    flooder_t *f = arg;
    paa_rl_result_t res;
    apr_pool_t *p;
    const char *err;
    int i;

    apr_pool_create(&p, NULL);
    pthread_barrier_wait(f->start);
    for (i = 0; i < FLOOD_EACH; i++) {
        /* generous: an exact count must not hang on the machine's load */
        if (paa_redis_pipe_hit(f->pipe, f->key, FLOOD_LIMIT, 60, NULL, 10000,
                               &res, p, &err) != APR_SUCCESS) {
            f->failed++;
            continue;
        }
        if (res.allowed && res.remaining < FLOOD_LIMIT) {
            f->seen[res.remaining]++;
        }
        f->allowed += res.allowed;
        f->first += res.first_refusal;
    }
    apr_pool_destroy(p);
    return NULL;
}

/* FLOOD_THREADS threads at once, half on each of two pipes (two nodes),
 * FLOOD_EACH decisions each on key: exactly FLOOD_LIMIT allowed, one
 * first refusal, and every allowed decision got its own answer (each
 * remaining count from FLOOD_LIMIT - 1 down to 0 exactly once). */
static void flood(paa_redis_pipe_t *a, paa_redis_pipe_t *b, const char *key)
{
    static flooder_t f[FLOOD_THREADS];
    pthread_t t[FLOOD_THREADS];
    pthread_barrier_t start;
    int i, j, allowed = 0, first = 0, failed = 0, once = 0;

    memset(f, 0, sizeof(f));
    pthread_barrier_init(&start, NULL, FLOOD_THREADS);
    for (i = 0; i < FLOOD_THREADS; i++) {
        f[i].pipe = i % 2 ? b : a;
        f[i].key = key;
        f[i].start = &start;
        ck_assert_int_eq(pthread_create(&t[i], NULL, flooder, &f[i]), 0);
    }
    for (i = 0; i < FLOOD_THREADS; i++) {
        pthread_join(t[i], NULL);
        allowed += f[i].allowed;
        first += f[i].first;
        failed += f[i].failed;
    }
    pthread_barrier_destroy(&start);
    for (j = 0; j < FLOOD_LIMIT; j++) {
        int n = 0;
        for (i = 0; i < FLOOD_THREADS; i++) {
            n += f[i].seen[j];
        }
        once += n == 1;
    }
    ck_assert_int_eq(failed, 0);
    ck_assert_int_eq(allowed, FLOOD_LIMIT);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(once, FLOOD_LIMIT);
}

static paa_redis_pipe_t *pipe_to(int port)
{
    paa_redis_url_t u = {"127.0.0.1", port, 3, NULL, NULL};
    paa_redis_pipe_t *p = paa_redis_pipe_create(&u, 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(pipe_exact)
{
    paa_redis_pipe_t *a, *b;
    paa_rl_result_t res;
    apr_uint64_t rounds, decisions;
    const char *err;

    NEED_REDIS();
    redis_start(0);
    a = pipe_to(redis_port);
    b = pipe_to(redis_port);
    flood(a, b, "flood1");
    /* batched: fewer round trips than decisions on one connection */
    paa_redis_pipe_stats(a, &rounds, &decisions);
    ck_assert_uint_eq(decisions, FLOOD_THREADS / 2 * FLOOD_EACH);
    ck_assert_uint_lt(rounds, decisions);
    /* Redis forgets the script under live connections: a batch of
     * EVALSHA meets NOSCRIPT, each decision is sent again whole */
    script_flush();
    flood(a, b, "flood2");
    /* Redis restarted under the idle connections: the batch that meets
     * the closed socket is sent again on a new one, none fails */
    redis_stop();
    redis_start(redis_port);
    flood(a, b, "flood3");
    /* control: the key's window holds, a refusal */
    ck_assert_int_eq(paa_redis_pipe_hit(a, "flood3", FLOOD_LIMIT, 60, NULL,
                                        TIMEOUT_MS, &res, tp, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(res.allowed, 0);
    paa_redis_pipe_destroy(a);
    paa_redis_pipe_destroy(b);
}
END_TEST

/* Leases: far from the limit the script counts up to the cap more for
 * the caller (1/64 of what is left), near it none. A caller that grants
 * what it was leased before asking again grants exactly the limit, with
 * far fewer round trips; two callers leasing at once never grant more. */
/* Small thresholds, so that a test reaches the limit in seconds; httpd
 * asks for {256, 65536, 1024}. */
static const paa_redis_lease_t small = {256, 4096, 64}, none = {0, 1, 1};

static int lease_hit(paa_redis_pipe_t *p, const char *key, apr_uint32_t limit,
                     const paa_redis_lease_t *lease, paa_rl_result_t *res)
{
    const char *err = NULL;
    apr_status_t rv =
        paa_redis_pipe_hit(p, key, limit, 60, lease, TIMEOUT_MS, res, tp, &err);
    ck_assert_msg(rv == APR_SUCCESS, "%s: %s", key, err ? err : "?");
    return res->allowed;
}

START_TEST(pipe_leases)
{
    paa_redis_pipe_t *a, *b;
    paa_rl_result_t res;
    int granted = 0, hit_grants = 0, i;
    apr_uint32_t left[2] = {0, 0};

    NEED_REDIS();
    redis_start(0);
    a = pipe_to(redis_port);
    b = pipe_to(redis_port);

    ck_assert(lease_hit(a, "lease1", 1000000, &small, &res));
    ck_assert_uint_eq(res.lease, 256);
    ck_assert_uint_eq(res.remaining, 1000000 - 1 - 256);
    ck_assert(res.lease_ms > 0 && res.lease_ms <= 60000);
    {
        /* the window's end on Redis's clock: one value for a window */
        apr_int64_t ends = res.window_ends;
        ck_assert(lease_hit(b, "lease1", 1000000, &small, &res));
        ck_assert(res.window_ends > ends - 100 && res.window_ends < ends + 100);
        ck_assert(res.window_ends > apr_time_as_msec(apr_time_now()));
    }
    ck_assert(lease_hit(a, "lease2", 5000, &small, &res));
    ck_assert_uint_eq(res.lease, (5000 - 1) / 64);
    ck_assert_uint_eq(res.remaining, 5000 - 1 - (5000 - 1) / 64);
    /* near the limit (fewer than 4,096 left): none */
    ck_assert(lease_hit(a, "lease3", 4096, &small, &res));
    ck_assert_uint_eq(res.lease, 0);
    ck_assert_uint_eq(res.remaining, 4095);
    /* a caller that asks for none gets none */
    ck_assert(lease_hit(a, "lease5", 1000000, &none, &res));
    ck_assert_uint_eq(res.lease, 0);
    ck_assert(lease_hit(a, "lease6", 1000000, NULL, &res));
    ck_assert_uint_eq(res.lease, 0);
    /* httpd's: a 1,024th, and none below 65,536 left */
    {
        const paa_redis_lease_t httpd = {256, 65536, 1024};
        ck_assert(lease_hit(a, "lease7", 100000, &httpd, &res));
        ck_assert_uint_eq(res.lease, (100000 - 1) / 1024);
        ck_assert(lease_hit(a, "lease8", 65536, &httpd, &res));
        ck_assert_uint_eq(res.lease, 0);
    }
    /* two callers, each granting its leases before asking again: exactly
     * the limit is granted, in far fewer round trips than requests */
    for (i = 0; i < 20000; i++) {
        int w = i % 2;
        if (left[w]) {
            left[w]--;
            granted++;
            continue;
        }
        if (lease_hit(w ? b : a, "lease4", 8300, &small, &res)) {
            granted++;
            hit_grants++;
            left[w] = res.lease;
        }
    }
    ck_assert_int_eq(granted, 8300);
    /* the last 4,096 one round trip each; the first 4,204 in a few dozen */
    ck_assert_int_ge(hit_grants, 4096);
    ck_assert_int_lt(hit_grants, 4096 + 100);
    paa_redis_pipe_destroy(a);
    paa_redis_pipe_destroy(b);
}
END_TEST

typedef struct {
    paa_redis_pipe_t *pipe;
    apr_status_t rv;
    volatile int done;
} leader_t;

static void *slow_leader(void *arg)
{
    leader_t *l = arg;
    paa_rl_result_t res;
    apr_pool_t *p;
    const char *err;

    apr_pool_create(&p, NULL);
    l->rv = paa_redis_pipe_hit(l->pipe, "k", 5, 60, NULL, 6000, &res, p, &err);
    __atomic_store_n(&l->done, 1, __ATOMIC_SEQ_CST);
    apr_pool_destroy(p);
    return NULL;
}

/* The pipe's only connection is in flight to a server that never answers,
 * for a decision allowed 6 s. A decision allowed 200 ms queues behind it
 * and must fail when its own 200 ms are over, not wait for the other. */
START_TEST(pipe_queued_deadline)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), i;
    leader_t l = {NULL, APR_SUCCESS, 0};
    apr_uint64_t rounds = 0, decisions;
    paa_rl_result_t res;
    pthread_t t;
    const char *err;
    apr_time_t t0, took;
    apr_status_t rv;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    l.pipe = pipe_to(ntohs(a.sin_port));
    ck_assert_int_eq(pthread_create(&t, NULL, slow_leader, &l), 0);
    /* the leader has taken the connection (bounded for a busy machine) */
    for (i = 0; i < 1000 && rounds == 0; i++) {
        paa_redis_pipe_stats(l.pipe, &rounds, &decisions);
        if (rounds == 0) {
            usleep(1000);
        }
    }
    ck_assert_uint_eq(rounds, 1);
    t0 = apr_time_now();
    rv = paa_redis_pipe_hit(l.pipe, "k", 5, 60, NULL, TIMEOUT_MS, &res, tp,
                            &err);
    took = apr_time_now() - t0;
    ck_assert_int_eq(__atomic_load_n(&l.done, __ATOMIC_SEQ_CST), 0);
    ck_assert_int_eq(rv, APR_TIMEUP);
    ck_assert_str_eq(err, "timed out waiting for a connection");
    /* it waited for its deadline (not failed at once), and not for the
     * leader's 6 s: the upper bound is a busy machine's */
    ck_assert_int_ge(took, apr_time_from_msec(TIMEOUT_MS - 20));
    ck_assert_int_lt(took, apr_time_from_msec(3000));
    pthread_join(t, NULL);
    ck_assert_int_ne(l.rv, APR_SUCCESS); /* control: the leader did hang */
    /* the connection that timed out backs off: answers at once */
    for (i = 0; i < 10 && rv != APR_EAGAIN; i++) {
        rv = paa_redis_pipe_hit(l.pipe, "k", 5, 60, NULL, TIMEOUT_MS, &res, tp,
                                &err);
    }
    ck_assert_int_eq(rv, APR_EAGAIN);
    paa_redis_pipe_destroy(l.pipe);
    close(fd);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("redis");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, url_parse);
    tcase_add_test(tc, url_refused);
    tcase_add_test(tc, window_semantics);
    tcase_add_test(tc, window_ends);
    tcase_add_test(tc, script_forgotten);
    tcase_add_test(tc, down_and_back);
    tcase_add_test(tc, never_answers);
    tcase_add_test(tc, pipe_exact);
    tcase_add_test(tc, pipe_leases);
    tcase_add_test(tc, pipe_queued_deadline);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(redis_suite)
