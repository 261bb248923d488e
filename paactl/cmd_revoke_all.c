/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl revoke --all: the "Contain: revoke all credentials" step of a
 * suspected breach. Every matching key is revoked in one transaction (all
 * or none), so a failure half-way never leaves an attacker's key among the
 * survivors unnoticed. The httpd processes re-check a key they remember
 * within PAA_AUTHCACHE_TTL, so no restart is needed. Bulk revocation needs
 * an explicit --all and a reason: a filter given alone (a typo away from
 * revoking one key) is a usage error. The count goes to stdout alone. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void revoke_all_help(void)
{
    printf("usage: paactl revoke --all [--client CLIENT] [--role ROLE]"
           " [--except KEY-ID]...\n"
           "                     --reason TEXT\n\n"
           "Revoke every active API key (or those the filters select) in one"
           " transaction;\nevery httpd process refuses them within a second."
           " The number revoked is\nprinted alone on stdout.\n\n"
           "  --all            required: revoke in bulk\n"
           "  --client CLIENT  only the keys of this client\n"
           "  --role ROLE      only the keys holding this role\n"
           "  --except KEY-ID  keep this key; repeat for several\n"
           "  --reason TEXT    why, for the records (required, up to 500"
           " characters)\n");
}

typedef struct {
    int all;
    const char *reason;
    paa_key_match_t m;
    apr_array_header_t *except;
} revoke_all_args_t;

static int revoke_all_parse(paactl_t *ctl, int argc, char **argv,
                            revoke_all_args_t *a)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"client", required_argument, NULL, 'C'},
        {"role", required_argument, NULL, 'r'},
        {"except", required_argument, NULL, 'x'},
        {"reason", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *bad;
    int c;

    a->except = apr_array_make(ctl->pool, 2, sizeof(const char *));
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            a->all = 1;
            break;
        case 'C':
            a->m.client = optarg;
            break;
        case 'r':
            if ((bad = paa_role_invalid(optarg)) != NULL) {
                return paactl_usage_error("revoke", "--role %s: %s", optarg,
                                          bad);
            }
            a->m.role = optarg;
            break;
        case 'x':
            if (!paactl_key_id_well_formed(optarg)) {
                return paactl_usage_error("revoke",
                                          "--except takes a key id (key_ + "
                                          "16 hex digits), not '%s'",
                                          paactl_printable(ctl, optarg));
            }
            APR_ARRAY_PUSH(a->except, const char *) = optarg;
            break;
        case 'R':
            a->reason = optarg;
            break;
        case 'h':
            revoke_all_help();
            return -1;
        default:
            return paactl_usage_error("revoke",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("revoke",
                                  "a KEY-ID and --all/--client/--role/"
                                  "--except do not go together");
    }
    if (!a->all) {
        return paactl_usage_error("revoke", "--client, --role and --except "
                                            "revoke in bulk: add --all to "
                                            "mean it");
    }
    if (!a->reason || !*a->reason || strlen(a->reason) > 500) {
        return paactl_usage_error("revoke", "--all needs --reason (1 to 500 "
                                            "characters)");
    }
    if (paactl_contains_key(a->reason)) {
        return paactl_usage_error("revoke", "--reason contains an API key; "
                                            "name keys by their id instead");
    }
    a->m.except = a->except;
    return PAACTL_OK;
}

int paactl_revoke_bulk_asked(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--all") || !strncmp(argv[i], "--client", 8) ||
            !strncmp(argv[i], "--role", 6) ||
            !strncmp(argv[i], "--except", 8)) {
            return 1;
        }
    }
    return 0;
}

typedef struct {
    paactl_t *ctl;
    const revoke_all_args_t *a;
    const apr_array_header_t *revoked;
} revoke_audit_t;

static apr_status_t audit_txn(apr_pool_t *p, paa_db_t *db, void *baton)
{
    revoke_audit_t *ra = baton;
    const revoke_all_args_t *a = ra->a;
    const char *err = NULL;
    int i;

    for (i = 0; i < ra->revoked->nelts; i++) {
        const paa_key_t *k = &APR_ARRAY_IDX(ra->revoked, i, paa_key_t);
        if (paactl_audit(ra->ctl, db, "key.revoke", k->name, k->id,
                         apr_psprintf(p, "reason=%s (revoke --all)", a->reason),
                         &err) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return paactl_audit(
        ra->ctl, db, "key.revoke.all", NULL, NULL,
        apr_psprintf(p, "count=%d client=%s role=%s except=%s reason=%s",
                     ra->revoked->nelts, a->m.client ? a->m.client : "*",
                     a->m.role ? a->m.role : "*",
                     apr_array_pstrcat(p, a->except, ','), a->reason),
        &err);
}

int paactl_cmd_revoke_all(paactl_t *ctl, int argc, char **argv)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    revoke_all_args_t a;
    revoke_audit_t ra;
    apr_array_header_t *revoked;
    paa_db_t *db;
    int rc, i;

    memset(&a, 0, sizeof(a));
    if ((rc = revoke_all_parse(ctl, argc, argv, &a)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_keys_revoke_all(ctl->pool, db, &a.m, now, a.reason, &revoked) !=
        APR_SUCCESS) {
        return paactl_db_error(db, "revoke the keys (none was revoked)",
                               db->error);
    }
    /* One record per key keeps each key's history complete (paactl audit
     * --key), and one for the whole operation says who asked for what;
     * written in one transaction, as thousands of separate commits would
     * take minutes on SQLite. */
    ra.ctl = ctl;
    ra.a = &a;
    ra.revoked = revoked;
    if (paa_db_transaction(ctl->pool, db, audit_txn, &ra) != APR_SUCCESS) {
        paactl_fail("warning: the keys were revoked but their audit records "
                    "failed: %s",
                    db->error);
    }
    for (i = 0; i < revoked->nelts; i++) {
        const paa_key_t *k = &APR_ARRAY_IDX(revoked, i, paa_key_t);
        fprintf(stderr, "revoked API key %s (prefix %s, name %s)\n", k->id,
                k->prefix, paactl_printable(ctl, k->name));
    }
    fprintf(stderr, "revoked %d API key%s at %s\n", revoked->nelts,
            revoked->nelts == 1 ? "" : "s", paactl_time(ctl, now));
    printf("%d\n", revoked->nelts);
    return PAACTL_OK;
}
