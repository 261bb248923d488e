/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check: the security guide's production checklist (section 5,
 * with the rotation policy of 4.3) as a command with an exit status, so
 * that "ready for production" can gate a deployment. Offline checks read
 * the env file, the database and optionally the httpd configuration; with
 * --url the running server is probed too. Nothing is changed anywhere: a
 * check that would need to write (a test insert, a test login) is not
 * made, and what it would show is asked of the catalog instead.
 *
 * This file parses the options, runs the areas and prints the table or the
 * JSON; the checks themselves are in cmd_check_*.c (check.h). */

#include "check.h"

#include <apr_strings.h>
#include <apr_file_info.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {"PASS", "WARN", "FAIL", "SKIP"};

static void check_help(void)
{
    printf(
        "usage: paactl check [--config FILE] [--httpd-conf FILE] [--json]\n"
        "                    [--url URL [--http-url URL] [--cacert FILE] "
        "[--live-only]]\n"
        "                    [--max-key-age D] [--expiry-warning D] "
        "[--unused D]\n"
        "                    [--backup-max-age D]\n\n"
        "The security guide's production checklist (section 5) against the "
        "env file,\nthe database and, with --url, the running server. One "
        "line per check:\nPASS, WARN, FAIL or SKIP, the guide's item, the "
        "reason and the fix.\nExit status 0 when nothing FAILs, 1 otherwise, "
        "2 on a usage error.\nRead-only: it changes nothing.\n\n"
        "  --config FILE      the env file (as the global option)\n"
        "  --httpd-conf FILE  also look for literal secrets in this httpd "
        "configuration\n"
        "                     (and the files it includes)\n"
        "  --json             a JSON object for scripts instead of the table\n"
        "  --url URL          probe the server at URL (http:// or https://): "
        "headers,\n"
        "                     HTTPS redirect, HSTS, TLS versions, "
        "certificate, CORS,\n"
        "                     anonymous access, /metrics, rate-limit "
        "headers\n"
        "  --http-url URL     where plain HTTP is served, when --url is "
        "https:// on a\n"
        "                     port other than 443\n"
        "  --cacert FILE      the CA certificates the server's certificate "
        "must chain to\n"
        "                     (default: the system's)\n"
        "  --live-only        with --url: skip the offline checks (run from "
        "another host)\n"
        "  --max-key-age D    API keys older than D should be rotated "
        "(default 90d)\n"
        "  --expiry-warning D keys and the certificate expiring within D "
        "(default 14d)\n"
        "  --unused D         keys not used for D (default 90d)\n"
        "  --backup-max-age D the last backup may be this old (default 7d)\n");
}

void check_add(check_t *ck, const check_def_t *d, check_status_e status,
               const char *fix, const char *fmt, ...)
{
    check_result_t *r = apr_array_push(ck->results);
    va_list ap;

    va_start(ap, fmt);
    r->reason = apr_pvsprintf(ck->ctl->pool, fmt, ap);
    va_end(ap);
    r->def = d;
    r->status = status;
    r->fix = (status == CHECK_WARN || status == CHECK_FAIL) ? fix : NULL;
}

void check_skip_all(check_t *ck, const check_def_t *const *defs,
                    const char *reason)
{
    for (; *defs; defs++) {
        check_add(ck, *defs, CHECK_SKIP, NULL, "%s", reason);
    }
}

const char *check_age(check_t *ck, apr_int64_t s)
{
    apr_pool_t *p = ck->ctl->pool;
    if (s < 0) {
        s = -s;
    }
    if (s >= 2 * 86400) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " days", s / 86400);
    }
    if (s >= 2 * 3600) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " hours", s / 3600);
    }
    if (s >= 120) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT " minutes", s / 60);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT " seconds", s);
}

