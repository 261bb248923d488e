/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* slow_client: a slowloris for the integration tests. httpd's workers
 * block while they read a request, so a few dozen clients that send one
 * byte every few seconds used to hold every worker and /health stopped
 * answering (AH00484). This opens COUNT connections to a loopback port,
 * sends the start of a request and then one more byte per connection every
 * INTERVAL seconds, and reports which connections the server dropped (or
 * answered) and when. It is bounded in count and time and refuses anything
 * but a loopback address, so it cannot be pointed at someone else's server.
 *
 *   slow_client --port PORT [--host 127.0.0.1] [--count N] [--mode MODE]
 *               [--interval SECS] [--duration SECS]
 *
 * MODE header: "GET /health HTTP/1.1" and Host, then header bytes that
 * never end. MODE body: a complete POST /api/auth/login header announcing
 * a 4096-byte JSON body, then the body, one byte at a time.
 *
 * Standard output: "ready opened=N" once every connection is open and has
 * sent its first bytes, then at the end one line
 * "opened=N dropped=D open=O refused=R first_drop=S last_drop=S
 * statuses=CODE:N,..." (seconds since ready; - when none). It ends when
 * every connection was dropped or the duration is over. Exit status: 0,
 * 1 when no connection could be opened, 2 usage error. */

#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT     1000
#define MAX_DURATION  300
#define MAX_INTERVAL  60
#define BODY_LENGTH   4096
#define MAX_STATUSES  16
#define CONNECT_TRIES 3

typedef struct {
    int fd;
    int dropped;
    int status; /* the HTTP status the server answered with, 0 if none */
    size_t sent;
    char head[16];
    size_t headlen;
} conn_t;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: slow_client --port PORT [--host 127.0.0.1] [--count N]\n"
            "                   [--mode header|body] [--interval SECS]\n"
            "                   [--duration SECS]\n"
            "N 1 to %d (default 100), SECS 1 to %d (interval, default 5) "
            "and 1 to %d\n(duration, default 60); loopback addresses "
            "only.\n",
            MAX_COUNT, MAX_INTERVAL, MAX_DURATION);
}

static int number(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Blocking connect (the kernel completes it even while httpd accepts
 * nothing), retried a little when the backlog is momentarily full. */
static int open_one(const struct sockaddr_in *sa)
{
    int tries, fd;
    for (tries = 0; tries < CONNECT_TRIES; tries++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            return -1;
        }
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            return fd;
        }
        close(fd);
        usleep(100000);
    }
    return -1;
}

/* 0 sent, 1 the server is gone. */
static int send_bytes(conn_t *c, const char *buf, size_t len)
{
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return 0;
    }
    if (n < 0) {
        return 1;
    }
    c->sent += (size_t)n;
    return 0;
}

