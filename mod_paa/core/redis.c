/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* PAARateLimitStore redis://: the counters of a cluster of httpd nodes in
 * one Redis, so that a limit holds for the cluster and not per node. Each
 * decision is one round trip: a Lua script that reads, updates and expires
 * the key atomically (Redis runs scripts one at a time), so two nodes can
 * never both take the last request of a window. The script runs on
 * Redis's clock (TIME), not the node's: windows then start and end at the
 * same moment for every node whatever their clocks say.
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
#include <stdlib.h>
#include <string.h>

#define PAA_REDIS_BACKOFF_MIN apr_time_from_msec(50)
#define PAA_REDIS_BACKOFF_MAX apr_time_from_sec(1)

/* KEYS[1] the counter; ARGV limit, window (s). Returns allowed, remaining,
 * reset (s), first refusal of the window: what paa_rl_hit() tells. The
 * fields: s window start, w window length, c count, r refusals. */
static const char rl_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local v = redis.call('HMGET', KEYS[1], 's', 'w', 'c', 'r')\n"
    "local s, w = tonumber(v[1]), tonumber(v[2])\n"
    "local c, r = tonumber(v[3]) or 0, tonumber(v[4]) or 0\n"
    "if not s or not w or now >= s + w or w ~= window then\n"
    "  s, c, r = now, 0, 0\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  redis.call('HSET', KEYS[1], 's', s, 'w', window)\n"
    "  redis.call('EXPIRE', KEYS[1], window)\n"
    "end\n"
    "local allowed, first = 0, 0\n"
    "if c < limit then\n"
    "  c = c + 1\n"
    "  redis.call('HSET', KEYS[1], 'c', c)\n"
    "  allowed = 1\n"
    "else\n"
    "  r = r + 1\n"
    "  redis.call('HSET', KEYS[1], 'r', r)\n"
    "  if r == 1 then first = 1 end\n"
    "end\n"
    "return {allowed, limit - c, s + window - now, first}\n";

struct paa_redis_t {
    redisContext *ctx; /* NULL: not connected */
    char *host;
    char *user;
    char *password;
    int port;
    int db;
    apr_interval_time_t timeout;
    apr_time_t deadline;       /* of the hit under way */
    apr_interval_time_t on_fd; /* the socket's timeout now */
    char sha[41];              /* the script's digest once loaded, "" before */
    apr_time_t next_try;
    apr_time_t backoff;
    apr_uint64_t commands;
    int peer_gone; /* the last failure: the server had closed the socket */
    char errbuf[160];
};

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

/* What is left of the hit's time; 0 when it is over. */
static apr_interval_time_t rl_left(const paa_redis_t *c)
{
    apr_interval_time_t left = c->deadline - apr_time_now();
    return left > 0 ? left : 0;
}

/* Send argv; the reply (to free) or NULL with the connection dropped. A
 * hit may send several commands (a new connection's AUTH, SELECT and
 * SCRIPT LOAD, a retry): each waits only for what is left of the hit's
 * timeout. The socket's timeout is changed only when that differs (a
 * system call each way): a hit on a live connection sends one command,
 * with about the whole timeout left, as the socket already says. */
static redisReply *rl_command(paa_redis_t *c, int argc, const char **argv)
{
    apr_interval_time_t left = rl_left(c);
    redisReply *rep;

    c->peer_gone = 0;
    if (left == 0) {
        rl_disconnect(c, "timed out");
        return NULL;
    }
    /* 0: never set; else only when it is off by more than a millisecond */
    if (c->on_fd == 0 || (left > c->on_fd ? left - c->on_fd : c->on_fd - left) >
                             apr_time_from_msec(1)) {
        if (redisSetTimeout(c->ctx, rl_tv(left)) != REDIS_OK) {
            rl_disconnect(c, "cannot set the command timeout");
            return NULL;
        }
        c->on_fd = left;
    }
    c->commands++;
    errno = 0;
    rep = redisCommandArgv(c->ctx, argc, argv, NULL);
    if (!rep) {
        c->peer_gone = c->ctx->err == REDIS_ERR_EOF ||
                       (c->ctx->err == REDIS_ERR_IO &&
                        (errno == ECONNRESET || errno == EPIPE));
        /* A timeout leaves the reply in flight: the connection is out of
         * step and must not be reused. */
        rl_disconnect(c, c->ctx->errstr[0] ? c->ctx->errstr : "no reply");
    }
    return rep;
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

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
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
    return 1;
}

static redisReply *rl_eval(paa_redis_t *c, const char *key, const char *lim,
                           const char *win)
{
    const char *argv[6] = {"EVALSHA", c->sha, "1", key, lim, win};
    redisReply *rep;

    if (c->sha[0]) {
        rep = rl_command(c, 6, argv);
        if (!rep || rep->type != REDIS_REPLY_ERROR ||
            strncmp(rep->str, "NOSCRIPT", 8) != 0) {
            return rep;
        }
        freeReplyObject(rep);
    }
    argv[0] = "EVAL";
    argv[1] = rl_script;
    return rl_command(c, 6, argv);
}

apr_status_t paa_redis_rl_hit(paa_redis_t *c, const char *key,
                              apr_uint32_t limit, apr_uint32_t window,
                              paa_rl_result_t *res, const char **err)
{
    char lim[16], win[16];
    redisReply *rep;
    int good, fresh = !c->ctx;

    *err = NULL;
    c->deadline = apr_time_now() + c->timeout;
    if (!c->ctx) {
        if (apr_time_now() < c->next_try) {
            *err = c->errbuf;
            return APR_EAGAIN;
        }
        if (rl_connect(c) != APR_SUCCESS) {
            *err = c->errbuf;
            return APR_EGENERAL;
        }
    }
    apr_snprintf(lim, sizeof(lim), "%u", limit);
    apr_snprintf(win, sizeof(win), "%u", window);
    rep = rl_eval(c, key, lim, win);
    if (!rep && !fresh && c->peer_gone) {
        /* An idle connection whose server went away meanwhile (a restart,
         * a proxy's idle timeout): that says nothing about the server now,
         * so one new connection is tried at once. The script had not run
         * (nobody read it); at worst, a server that ran it and then closed
         * the socket counts the request twice, which refuses, never
         * grants, more. */
        c->backoff = 0;
        if (rl_connect(c) == APR_SUCCESS) {
            rep = rl_eval(c, key, lim, win);
        }
    }
    if (!rep) {
        *err = c->errbuf;
        return APR_EGENERAL;
    }
    good = rl_reply(rep, res);
    if (!good) {
        apr_snprintf(c->errbuf, sizeof(c->errbuf), "unexpected reply%s%.100s",
                     rep->type == REDIS_REPLY_ERROR ? ": " : "",
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    }
    freeReplyObject(rep);
    if (!good) {
        rl_disconnect(c, NULL);
        *err = c->errbuf;
        return APR_EGENERAL;
    }
    c->backoff = 0;
    return APR_SUCCESS;
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
