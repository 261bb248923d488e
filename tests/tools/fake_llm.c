/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* fake_llm: a small fake OpenAI-compatible provider for the integration
 * tests. The tests must exercise mod_paa's upstream handling (success,
 * every kind of failure, slowness, garbage) deterministically and without
 * network access or API keys, so this stands in for the provider: it
 * listens on loopback only, answers chat completions according to a mode
 * that a test can switch at run time, and records what it received so a
 * test can check exactly what mod_paa forwarded (headers, body).
 *
 *   fake_llm --port PORT [--mode MODE] [--name NAME] [--record FILE]
 *            [--pidfile FILE]
 *
 * MODE: ok, fail500, fail429, auth401, bad400, hang, slow:MS, garbage,
 * hold (a chat waits until the mode is switched, then is answered per the
 * new mode: a test decides exactly when a request in flight completes).
 * Control endpoints: POST /__mode (body: new mode), GET /__mode,
 * GET /__count. Exit status: 0 after SIGTERM/SIGINT, 1 if it cannot bind
 * or write its files, 2 usage error. Only POSIX sockets, pthreads and
 * jansson, so it builds wherever the module's tests build. */

#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER_BYTES  (64 * 1024)
#define MAX_BODY_BYTES    (1024 * 1024)
#define IO_TIMEOUT_SECS   30
#define HANG_LIMIT_SECS   120
#define MAX_SLOW_MS       600000L
#define SHUTDOWN_GRACE_MS 3000
#define DRAIN_MS          1000

enum mode_kind {
    MODE_OK,
    MODE_FAIL500,
    MODE_FAIL429,
    MODE_AUTH401,
    MODE_BAD400,
    MODE_HANG,
    MODE_SLOW,
    MODE_GARBAGE,
    MODE_HOLD
};

struct mode {
    enum mode_kind kind;
    long slow_ms;
    char text[32];
};

struct request {
    char *hdr; /* header block; the pointers below point into it */
    const char *method;
    const char *target;
    const char *authorization; /* NULL when absent */
    const char *content_type;  /* NULL when absent */
    int expect_continue;
    int chunked;
    long long content_length; /* -1 when absent */
    char *body;
    size_t body_len;
};

static volatile sig_atomic_t g_stop;
static const char *g_name = "fake";

/* g_lock guards the current mode and the live connection count. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static struct mode g_mode;
static unsigned g_active;

/* g_chat_lock guards the record file and the chat request count, so a
 * test that sees count N can rely on the record holding N lines. */
static pthread_mutex_t g_chat_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_record;
static unsigned long g_count;
static int g_recording; /* set before any thread starts, then constant */

static const char ERR_500[] = "{\"error\":{\"message\":\"fake provider "
                              "failure\",\"type\":\"server_error\"}}";
static const char ERR_429[] = "{\"error\":{\"message\":\"rate limit "
                              "exceeded\",\"type\":\"rate_limit_error\"}}";
static const char ERR_401[] = "{\"error\":{\"message\":\"invalid api key\"}}";
static const char ERR_400[] = "{\"error\":{\"message\":\"bad request\","
                              "\"type\":\"invalid_request_error\"}}";
static const char GARBAGE[] = "<html>this is not JSON {\"choices\": [";

static void usage(FILE *out)
{
    fputs("usage: fake_llm --port PORT [--mode MODE] [--name NAME]\n"
          "                [--record FILE] [--pidfile FILE]\n"
          "MODE: ok (default), fail500, fail429, auth401, bad400, hang,\n"
          "      slow:MS, garbage, hold\n",
          out);
}

/* Parses a mode name (surrounding whitespace ignored) into *out. */
static int parse_mode(const char *s, size_t len, struct mode *out)
{
    static const struct {
        const char *name;
        enum mode_kind kind;
    } simple[] = {{"ok", MODE_OK},           {"fail500", MODE_FAIL500},
                  {"fail429", MODE_FAIL429}, {"auth401", MODE_AUTH401},
                  {"bad400", MODE_BAD400},   {"hang", MODE_HANG},
                  {"garbage", MODE_GARBAGE}, {"hold", MODE_HOLD}};
    size_t i;

    while (len > 0 && strchr(" \t\r\n", s[0]) != NULL) {
        s++;
        len--;
    }
    while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL) {
        len--;
    }
    for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strlen(simple[i].name) == len &&
            memcmp(simple[i].name, s, len) == 0) {
            out->kind = simple[i].kind;
            out->slow_ms = 0;
            snprintf(out->text, sizeof(out->text), "%s", simple[i].name);
            return 0;
        }
    }
    if (len > 5 && len <= 5 + 6 && memcmp(s, "slow:", 5) == 0) {
        long ms = 0;

        for (i = 5; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return -1;
            }
            ms = ms * 10 + (s[i] - '0');
        }
        if (ms > MAX_SLOW_MS) {
            return -1;
        }
        out->kind = MODE_SLOW;
        out->slow_ms = ms;
        snprintf(out->text, sizeof(out->text), "slow:%ld", ms);
        return 0;
    }
    return -1;
}

