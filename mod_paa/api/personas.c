/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Personas: GET /api/agents, GET /api/personas (paged), and
 * GET/POST/PUT/DELETE /api/personas/{id}. Who may write is decided by the
 * Apache configuration (Require paa-role admin on non-GET methods in the
 * shipped example), not here. A create never overwrites: an existing id
 * is 409. */

#include "../paa_private.h"

#include <apr_strings.h>
#include <apr_uri.h>

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX     100
#define PERSONA_BODY_MAX  16384

static json_t *row_json(request_rec *r, ap_dbd_t *dbd, apr_dbd_row_t *row)
{
    const char *v[9];
    int i;
    for (i = 0; i < 9; i++) {
        v[i] = apr_dbd_get_entry(dbd->driver, row, i);
        v[i] = v[i] ? v[i] : "";
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:i, s:s, s:s}", "id",
                     v[0], "name", v[1], "description", v[2],
                     "extraInstructions", v[3], "knowledgeCategory", v[4],
                     "temperature", atof(v[5]), "maxTokens", atoi(v[6]),
                     "createdAt", paa_iso_time(r->pool, apr_atoi64(v[7])),
                     "updatedAt", paa_iso_time(r->pool, apr_atoi64(v[8])));
}

int paa_persona_load(request_rec *r, ap_dbd_t *dbd, const char *id,
                     paa_persona_t *out)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int found = 0;

    if (paa_dbd_select(r, dbd, "paa_persona_get", &res, 1, &id) !=
        APR_SUCCESS) {
        return -1;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        const char *t, *m;
        out->id = apr_pstrdup(r->pool, apr_dbd_get_entry(dbd->driver, row, 0));
        out->name =
            apr_pstrdup(r->pool, apr_dbd_get_entry(dbd->driver, row, 1));
        out->description =
            apr_pstrdup(r->pool, apr_dbd_get_entry(dbd->driver, row, 2));
        out->extra_instructions =
            apr_pstrdup(r->pool, apr_dbd_get_entry(dbd->driver, row, 3));
        out->knowledge_category =
            apr_pstrdup(r->pool, apr_dbd_get_entry(dbd->driver, row, 4));
        t = apr_dbd_get_entry(dbd->driver, row, 5);
        m = apr_dbd_get_entry(dbd->driver, row, 6);
        out->temperature = t ? atof(t) : 0;
        out->max_tokens = m ? atoi(m) : 0;
        found = 1;
    }
    return found;
}

/* ?page=&pageSize=: positive integers; anything else is a 400. */
static int paging(request_rec *r, int *page, int *size, json_t *errors)
{
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *pair, *state;

    *page = 1;
    *size = PAGE_SIZE_DEFAULT;
    for (pair = args ? apr_strtok(args, "&", &state) : NULL; pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '='), *end;
        long v;
        if (!eq) {
            continue;
        }
        *eq++ = '\0';
        v = strtol(eq, &end, 10);
        if (!strcmp(pair, "page")) {
            if (*end || v < 1 || v > 1000000) {
                json_array_append_new(
                    errors, json_pack("{s:s, s:s}", "field", "page", "message",
                                      "must be a positive integer"));
            }
            *page = (int)v;
        }
        else if (!strcmp(pair, "pageSize")) {
            if (*end || v < 1 || v > PAGE_SIZE_MAX) {
                json_array_append_new(
                    errors,
                    json_pack("{s:s, s:s}", "field", "pageSize", "message",
                              apr_psprintf(r->pool, "must be 1 to %d",
                                           PAGE_SIZE_MAX)));
            }
            *size = (int)v;
        }
    }
    return json_array_size(errors) == 0;
}

static int db_unavailable(request_rec *r)
{
    return paa_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                            "the persona store is unavailable");
}

static int list(request_rec *r)
{
    ap_dbd_t *dbd;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    json_t *items, *errors = json_array();
    const char *args[2];
    int page, size, total = 0;

    if (!paging(r, &page, &size, errors)) {
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    if (!(dbd = paa_dbd_acquire(r)) ||
        paa_dbd_select(r, dbd, "paa_persona_count", &res, 0, NULL) !=
            APR_SUCCESS) {
        return db_unavailable(r);
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        const char *c = apr_dbd_get_entry(dbd->driver, row, 0);
        total = c ? atoi(c) : 0;
    }
    args[0] = apr_itoa(r->pool, size);
    args[1] = apr_itoa(r->pool, (page - 1) * size);
    res = NULL;
    if (paa_dbd_select(r, dbd, "paa_persona_page", &res, 2, args) !=
        APR_SUCCESS) {
        return db_unavailable(r);
    }
    items = json_array();
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        json_array_append_new(items, row_json(r, dbd, row));
    }
    return paa_send_json(r, HTTP_OK,
                         json_pack("{s:o, s:i, s:i, s:i, s:i}", "items", items,
                                   "page", page, "pageSize", size, "total",
                                   total, "totalPages",
                                   (total + size - 1) / size));
}

