/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared by the module's glue files: configuration records, the log tag
 * macro and the functions each concern exports to the others. Nothing
 * outside mod_paa/ includes it. */

#ifndef PAA_PRIVATE_H
#define PAA_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include <jansson.h>

#include "core/paa.h"

/* Every file logs as mod_paa so that "LogLevel paa:debug" applies. */
APLOG_USE_MODULE(paa);

extern module AP_MODULE_DECLARE_DATA paa_module;

/* Log tags: unique per call site, never reused (tools/check-lognos). */
#define PAALOGNO(n) "PAA" #n ": "

#define PAA_HANDLER   "paa-api"
#define PAA_AUTH_TYPE "PAA"

#define PAA_UNSET -1

typedef struct {
    const char *env_file; /* PAAEnvFile, for messages */
    apr_table_t *env;     /* its variables, read at config time */
} paa_srv_conf;

typedef struct {
    int enable; /* PAAEnable: On/Off/PAA_UNSET (automatic) */
} paa_dir_conf;

/* paa_config.c */
extern const command_rec paa_cmds[];
void *paa_create_dir_conf(apr_pool_t *p, char *dir);
void *paa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *paa_create_srv_conf(apr_pool_t *p, server_rec *s);
void *paa_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* paa_dbd.c */
int paa_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s);
ap_dbd_t *paa_dbd_acquire(request_rec *r);
/* Run a statement registered in paa_dbd.c; errors are logged here. */
apr_status_t paa_dbd_select(request_rec *r, ap_dbd_t *dbd, const char *label,
                            apr_dbd_results_t **res, int nargs,
                            const char **args);
apr_status_t paa_dbd_query(request_rec *r, ap_dbd_t *dbd, const char *label,
                           int *nrows, int nargs, const char **args);

/* paa_errors.c: problem+json for every error in a mod_paa location */
int paa_enabled(request_rec *r);
int paa_error(request_rec *r, int status, const char *detail);
void paa_errors_register_hooks(apr_pool_t *p);

/* api/api.c: the paa-api handler and response helpers */
int paa_api_handler(request_rec *r);
int paa_send_json(request_rec *r, int status, json_t *body);
int paa_send_problem(request_rec *r, int status, const char *detail);
int paa_method_not_allowed(request_rec *r, const char *allow);

/* api/health.c */
int paa_api_health(request_rec *r);
int paa_api_ready(request_rec *r);

#endif /* PAA_PRIVATE_H */