static struct mode current_mode(void)
{
    struct mode m;

    pthread_mutex_lock(&g_lock);
    m = g_mode;
    pthread_mutex_unlock(&g_lock);
    return m;
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
    unsigned long cp, min;
    size_t n, i;

    if (p[0] < 0x80) {
        return 1;
    }
    else if ((p[0] & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = p[0] & 0x1F;
    }
    else if ((p[0] & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = p[0] & 0x0F;
    }
    else if ((p[0] & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = p[0] & 0x07;
    }
    else {
        return 0;
    }
    if (n > left) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* A JSON string for arbitrary bytes: invalid UTF-8 becomes '?', so what a
 * client sent can always be recorded. */
static json_t *text_value(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *copy = malloc(len + 1);
    size_t i = 0, o = 0;
    json_t *v;

    if (copy == NULL) {
        return json_null();
    }
    while (i < len) {
        size_t n = utf8_seq_len(p + i, len - i);

        if (n == 0) {
            copy[o++] = '?';
            i++;
        }
        else {
            memcpy(copy + o, p + i, n);
            o += n;
            i += n;
        }
    }
    v = json_stringn(copy, o);
    free(copy);
    return v != NULL ? v : json_null();
}

static json_t *optional_text(const char *s)
{
    return s != NULL ? text_value(s, strlen(s)) : json_null();
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Unknown";
    }
}

/* Every response closes the connection: keep-alive buys the tests
 * nothing, and a fresh connection per request keeps modes exact. */
static void send_response(int fd, int status, const char *ctype,
                          const char *extra, const char *body, size_t len)
{
    char head[512];
    int n;

    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\n"
                 "Server: fake_llm\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "Connection: close\r\n\r\n",
                 status, reason(status), ctype, len, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        return;
    }
    if (send_all(fd, head, (size_t)n) == 0 && len > 0) {
        send_all(fd, body, len);
    }
}

static void send_text(int fd, int status, const char *text)
{
    send_response(fd, status, "text/plain; charset=utf-8", NULL, text,
                  strlen(text));
}

static void send_json_error(int fd, int status, const char *extra,
                            const char *body)
{
    send_response(fd, status, "application/json", extra, body, strlen(body));
}

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000 +
           (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Half-closes, then reads until the peer closes (bounded), so closing a
 * socket that still has unread input does not reset the response away. */
static void finish_connection(int fd)
{
    struct timespec start;
    char scratch[4096];

    shutdown(fd, SHUT_WR);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        long left = DRAIN_MS - elapsed_ms(&start);
        struct pollfd p = {fd, POLLIN, 0};
        int r;

        if (left <= 0) {
            break;
        }
        r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || recv(fd, scratch, sizeof(scratch), 0) <= 0) {
            break;
        }
    }
    close(fd);
}

static char *find_header_end(char *buf, size_t len, size_t from)
{
    size_t i;

    for (i = from; i + 4 <= len; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            return buf + i;
        }
    }
    return NULL;
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
        *--end = '\0';
    }
    return s;
}

/* Parses the request line and the headers, in place. Returns 0 or the
 * status to answer with. */
