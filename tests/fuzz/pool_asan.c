/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* For the libFuzzer build only (run-fuzzers.sh), never for mod_paa.
 *
 * APR pools carve allocations out of 8 KB blocks, so AddressSanitizer
 * cannot see a write past the end of an apr_palloc() buffer: it only sees
 * the end of the block. The core allocates nearly everything from pools
 * (base64 buffers in jwt.c, copies in env.c...), so without help an
 * overflow there would go unnoticed. This file interposes apr_palloc and
 * apr_pcalloc (the executable's definitions win over libapr's, which
 * calls them through the PLT too) so that each allocation is its own
 * malloc with ASan redzones, freed when its pool is cleared or destroyed:
 * what APR's --enable-pool-debug does, without rebuilding APR. Text built
 * inside APR by apr_psprintf still lives in pool blocks.
 *
 * Built with -DPOOL_ASAN_SELFTEST it is a program that overflows a pool
 * allocation by one byte: run-fuzzers.sh checks that ASan reports it,
 * i.e. that the interposition works on this system. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

/* The allocations of one pool. Few pools are alive at a time (the global
 * pool and one per fuzz input), so a list is enough. */
typedef struct {
    apr_pool_t *pool;
    void **ptrs;
    size_t n, cap;
} owner_t;

static owner_t *owners;
static size_t nowners, capowners;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        abort();
    }
    return q;
}

static owner_t *owner_of(apr_pool_t *pool, int create)
{
    size_t i;
    for (i = 0; i < nowners; i++) {
        if (owners[i].pool == pool) {
            return &owners[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if (nowners == capowners) {
        capowners = capowners ? capowners * 2 : 16;
        owners = xrealloc(owners, capowners * sizeof(*owners));
    }
    memset(&owners[nowners], 0, sizeof(*owners));
    owners[nowners].pool = pool;
    return &owners[nowners++];
}

void *apr_palloc(apr_pool_t *pool, apr_size_t size)
{
    owner_t *o = owner_of(pool, 1);
    void *mem = malloc(size ? size : 1);

    if (!mem) {
        abort();
    }
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->ptrs = xrealloc(o->ptrs, o->cap * sizeof(*o->ptrs));
    }
    o->ptrs[o->n++] = mem;
    return mem;
}

/* apr_pools.h makes apr_pcalloc a macro over apr_palloc; libapr itself
 * still calls the function. */
#undef apr_pcalloc
void *apr_pcalloc(apr_pool_t *pool, apr_size_t size)
{
    return memset(apr_palloc(pool, size), 0, size);
}

/* After the real clear or destroy, which may still run cleanups that use
 * the memory. */
static void release(apr_pool_t *pool)
{
    owner_t *o = owner_of(pool, 0);
    size_t i;

    if (!o) {
        return;
    }
    for (i = 0; i < o->n; i++) {
        free(o->ptrs[i]);
    }
    free(o->ptrs);
    *o = owners[--nowners];
}

void apr_pool_clear(apr_pool_t *pool)
{
    static void (*real)(apr_pool_t *);
    if (!real) {
        *(void **)&real = dlsym(RTLD_NEXT, "apr_pool_clear");
    }
    real(pool);
    release(pool);
}

void apr_pool_destroy(apr_pool_t *pool)
{
    static void (*real)(apr_pool_t *);
    if (!real) {
        *(void **)&real = dlsym(RTLD_NEXT, "apr_pool_destroy");
    }
    real(pool);
    release(pool);
}

#ifdef POOL_ASAN_SELFTEST
int main(void)
{
    apr_pool_t *p;
    char *buf;
    volatile size_t n = 10;

    apr_initialize();
    apr_pool_create(&p, NULL);
    buf = apr_pstrdup(p, "123456789"); /* libapr's own call, 10 bytes */
    buf[n] = 'x';                      /* one past the end */
    printf("not detected\n");
    apr_pool_destroy(p);
    return 0;
}
#endif