static int get_one(request_rec *r, ap_dbd_t *dbd, const char *id, int status)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    json_t *o = NULL;

    if (paa_dbd_select(r, dbd, "paa_persona_get", &res, 1, &id) !=
        APR_SUCCESS) {
        return db_unavailable(r);
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        json_decref(o);
        o = row_json(r, dbd, row);
    }
    if (!o) {
        return paa_send_problem(r, HTTP_NOT_FOUND, "no such persona");
    }
    return paa_send_json(r, status, o);
}

static const char **persona_args(request_rec *r, const paa_persona_t *pp,
                                 int update)
{
    const char **a = apr_palloc(r->pool, 9 * sizeof(*a));
    const char *now = apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                   apr_time_sec(r->request_time));
    const char *temp = apr_psprintf(r->pool, "%.17g", pp->temperature);
    const char *max = apr_itoa(r->pool, pp->max_tokens);

    if (update) { /* name, description, extra, category, temp, max, now, id */
        a[0] = pp->name;
        a[1] = pp->description;
        a[2] = pp->extra_instructions;
        a[3] = pp->knowledge_category;
        a[4] = temp;
        a[5] = max;
        a[6] = now;
        a[7] = pp->id;
    }
    else {
        a[0] = pp->id;
        a[1] = pp->name;
        a[2] = pp->description;
        a[3] = pp->extra_instructions;
        a[4] = pp->knowledge_category;
        a[5] = temp;
        a[6] = max;
        a[7] = now;
        a[8] = now;
    }
    return a;
}

static int write_one(request_rec *r, const char *id)
{
    ap_dbd_t *dbd;
    json_t *body = NULL, *errors = NULL;
    paa_persona_t pp, existing;
    int rc, found, nrows = 0;

    if ((rc = paa_read_json(r, PERSONA_BODY_MAX, &body)) != DECLINED) {
        return rc;
    }
    if (paa_persona_validate(r->pool, body, id, &pp, &errors) != APR_SUCCESS) {
        json_decref(body);
        return paa_send_invalid(r, errors);
    }
    json_decref(errors);
    json_decref(body);
    if (!(dbd = paa_dbd_acquire(r)) ||
        (found = paa_persona_load(r, dbd, pp.id, &existing)) < 0) {
        return db_unavailable(r);
    }
    if (!id) { /* POST */
        if (found || paa_dbd_query(r, dbd, "paa_persona_insert", &nrows, 9,
                                   persona_args(r, &pp, 0)) != APR_SUCCESS) {
            /* A concurrent create of the same id lands here too. */
            if (found || paa_persona_load(r, dbd, pp.id, &existing) > 0) {
                return paa_send_problem(
                    r, HTTP_CONFLICT,
                    apr_psprintf(r->pool, "persona %s already exists", pp.id));
            }
            return db_unavailable(r);
        }
        paa_audit(r, "persona.create", "success", pp.id, NULL, NULL);
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, "/api/personas/", pp.id, NULL));
        return get_one(r, dbd, pp.id, HTTP_CREATED);
    }
    if (!found) {
        return paa_send_problem(r, HTTP_NOT_FOUND, "no such persona");
    }
    if (paa_dbd_query(r, dbd, "paa_persona_update", &nrows, 8,
                      persona_args(r, &pp, 1)) != APR_SUCCESS) {
        return db_unavailable(r);
    }
    paa_audit(r, "persona.update", "success", pp.id, NULL, NULL);
    return get_one(r, dbd, pp.id, HTTP_OK);
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
    ap_dbd_t *dbd;
    int nrows = 0;

    switch (r->method_number) {
    case M_GET:
        if (!(dbd = paa_dbd_acquire(r))) {
            return db_unavailable(r);
        }
        return get_one(r, dbd, id, HTTP_OK);
    case M_PUT:
        return write_one(r, id);
    case M_DELETE:
        if (!(dbd = paa_dbd_acquire(r)) ||
            paa_dbd_query(r, dbd, "paa_persona_delete", &nrows, 1, &id) !=
                APR_SUCCESS) {
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