static int parse_head(struct request *rq)
{
    char *line = rq->hdr, *next, *sp1, *sp2;

    next = strstr(line, "\r\n");
    if (next != NULL) {
        *next = '\0';
        next += 2;
    }
    sp1 = strchr(line, ' ');
    sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1 ||
        strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        return 400;
    }
    *sp1 = '\0';
    *sp2 = '\0';
    rq->method = line;
    rq->target = sp1 + 1;

    while (next != NULL && *next != '\0') {
        char *colon, *name, *value;

        line = next;
        next = strstr(line, "\r\n");
        if (next != NULL) {
            *next = '\0';
            next += 2;
        }
        colon = strchr(line, ':');
        if (colon == NULL) {
            return 400;
        }
        *colon = '\0';
        name = line;
        value = trim(colon + 1);
        if (strcasecmp(name, "Content-Length") == 0) {
            long long v = 0;
            const char *p = value;

            if (*p == '\0') {
                return 400;
            }
            for (; *p != '\0'; p++) {
                if (*p < '0' || *p > '9') {
                    return 400;
                }
                if (v <= MAX_BODY_BYTES) {
                    v = v * 10 + (*p - '0');
                }
            }
            if (rq->content_length >= 0 && rq->content_length != v) {
                return 400;
            }
            rq->content_length = v;
        }
        else if (strcasecmp(name, "Authorization") == 0) {
            if (rq->authorization == NULL) {
                rq->authorization = value;
            }
        }
        else if (strcasecmp(name, "Content-Type") == 0) {
            if (rq->content_type == NULL) {
                rq->content_type = value;
            }
        }
        else if (strcasecmp(name, "Expect") == 0) {
            rq->expect_continue = strcasecmp(value, "100-continue") == 0;
        }
        else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            rq->chunked = 1;
        }
    }
    return 0;
}

/* Reads one request. Returns 0, -1 if the peer went away or timed out, or
 * the status to answer with. */
