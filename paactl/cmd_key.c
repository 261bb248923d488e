/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API key lifecycle. The key goes to stdout alone, so that
 * KEY=$(paactl keygen ...) works; everything else goes to stderr. The key
 * is never stored, logged or shown again. */

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

/* Roles are stored comma-separated; a role is a simple token. */
static const char *check_role(const char *r)
{
    const char *c;
    if (!*r || strlen(r) > 64) {
        return "a role must be 1 to 64 characters";
    }
    for (c = r; *c; c++) {
        if (!(apr_isalnum(*c) || *c == '-' || *c == '_' || *c == '.' ||
              *c == ':')) {
            return "a role may only contain letters, digits and - _ . :";
        }
    }
    return NULL;
}

int paactl_cmd_keygen(paactl_t *ctl, int argc, char **argv)
{
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
    paa_audit_t audit;
    paa_db_t *db;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'C':
            client = optarg;
            break;
        case 'r': {
            const char *bad = check_role(optarg);
            if (bad) {
                return paactl_usage_error("keygen", "--role %s: %s", optarg,
                                          bad);
            }
            roles = *roles ? apr_pstrcat(ctl->pool, roles, ",", optarg, NULL)
                           : optarg;
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
    args[6] = apr_psprintf(ctl->pool, "%" APR_TIME_T_FMT, now);
    args[7] = paactl_actor(ctl);
    args[8] =
        ttl ? apr_psprintf(ctl->pool, "%" APR_INT64_T_FMT, now + ttl) : NULL;
    if (paa_db_pquery(ctl->pool, db,
                      "INSERT INTO paa_api_keys (id, key_hash, prefix, name,"
                      " client, roles, created_at, created_by, expires_at)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %lld, %s, %lld)",
                      9, args, NULL, &err) != APR_SUCCESS) {
        return paactl_fail("cannot store the key in %s database %s: %s",
                           db->driver_name, db->label, err);
    }
    memset(&audit, 0, sizeof(audit));
    audit.event = "key.create";
    audit.outcome = "success";
    audit.actor = args[7];
    audit.subject = name;
    audit.key_id = key.id;
    audit.detail = apr_psprintf(ctl->pool, "roles=%s client=%s", roles, client);
    if (paa_audit_write(ctl->pool, db, &audit, &err) != APR_SUCCESS) {
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
