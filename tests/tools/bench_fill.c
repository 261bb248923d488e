/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* bench_fill: many API keys or users at once, for the benchmarks
 * (tests/bench/scale.sh), through the stores paactl uses but in one
 * transaction, without a password hash or an audit record each: 100,000
 * keys take seconds instead of the hour 100,000 paactl runs would.
 *
 *   bench_fill keys  ENVFILE COUNT           prints COUNT keys
 *   bench_fill users ENVFILE COUNT TTL       prints COUNT JWTs (HS256)
 *
 * ENVFILE is the instance's paa.env (PAA_DB_DRIVER, PAA_DB_PARAMS,
 * JWT_SECRET). Never for a production database: the users it makes have
 * no usable password. */

#include "core/paa.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const char *what;
    int count;
    apr_int64_t ttl;
    const paa_jwt_config_t *jwt;
    apr_array_header_t *out; /* of char * */
} fill_t;

static apr_status_t fill_keys(apr_pool_t *p, paa_db_t *db, fill_t *f)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    int i;

    for (i = 0; i < f->count; i++) {
        paa_apikey_t a;
        paa_key_t k = {0};
        if (paa_apikey_generate(p, &a) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        k.id = a.id;
        k.prefix = a.prefix;
        k.name = apr_psprintf(p, "bench-%d", i);
        k.roles = "";
        k.created_by = "bench_fill";
        k.created_at = now;
        if (paa_keys_add(p, db, &k, a.hash) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        APR_ARRAY_PUSH(f->out, char *) = a.key;
    }
    return APR_SUCCESS;
}

static apr_status_t fill_users(apr_pool_t *p, paa_db_t *db, fill_t *f)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    int i;

    for (i = 0; i < f->count; i++) {
        paa_user_t u = {0};
        const char *err;
        char *token;
        u.id = paa_id_generate(p, "usr_");
        u.username = apr_psprintf(p, "bench-%d", i);
        u.roles = "reader";
        u.password_hash = "!bench-user-without-password";
        u.created_at = u.updated_at = now;
        if (paa_users_add(p, db, &u) != APR_SUCCESS ||
            paa_jwt_sign(p, f->jwt, u.id, u.username, NULL, now, f->ttl, &token,
                         &err) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        APR_ARRAY_PUSH(f->out, char *) = token;
    }
    return APR_SUCCESS;
}

static apr_status_t fill(apr_pool_t *p, paa_db_t *db, void *baton)
{
    fill_t *f = baton;
    return strcmp(f->what, "keys") ? fill_users(p, db, f) : fill_keys(p, db, f);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    apr_table_t *env;
    paa_jwt_config_t jwt;
    apr_int64_t ttl;
    paa_db_t *db;
    const char *err = NULL;
    fill_t f = {0};
    int i;

    if (argc < 4 || (strcmp(argv[1], "keys") && strcmp(argv[1], "users")) ||
        (!strcmp(argv[1], "users") && argc < 5)) {
        fprintf(stderr, "usage: bench_fill keys ENVFILE COUNT\n"
                        "       bench_fill users ENVFILE COUNT TTL\n");
        return 2;
    }
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&p, NULL);
    f.what = argv[1];
    f.count = atoi(argv[3]);
    f.out = apr_array_make(p, f.count > 0 ? f.count : 1, sizeof(char *));
    if (paa_env_load(p, argv[2], &env, &err) != APR_SUCCESS ||
        paa_db_open(p, paa_env_get(env, "PAA_DB_DRIVER"),
                    paa_env_get(env, "PAA_DB_PARAMS"), &db,
                    &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_fill: %s\n", err ? err : "cannot start");
        return 1;
    }
    if (!strcmp(f.what, "users")) {
        if (paa_jwt_config_from_env(p, env, &jwt, &ttl, &err) != APR_SUCCESS ||
            paa_duration_parse(argv[4], &f.ttl) != APR_SUCCESS) {
            fprintf(stderr, "bench_fill: %s\n", err ? err : "bad TTL");
            return 1;
        }
        f.jwt = &jwt;
    }
    if (paa_db_transaction(p, db, fill, &f) != APR_SUCCESS) {
        fprintf(stderr, "bench_fill: %s\n", db->error ? db->error : "failed");
        return 1;
    }
    for (i = 0; i < f.out->nelts; i++) {
        puts(APR_ARRAY_IDX(f.out, i, char *));
    }
    paa_db_close(db);
    return 0;
}
