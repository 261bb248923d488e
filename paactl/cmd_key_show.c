/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl list and show: what is stored about API keys, never a key itself.
 * Terminal output goes through paactl_printable: names come from argv,
 * nothing stops an escape sequence there. */

#include "paactl.h"

#include <apr_strings.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *key_status(const paa_key_t *k, apr_int64_t now)
{
    if (k->revoked_at) {
        return "revoked";
    }
    /* The module refuses a key from its expiry second on. */
    if (k->expires_at && k->expires_at <= now) {
        return "expired";
    }
    return k->replaced_by ? "grace" : "active";
}

static json_t *jtime(paactl_t *ctl, apr_int64_t t)
{
    return t ? json_string(paactl_time(ctl, t)) : json_null();
}

static json_t *key_json(paactl_t *ctl, const paa_key_t *k, apr_int64_t now,
                        int full)
{
    json_t *o = json_object(), *roles = json_array();
    apr_array_header_t *r = paa_split_list(ctl->pool, k->roles);
    int i;

    for (i = 0; i < r->nelts; i++) {
        json_array_append_new(
            roles, paactl_json_str(ctl, APR_ARRAY_IDX(r, i, const char *)));
    }
    json_object_set_new(o, "id", paactl_json_str(ctl, k->id));
    json_object_set_new(o, "prefix", paactl_json_str(ctl, k->prefix));
    json_object_set_new(o, "name", paactl_json_str(ctl, k->name));
    json_object_set_new(o, "client", paactl_json_str(ctl, k->client));
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "status", json_string(key_status(k, now)));
    json_object_set_new(o, "created", jtime(ctl, k->created_at));
    json_object_set_new(o, "expires", jtime(ctl, k->expires_at));
    json_object_set_new(o, "last_used", jtime(ctl, k->last_used_at));
    json_object_set_new(o, "revoked", jtime(ctl, k->revoked_at));
    if (full) {
        /* null, as for the other fields, when nobody was recorded */
        json_object_set_new(
            o, "created_by",
            paactl_json_str(ctl, *k->created_by ? k->created_by : NULL));
        json_object_set_new(o, "revoked_reason",
                            paactl_json_str(ctl, k->revoked_reason));
    }
    json_object_set_new(o, "rotated_from",
                        paactl_json_str(ctl, k->rotated_from));
    json_object_set_new(o, "replaced_by", paactl_json_str(ctl, k->replaced_by));
    return o;
}

#define LIST_COLS 9

static void list_help(void)
{
    printf("usage: paactl list [--all] [--json]\n\n"
           "List API keys: id, prefix, name, client, roles, created, expires, "
           "last used\nand status (active, grace: rotated and valid until its "
           "grace ends,\nexpired, revoked). Times are UTC.\n\n"
           "  --all   include revoked and expired keys\n"
           "  --json  a JSON array for scripts (times ISO 8601, null for "
           "none)\n");
}

static void list_table(paactl_t *ctl, const apr_array_header_t *keys,
                       apr_int64_t now)
{
    static const char *const head[LIST_COLS] = {
        "ID",      "PREFIX",  "NAME",      "CLIENT", "ROLES",
        "CREATED", "EXPIRES", "LAST USED", "STATUS"};
    const char **cells =
        apr_pcalloc(ctl->pool, sizeof(char *) * LIST_COLS * keys->nelts);
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const paa_key_t *k = &APR_ARRAY_IDX(keys, i, paa_key_t);
        const char **r = cells + i * LIST_COLS;
        r[0] = paactl_printable(ctl, k->id);
        r[1] = paactl_printable(ctl, k->prefix);
        r[2] = paactl_printable(ctl, k->name);
        r[3] = paactl_printable(ctl, k->client);
        r[4] = paactl_printable(ctl, k->roles);
        r[5] = k->created_at ? paactl_time(ctl, k->created_at) : "-";
        r[6] = k->expires_at ? paactl_time(ctl, k->expires_at) : "-";
        r[7] = k->last_used_at ? paactl_time(ctl, k->last_used_at) : "-";
        r[8] = key_status(k, now);
    }
    paactl_table_print(ctl, LIST_COLS, head, cells, keys->nelts);
}