/* Reads what the server says; 1 when it answered or closed. */
static int drain(conn_t *c)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            size_t room = sizeof(c->head) - 1 - c->headlen;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(c->head + c->headlen, buf, take);
            c->headlen += take;
            c->head[c->headlen] = '\0';
            if (c->headlen >= 12 && !strncmp(c->head, "HTTP/1.", 7)) {
                c->status = atoi(c->head + 9);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* An answer is a drop too: the request is over either way. */
            return c->status != 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return 1;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},
        {"count", required_argument, NULL, 'n'},
        {"mode", required_argument, NULL, 'm'},
        {"interval", required_argument, NULL, 'i'},
        {"duration", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *host = "127.0.0.1", *mode = "header";
    long port = 0, count = 100, interval = 5, duration = 60;
    struct sockaddr_in sa;
    struct pollfd *pfd;
    conn_t *conns;
    char start[512];
    const char *trickle;
    size_t limit;
    int *idx;
    int c, i, opened = 0, refused = 0, dropped = 0, body;
    int codes[MAX_STATUSES], code_n[MAX_STATUSES], ncodes = 0;
    double t0, end, next, first_drop = -1, last_drop = -1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (number(optarg, 1, 65535, &port)) {
                usage();
                return 2;
            }
            break;
        case 'H':
            host = optarg;
            break;
        case 'n':
            if (number(optarg, 1, MAX_COUNT, &count)) {
                usage();
                return 2;
            }
            break;
        case 'm':
            mode = optarg;
            break;
        case 'i':
            if (number(optarg, 1, MAX_INTERVAL, &interval)) {
                usage();
                return 2;
            }
            break;
        case 'd':
            if (number(optarg, 1, MAX_DURATION, &duration)) {
                usage();
                return 2;
            }
            break;
        default:
            usage();
            return c == 'h' ? 0 : 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (!port || optind < argc || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "slow_client: a port and a 127.x.x.x address are "
                        "required\n");
        usage();
        return 2;
    }
    body = !strcmp(mode, "body");
    if (!body && strcmp(mode, "header")) {
        usage();
        return 2;
    }
    if (body) {
        snprintf(start, sizeof(start),
                 "POST /api/auth/login HTTP/1.1\r\nHost: %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n{",
                 host, BODY_LENGTH);
        trickle = " ";
        /* Never the whole body: the request must stay unfinished. */
        limit = strlen(start) + BODY_LENGTH - 2;
    }
    else {
        snprintf(start, sizeof(start),
                 "GET /health HTTP/1.1\r\nHost: %s\r\nX-Slow: ", host);
        trickle = "a";
        limit = (size_t)-1;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    conns = calloc((size_t)count, sizeof(*conns));
    pfd = calloc((size_t)count, sizeof(*pfd));
    idx = calloc((size_t)count, sizeof(*idx));
    if (!conns || !pfd || !idx) {
        return 1;
    }
    for (i = 0; i < count && !stop; i++) {
        conns[i].fd = open_one(&sa);
        if (conns[i].fd < 0) {
            conns[i].dropped = 1;
            refused++;
            continue;
        }
        opened++;
        if (send_bytes(&conns[i], start, strlen(start))) {
            conns[i].dropped = 1;
            close(conns[i].fd);
            conns[i].fd = -1;
            refused++;
            opened--;
        }
    }
    if (!opened) {
        fprintf(stderr, "slow_client: no connection to %s:%ld\n", host, port);
        return 1;
    }
    printf("ready opened=%d\n", opened);
    fflush(stdout);

    t0 = now();
    end = t0 + (double)duration;
    next = t0 + (double)interval;
    while (!stop && dropped < opened) {
        double t = now();
        int n = 0, wait_ms;
        if (t >= end) {
            break;
        }
        if (t >= next) {
            /* A failed send shows up below as an error or EOF. */
            for (i = 0; i < count; i++) {
                if (conns[i].fd >= 0 && !conns[i].dropped &&
                    conns[i].sent < limit) {
                    send_bytes(&conns[i], trickle, 1);
                }
            }
            next += (double)interval;
        }
        for (i = 0; i < count; i++) {
            if (conns[i].fd >= 0 && !conns[i].dropped) {
                pfd[n].fd = conns[i].fd;
                pfd[n].events = POLLIN;
                pfd[n].revents = 0;
                idx[n++] = i;
            }
        }
        wait_ms = (int)(((next < end ? next : end) - t) * 1000) + 1;
        if (poll(pfd, (nfds_t)n, wait_ms > 0 ? wait_ms : 1) <= 0) {
            continue;
        }
        for (i = 0; i < n; i++) {
            int k;
            conn_t *cn = &conns[idx[i]];
            if (!pfd[i].revents || !drain(cn)) {
                continue;
            }
            cn->dropped = 1;
            close(cn->fd);
            cn->fd = -1;
            dropped++;
            t = now() - t0;
            if (first_drop < 0) {
                first_drop = t;
            }
            last_drop = t;
            for (k = 0; k < ncodes && codes[k] != cn->status; k++) {
            }
            if (k == ncodes && ncodes < MAX_STATUSES) {
                codes[ncodes] = cn->status;
                code_n[ncodes++] = 0;
            }
            if (k < ncodes) {
                code_n[k]++;
            }
        }
    }
    printf("opened=%d dropped=%d open=%d refused=%d", opened, dropped,
           opened - dropped, refused);
    if (first_drop < 0) {
        printf(" first_drop=- last_drop=- statuses=-\n");
    }
    else {
        printf(" first_drop=%.1f last_drop=%.1f statuses=", first_drop,
               last_drop);
        for (i = 0; i < ncodes; i++) {
            printf("%s%d:%d", i ? "," : "", codes[i], code_n[i]);
        }
        printf("\n");
    }
    for (i = 0; i < count; i++) {
        if (conns[i].fd >= 0) {
            close(conns[i].fd);
        }
    }
    free(conns);
    free(pfd);
    free(idx);
    return 0;
}