static int read_request(int fd, struct request *rq)
{
    size_t cap = 8192, len = 0, head_len, have;
    char *buf = malloc(cap + 1), *end = NULL;
    int status;

    if (buf == NULL) {
        return -1;
    }
    rq->hdr = buf;
    while (end == NULL) {
        ssize_t n;

        if (len == cap) {
            char *bigger;

            if (cap >= MAX_HEADER_BYTES) {
                return 431;
            }
            cap *= 2;
            bigger = realloc(buf, cap + 1);
            if (bigger == NULL) {
                return -1;
            }
            rq->hdr = buf = bigger;
        }
        n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        end = find_header_end(buf, len + (size_t)n, len >= 3 ? len - 3 : 0);
        len += (size_t)n;
    }
    buf[len] = '\0';
    head_len = (size_t)(end - buf) + 4;
    end[2] = '\0'; /* keep the last header's CRLF for parse_head */

    status = parse_head(rq);
    if (status != 0) {
        return status;
    }
    if (rq->chunked) {
        return 411;
    }
    if (rq->content_length > MAX_BODY_BYTES) {
        return 413;
    }
    rq->body_len = rq->content_length > 0 ? (size_t)rq->content_length : 0;
    rq->body = malloc(rq->body_len + 1);
    if (rq->body == NULL) {
        return -1;
    }
    have = len - head_len;
    if (have > rq->body_len) {
        have = rq->body_len;
    }
    memcpy(rq->body, buf + head_len, have);
    if (have < rq->body_len && rq->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

        if (send_all(fd, cont, sizeof(cont) - 1) != 0) {
            return -1;
        }
    }
    while (have < rq->body_len) {
        ssize_t n = recv(fd, rq->body + have, rq->body_len - have, 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        have += (size_t)n;
    }
    rq->body[rq->body_len] = '\0';
    return 0;
}

/* Appends the record line (if recording) and counts the request; returns
 * its sequence number. */
static unsigned long record_chat(const struct request *rq, const struct mode *m,
                                 json_t *doc)
{
    char *line = NULL;
    unsigned long seq;

    if (g_recording) {
        json_t *obj = json_object();

        json_object_set_new(obj, "name", text_value(g_name, strlen(g_name)));
        json_object_set_new(obj, "mode", json_string(m->text));
        json_object_set_new(obj, "path", optional_text(rq->target));
        json_object_set_new(obj, "authorization",
                            optional_text(rq->authorization));
        json_object_set_new(obj, "content_type",
                            optional_text(rq->content_type));
        json_object_set_new(obj, "body",
                            doc != NULL ? json_incref(doc)
                                        : text_value(rq->body, rq->body_len));
        line = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
    }
    pthread_mutex_lock(&g_chat_lock);
    if (g_record != NULL && line != NULL) {
        fputs(line, g_record);
        fputc('\n', g_record);
        fflush(g_record);
    }
    seq = ++g_count;
    pthread_mutex_unlock(&g_chat_lock);
    free(line);
    return seq;
}

/* The text of a message's content: a string, or the concatenated "text"
 * of an array of content parts. Returns a malloc'd buffer. */
static char *message_text(json_t *msg, size_t *len)
{
    json_t *content = json_object_get(msg, "content");
    char *out;

    *len = 0;
    if (json_is_string(content)) {
        *len = json_string_length(content);
        out = malloc(*len + 1);
        if (out != NULL) {
            memcpy(out, json_string_value(content), *len);
        }
        return out;
    }
    out = malloc(1);
    if (json_is_array(content)) {
        size_t i;
        json_t *part;

        json_array_foreach(content, i, part)
        {
            json_t *text = json_object_get(part, "text");
            size_t n;
            char *bigger;

            if (!json_is_string(text)) {
                continue;
            }
            n = json_string_length(text);
            bigger = out != NULL ? realloc(out, *len + n + 1) : NULL;
            if (bigger == NULL) {
                free(out);
                return NULL;
            }
            out = bigger;
            memcpy(out + *len, json_string_value(text), n);
            *len += n;
        }
    }
    return out;
}

static void answer_ok(int fd, json_t *doc, unsigned long seq)
{
    json_t *msgs = json_object_get(doc, "messages"), *model, *resp;
    char id[64], *said, *text, *dump;
    size_t text_len, name_len = strlen(g_name), said_len;

    if (!json_is_object(doc)) {
        send_json_error(fd, 400, NULL,
                        "{\"error\":{\"message\":\"request body is not a "
                        "JSON object\",\"type\":\"invalid_request_error\"}}");
        return;
    }
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        send_json_error(fd, 400, NULL,
                        "{\"error\":{\"message\":\"messages must be a "
                        "non-empty array\",\"type\":"
                        "\"invalid_request_error\"}}");
        return;
    }
    text = message_text(json_array_get(msgs, json_array_size(msgs) - 1),
                        &text_len);
    said_len = name_len + 7 + text_len;
    said = text != NULL ? malloc(said_len) : NULL;
    if (said == NULL) {
        free(text);
        send_json_error(fd, 500, NULL, ERR_500);
        return;
    }
    memcpy(said, g_name, name_len);
    memcpy(said + name_len, " says: ", 7);
    memcpy(said + name_len + 7, text, text_len);
    free(text);

    model = json_object_get(doc, "model");
    snprintf(id, sizeof(id), "chatcmpl-fake-%lu", seq);
    resp = json_pack(
        "{s:s, s:s, s:I, s:O, s:[{s:i, s:{s:s, s:o}, s:s}],"
        " s:{s:i, s:i, s:i}}",
        "id", id, "object", "chat.completion", "created",
        (json_int_t)time(NULL), "model", model != NULL ? model : json_null(),
        "choices", "index", 0, "message", "role", "assistant", "content",
        text_value(said, said_len), "finish_reason", "stop", "usage",
        "prompt_tokens", 1, "completion_tokens", 1, "total_tokens", 2);
    free(said);
    dump = resp != NULL ? json_dumps(resp, JSON_COMPACT) : NULL;
    json_decref(resp);
    if (dump == NULL) {
        send_json_error(fd, 500, NULL, ERR_500);
        return;
    }
    send_response(fd, 200, "application/json", NULL, dump, strlen(dump));
    free(dump);
}

/* Sleeps ms milliseconds; returns -1 if interrupted by shutdown. */
static int sleep_ms(long ms)
{
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        long left = ms - elapsed_ms(&start);
        struct timespec ts;

        if (g_stop) {
            return -1;
        }
        if (left <= 0) {
            return 0;
        }
        if (left > 50) {
            left = 50;
        }
        ts.tv_sec = 0;
        ts.tv_nsec = left * 1000000L;
        nanosleep(&ts, NULL);
    }
}

/* Never answers: waits until the peer closes, shutdown, or the limit. */
static void hang(int fd)
{
    struct timespec start;
    char scratch[4096];

    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!g_stop && elapsed_ms(&start) < HANG_LIMIT_SECS * 1000L) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 100);

        if (r < 0 && errno != EINTR) {
            break;
        }
        if (r > 0) {
            ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);

            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN &&
                           errno != EWOULDBLOCK)) {
                break;
            }
        }
    }
    close(fd);
}

/* Waits while the mode is hold; *m is then the mode to answer with.
 * Returns -1 on shutdown or after HANG_LIMIT_SECS. */
