/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* JSON string values for access-log lines. httpd's own escaping of log
 * items (ap_escape_logitem) writes bytes outside printable ASCII as \xNN,
 * which JSON does not allow: one request for /caf%C3%A9 would make its
 * line unreadable to every JSON tool. The request path, headers and
 * identities are client-controlled, so the log line must be valid JSON
 * whatever bytes arrive. */

#include "paa.h"

#include <apr_strings.h>
#include <stdio.h>

const char *paa_json_quote(apr_pool_t *p, const char *s)
{
    const unsigned char *c;
    char *out, *o;
    int n;

    if (!s) {
        return "null";
    }
    for (c = (const unsigned char *)s; *c; c += n) {
        if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\' ||
            !(n = paa_utf8_seq(c))) {
            break;
        }
    }
    if (!*c) { /* the common case: nothing to escape */
        return apr_pstrcat(p, "\"", s, "\"", NULL);
    }
    /* At most 6 bytes ("\u00XX", "\\xNN" is 5) for each byte of s. */
    o = out = apr_palloc(p, 6 * strlen(s) + 3);
    *o++ = '"';
    for (c = (const unsigned char *)s; *c; c += n) {
        n = 1;
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c < 0x20 || *c == 0x7f) {
            o += sprintf(o, "\\u%04x", *c);
        }
        else if ((n = paa_utf8_seq(c))) {
            memcpy(o, c, n);
            o += n;
        }
        else {
            o += sprintf(o, "\\\\x%02x", *c);
            n = 1;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
