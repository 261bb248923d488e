/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key lifecycle. The key goes to stdout alone, so that
 * KEY=$(paactl keygen ...) works; everything else goes to stderr. The key
 * is never stored, logged or shown again: a key given to find one (the
 * compromised-key procedure) is only hashed, and messages name keys by id.
 * list and show are in cmd_key_show.c. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void keygen_help(void)
{
    printf("usage: paactl keygen --name NAME [--client CLIENT] [--role ROLE]..."
           " [--expires DURATION]\n\n"
           "Create an API key (pak_ + 64 hex digits). The key is printed alone"
           " on stdout,\nonce; only its SHA-256 hash, a display prefix and the"
           " details are stored.\n\n"
           "  --name NAME          what the key is for (required)\n"
           "  --client CLIENT      the client or service that will use it\n"
           "  --role ROLE          a role; repeat for several\n"
           "  --expires DURATION   lifetime, e.g. 90d, 24h (default: never)\n");
}

/* What keygen was asked for; ttl 0 when the key never expires. */
typedef struct {
    const char *name;
    const char *client;
    const char *roles;
    apr_int64_t ttl;
} keygen_args_t;

static int keygen_parse(paactl_t *ctl, int argc, char **argv, keygen_args_t *a)
{
    apr_array_header_t *role_list =
        apr_array_make(ctl->pool, 2, sizeof(const char *));
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"client", required_argument, NULL, 'C'},
        {"role", required_argument, NULL, 'r'},
        {"expires", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *expires = NULL;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            a->name = optarg;
            break;
        case 'C':
            a->client = optarg;
            break;
        case 'r': {
            /* Roles are stored comma-separated; a role is a simple token. */
            const char *bad = paactl_role_add(role_list, optarg);
            if (bad) {
                return paactl_usage_error("keygen", "--role %s: %s", optarg,
                                          bad);
            }
            a->roles = apr_array_pstrcat(ctl->pool, role_list, ',');
            break;
        }
        case 'e':
            expires = optarg;
            break;
        case 'h':
            keygen_help();
            return -1;
        default:
            return paactl_usage_error("keygen",
                                      "unknown or incomplete "
                                      "option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("keygen", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if (!a->name || !*a->name || strlen(a->name) > 100) {
        return paactl_usage_error("keygen", "--name is required "
                                            "(1 to 100 characters)");
    }
    if (strlen(a->client) > 100) {
        return paactl_usage_error("keygen", "--client is longer than 100 "
                                            "characters");
    }
    if (expires && paa_duration_parse(expires, &a->ttl) != APR_SUCCESS) {
        return paactl_usage_error("keygen",
                                  "--expires '%s' is not a duration "
                                  "(e.g. 90d, 24h, 30m)",
                                  expires);
    }
    return PAACTL_OK;
}

