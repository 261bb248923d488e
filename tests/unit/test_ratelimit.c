/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The rate-limit table's lock when a process dies holding it. The table
 * used to carry a spinlock owned by the holder's pid: a taker spun until
 * kill(pid, 0) said that pid was gone, so a holder killed in its critical
 * section stopped every child for good once its pid was in use again (by
 * a new process, or by the dead one itself while its parent had not yet
 * reaped it). The lock is now a robust mutex, which the kernel hands over
 * with EOWNERDEAD as the holder exits. These tests kill a holder and keep
 * it unreaped, a zombie whose pid is still taken, and require the others
 * to go on within a bound (a regression fails on an alarm, it does not
 * hang), counting exactly; and the unrecoverable mutex to fail, not block.
 */

#include "paa_test.h"
#include "core/ratelimit_int.h"

#include <apr_shm.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define NOW 1764288000
/* Seconds any process of a test may take before it is failed. Generous:
 * these tests must pass on a loaded 2-core machine. */
#define BOUND 15

/* What one hammering process saw, in shared memory after the table. */
typedef struct {
    int allowed, refused, first_refusals, recovered, errors;
} tally_t;

static void on_alarm(int sig)
{
    static const char msg[] = "test_ratelimit: still waiting for the "
                              "rate-limit lock after the bound: blocked "
                              "behind a dead holder?\n";
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to say */
    }
    _exit(EXIT_FAILURE);
}

/* From now on this process fails after BOUND seconds instead of hanging
 * (children call it too: a pending alarm is not inherited by fork). */
static void bound(unsigned int seconds)
{
    signal(SIGALRM, on_alarm);
    alarm(seconds);
}

/* A table of slots entries in anonymous shared memory, with room for
 * procs tallies after it. */
static void *new_table_of(apr_uint32_t slots, int procs, tally_t **tallies)
{
    apr_shm_t *shm;
    void *mem;

    ck_assert_int_eq(
        apr_shm_create(&shm, paa_rl_size(slots) + sizeof(tally_t) * procs, NULL,
                       tp),
        APR_SUCCESS);
    mem = apr_shm_baseaddr_get(shm);
    ck_assert_int_eq(paa_rl_init(mem, slots), APR_SUCCESS);
    if (tallies) {
        *tallies = (tally_t *)((char *)mem + paa_rl_size(slots));
        memset(*tallies, 0, sizeof(tally_t) * procs);
    }
    return mem;
}

/* 64 slots: one stripe. */
static void *new_table(int procs, tally_t **tallies)
{
    return new_table_of(64, procs, tallies);
}

/* Fork a process that takes the lock of key's stripe and keeps it, as if
 * stopped in its critical section, until it is killed. Returns once it
 * holds it. */
static pid_t spawn_holder(void *mem, apr_uint64_t key)
{
    int fds[2], recovered;
    pid_t pid;
    char c;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bound(BOUND);
        close(fds[0]);
        if (paa_rl_lock(mem, key, &recovered) != APR_SUCCESS ||
            write(fds[1], "x", 1) != 1) {
            _exit(EXIT_FAILURE);
        }
        for (;;) {
            pause();
        }
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    close(fds[0]);
    return pid;
}

/* SIGKILL pid and wait until it is dead, but leave it unreaped: a zombie
 * keeps its pid taken, which is what a reused pid looks like to a lock
 * that asks whether its holder's pid still exists. */
static void kill_unreaped(pid_t pid)
{
    siginfo_t si;

    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    memset(&si, 0, sizeof(si));
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(si.si_code, CLD_KILLED);
    ck_assert_int_eq(kill(pid, 0), 0); /* the pid is still in use */
}

/* With CK_FORK=no every test runs in one process: no alarm may outlive
 * the test that set it. */
static void no_alarm(void)
{
    alarm(0);
}

static void reap(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

/* Fork procs processes that each count hits requests for one key with
 * the given limit, recording what they saw in tallies[i]. */
static void spawn_hammers(void *mem, tally_t *tallies, pid_t *pids, int procs,
                          int hits, apr_uint32_t limit)
{
    int i;

    for (i = 0; i < procs; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            tally_t *t = &tallies[i];
            paa_rl_result_t res;
            int k;

            bound(BOUND);
            for (k = 0; k < hits; k++) {
                if (paa_rl_hit(mem, 7, NOW, limit, 60, &res) != APR_SUCCESS) {
                    t->errors++;
                    continue;
                }
                t->allowed += res.allowed;
                t->refused += !res.allowed;
                t->first_refusals += res.first_refusal;
                t->recovered += res.recovered;
            }
            _exit(EXIT_SUCCESS);
        }
    }
}