int paactl_cmd_list(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    paa_key_filter_t f = {NULL, NULL, 0}, any = {NULL, NULL, 0};
    apr_array_header_t *keys, *all = NULL;
    paactl_key_opts_t o;
    paa_db_t *db;
    int rc, i;

    rc = paactl_key_opts("list", argc, argv, PAACTL_KEY_ALL | PAACTL_KEY_JSON,
                         0, list_help, &o);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    f.usable_at = o.all ? 0 : now;
    if (paa_keys_find(ctl->pool, db, &f, &keys) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", db->error);
    }
    if (o.json) {
        json_t *arr = json_array();
        for (i = 0; i < keys->nelts; i++) {
            json_array_append_new(
                arr, key_json(ctl, &APR_ARRAY_IDX(keys, i, paa_key_t), now, 0));
        }
        return paactl_json_print(arr);
    }
    /* Whether there are other keys decides what the hint says. */
    if (!keys->nelts && !o.all &&
        paa_keys_find(ctl->pool, db, &any, &all) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", db->error);
    }
    if (!keys->nelts) {
        fprintf(stderr,
                "no %sAPI keys%s (create one with: paactl keygen "
                "--name NAME)\n",
                o.all ? "" : "active ",
                o.all || !all->nelts ? ""
                                     : "; --all shows revoked and expired "
                                       "ones");
        return PAACTL_OK;
    }
    list_table(ctl, keys, now);
    return PAACTL_OK;
}

static void show_help(void)
{
    printf("usage: paactl show KEY-ID|KEY|- [--json]\n\n"
           "Show everything stored about one API key (never the key itself): "
           "status,\ntimes, who created it, why it was revoked, which key it "
           "replaced and\nwhich key replaced it.\n\n"
           "  KEY-ID  the key's id (key_ + 16 hex digits), or the key itself;\n"
           "          - reads the key from stdin (keeps it out of ps and "
           "history)\n"
           "  --json  a JSON object for scripts\n");
}

int paactl_cmd_show(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    paactl_key_opts_t o;
    paa_key_t k;
    paa_db_t *db;
    int rc;

    rc = paactl_key_opts("show", argc, argv, PAACTL_KEY_JSON, 1, show_help, &o);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = paactl_key_load(ctl, "show", o.ref, &db, &k)) != PAACTL_OK) {
        return rc;
    }
    if (o.json) {
        return paactl_json_print(key_json(ctl, &k, now, 1));
    }
    printf("id              %s\n", paactl_printable(ctl, k.id));
    printf("prefix          %s\n", paactl_printable(ctl, k.prefix));
    printf("name            %s\n", paactl_printable(ctl, k.name));
    printf("client          %s\n", paactl_printable(ctl, k.client));
    printf("roles           %s\n", paactl_printable(ctl, k.roles));
    printf("status          %s\n", key_status(&k, now));
    printf("created         %s\n",
           k.created_at ? paactl_time(ctl, k.created_at) : "-");
    printf("created by      %s\n", paactl_printable(ctl, k.created_by));
    printf("expires         %s\n",
           k.expires_at ? paactl_time(ctl, k.expires_at) : "never");
    printf("last used       %s\n",
           k.last_used_at ? paactl_time(ctl, k.last_used_at) : "never");
    printf("revoked         %s\n",
           k.revoked_at ? paactl_time(ctl, k.revoked_at) : "-");
    printf("revoked reason  %s\n", paactl_printable(ctl, k.revoked_reason));
    printf("rotated from    %s\n", paactl_printable(ctl, k.rotated_from));
    printf("replaced by     %s\n", paactl_printable(ctl, k.replaced_by));
    return PAACTL_OK;
}