paa_db_t *check_db(check_t *ck)
{
    apr_pool_t *p = ck->ctl->pool;
    const char *driver, *params, *err = NULL;
    apr_finfo_t fi;

    if (ck->db_tried) {
        return ck->db;
    }
    ck->db_tried = 1;
    if (!ck->env) {
        ck->db_error = "the env file could not be read";
        return NULL;
    }
    driver = paa_env_get(ck->env, "PAA_DB_DRIVER");
    params = paa_env_get(ck->env, "PAA_DB_PARAMS");
    if (!driver || !params) {
        ck->db_error = "the env file does not set PAA_DB_DRIVER and "
                       "PAA_DB_PARAMS";
        return NULL;
    }
    /* SQLite would create a missing file: a check must not. */
    if (!strcmp(driver, "sqlite3") &&
        apr_stat(&fi, params, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        ck->db_error =
            apr_psprintf(p, "the SQLite file %s does not exist", params);
        return NULL;
    }
    if (paa_db_open(p, driver, params, &ck->db, &err) != APR_SUCCESS) {
        ck->db = NULL;
        ck->db_error = err;
    }
    ck->ctl->db = ck->db; /* closed by main */
    return ck->db;
}

/* ---------------------------------------------------------------- output */

static int print_json(check_t *ck, const int *count)
{
    json_t *root = json_object(), *arr = json_array(), *sum = json_object();
    int i;

    for (i = 0; i < ck->results->nelts; i++) {
        const check_result_t *r =
            &APR_ARRAY_IDX(ck->results, i, check_result_t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(r->def->id));
        json_object_set_new(o, "guide", json_string(r->def->guide));
        json_object_set_new(o, "item", json_string(r->def->item));
        json_object_set_new(o, "status", json_string(status_names[r->status]));
        json_object_set_new(o, "reason", paactl_json_str(ck->ctl, r->reason));
        json_object_set_new(o, "fix", paactl_json_str(ck->ctl, r->fix));
        json_array_append_new(arr, o);
    }
    for (i = 0; i < 4; i++) {
        json_object_set_new(sum, apr_pstrdup(ck->ctl->pool, status_names[i]),
                            json_integer(count[i]));
    }
    json_object_set_new(root, "ok", json_boolean(count[CHECK_FAIL] == 0));
    json_object_set_new(root, "summary", sum);
    json_object_set_new(root, "checks", arr);
    return paactl_json_print(root);
}

static void print_table(check_t *ck)
{
    static const char *const head[4] = {"STATUS", "GUIDE", "CHECK", "DETAIL"};
    int n = ck->results->nelts, i;
    const char **cells = apr_pcalloc(ck->ctl->pool, sizeof(char *) * 4 * n);

    for (i = 0; i < n; i++) {
        const check_result_t *r =
            &APR_ARRAY_IDX(ck->results, i, check_result_t);
        const char *detail = r->fix ? apr_pstrcat(ck->ctl->pool, r->reason,
                                                  "; fix: ", r->fix, NULL)
                                    : r->reason;
        cells[i * 4] = status_names[r->status];
        cells[i * 4 + 1] = r->def->guide;
        cells[i * 4 + 2] = r->def->id;
        cells[i * 4 + 3] = paactl_printable(ck->ctl, detail);
    }
    paactl_table_print(ck->ctl, 4, head, cells, n);
}

/* ------------------------------------------------------------- arguments */

static int duration_opt(const char *opt, const char *arg, apr_int64_t *out)
{
    if (paa_duration_parse(arg, out) != APR_SUCCESS) {
        return paactl_usage_error("check", "%s: not a duration: '%s'", opt,
                                  arg);
    }
    return PAACTL_OK;
}

static int url_opt(const char *opt, const char *arg)
{
    if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8)) {
        return paactl_usage_error("check",
                                  "%s must start with http:// or "
                                  "https://, not '%s'",
                                  opt, arg);
    }
    if (strchr(arg + 8, '?') || strchr(arg + 8, '#')) {
        return paactl_usage_error("check",
                                  "%s takes the server's base URL, "
                                  "without a query",
                                  opt);
    }
    return PAACTL_OK;
}