/* Wait for the hammers; each must have finished on its own. */
static tally_t wait_hammers(tally_t *tallies, pid_t *pids, int procs)
{
    tally_t sum = {0, 0, 0, 0, 0};
    int i, status;

    for (i = 0; i < procs; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "process %d did not finish (status 0x%x): blocked "
                      "on the lock?",
                      i, status);
        sum.allowed += tallies[i].allowed;
        sum.refused += tallies[i].refused;
        sum.first_refusals += tallies[i].first_refusals;
        sum.recovered += tallies[i].recovered;
        sum.errors += tallies[i].errors;
    }
    return sum;
}

/* A holder dies with the lock; the next hit takes it over at once and
 * the count carries on from where it was. */
START_TEST(ratelimit_holder_killed)
{
    void *mem = new_table(0, NULL);
    paa_rl_result_t res;
    pid_t holder;

    bound(BOUND);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(!res.recovered);
    holder = spawn_holder(mem, 7);
    kill_unreaped(holder);

    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(res.recovered);
    ck_assert(res.allowed);
    ck_assert_int_eq(res.remaining, 7);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(!res.recovered); /* taken over once, then an ordinary lock */
    ck_assert_int_eq(res.remaining, 6);
    ck_assert_int_eq(paa_rl_hit(mem, 8, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(res.remaining, 9); /* another key: its own budget */
    reap(holder);
}
END_TEST

/* Positive control for the next test: several processes hitting one key
 * through the lock count exactly (a lost update would let more in), one
 * of them sees the first refusal, and nobody reports a takeover. */
START_TEST(ratelimit_exact_across_processes)
{
    enum { PROCS = 4, HITS = 20000, LIMIT = PROCS * HITS - 1000 };
    tally_t *tallies, sum;
    pid_t pids[PROCS];
    paa_rl_result_t res;
    void *mem = new_table(PROCS, &tallies);

    bound(BOUND + 5);
    spawn_hammers(mem, tallies, pids, PROCS, HITS, LIMIT);
    sum = wait_hammers(tallies, pids, PROCS);
    ck_assert_int_eq(sum.errors, 0);
    ck_assert_int_eq(sum.allowed, LIMIT);
    ck_assert_int_eq(sum.refused, PROCS * HITS - LIMIT);
    ck_assert_int_eq(sum.first_refusals, 1);
    ck_assert_int_eq(sum.recovered, 0);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, LIMIT, 60, &res), APR_SUCCESS);
    ck_assert(!res.allowed);
    ck_assert_int_eq(res.remaining, 0);
}
END_TEST

/* The status page's count: live entries only (an expired window is not
 * counted), the table's size as total, and nothing changed by asking. */