int paactl_cmd_keygen(paactl_t *ctl, int argc, char **argv)
{
    keygen_args_t a = {NULL, "", "", 0};
    const char *err = NULL;
    paa_apikey_t key;
    paa_key_t k;
    paa_db_t *db;
    int rc;

    if ((rc = keygen_parse(ctl, argc, argv, &a)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_apikey_generate(ctl->pool, &key) != APR_SUCCESS) {
        return paactl_fail("the random number generator failed; no key "
                           "was created");
    }
    memset(&k, 0, sizeof(k));
    k.id = key.id;
    k.prefix = key.prefix;
    k.name = a.name;
    k.client = a.client;
    k.roles = a.roles;
    k.created_by = paactl_actor(ctl);
    k.created_at = apr_time_sec(apr_time_now());
    k.expires_at = a.ttl ? k.created_at + a.ttl : 0;
    if (paa_keys_add(ctl->pool, db, &k, key.hash) != APR_SUCCESS) {
        paa_wipe(key.key, strlen(key.key));
        return paactl_db_error(db, "store the key", db->error);
    }
    if (paactl_audit(
            ctl, db, "key.create", a.name, key.id,
            apr_psprintf(ctl->pool, "roles=%s client=%s", a.roles, a.client),
            &err) != APR_SUCCESS) {
        paactl_fail("warning: the key was created but its audit record "
                    "failed: %s",
                    err);
    }
    fprintf(stderr,
            "created API key %s (prefix %s) name=%s client=%s roles=%s "
            "expires=%s\n",
            key.id, key.prefix, a.name, a.client, *a.roles ? a.roles : "-",
            a.ttl ? paactl_time(ctl, k.expires_at) : "never");
    fprintf(stderr, "the key is shown once; store it now\n");
    printf("%s\n", key.key);
    fflush(stdout);
    paa_wipe(key.key, strlen(key.key));
    return PAACTL_OK;
}

/* ------------------------------------------------------ finding a key */

/* How a KEY-ID|KEY argument finds its key, and how messages name it. */
typedef struct {
    paa_key_filter_t f;
    const char *what;
} key_query_t;

/* Turns the KEY-ID|KEY argument into a query. The argument is never echoed
 * when it may be a key, even a mistyped one; "-" reads the key from
 * standard input, so that the compromised-key procedure need not put the
 * key in ps output and shell history. */
static int key_ref(paactl_t *ctl, const char *cmd, const char *arg,
                   key_query_t *q)
{
    memset(q, 0, sizeof(*q));
    if (paactl_key_id_well_formed(arg)) {
        q->f.id = arg;
        q->what = apr_pstrcat(ctl->pool, "id ", arg, NULL);
        return PAACTL_OK;
    }
    if (!strcmp(arg, "-")) {
        int rc = paactl_key_hash_stdin(ctl, cmd, &q->f.hash);
        if (rc != PAACTL_OK) {
            return rc;
        }
    }
    else if (paa_apikey_well_formed(arg)) {
        q->f.hash = paa_sha256_hex(ctl->pool, arg, PAA_APIKEY_LEN);
    }
    else if (strstr(arg, PAA_APIKEY_PREFIX)) {
        return paactl_usage_error(cmd, "the argument starts like an API key "
                                       "but is not one (pak_ + 64 lowercase "
                                       "hex digits)");
    }
    else {
        return paactl_usage_error(cmd,
                                  "'%s' is neither a key id (key_ + 16 hex "
                                  "digits) nor an API key (pak_ + 64 hex "
                                  "digits, or - to read it from stdin)",
                                  arg);
    }
    q->what = "the given value";
    return PAACTL_OK;
}

/* Finds the key a query names; prints why not and returns the exit
 * status when there is none. */
static int key_need(paactl_t *ctl, paa_db_t *db, const key_query_t *q,
                    paa_key_t *out)
{
    apr_array_header_t *keys;

    if (paa_keys_find(ctl->pool, db, &q->f, &keys) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", db->error);
    }
    if (!keys->nelts) {
        return paactl_fail("no API key with %s in %s database %s (see "
                           "'paactl list --all')",
                           q->what, db->driver_name, db->label);
    }
    *out = APR_ARRAY_IDX(keys, 0, paa_key_t);
    return PAACTL_OK;
}

static int key_load(paactl_t *ctl, const char *cmd, const char *arg,
                    key_query_t *q, paa_db_t **db, paa_key_t *out)
{
    int rc;

    if ((rc = key_ref(ctl, cmd, arg, q)) != PAACTL_OK) {
        return rc;
    }
    if (paactl_db(ctl, db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    return key_need(ctl, *db, q, out);
}

int paactl_key_load(paactl_t *ctl, const char *cmd, const char *arg,
                    paa_db_t **db, paa_key_t *out)
{
    key_query_t q;
    return key_load(ctl, cmd, arg, &q, db, out);
}

int paactl_key_opts(const char *cmd, int argc, char **argv, int allow,
                    int nargs, void (*help)(void), paactl_key_opts_t *o)
{
    static const struct option opts[] = {
        {"grace", required_argument, NULL, 'g'},
        {"expires", required_argument, NULL, 'e'},
        {"reason", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, bit, idx;

    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while ((idx = -1, c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        switch (c) {
        case 'g':
            bit = PAACTL_KEY_GRACE;
            o->grace = optarg;
            break;
        case 'e':
            bit = PAACTL_KEY_EXPIRES;
            o->expires = optarg;
            break;
        case 'r':
            bit = PAACTL_KEY_REASON;
            o->reason = optarg;
            break;
        case 'j':
            bit = PAACTL_KEY_JSON;
            o->json = 1;
            break;
        case 'a':
            bit = PAACTL_KEY_ALL;
            o->all = 1;
            break;
        case 'h':
            help();
            return -1;
        default:
            bit = 0;
            break;
        }
        /* idx names an option this command does not take; optind - 1
         * would be its argument. */
        if (bit && !(bit & allow)) {
            return paactl_usage_error(
                cmd, "--%s is not an option of this command", opts[idx].name);
        }
        if (!bit) {
            return paactl_usage_error(cmd, "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (argc - optind > nargs) {
        return paactl_usage_error(cmd, "unexpected argument '%s'",
                                  argv[optind + nargs]);
    }
    if (argc - optind < nargs) {
        return paactl_usage_error(cmd, "which key? Give its id (key_...) or "
                                       "the key itself");
    }
    o->ref = nargs ? argv[optind] : NULL;
    return PAACTL_OK;
}

/* ------------------------------------------------------------- rotate */

static void rotate_help(void)
{
    printf("usage: paactl rotate KEY-ID|KEY|- [--grace DURATION]"
           " [--expires DURATION]\n\n"
           "Replace an API key: create a new key with the same name, client "
           "and roles,\nand keep the old one valid for a grace period (never "
           "past its own expiry)\nso clients can switch over. The new key is "
           "printed alone on stdout, once.\n\n"
           "  KEY-ID              the key's id (key_ + 16 hex digits), or the "
           "key itself;\n"
           "                      - reads the key from stdin (keeps it out of "
           "ps and history)\n"
           "  --grace DURATION    how long the old key stays valid (default "
           "24h; at least 1s)\n"
           "  --expires DURATION  lifetime of the new key (default: the old "
           "key's expiry)\n\n"
           "A revoked, expired or already rotated key cannot be rotated.\n");
}

/* Why old cannot be rotated at now (printed), or PAACTL_OK. */
static int rotate_refused(paactl_t *ctl, const paa_key_t *old, apr_int64_t now)
{
    if (old->revoked_at) {
        return paactl_fail("key %s (%s) was revoked at %s and cannot be "
                           "rotated; create a new one with 'paactl keygen'",
                           old->id, old->name,
                           paactl_time(ctl, old->revoked_at));
    }
    if (old->expires_at && old->expires_at <= now) {
        return paactl_fail("key %s (%s) expired at %s and cannot be rotated; "
                           "create a new one with 'paactl keygen'",
                           old->id, old->name,
                           paactl_time(ctl, old->expires_at));
    }
    /* A second successor would make "replaced by" ambiguous. */
    if (old->replaced_by) {
        return paactl_fail("key %s (%s) was already rotated: its replacement "
                           "is %s; rotate that one, or revoke %s to end its "
                           "grace now",
                           old->id, old->name, old->replaced_by, old->id);
    }
    return PAACTL_OK;
}

/* The key that replaces old: same name, client and roles. */
static void successor(paactl_t *ctl, const paa_key_t *old,
                      const paa_apikey_t *key, apr_int64_t now, apr_int64_t ttl,
                      paa_key_t *next)
{
    memset(next, 0, sizeof(*next));
    next->id = key->id;
    next->prefix = key->prefix;
    next->name = old->name;
    next->client = old->client;
    next->roles = old->roles;
    next->created_by = paactl_actor(ctl);
    next->created_at = now;
    next->expires_at = ttl ? now + ttl : old->expires_at;
    next->rotated_from = old->id;
}

/* Messages and the audit record of a rotation that was made. */
static int rotated(paactl_t *ctl, paa_db_t *db, const paa_key_t *old,
                   const paa_key_t *next, paa_apikey_t *key,
                   apr_int64_t grace_end, const char *grace)
{
    paactl_audit_change(
        ctl, db, "key.rotate", old->name, next->id,
        apr_psprintf(ctl->pool, "rotated_from=%s old_valid_until=%s grace=%s",
                     old->id, paactl_time(ctl, grace_end),
                     grace ? grace : "24h"));
    fprintf(stderr,
            "created API key %s (prefix %s) name=%s client=%s roles=%s "
            "expires=%s, replacing %s\n",
            next->id, next->prefix, old->name, *old->client ? old->client : "-",
            *old->roles ? old->roles : "-",
            next->expires_at ? paactl_time(ctl, next->expires_at) : "never",
            old->id);
    fprintf(stderr, "the old key %s stays valid until %s\n", old->id,
            paactl_time(ctl, grace_end));
    fprintf(stderr, "the new key is shown once; store it now\n");
    printf("%s\n", key->key);
    fflush(stdout);
    paa_wipe(key->key, strlen(key->key));
    return PAACTL_OK;
}

int paactl_cmd_rotate(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t grace = 24 * 3600, ttl = 0, grace_end;
    paactl_key_opts_t o;
    paa_apikey_t key;
    paa_key_t old, next;
    paa_db_t *db;
    int rc, done = 0;

    rc = paactl_key_opts("rotate", argc, argv,
                         PAACTL_KEY_GRACE | PAACTL_KEY_EXPIRES, 1, rotate_help,
                         &o);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (o.grace && paa_duration_parse(o.grace, &grace) != APR_SUCCESS) {
        return paactl_usage_error("rotate",
                                  "--grace '%s' is not a duration of at "
                                  "least 1s (e.g. 24h, 30m, 90s)",
                                  o.grace);
    }
    if (o.expires && paa_duration_parse(o.expires, &ttl) != APR_SUCCESS) {
        return paactl_usage_error("rotate",
                                  "--expires '%s' is not a duration "
                                  "(e.g. 90d, 24h, 30m)",
                                  o.expires);
    }
    if ((rc = paactl_key_load(ctl, "rotate", o.ref, &db, &old)) != PAACTL_OK ||
        (rc = rotate_refused(ctl, &old, now)) != PAACTL_OK) {
        return rc;
    }
    grace_end = now + grace;
    if (old.expires_at && old.expires_at < grace_end) {
        grace_end = old.expires_at;
    }
    if (paa_apikey_generate(ctl->pool, &key) != APR_SUCCESS) {
        return paactl_fail("the random number generator failed; nothing was "
                           "changed");
    }
    successor(ctl, &old, &key, now, ttl, &next);
    if (paa_keys_rotate(ctl->pool, db, &next, key.hash, now + grace, &done) !=
        APR_SUCCESS) {
        paa_wipe(key.key, strlen(key.key));
        return paactl_db_error(db, "rotate the key (nothing was changed)",
                               db->error);
    }
    if (!done) {
        paa_wipe(key.key, strlen(key.key));
        return paactl_fail("key %s changed while it was being rotated "
                           "(revoked, expired or rotated by someone else); "
                           "nothing was changed: see 'paactl show %s'",
                           old.id, old.id);
    }
    return rotated(ctl, db, &old, &next, &key, grace_end, o.grace);
}

/* ------------------------------------------------------------- revoke */

static void revoke_help(void)
{
    printf("usage: paactl revoke KEY-ID|KEY|- [--reason TEXT]\n"
           "       paactl revoke --all [--client C] [--role R] [--except ID]..."
           " --reason TEXT\n\n"
           "Revoke an API key now: every httpd process refuses it from its "
           "next request.\nRevoking a key twice changes nothing.\n\n"
           "  KEY-ID         the key's id (key_ + 16 hex digits), or the key "
           "itself;\n"
           "                 - reads the key from stdin (keeps it out of ps "
           "and history)\n"
           "  --reason TEXT  why, for the records (up to 500 characters)\n\n"
           "paactl revoke --all --help explains the bulk form.\n");
}

/* A reason is stored and audited: it must not carry a key. */
int paactl_contains_key(const char *s)
{
    const char *p = s;
    while ((p = strstr(p, PAA_APIKEY_PREFIX)) != NULL) {
        int i;
        for (i = 4; i < PAA_APIKEY_LEN; i++) {
            if (!apr_isxdigit(p[i])) {
                break;
            }
        }
        if (i == PAA_APIKEY_LEN) {
            return 1;
        }
        p += 4;
    }
    return 0;
}

int paactl_cmd_revoke(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    paactl_key_opts_t o;
    key_query_t q;
    paa_key_t k;
    paa_db_t *db;
    int rc, nrows = 0;

    if (paactl_revoke_bulk_asked(argc, argv)) {
        return paactl_cmd_revoke_all(ctl, argc, argv);
    }
    rc = paactl_key_opts("revoke", argc, argv, PAACTL_KEY_REASON, 1,
                         revoke_help, &o);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (o.reason && strlen(o.reason) > 500) {
        return paactl_usage_error("revoke", "--reason is longer than 500 "
                                            "characters");
    }
    if (o.reason && paactl_contains_key(o.reason)) {
        return paactl_usage_error("revoke", "--reason contains an API key; "
                                            "name keys by their id instead");
    }
    if ((rc = key_load(ctl, "revoke", o.ref, &q, &db, &k)) != PAACTL_OK) {
        return rc;
    }
    if (!k.revoked_at) {
        if (paa_keys_revoke(ctl->pool, db, k.id, now, o.reason, &nrows) !=
            APR_SUCCESS) {
            return paactl_db_error(db, "revoke the key", db->error);
        }
        /* Zero rows: revoked by someone else since we looked. */
        if (nrows == 0 && (rc = key_need(ctl, db, &q, &k)) != PAACTL_OK) {
            return rc;
        }
    }
    if (nrows == 0) {
        fprintf(stderr,
                "key %s (%s) was already revoked at %s%s%s; nothing "
                "changed\n",
                k.id, k.name, paactl_time(ctl, k.revoked_at),
                k.revoked_reason ? ", reason: " : "",
                k.revoked_reason ? k.revoked_reason : "");
        return PAACTL_OK;
    }
    paactl_audit_change(
        ctl, db, "key.revoke", k.name, k.id,
        apr_psprintf(ctl->pool, "reason=%s", o.reason ? o.reason : ""));
    fprintf(stderr, "revoked API key %s (prefix %s, name %s) at %s\n", k.id,
            k.prefix, k.name, paactl_time(ctl, now));
    if (k.replaced_by) {
        fprintf(stderr, "its replacement %s is not affected\n", k.replaced_by);
    }
    return PAACTL_OK;
}
