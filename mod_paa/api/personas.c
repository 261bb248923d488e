/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Personas: GET /api/agents, GET /api/personas (paged), and
 * GET/POST/PUT/DELETE /api/personas/{id}. Who may write is decided by the
 * Apache configuration (Require paa-role admin on non-GET methods in the
 * shipped example), not here. A create never overwrites: an existing id
 * is 409. */

#include "../paa_private.h"

#include <apr_strings.h>
#include <apr_uri.h>
#include <pthread.h>
#include <stdlib.h>

#define PERSONA_BODY_MAX 16384

/* The pages of the list as last sent, per process: a page costs two
 * queries (count and page) and personas seldom change. A page is used
 * only while the personas' change marker says that none changed since it
 * was read (paa_credcache_personas_fresh), so a change by anyone, paactl
 * or SQL by hand included, is seen by every process within a second. Per
 * process rather than in shared memory: a change costs each child one
 * reading of the page, and a page of any size fits. A page is its
 * server's: a virtual host may have a database of its own. */
#define ANSWERS    8
#define ANSWER_MAX (512 * 1024)

typedef struct {
    const server_rec *s;
    int page;
    int size;
    apr_uint32_t epoch;
    char *text; /* malloc'd; NULL: a free slot */
    apr_size_t len;
} answer_t;

static answer_t answers[ANSWERS];
static unsigned answers_next;
/* Held for a copy at most: the children's threads share the slots. */
static pthread_mutex_t answers_lock = PTHREAD_MUTEX_INITIALIZER;

static answer_t *answer_find(const server_rec *s, int page, int size)
{
    int i;
    for (i = 0; i < ANSWERS; i++) {
        if (answers[i].text && answers[i].s == s && answers[i].page == page &&
            answers[i].size == size) {
            return &answers[i];
        }
    }
    return NULL;
}

/* The page as cached and still right, copied into p; NULL when not. */
static const char *answer_get(request_rec *r, int page, int size,
                              apr_time_t now)
{
    const char *text = NULL;
    answer_t *a;

    pthread_mutex_lock(&answers_lock);
    if ((a = answer_find(r->server, page, size)) &&
        paa_credcache_personas_fresh(r->server, a->epoch, now)) {
        text = apr_pstrmemdup(r->pool, a->text, a->len);
    }
    pthread_mutex_unlock(&answers_lock);
    return text;
}

/* Keep text (malloc'd: taken over) as the page read in epoch. */
static void answer_put(server_rec *s, int page, int size, apr_uint32_t epoch,
                       apr_time_t now, char *text)
{
    apr_size_t len = strlen(text);
    char *old = text;
    answer_t *a;
    int i;

    if (len <= ANSWER_MAX && paa_credcache_of(s)) {
        pthread_mutex_lock(&answers_lock);
        a = answer_find(s, page, size);
        for (i = 0; !a && i < ANSWERS; i++) {
            if (!answers[i].text || !paa_credcache_personas_fresh(
                                        answers[i].s, answers[i].epoch, now)) {
                a = &answers[i];
            }
        }
        if (!a) {
            a = &answers[answers_next++ % ANSWERS];
        }
        old = a->text;
        a->s = s;
        a->page = page;
        a->size = size;
        a->epoch = epoch;
        a->text = text;
        a->len = len;
        pthread_mutex_unlock(&answers_lock);
    }
    free(old);
}

static int db_unavailable(request_rec *r)
{
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                            "the persona store is unavailable");
}