START_TEST(ratelimit_usage_counts_live_entries)
{
    apr_uint32_t used = 99, total = 0, k;
    paa_rl_result_t res;
    void *mem = new_table(0, NULL);

    ck_assert_int_eq(paa_rl_usage(mem, NOW, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, 0);
    ck_assert_uint_eq(total, 64);
    for (k = 1; k <= 5; k++) {
        ck_assert_int_eq(paa_rl_hit(mem, k, NOW, 10, 60, &res), APR_SUCCESS);
    }
    ck_assert_int_eq(paa_rl_hit(mem, 1, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert_int_eq(paa_rl_hit(mem, 100, NOW - 30, 10, 10, &res), APR_SUCCESS);
    ck_assert_int_eq(paa_rl_usage(mem, NOW, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, 5);
    ck_assert_uint_eq(total, 64);
    ck_assert_int_eq(paa_rl_usage(mem, NOW + 60, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(paa_rl_hit(mem, 1, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert_uint_eq(res.remaining, 10 - 3);
}
END_TEST

/* The same processes start while a holder has the lock, so they queue on
 * it, and the holder is killed: they all go on, count exactly, and
 * exactly one of them took the lock over. */
START_TEST(ratelimit_waiters_go_on_after_holder_killed)
{
    enum { PROCS = 4, HITS = 20000, LIMIT = PROCS * HITS - 1000 };
    tally_t *tallies, sum;
    pid_t pids[PROCS], holder;
    void *mem = new_table(PROCS, &tallies);

    bound(BOUND + 5);
    holder = spawn_holder(mem, 7);
    spawn_hammers(mem, tallies, pids, PROCS, HITS, LIMIT);
    usleep(100 * 1000); /* let them reach the lock (either way is valid) */
    kill_unreaped(holder);
    sum = wait_hammers(tallies, pids, PROCS);
    ck_assert_int_eq(sum.errors, 0);
    ck_assert_int_eq(sum.allowed, LIMIT);
    ck_assert_int_eq(sum.refused, PROCS * HITS - LIMIT);
    ck_assert_int_eq(sum.first_refusals, 1);
    ck_assert_int_eq(sum.recovered, 1);
    reap(holder);
}
END_TEST

/* A taker that unlocks a dead holder's mutex without making it consistent
 * leaves it unrecoverable (paa_rl_lock never does; a bug could). Every
 * hit must then fail at once, so the module can answer 503, rather than
 * block or count without the lock. */
START_TEST(ratelimit_unrecoverable_fails_closed)
{
    void *mem = new_table(0, NULL);
    paa_rl_result_t res;
    pid_t holder;

    bound(BOUND);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    holder = spawn_holder(mem, 7);
    kill_unreaped(holder);
    ck_assert_int_eq(pthread_mutex_lock(paa_rl_mutex(mem, 7)), EOWNERDEAD);
    ck_assert_int_eq(pthread_mutex_unlock(paa_rl_mutex(mem, 7)), 0);

    memset(&res, 0, sizeof(res));
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res),
                     APR_FROM_OS_ERROR(ENOTRECOVERABLE));
    ck_assert(!res.allowed);
    ck_assert_int_eq(paa_rl_hit(mem, 8, NOW, 10, 60, &res),
                     APR_FROM_OS_ERROR(ENOTRECOVERABLE));
    reap(holder);
}
END_TEST

/* A table of 4096 slots has 64 stripes, and the high half of a key picks
 * its stripe: while a live process holds the lock of key 7's stripe, a
 * key of another stripe is counted at once (with one lock for the table
 * it would wait for ever, and the alarm fails the test). Once the holder
 * is killed, key 7's next hit takes its lock over, and the other stripe
 * never saw a dead holder. */
START_TEST(ratelimit_stripes_do_not_wait_for_each_other)
{
    const apr_uint64_t other = ((apr_uint64_t)1 << 32) | 7;
    void *mem = new_table_of(4096, 0, NULL);
    apr_uint32_t used, total;
    paa_rl_result_t res;
    pid_t holder;

    bound(BOUND);
    ck_assert_ptr_ne(paa_rl_mutex(mem, 7), paa_rl_mutex(mem, other));
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    holder = spawn_holder(mem, 7);
    ck_assert_int_eq(paa_rl_hit(mem, other, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(res.allowed);
    ck_assert(!res.recovered);
    ck_assert_int_eq(res.remaining, 9);
    kill_unreaped(holder);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(res.recovered);
    ck_assert_int_eq(res.remaining, 8);
    ck_assert_int_eq(paa_rl_hit(mem, other, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(!res.recovered);
    ck_assert_int_eq(res.remaining, 8);
    ck_assert_int_eq(paa_rl_usage(mem, NOW, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, 2);
    ck_assert_uint_eq(total, 4096);
    reap(holder);
}
END_TEST

/* Several processes, started together, hit a key in every stripe of a
 * striped table, each key for a while, each process from another key on,
 * so that the stripes are hit at once. The keys differ only in their high
 * half: each has a stripe of its own, where a slot taken by the low half
 * over the whole table would put all of them in one neighbourhood. Each
 * key's window accepts exactly its limit (a hit counted without its
 * stripe's lock, or in another stripe's entries, would let more in). */
START_TEST(ratelimit_exact_across_stripes)
{
    enum { PROCS = 4, KEYS = 64, HITS = 5000, LIMIT = PROCS * HITS - 100 };
    apr_uint32_t slots = 4096, used, total;
    apr_shm_t *shm;
    void *mem;
    int *allowed, i, k;
    volatile int *go;

    bound(BOUND + 5);
    ck_assert_int_eq(
        apr_shm_create(&shm,
                       paa_rl_size(slots) + sizeof(int) * (PROCS * KEYS + 1),
                       NULL, tp),
        APR_SUCCESS);
    mem = apr_shm_baseaddr_get(shm);
    ck_assert_int_eq(paa_rl_init(mem, slots), APR_SUCCESS);
    allowed = (int *)((char *)mem + paa_rl_size(slots));
    memset(allowed, 0, sizeof(int) * (PROCS * KEYS + 1));
    go = &allowed[PROCS * KEYS];
    for (i = 0; i < PROCS; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            paa_rl_result_t res;
            int h, j;
            bound(BOUND);
            while (!__atomic_load_n(go, __ATOMIC_ACQUIRE)) {
                sched_yield();
            }
            for (j = 0; j < KEYS; j++) {
                k = (j + i * KEYS / PROCS) % KEYS;
                for (h = 0; h < HITS; h++) {
                    if (paa_rl_hit(mem, ((apr_uint64_t)k << 32) | 12345, NOW,
                                   LIMIT, 60, &res) != APR_SUCCESS) {
                        _exit(EXIT_FAILURE);
                    }
                    allowed[i * KEYS + k] += res.allowed;
                }
            }
            _exit(EXIT_SUCCESS);
        }
    }
    __atomic_store_n(go, 1, __ATOMIC_RELEASE);
    for (i = 0; i < PROCS; i++) {
        int status;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (k = 0; k < KEYS; k++) {
        int sum = 0;
        for (i = 0; i < PROCS; i++) {
            sum += allowed[i * KEYS + k];
        }
        ck_assert_msg(sum == LIMIT, "key %d: %d allowed, limit %d", k, sum,
                      LIMIT);
    }
    ck_assert_int_eq(paa_rl_usage(mem, NOW, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, KEYS);
    apr_shm_destroy(shm);
}
END_TEST

/* The stripes: one for a table too small to share, 64 for 4,096 slots,
 * chosen by the high half of the key; and slots beyond a multiple of 64
 * belong to the last stripe, which holds that many live clients. */
START_TEST(ratelimit_stripe_layout)
{
    void *small = new_table_of(64, 0, NULL), *mem = new_table_of(4096, 0, NULL);
    void *odd = new_table_of(4096 + 37, 0, NULL);
    apr_uint32_t used, total, k, j;
    paa_rl_result_t res;

    for (k = 1; k < 64; k++) {
        apr_uint64_t key = (apr_uint64_t)k << 32;
        ck_assert_ptr_eq(paa_rl_mutex(small, key), paa_rl_mutex(small, 0));
        for (j = 0; j < k; j++) {
            ck_assert_ptr_ne(paa_rl_mutex(mem, key),
                             paa_rl_mutex(mem, (apr_uint64_t)j << 32));
        }
    }
    ck_assert_ptr_eq(paa_rl_mutex(mem, (apr_uint64_t)64 << 32),
                     paa_rl_mutex(mem, 0));
    /* The last of 64 stripes of 4,133 slots has 64 + 37: 101 clients whose
     * low halves start at each of its slots all stay, none evicted. */
    for (k = 0; k < 101; k++) {
        ck_assert_int_eq(
            paa_rl_hit(odd, ((apr_uint64_t)63 << 32) | k, NOW, 10, 60, &res),
            APR_SUCCESS);
    }
    ck_assert_int_eq(paa_rl_usage(odd, NOW, &used, &total), APR_SUCCESS);
    ck_assert_uint_eq(used, 101);
    ck_assert_uint_eq(total, 4096 + 37);
    for (k = 0; k < 101; k++) {
        ck_assert_int_eq(
            paa_rl_hit(odd, ((apr_uint64_t)63 << 32) | k, NOW, 10, 60, &res),
            APR_SUCCESS);
        ck_assert_uint_eq(res.remaining, 8);
    }
}
END_TEST

/* An unrecoverable lock fails its own stripe's clients only. */
START_TEST(ratelimit_unrecoverable_stripe_only)
{
    const apr_uint64_t other = ((apr_uint64_t)1 << 32) | 7;
    void *mem = new_table_of(4096, 0, NULL);
    paa_rl_result_t res;
    pid_t holder;

    bound(BOUND);
    holder = spawn_holder(mem, 7);
    kill_unreaped(holder);
    ck_assert_int_eq(pthread_mutex_lock(paa_rl_mutex(mem, 7)), EOWNERDEAD);
    ck_assert_int_eq(pthread_mutex_unlock(paa_rl_mutex(mem, 7)), 0);
    ck_assert_int_eq(paa_rl_hit(mem, 7, NOW, 10, 60, &res),
                     APR_FROM_OS_ERROR(ENOTRECOVERABLE));
    ck_assert_int_eq(paa_rl_hit(mem, other, NOW, 10, 60, &res), APR_SUCCESS);
    ck_assert(res.allowed);
    ck_assert_int_eq(res.remaining, 9);
    reap(holder);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");
    tcase_add_checked_fixture(tc, paa_test_setup, paa_test_teardown);
    tcase_add_checked_fixture(tc, NULL, no_alarm);
    tcase_add_test(tc, ratelimit_holder_killed);
    tcase_add_test(tc, ratelimit_exact_across_processes);
    tcase_add_test(tc, ratelimit_waiters_go_on_after_holder_killed);
    tcase_add_test(tc, ratelimit_unrecoverable_fails_closed);
    tcase_add_test(tc, ratelimit_usage_counts_live_entries);
    tcase_add_test(tc, ratelimit_stripes_do_not_wait_for_each_other);
    tcase_add_test(tc, ratelimit_exact_across_stripes);
    tcase_add_test(tc, ratelimit_stripe_layout);
    tcase_add_test(tc, ratelimit_unrecoverable_stripe_only);
    suite_add_tcase(s, tc);
    return s;
}

PAA_TEST_MAIN(ratelimit_suite)
