/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key lifecycle. The key goes to stdout alone, so that
 * KEY=$(paactl keygen ...) works; everything else goes to stderr. The key
 * is never stored, logged or shown again: a key given to find one (the
 * compromised-key procedure) is only hashed, and messages name keys by id. */

#include "paactl.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <getopt.h>
#include <jansson.h>
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

int paactl_cmd_keygen(paactl_t *ctl, int argc, char **argv)
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
    const char *name = NULL, *client = "", *roles = "", *expires = NULL;
    const char *err = NULL, *args[9];
    apr_int64_t ttl = 0;
    apr_time_t now = apr_time_sec(apr_time_now());
    paa_apikey_t key;
    paa_db_t *db;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'C':
            client = optarg;
            break;
        case 'r': {
            /* Roles are stored comma-separated; a role is a simple token. */
            const char *bad = paactl_role_add(role_list, optarg);
            if (bad) {
                return paactl_usage_error("keygen", "--role %s: %s", optarg,
                                          bad);
            }
            roles = apr_array_pstrcat(ctl->pool, role_list, ',');
            break;
        }
        case 'e':
            expires = optarg;
            break;
        case 'h':
            keygen_help();
            return PAACTL_OK;
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
    if (!name || !*name || strlen(name) > 100) {
        return paactl_usage_error("keygen", "--name is required "
                                            "(1 to 100 characters)");
    }
    if (strlen(client) > 100) {
        return paactl_usage_error("keygen", "--client is longer than 100 "
                                            "characters");
    }
    if (expires && paa_duration_parse(expires, &ttl) != APR_SUCCESS) {
        return paactl_usage_error("keygen",
                                  "--expires '%s' is not a duration "
                                  "(e.g. 90d, 24h, 30m)",
                                  expires);
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_apikey_generate(ctl->pool, &key) != APR_SUCCESS) {
        return paactl_fail("the random number generator failed; no key "
                           "was created");
    }
    args[0] = key.id;
    args[1] = key.hash;
    args[2] = key.prefix;
    args[3] = name;
    args[4] = client;
    args[5] = roles;
    args[6] = paactl_i64(ctl, now);
    args[7] = paactl_actor(ctl);
    args[8] = ttl ? paactl_i64(ctl, now + ttl) : NULL;
    if (paa_db_pquery(ctl->pool, db,
                      "INSERT INTO paa_api_keys (id, key_hash, prefix, name,"
                      " client, roles, created_at, created_by, expires_at)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %lld, %s, %lld)",
                      9, args, NULL, &err) != APR_SUCCESS) {
        return paactl_db_error(db, "store the key", err);
    }
    if (paactl_audit(
            ctl, db, "key.create", name, key.id,
            apr_psprintf(ctl->pool, "roles=%s client=%s", roles, client),
            &err) != APR_SUCCESS) {
        paactl_fail("warning: the key was created but its audit record "
                    "failed: %s",
                    err);
    }
    fprintf(stderr,
            "created API key %s (prefix %s) name=%s client=%s roles=%s "
            "expires=%s\n",
            key.id, key.prefix, name, client, *roles ? roles : "-",
            ttl ? paactl_time(ctl, now + ttl) : "never");
    fprintf(stderr, "the key is shown once; store it now\n");
    printf("%s\n", key.key);
    fflush(stdout);
    paa_wipe(key.key, strlen(key.key));
    return PAACTL_OK;
}

/* ------------------------------------------------------ finding a key */

/* What is stored about a key; times are Unix seconds, 0 for never. */
typedef struct {
    const char *id;
    const char *prefix;
    const char *name;
    const char *client;
    const char *roles;
    const char *created_by;
    const char *revoked_reason;
    const char *rotated_from;
    const char *replaced_by; /* the newest key rotated from this one */
    apr_int64_t created_at;
    apr_int64_t expires_at;
    apr_int64_t revoked_at;
    apr_int64_t last_used_at;
} key_row_t;

/* The subquery gives the successor, which is what makes a key "grace". */
#define KEY_SELECT                                                             \
    "SELECT k.id, k.prefix, k.name, k.client, k.roles, k.created_by,"          \
    " k.revoked_reason, k.rotated_from,"                                       \
    " (SELECT n.id FROM paa_api_keys n WHERE n.rotated_from = k.id"            \
    " ORDER BY n.created_at DESC, n.id DESC LIMIT 1),"                         \
    " k.created_at, k.expires_at, k.revoked_at, k.last_used_at"                \
    " FROM paa_api_keys k"