static int hold(struct mode *m)
{
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((*m = current_mode()).kind == MODE_HOLD) {
        if (elapsed_ms(&start) >= HANG_LIMIT_SECS * 1000L ||
            sleep_ms(20) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Answers a chat request per the current mode. Returns 1 if it already
 * closed the connection. */
static int handle_chat(int fd, const struct request *rq)
{
    struct mode m = current_mode();
    json_t *doc = NULL;
    unsigned long seq;

    if (rq->body_len > 0) {
        doc = json_loadb(rq->body, rq->body_len,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    }
    seq = record_chat(rq, &m, doc);
    if (m.kind == MODE_HOLD && hold(&m) != 0) {
        json_decref(doc);
        close(fd);
        return 1;
    }
    switch (m.kind) {
    case MODE_OK:
        answer_ok(fd, doc, seq);
        break;
    case MODE_SLOW:
        if (sleep_ms(m.slow_ms) != 0) {
            json_decref(doc);
            close(fd);
            return 1;
        }
        answer_ok(fd, doc, seq);
        break;
    case MODE_FAIL500:
        send_json_error(fd, 500, NULL, ERR_500);
        break;
    case MODE_FAIL429:
        send_json_error(fd, 429, "Retry-After: 1\r\n", ERR_429);
        break;
    case MODE_AUTH401:
        send_json_error(fd, 401, NULL, ERR_401);
        break;
    case MODE_BAD400:
        send_json_error(fd, 400, NULL, ERR_400);
        break;
    case MODE_GARBAGE:
        send_response(fd, 200, "application/json", NULL, GARBAGE,
                      sizeof(GARBAGE) - 1);
        break;
    case MODE_HANG:
        json_decref(doc);
        hang(fd);
        return 1;
    case MODE_HOLD: /* hold() returned another mode */
        break;
    }
    json_decref(doc);
    return 0;
}

static void handle_mode(int fd, const struct request *rq)
{
    if (strcmp(rq->method, "GET") == 0) {
        struct mode m = current_mode();

        send_text(fd, 200, m.text);
    }
    else if (strcmp(rq->method, "POST") == 0) {
        struct mode m;

        if (parse_mode(rq->body, rq->body_len, &m) != 0) {
            send_text(fd, 400, "unknown mode");
            return;
        }
        pthread_mutex_lock(&g_lock);
        g_mode = m;
        pthread_mutex_unlock(&g_lock);
        send_text(fd, 200, "ok");
    }
    else {
        send_response(fd, 405, "text/plain", "Allow: GET, POST\r\n", "", 0);
    }
}

static void handle_count(int fd, const struct request *rq)
{
    char text[32];

    if (strcmp(rq->method, "GET") != 0) {
        send_response(fd, 405, "text/plain", "Allow: GET\r\n", "", 0);
        return;
    }
    pthread_mutex_lock(&g_chat_lock);
    snprintf(text, sizeof(text), "%lu", g_count);
    pthread_mutex_unlock(&g_chat_lock);
    send_text(fd, 200, text);
}

static void *connection_main(void *arg)
{
    int fd = *(int *)arg;
    struct request rq;
    int status, closed = 0;

    free(arg);
    memset(&rq, 0, sizeof(rq));
    rq.content_length = -1;
    status = read_request(fd, &rq);
    if (status == 0) {
        size_t plen = strcspn(rq.target, "?#");
        static const char chat[] = "/chat/completions";
        size_t clen = sizeof(chat) - 1;

        if (plen == 7 && strncmp(rq.target, "/__mode", plen) == 0) {
            handle_mode(fd, &rq);
        }
        else if (plen == 8 && strncmp(rq.target, "/__count", plen) == 0) {
            handle_count(fd, &rq);
        }
        else if (plen >= clen &&
                 strncmp(rq.target + plen - clen, chat, clen) == 0) {
            if (strcmp(rq.method, "POST") == 0) {
                closed = handle_chat(fd, &rq);
            }
            else {
                send_response(fd, 405, "text/plain", "Allow: POST\r\n", "", 0);
            }
        }
        else {
            send_json_error(fd, 404, NULL,
                            "{\"error\":{\"message\":\"not found\"}}");
        }
    }
    else if (status > 0) {
        send_text(fd, status, reason(status));
    }
    if (!closed) {
        finish_connection(fd);
    }
    free(rq.hdr);
    free(rq.body);

    pthread_mutex_lock(&g_lock);
    g_active--;
    pthread_cond_signal(&g_idle);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void on_signal(int sig)
{
    g_stop = 1;
}

/* Writes the pid via a temporary file and rename, so a test polling for
 * the file never reads it half-written. */
static int write_pidfile(const char *path)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    FILE *f;
    int ok;

    if (tmp == NULL) {
        return -1;
    }
    snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (f == NULL) {
        free(tmp);
        return -1;
    }
    ok = fprintf(f, "%ld\n", (long)getpid()) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

static int open_listener(int port)
{
    struct sockaddr_in addr;
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fd, 128) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void serve(int lfd)
{
    pthread_attr_t attr;
    sigset_t block, old;
    struct timeval tv = {IO_TIMEOUT_SECS, 0};

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);

    while (!g_stop) {
        struct pollfd p = {lfd, POLLIN, 0};
        pthread_t tid;
        int cfd, *arg;

        if (poll(&p, 1, 250) <= 0) {
            continue;
        }
        cfd = accept(lfd, NULL, NULL);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
                sleep_ms(10);
            }
            continue;
        }
        setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        arg = malloc(sizeof(*arg));
        if (arg == NULL) {
            close(cfd);
            continue;
        }
        *arg = cfd;
        pthread_mutex_lock(&g_lock);
        g_active++;
        pthread_mutex_unlock(&g_lock);
        /* Workers inherit a mask without the stop signals, so they always
         * reach the main thread and interrupt its poll. */
        pthread_sigmask(SIG_BLOCK, &block, &old);
        if (pthread_create(&tid, &attr, connection_main, arg) != 0) {
            close(cfd);
            free(arg);
            pthread_mutex_lock(&g_lock);
            g_active--;
            pthread_mutex_unlock(&g_lock);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_attr_destroy(&attr);
}

/* Gives live connections (hang and slow ones notice g_stop) a moment to
 * finish, so their buffers are freed before exit. */
static void wait_for_connections(void)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SHUTDOWN_GRACE_MS / 1000;
    pthread_mutex_lock(&g_lock);
    while (g_active > 0) {
        if (pthread_cond_timedwait(&g_idle, &g_lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"mode", required_argument, NULL, 'm'},
        {"name", required_argument, NULL, 'n'},
        {"record", required_argument, NULL, 'r'},
        {"pidfile", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *record = NULL, *pidfile = NULL;
    struct sigaction sa;
    long port = -1;
    int c, lfd;
    json_t *probe;

    parse_mode("ok", 2, &g_mode);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'p':
            errno = 0;
            port = strtol(optarg, &end, 10);
            if (errno != 0 || *optarg == '\0' || *end != '\0' || port < 1 ||
                port > 65535) {
                fprintf(stderr, "fake_llm: bad port '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm':
            if (parse_mode(optarg, strlen(optarg), &g_mode) != 0) {
                fprintf(stderr, "fake_llm: unknown mode '%s'\n", optarg);
                return 2;
            }
            break;
        case 'n':
            g_name = optarg;
            break;
        case 'r':
            record = optarg;
            break;
        case 'P':
            pidfile = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || port < 0) {
        usage(stderr);
        return 2;
    }
    probe = json_string(g_name);
    if (probe == NULL) {
        fprintf(stderr, "fake_llm: --name must be UTF-8\n");
        return 2;
    }
    json_decref(probe);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: interrupt the poll */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = open_listener((int)port);
    if (lfd < 0) {
        fprintf(stderr, "fake_llm: cannot bind 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        return 1;
    }
    if (record != NULL) {
        g_record = fopen(record, "a");
        if (g_record == NULL) {
            fprintf(stderr, "fake_llm: cannot open %s: %s\n", record,
                    strerror(errno));
            close(lfd);
            return 1;
        }
        g_recording = 1;
    }
    if (pidfile != NULL && write_pidfile(pidfile) != 0) {
        fprintf(stderr, "fake_llm: cannot write %s: %s\n", pidfile,
                strerror(errno));
        close(lfd);
        if (g_record != NULL) {
            fclose(g_record);
        }
        return 1;
    }

    serve(lfd);

    close(lfd);
    wait_for_connections();
    if (pidfile != NULL) {
        unlink(pidfile);
    }
    pthread_mutex_lock(&g_chat_lock);
    if (g_record != NULL) {
        fclose(g_record);
        g_record = NULL;
    }
    pthread_mutex_unlock(&g_chat_lock);
    return 0;
}
