/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl secret: random secrets like `openssl rand -base64 32`, from the
 * same CSPRNG the module uses. */

#include "paactl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX_BYTES 1024

static void secret_help(void)
{
    printf("usage: paactl secret gen [--bytes N] [--hex]\n\n"
           "Print a random secret: N bytes (default 32) from OpenSSL's "
           "CSPRNG,\nbase64-encoded, or hex with --hex. JWT secrets need at "
           "least 32 bytes.\n");
}

static int secret_gen(paactl_t *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"bytes", required_argument, NULL, 'b'},
        {"hex", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    unsigned char buf[SECRET_MAX_BYTES];
    long n = 32;
    int hex = 0, c;
    char *end;
    char *out;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            n = strtol(optarg, &end, 10);
            if (*end || n < 16 || n > SECRET_MAX_BYTES) {
                return paactl_usage_error(
                    "secret gen", "--bytes must be 16 to %d", SECRET_MAX_BYTES);
            }
            break;
        case 'x':
            hex = 1;
            break;
        case 'h':
            secret_help();
            return PAACTL_OK;
        default:
            return paactl_usage_error("secret gen",
                                      "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return paactl_usage_error("secret gen", "unexpected argument '%s'",
                                  argv[optind]);
    }
    if (paa_random_bytes(buf, (apr_size_t)n) != APR_SUCCESS) {
        return paactl_fail("the random number generator failed");
    }
    out = hex ? paa_hex(ctl->pool, buf, (apr_size_t)n)
              : paa_base64(ctl->pool, buf, (apr_size_t)n);
    paa_wipe(buf, sizeof(buf));
    printf("%s\n", out);
    paa_wipe(out, strlen(out));
    return PAACTL_OK;
}

int paactl_cmd_secret(paactl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        secret_help();
        return argc < 2 ? PAACTL_USAGE : PAACTL_OK;
    }
    if (!strcmp(argv[1], "gen")) {
        return secret_gen(ctl, argc - 1, argv + 1);
    }
    return paactl_usage_error("secret", "unknown subcommand '%s'", argv[1]);
}