/* The long options; each one's short letter is only a getopt case. */
static const struct option check_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"httpd-conf", required_argument, NULL, 'H'},
    {"json", no_argument, NULL, 'j'},
    {"url", required_argument, NULL, 'u'},
    {"http-url", required_argument, NULL, 'p'},
    {"cacert", required_argument, NULL, 'C'},
    {"live-only", no_argument, NULL, 'l'},
    {"max-key-age", required_argument, NULL, 'a'},
    {"expiry-warning", required_argument, NULL, 'e'},
    {"unused", required_argument, NULL, 'n'},
    {"backup-max-age", required_argument, NULL, 'b'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int parse_one(check_t *ck, int c, int *json)
{
    switch (c) {
    case 'c':
        ck->ctl->config_path = optarg;
        return PAACTL_OK;
    case 'H':
        ck->httpd_conf = optarg;
        return PAACTL_OK;
    case 'j':
        *json = 1;
        return PAACTL_OK;
    case 'u':
        ck->url = optarg;
        return url_opt("--url", optarg);
    case 'p':
        ck->http_url = optarg;
        return url_opt("--http-url", optarg);
    case 'C':
        ck->cacert = optarg;
        return PAACTL_OK;
    case 'l':
        ck->live_only = 1;
        return PAACTL_OK;
    case 'a':
        return duration_opt("--max-key-age", optarg, &ck->key_max_age);
    case 'e':
        return duration_opt("--expiry-warning", optarg, &ck->expiry_warning);
    case 'n':
        return duration_opt("--unused", optarg, &ck->key_unused);
    case 'b':
        return duration_opt("--backup-max-age", optarg, &ck->backup_max_age);
    default: /* a letter of check_opts without a case: a bug */
        return paactl_usage_error("check", "unhandled option");
    }
}

static int parse_args(check_t *ck, int argc, char **argv, int *json)
{
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", check_opts, NULL)) != -1) {
        if (c == 'h') {
            check_help();
            return -1;
        }
        if (c == '?' || c == ':') {
            return paactl_usage_error(
                "check", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if ((rc = parse_one(ck, c, json)) != PAACTL_OK) {
            return rc;
        }
    }
    if (optind < argc) {
        return paactl_usage_error("check", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if ((ck->live_only || ck->http_url || ck->cacert) && !ck->url) {
        return paactl_usage_error("check", "--live-only, --http-url and "
                                           "--cacert need --url");
    }
    return PAACTL_OK;
}

int paactl_cmd_check(paactl_t *ctl, int argc, char **argv)
{
    check_t ck;
    int json = 0, rc, i, count[4] = {0, 0, 0, 0};

    memset(&ck, 0, sizeof(ck));
    ck.ctl = ctl;
    ck.results = apr_array_make(ctl->pool, 40, sizeof(check_result_t));
    ck.now = apr_time_sec(apr_time_now());
    ck.key_max_age = 90 * 86400; /* the guide's "rotate keys every 90 days" */
    ck.expiry_warning = 14 * 86400;
    ck.key_unused = 90 * 86400;
    ck.backup_max_age = 7 * 86400;
    if ((rc = parse_args(&ck, argc, argv, &json)) != PAACTL_OK) {
        return rc < 0 ? PAACTL_OK : rc;
    }
    if (!ck.live_only) {
        check_env(&ck);
        check_conf(&ck);
        check_keys(&ck);
        check_database(&ck);
    }
    if (ck.url) {
        check_live(&ck);
    }
    for (i = 0; i < ck.results->nelts; i++) {
        count[APR_ARRAY_IDX(ck.results, i, check_result_t).status]++;
    }
    if (json) {
        if (print_json(&ck, count) != PAACTL_OK) {
            return PAACTL_FAIL;
        }
    }
    else {
        print_table(&ck);
    }
    fprintf(stderr, "paactl check: %d pass, %d warn, %d fail, %d skip\n",
            count[CHECK_PASS], count[CHECK_WARN], count[CHECK_FAIL],
            count[CHECK_SKIP]);
    return count[CHECK_FAIL] ? PAACTL_FAIL : PAACTL_OK;
}
