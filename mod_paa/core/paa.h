/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/**
 * @file paa.h
 * @brief libpaa: the httpd-free core shared by mod_paa and paactl.
 *
 * Nothing here may include httpd.h: paactl and the unit tests link this
 * library without httpd. Functions take the pool first and put
 * out-parameters last; they return apr_status_t (APR_SUCCESS or an error,
 * with a human-readable message in *err where one is offered).
 */
#ifndef PAA_H
#define PAA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_dbd.h>
#include <apr_time.h>
#include <jansson.h>

/* PAA_VERSION_STRING comes from the build (configure.ac AC_INIT). */
#ifndef PAA_VERSION_STRING
#error "PAA_VERSION_STRING must be defined by the build"
#endif

/* One header per area; this one includes them all. */
#include "util.h"
#include "crypto.h"
#include "db.h"
#include "store.h"
#include "jwt.h"
#include "jwks.h"
#include "authcache.h"
#include "usage.h"
#include "cors.h"
#include "ratelimit.h"
#include "redis.h"
#include "persona.h"
#include "breaker.h"
#include "validate.h"

#endif /* PAA_H */
