/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl purge [--dry-run]: the retention policy, run daily by the Debian
 * package's timer. How long each kind of data is kept comes from the env
 * file (PAA_RETENTION_*), so that the policy lives beside the secrets it
 * is administered with; a value that cannot be read stops the purge
 * rather than falling back to a default the operator did not choose. */

#include "paactl.h"

#include <apr_strings.h>
#include <getopt.h>
#include <stdio.h>

typedef struct {
    const char *setting;
    const char *fallback; /* documented in paactl(8), THE ENV FILE */
} retention_setting_t;

/* In the order of the PAA_PURGE_* kinds. Expired chat sessions go
 * whatever PAA_RETENTION_CHAT_SESSIONS says; MCP sessions expire after
 * PAAChatSessionTTL (1 day by default), so keeping them longer keeps only
 * dead sessions. */
static const retention_setting_t settings[PAA_PURGE_KINDS] = {
    {"PAA_RETENTION_CHAT", "90d"},      {"PAA_RETENTION_CHAT_SESSIONS", "90d"},
    {"PAA_RETENTION_MCP", "1d"},        {"PAA_RETENTION_AUDIT", "365d"},
    {"PAA_RETENTION_FAILOVERS", "90d"}, {"PAA_RETENTION_LOGINS", "1d"}};

static void purge_help(FILE *out)
{
    fprintf(out,
            "usage: paactl purge [--dry-run]\n\n"
            "Delete what is past retention and print how many rows of each "
            "kind went:\n"
            "  PAA_RETENTION_CHAT           chat messages     (default 90d)\n"
            "  PAA_RETENTION_CHAT_SESSIONS  chat sessions     (default 90d; "
            "expired\n"
            "                               sessions go at once, with their "
            "messages)\n"
            "  PAA_RETENTION_MCP            MCP sessions      (default 1d)\n"
            "  PAA_RETENTION_AUDIT          audit records     (default 365d)\n"
            "  PAA_RETENTION_FAILOVERS      provider failovers (default 90d)\n"
            "  PAA_RETENTION_LOGINS         failed login attempts (default "
            "1d)\n"
            "Each is a duration (30d, 12w) or 'never'. One transaction, "
            "audited as purge.\n\n"
            "  --dry-run   count what would go; change nothing\n");
}

/* Fills keep from the env file; PAACTL_OK or the failure printed. */
static int retention_read(paactl_t *ctl, apr_int64_t now, paa_retention_t *keep)
{
    int k;

    keep->now = now;
    for (k = 0; k < PAA_PURGE_KINDS; k++) {
        const char *v = paa_env_get(ctl->env, settings[k].setting);
        apr_int64_t secs = 0;
        if (!v || !*v) {
            v = settings[k].fallback;
        }
        if (!strcmp(v, "never")) {
            keep->before[k] = 0;
            continue;
        }
        if (paa_duration_parse(v, &secs) != APR_SUCCESS) {
            return paactl_fail("%s: %s=%s is not a duration (30d, 12w) or "
                               "'never'; nothing was purged",
                               ctl->config_path, settings[k].setting,
                               paactl_printable(ctl, v));
        }
        keep->before[k] = now - secs;
    }
    return PAACTL_OK;
}

int paactl_cmd_purge(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int counts[PAA_PURGE_KINDS], dry_run = 0, c, k, rc;
    paa_retention_t keep;
    paa_audit_t rec;
    paa_db_t *db;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            dry_run = 1;
            break;
        case 'h':
            purge_help(stdout);
            return PAACTL_OK;
        default:
            return paactl_usage_error(
                "purge", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("purge", "unexpected argument '%s'",
                                  argv[optind]);
    }
    /* The database first: opening it loads the env file. */
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if ((rc = retention_read(ctl, apr_time_sec(apr_time_now()), &keep)) !=
        PAACTL_OK) {
        return rc;
    }
    memset(&rec, 0, sizeof(rec));
    rec.event = "purge";
    rec.outcome = "success";
    rec.actor = paactl_actor(ctl);
    if (paa_retention_purge(ctl->pool, db, &keep, dry_run, &rec, counts) !=
        APR_SUCCESS) {
        return paactl_db_error(db, "purge", db->error);
    }
    for (k = 0; k < PAA_PURGE_KINDS; k++) {
        printf("%-15s %d%s\n", paa_purge_kind_names[k], counts[k],
               dry_run ? " (dry run: kept)" : "");
    }
    return PAACTL_OK;
}
