/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Personas: GET /api/agents, GET /api/personas (paged), and
 * GET/POST/PUT/DELETE /api/personas/{id}. Who may write is decided by the
 * Apache configuration (Require paa-role admin on non-GET methods in the
 * shipped example), not here. A create never overwrites: an existing id
 * is 409. */

#include "../paa_private.h"

#include <apr_strings.h>
#include <apr_uri.h>

#define PERSONA_BODY_MAX 16384

static int db_unavailable(request_rec *r)
{
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                            "the persona store is unavailable");
}

static int list(request_rec *r)
{
    paa_db_t *db;
    apr_array_header_t *rows;
    json_t *items, *errors = json_array();
    int page, size, total = 0, i;

    if (!paa_paging(r, &page, &size, errors)) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
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
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:o, s:i, s:i, s:i, s:i}", "items", items,
                                   "page", page, "pageSize", size, "total",
                                   total, "totalPages",
                                   (total + size - 1) / size));
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
        paa_audit(r, "persona.delete", "success", id, NULL, NULL);
        r->status = HTTP_NO_CONTENT;
        return OK;
    default:
        return paa_method_not_allowed(r, "GET, HEAD, PUT, DELETE");
    }
}