/* pgsql returns "" for NULL where sqlite3 returns NULL: both mean none. */
static const char *col_str(paactl_t *ctl, paa_db_t *db, apr_dbd_row_t *row,
                           int n)
{
    const char *v = apr_dbd_get_entry(db->driver, row, n);
    return v && *v ? apr_pstrdup(ctl->pool, v) : NULL;
}

static apr_int64_t col_time(paa_db_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(db->driver, row, n);
    return v && *v ? apr_atoi64(v) : 0;
}

static void key_fill(paactl_t *ctl, paa_db_t *db, apr_dbd_row_t *row, void *elt)
{
    key_row_t *k = elt;
    k->id = col_str(ctl, db, row, 0);
    k->prefix = col_str(ctl, db, row, 1);
    k->name = col_str(ctl, db, row, 2);
    k->client = col_str(ctl, db, row, 3);
    k->roles = col_str(ctl, db, row, 4);
    k->created_by = col_str(ctl, db, row, 5);
    k->revoked_reason = col_str(ctl, db, row, 6);
    k->rotated_from = col_str(ctl, db, row, 7);
    k->replaced_by = col_str(ctl, db, row, 8);
    k->created_at = col_time(db, row, 9);
    k->expires_at = col_time(db, row, 10);
    k->revoked_at = col_time(db, row, 11);
    k->last_used_at = col_time(db, row, 12);
}

static apr_status_t key_select(paactl_t *ctl, paa_db_t *db, const char *where,
                               int nargs, const char **args,
                               apr_array_header_t **out, const char **err)
{
    return paactl_select(ctl, db,
                         apr_pstrcat(ctl->pool, KEY_SELECT, where, NULL), nargs,
                         args, sizeof(key_row_t), key_fill, out, err);
}

static const char *key_status(const key_row_t *k, apr_int64_t now)
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

/* How a KEY-ID|KEY argument finds its key: a WHERE clause, its argument,
 * and how messages name it. */
typedef struct {
    const char *where;
    const char *value;
    const char *what;
} key_query_t;

/* Turns the KEY-ID|KEY argument into a query. The argument is never echoed
 * when it may be a key, even a mistyped one; "-" reads the key from
 * standard input, so that the compromised-key procedure need not put the
 * key in ps output and shell history. */
