/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl init / migrate: create or upgrade the schema. Idempotent, so
 * install scripts and the quick start can run it every time. */

#include "paactl.h"

#include <stdio.h>
#include <string.h>

static int run_migrate(paactl_t *ctl, int argc, char **argv, const char *name)
{
    paa_db_t *db;
    const char *err = NULL;
    int from = 0, to = 0;

    if (paactl_wants_help(argc, argv)) {
        printf("usage: paactl %s\n\n"
               "Create the mod_paa schema in the configured database, or "
               "upgrade it\nto version %d. Safe to run again: an up-to-date "
               "schema is left alone.\n",
               name, PAA_SCHEMA_VERSION);
        return PAACTL_OK;
    }
    if (argc > 1) {
        return paactl_usage_error(name, "unexpected argument '%s'", argv[1]);
    }
    ctl->create_db = 1;
    if (paactl_db(ctl, &db) != APR_SUCCESS) {
        return PAACTL_FAIL;
    }
    if (paa_schema_migrate(ctl->pool, db, &from, &to, &err) != APR_SUCCESS) {
        return paactl_fail("%s database %s: schema upgrade failed, nothing "
                           "was changed: %s",
                           db->driver_name, db->label, err);
    }
    if (from == to) {
        printf("schema is up to date (version %d) in %s database %s\n", to,
               db->driver_name, db->label);
    }
    else if (from == 0) {
        printf("created schema version %d in %s database %s\n", to,
               db->driver_name, db->label);
    }
    else {
        printf("upgraded schema from version %d to %d in %s database %s\n",
               from, to, db->driver_name, db->label);
    }
    return PAACTL_OK;
}

int paactl_cmd_init(paactl_t *ctl, int argc, char **argv)
{
    return run_migrate(ctl, argc, argv, "init");
}

int paactl_cmd_migrate(paactl_t *ctl, int argc, char **argv)
{
    return run_migrate(ctl, argc, argv, "migrate");
}
