/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* RFC 9457 problem details. Every error mod_paa sends goes through here so
 * that clients see one shape and no handler can leak internals by
 * accident: callers pass a detail written for the client, never a driver
 * or provider message. */

#include "paa.h"

#include <apr_strings.h>
#include <jansson.h>

const char *paa_status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status >= 500 ? "Server Error" : "Client Error";
    }
}

static const char *problem(apr_pool_t *p, int status, const char *title,
                           const char *detail, const char *instance,
                           json_t *errors)
{
    json_t *o = json_object();
    char *text;
    const char *out;

    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title",
                        json_string(title ? title : paa_status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    if (detail) {
        json_object_set_new(o, "detail", json_string(detail));
    }
    if (instance) {
        json_object_set_new(o, "instance", json_string(instance));
    }
    if (errors) {
        json_object_set_new(o, "errors", errors);
    }
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) {
        /* Only on allocation failure; keep the response well-formed. */
        return apr_psprintf(p, "{\"type\":\"about:blank\",\"status\":%d}",
                            status);
    }
    out = apr_pstrdup(p, text);
    free(text);
    return out;
}

const char *paa_problem_json(apr_pool_t *p, int status, const char *title,
                             const char *detail, const char *instance)
{
    return problem(p, status, title, detail, instance, NULL);
}

const char *paa_problem_json_typed(apr_pool_t *p, int status, const char *type,
                                   const char *detail, const char *instance)
{
    const char *doc = problem(p, status, NULL, detail, instance, NULL);
    json_t *o = json_loads(doc, 0, NULL);
    char *text;

    if (!o) {
        return doc;
    }
    json_object_set_new(o, "type", json_string(type));
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text) {
        doc = apr_pstrdup(p, text);
        free(text);
    }
    return doc;
}

const char *paa_problem_json_errors(apr_pool_t *p, int status,
                                    const char *detail, const char *instance,
                                    json_t *errors)
{
    return problem(p, status, NULL, detail, instance, errors);
}