static int list(request_rec *r)
{
    paa_db_t *db;
    apr_array_header_t *rows;
    json_t *items, *body, *errors = json_array();
    const char *cached;
    char *text;
    apr_uint32_t epoch;
    apr_time_t now;
    int page, size, total = 0, i, rc;

    if (!paa_paging(r, &page, &size, errors)) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    /* Usually done already by the authentication; a public list asks
     * here. */
    paa_credcache_refresh(r);
    now = apr_time_now();
    if ((cached = answer_get(r, page, size, now))) {
        return paa_send_json_text(r, HTTP_OK, cached);
    }
    epoch =
        paa_authcache_epoch_of(paa_credcache_of(r->server), PAA_CACHE_PERSONAS);
    if (!(db = paa_db(r)) ||
        paa_personas_count(r->pool, db, &total) != APR_SUCCESS ||
        paa_personas_page(r->pool, db, size, (page - 1) * size, &rows) !=
            APR_SUCCESS) {
        return db_unavailable(r);
    }
    items = json_array();
    for (i = 0; i < rows->nelts; i++) {
        json_array_append_new(
            items,
            paa_persona_json(r->pool, &APR_ARRAY_IDX(rows, i, paa_persona_t)));
    }
    body = json_pack("{s:o, s:i, s:i, s:i, s:i}", "items", items, "page", page,
                     "pageSize", size, "total", total, "totalPages",
                     (total + size - 1) / size);
    if (!(text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        return paa_send_json(r, HTTP_OK, body); /* which fails and says so */
    }
    json_decref(body);
    rc = paa_send_json_text(r, HTTP_OK, text);
    answer_put(r->server, page, size, epoch, now, text);
    return rc;
}

/* This process changed a persona: the next request, in any process,
 * reads the marker, so that the writer's next read finds the change. */
static void changed(request_rec *r)
{
    paa_authcache_check_soon(paa_credcache_of(r->server));
}

static int get_one(request_rec *r, paa_db_t *db, const char *id, int status)
{
    paa_persona_t pp;
    int found = 0;

    if (paa_personas_get(r->pool, db, id, &pp, &found) != APR_SUCCESS) {
        return db_unavailable(r);
    }
    if (!found) {
        return paa_send_problem(r, HTTP_NOT_FOUND, "no such persona");
    }
    return paa_send_json(r, status, paa_persona_json(r->pool, &pp));
}

static int write_one(request_rec *r, const char *id)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    paa_db_t *db;
    json_t *body = NULL, *errors = NULL;
    paa_persona_t pp, existing;
    int rc, found = 0, nrows = 0;

    if ((rc = paa_read_json(r, PERSONA_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    if (paa_persona_validate(r->pool, body, id, &pp, &errors) != APR_SUCCESS) {
        json_decref(body);
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    json_decref(body);
    if (!(db = paa_db(r)) || paa_personas_get(r->pool, db, pp.id, &existing,
                                              &found) != APR_SUCCESS) {
        return db_unavailable(r);
    }
    if (!id) { /* POST */
        if (found ||
            paa_personas_insert(r->pool, db, &pp, now) != APR_SUCCESS) {
            /* A concurrent create of the same id lands here too. */
            if (found || (paa_personas_get(r->pool, db, pp.id, &existing,
                                           &found) == APR_SUCCESS &&
                          found)) {
                return paa_send_problem(
                    r, HTTP_CONFLICT,
                    apr_psprintf(r->pool, "persona %s already exists", pp.id));
            }
            return db_unavailable(r);
        }
        changed(r);
        paa_audit(r, "persona.create", "success", pp.id, NULL, NULL);
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, "/api/personas/", pp.id, NULL));
        return get_one(r, db, pp.id, HTTP_CREATED);
    }
    if (!found) {
        return paa_send_problem(r, HTTP_NOT_FOUND, "no such persona");
    }
    if (paa_personas_update(r->pool, db, &pp, now, &nrows) != APR_SUCCESS) {
        return db_unavailable(r);
    }
    changed(r);
    paa_audit(r, "persona.update", "success", pp.id, NULL, NULL);
    return get_one(r, db, pp.id, HTTP_OK);
}

int paa_api_personas(request_rec *r)
{
    if (r->method_number == M_GET) {
        return list(r);
    }
    if (r->method_number == M_POST && !strcmp(r->uri, "/api/personas")) {
        return write_one(r, NULL);
    }
    return paa_method_not_allowed(
        r, strcmp(r->uri, "/api/personas") ? "GET, HEAD" : "GET, HEAD, POST");
}

int paa_api_persona(request_rec *r)
{
    const char *id = r->uri + strlen("/api/personas/");
    paa_db_t *db;
    int nrows = 0;

    switch (r->method_number) {
    case M_GET:
        if (!(db = paa_db(r))) {
            return db_unavailable(r);
        }
        return get_one(r, db, id, HTTP_OK);
    case M_PUT:
        return write_one(r, id);
    case M_DELETE:
        if (!(db = paa_db(r)) ||
            paa_personas_delete(r->pool, db, id, &nrows) != APR_SUCCESS) {
            return db_unavailable(r);
        }
        if (nrows == 0) {
            return paa_send_problem(r, HTTP_NOT_FOUND, "no such persona");
        }
        changed(r);
        paa_audit(r, "persona.delete", "success", id, NULL, NULL);
        r->status = HTTP_NO_CONTENT;
        return OK;
    default:
        return paa_method_not_allowed(r, "GET, HEAD, PUT, DELETE");
    }
}