static int key_ref(paactl_t *ctl, const char *cmd, const char *arg,
                   key_query_t *q)
{
    if (paactl_key_id_well_formed(arg)) {
        q->where = " WHERE k.id = %s";
        q->value = arg;
        q->what = apr_pstrcat(ctl->pool, "id ", arg, NULL);
        return PAACTL_OK;
    }
    if (!strcmp(arg, "-")) {
        int rc = paactl_key_hash_stdin(ctl, cmd, &q->value);
        if (rc != PAACTL_OK) {
            return rc;
        }
    }
    else if (paa_apikey_well_formed(arg)) {
        q->value = paa_sha256_hex(ctl->pool, arg, PAA_APIKEY_LEN);
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
    q->where = " WHERE k.key_hash = %s";
    q->what = "the given value";
    return PAACTL_OK;
}

/* Finds the key a query names; prints why not and returns the exit
 * status when there is none. */
static int key_need(paactl_t *ctl, paa_db_t *db, const key_query_t *q,
                    key_row_t *out)
{
    apr_array_header_t *rows;
    const char *err = NULL, *value = q->value;

    if (key_select(ctl, db, q->where, 1, &value, &rows, &err) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", err);
    }
    if (!rows->nelts) {
        return paactl_fail("no API key with %s in %s database %s (see "
                           "'paactl list --all')",
                           q->what, db->driver_name, db->label);
    }
    *out = APR_ARRAY_IDX(rows, 0, key_row_t);
    return PAACTL_OK;
}

/* key_ref, then the database, then key_need: what rotate, revoke and show
 * do with their KEY-ID|KEY argument. */
static int key_load(paactl_t *ctl, const char *cmd, const char *arg,
                    key_query_t *q, paa_db_t **db, key_row_t *out)
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

static const char *when(paactl_t *ctl, apr_int64_t t)
{
    return t ? paactl_time(ctl, t) : "never";
}

/* Parses the options shared by the commands that take one KEY-ID|KEY. */
typedef struct {
    const char *ref;
    const char *grace;
    const char *expires;
    const char *reason;
    int json;
} key_opts_t;

#define OPT_GRACE   (1 << 0)
#define OPT_EXPIRES (1 << 1)
#define OPT_REASON  (1 << 2)
#define OPT_JSON    (1 << 3)
#define OPT_ALL     (1 << 4)

static int key_opts(const char *cmd, int argc, char **argv, int allow,
                    int nargs, void (*help)(void), key_opts_t *o, int *all)
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
            bit = OPT_GRACE;
            o->grace = optarg;
            break;
        case 'e':
            bit = OPT_EXPIRES;
            o->expires = optarg;
            break;
        case 'r':
            bit = OPT_REASON;
            o->reason = optarg;
            break;
        case 'j':
            bit = OPT_JSON;
            o->json = 1;
            break;
        case 'a':
            bit = OPT_ALL;
            if (all) {
                *all = 1;
            }
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

int paactl_cmd_rotate(paactl_t *ctl, int argc, char **argv)
{
    const char *err = NULL, *args[12];
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t grace = 24 * 3600, ttl = 0, grace_end, new_exp;
    apr_dbd_transaction_t *txn = NULL;
    apr_status_t rv;
    paa_apikey_t key;
    key_query_t q;
    key_row_t old;
    key_opts_t o;
    paa_db_t *db;
    int rc, nrows = 0;

    rc = key_opts("rotate", argc, argv, OPT_GRACE | OPT_EXPIRES, 1, rotate_help,
                  &o, NULL);
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
    if ((rc = key_load(ctl, "rotate", o.ref, &q, &db, &old)) != PAACTL_OK) {
        return rc;
    }
    if (old.revoked_at) {
        return paactl_fail("key %s (%s) was revoked at %s and cannot be "
                           "rotated; create a new one with 'paactl keygen'",
                           old.id, old.name, paactl_time(ctl, old.revoked_at));
    }
    if (old.expires_at && old.expires_at <= now) {
        return paactl_fail("key %s (%s) expired at %s and cannot be rotated; "
                           "create a new one with 'paactl keygen'",
                           old.id, old.name, paactl_time(ctl, old.expires_at));
    }
    /* A second successor would make "replaced by" ambiguous. */
    if (old.replaced_by) {
        return paactl_fail("key %s (%s) was already rotated: its replacement "
                           "is %s; rotate that one, or revoke %s to end its "
                           "grace now",
                           old.id, old.name, old.replaced_by, old.id);
    }
    grace_end = now + grace;
    if (old.expires_at && old.expires_at < grace_end) {
        grace_end = old.expires_at;
    }
    new_exp = ttl ? now + ttl : old.expires_at;
    if (paa_apikey_generate(ctl->pool, &key) != APR_SUCCESS) {
        return paactl_fail("the random number generator failed; nothing was "
                           "changed");
    }

    if (apr_dbd_transaction_start(db->driver, ctl->pool, db->handle, &txn)) {
        err = apr_dbd_error(db->driver, db->handle, -1);
        paa_wipe(key.key, strlen(key.key));
        return paactl_db_error(db, "start a transaction", err ? err : "failed");
    }
    /* The conditions repeat the checks above: someone may have revoked or
     * rotated the key since, and then nothing must change. */
    args[0] = paactl_i64(ctl, now + grace);
    args[1] = args[0];
    args[2] = old.id;
    args[3] = paactl_i64(ctl, now);
    args[4] = old.id;
    rv = paa_db_pquery(ctl->pool, db,
                       "UPDATE paa_api_keys SET expires_at = CASE"
                       " WHEN expires_at IS NOT NULL AND expires_at < %lld"
                       " THEN expires_at ELSE %lld END"
                       " WHERE id = %s AND revoked_at IS NULL"
                       " AND (expires_at IS NULL OR expires_at > %lld)"
                       " AND NOT EXISTS (SELECT 1 FROM paa_api_keys n"
                       " WHERE n.rotated_from = %s)",
                       5, args, &nrows, &err);
    if (rv == APR_SUCCESS && nrows == 1) {
        args[0] = key.id;
        args[1] = key.hash;
        args[2] = key.prefix;
        args[3] = old.name;
        args[4] = old.client ? old.client : "";
        args[5] = old.roles ? old.roles : "";
        args[6] = paactl_i64(ctl, now);
        args[7] = paactl_actor(ctl);
        args[8] = new_exp ? paactl_i64(ctl, new_exp) : NULL;
        args[9] = old.id;
        rv = paa_db_pquery(ctl->pool, db,
                           "INSERT INTO paa_api_keys (id, key_hash, prefix,"
                           " name, client, roles, created_at, created_by,"
                           " expires_at, rotated_from) VALUES (%s, %s, %s,"
                           " %s, %s, %s, %lld, %s, %lld, %s)",
                           10, args, NULL, &err);
    }
    if (rv != APR_SUCCESS || nrows != 1) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    if (apr_dbd_transaction_end(db->driver, ctl->pool, txn) != 0 &&
        rv == APR_SUCCESS && nrows == 1) {
        rv = APR_EGENERAL;
        err = apr_dbd_error(db->driver, db->handle, -1);
        err = err ? err : "the transaction failed to commit";
    }
    if (rv != APR_SUCCESS) {
        paa_wipe(key.key, strlen(key.key));
        return paactl_db_error(db, "rotate the key (nothing was changed)", err);
    }
    if (nrows != 1) {
        paa_wipe(key.key, strlen(key.key));
        return paactl_fail("key %s changed while it was being rotated "
                           "(revoked, expired or rotated by someone else); "
                           "nothing was changed: see 'paactl show %s'",
                           old.id, old.id);
    }

    paactl_audit_change(
        ctl, db, "key.rotate", old.name, key.id,
        apr_psprintf(ctl->pool, "rotated_from=%s old_valid_until=%s grace=%s",
                     old.id, paactl_time(ctl, grace_end),
                     o.grace ? o.grace : "24h"));
    fprintf(stderr,
            "created API key %s (prefix %s) name=%s client=%s roles=%s "
            "expires=%s, replacing %s\n",
            key.id, key.prefix, old.name, old.client ? old.client : "-",
            old.roles ? old.roles : "-", when(ctl, new_exp), old.id);
    fprintf(stderr, "the old key %s stays valid until %s\n", old.id,
            paactl_time(ctl, grace_end));
    fprintf(stderr, "the new key is shown once; store it now\n");
    printf("%s\n", key.key);
    fflush(stdout);
    paa_wipe(key.key, strlen(key.key));
    return PAACTL_OK;
}

/* ------------------------------------------------------------- revoke */

static void revoke_help(void)
{
    printf("usage: paactl revoke KEY-ID|KEY|- [--reason TEXT]\n\n"
           "Revoke an API key now: every httpd process refuses it from its "
           "next request.\nRevoking a key twice changes nothing.\n\n"
           "  KEY-ID         the key's id (key_ + 16 hex digits), or the key "
           "itself;\n"
           "                 - reads the key from stdin (keeps it out of ps "
           "and history)\n"
           "  --reason TEXT  why, for the records (up to 500 characters)\n");
}

/* A reason is stored and audited: it must not carry a key. */
static int contains_key(const char *s)
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
    const char *err = NULL, *args[3];
    apr_int64_t now = apr_time_sec(apr_time_now());
    key_query_t q;
    key_row_t k;
    key_opts_t o;
    paa_db_t *db;
    int rc, nrows = 0;

    rc = key_opts("revoke", argc, argv, OPT_REASON, 1, revoke_help, &o, NULL);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (o.reason && strlen(o.reason) > 500) {
        return paactl_usage_error("revoke", "--reason is longer than 500 "
                                            "characters");
    }
    if (o.reason && contains_key(o.reason)) {
        return paactl_usage_error("revoke", "--reason contains an API key; "
                                            "name keys by their id instead");
    }
    if ((rc = key_load(ctl, "revoke", o.ref, &q, &db, &k)) != PAACTL_OK) {
        return rc;
    }
    if (!k.revoked_at) {
        args[0] = paactl_i64(ctl, now);
        args[1] = o.reason ? o.reason : "";
        args[2] = k.id;
        if (paa_db_pquery(ctl->pool, db,
                          "UPDATE paa_api_keys SET revoked_at = %lld,"
                          " revoked_reason = %s"
                          " WHERE id = %s AND revoked_at IS NULL",
                          3, args, &nrows, &err) != APR_SUCCESS) {
            return paactl_db_error(db, "revoke the key", err);
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

/* --------------------------------------------------------- list, show */

/* Terminal output goes through paactl_printable: names come from argv,
 * nothing stops an escape sequence there. */

static json_t *jtime(paactl_t *ctl, apr_int64_t t)
{
    return t ? json_string(paactl_time(ctl, t)) : json_null();
}

static json_t *key_json(paactl_t *ctl, const key_row_t *k, apr_int64_t now,
                        int full)
{
    json_t *o = json_object(), *roles = json_array();
    apr_array_header_t *r = paa_split_list(ctl->pool, k->roles ? k->roles : "");
    int i;

    for (i = 0; i < r->nelts; i++) {
        json_array_append_new(
            roles, paactl_json_str(ctl, APR_ARRAY_IDX(r, i, const char *)));
    }
    json_object_set_new(o, "id", paactl_json_str(ctl, k->id));
    json_object_set_new(o, "prefix", paactl_json_str(ctl, k->prefix));
    json_object_set_new(o, "name", paactl_json_str(ctl, k->name));
    json_object_set_new(o, "client",
                        paactl_json_str(ctl, k->client ? k->client : ""));
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "status", json_string(key_status(k, now)));
    json_object_set_new(o, "created", jtime(ctl, k->created_at));
    json_object_set_new(o, "expires", jtime(ctl, k->expires_at));
    json_object_set_new(o, "last_used", jtime(ctl, k->last_used_at));
    json_object_set_new(o, "revoked", jtime(ctl, k->revoked_at));
    if (full) {
        json_object_set_new(o, "created_by",
                            paactl_json_str(ctl, k->created_by));
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

int paactl_cmd_list(paactl_t *ctl, int argc, char **argv)
{
    static const char *const head[LIST_COLS] = {
        "ID",      "PREFIX",  "NAME",      "CLIENT", "ROLES",
        "CREATED", "EXPIRES", "LAST USED", "STATUS"};
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_array_header_t *rows, *shown;
    const char *err = NULL, **cells;
    int all = 0, rc, i;
    key_opts_t o;
    paa_db_t *db;

    rc = key_opts("list", argc, argv, OPT_ALL | OPT_JSON, 0, list_help, &o,
                  &all);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (key_select(ctl, db, " ORDER BY k.created_at, k.id", 0, NULL, &rows,
                   &err) != APR_SUCCESS) {
        return paactl_db_error(db, "read API keys", err);
    }
    shown = apr_array_make(ctl->pool, rows->nelts, sizeof(key_row_t *));
    for (i = 0; i < rows->nelts; i++) {
        key_row_t *k = &APR_ARRAY_IDX(rows, i, key_row_t);
        const char *st = key_status(k, now);
        if (all || (strcmp(st, "revoked") && strcmp(st, "expired"))) {
            APR_ARRAY_PUSH(shown, key_row_t *) = k;
        }
    }
    if (o.json) {
        json_t *arr = json_array();
        for (i = 0; i < shown->nelts; i++) {
            json_array_append_new(
                arr,
                key_json(ctl, APR_ARRAY_IDX(shown, i, key_row_t *), now, 0));
        }
        return paactl_json_print(arr);
    }
    if (!shown->nelts) {
        fprintf(stderr,
                "no %sAPI keys%s (create one with: paactl keygen "
                "--name NAME)\n",
                all ? "" : "active ",
                all || !rows->nelts ? ""
                                    : "; --all shows revoked and expired "
                                      "ones");
        return PAACTL_OK;
    }
    cells = apr_pcalloc(ctl->pool, sizeof(char *) * LIST_COLS * shown->nelts);
    for (i = 0; i < shown->nelts; i++) {
        key_row_t *k = APR_ARRAY_IDX(shown, i, key_row_t *);
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
    paactl_table_print(ctl, LIST_COLS, head, cells, shown->nelts);
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
    key_query_t q;
    key_row_t k;
    key_opts_t o;
    paa_db_t *db;
    int rc;

    rc = key_opts("show", argc, argv, OPT_JSON, 1, show_help, &o, NULL);
    if (rc != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if ((rc = key_load(ctl, "show", o.ref, &q, &db, &k)) != PAACTL_OK) {
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
    printf("expires         %s\n", when(ctl, k.expires_at));
    printf("last used       %s\n",
           k.last_used_at ? paactl_time(ctl, k.last_used_at) : "never");
    printf("revoked         %s\n",
           k.revoked_at ? paactl_time(ctl, k.revoked_at) : "-");
    printf("revoked reason  %s\n", paactl_printable(ctl, k.revoked_reason));
    printf("rotated from    %s\n", paactl_printable(ctl, k.rotated_from));
    printf("replaced by     %s\n", paactl_printable(ctl, k.replaced_by));
    return PAACTL_OK;
}
