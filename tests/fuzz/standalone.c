/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Replays fuzz inputs without libFuzzer, so that every seed (and every
 * crash reproducer added to a corpus) runs in "make check" with the
 * ordinary compiler: the target's invariants abort() on a bug, which the
 * TAP driver reports as an error.
 *
 *   fuzz_jwt_replay FILE|DIR...
 *
 * Directories are read recursively, files in byte order of their path so
 * the output is the same everywhere; names starting with '.' are skipped.
 * Output is TAP: "ok N - TARGET: NAME" per input, NAME relative to its
 * DIR ("not ok" when the target says a named seed no longer produces its
 * case, see fuzz.h), then "1..N". Each input's path also goes to stderr
 * before it runs, so the log names the input that aborted. A missing or
 * empty directory is a "Bail out!", an unreadable file a "not ok". TARGET
 * is the program's name without "_replay". */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

typedef struct {
    char *path;
    size_t shown; /* offset of the name to print: relative to the DIR */
} input_t;

typedef struct {
    input_t *in;
    size_t n, cap;
} list_t;

static void add(list_t *l, const char *path, size_t shown)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->in = realloc(l->in, l->cap * sizeof(*l->in));
        if (!l->in) {
            perror("realloc");
            exit(2);
        }
    }
    l->in[l->n].path = strdup(path);
    l->in[l->n].shown = shown;
    l->n++;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    return path;
}

/* Adds the files under dir; -1 when it cannot be read. */
static int collect(list_t *l, const char *dir, size_t shown)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d))) {
        struct stat st;
        char *path;
        if (e->d_name[0] == '.') {
            continue;
        }
        path = join(dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (collect(l, path, shown) < 0) {
                free(path);
                closedir(d);
                return -1;
            }
        }
        else {
            add(l, path, shown);
        }
        free(path);
    }
    closedir(d);
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const input_t *)a)->path, ((const input_t *)b)->path);
}

/* The whole file in a buffer of exactly its size, so that a sanitizer
 * sees any read past the end of the input. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *bigger;
            cap = cap ? cap * 2 : 4096;
            bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = n;
    /* realloc to the exact size (a fresh malloc for an empty file). */
    if (n == 0) {
        free(buf);
        return malloc(1);
    }
    return realloc(buf, n);
}

/* "fuzz_jwt" from ".../.libs/lt-fuzz_jwt_replay". */
static const char *target_name(const char *argv0)
{
    static char name[256];
    const char *base = strrchr(argv0, '/');
    size_t n;

    base = base ? base + 1 : argv0;
    if (!strncmp(base, "lt-", 3)) {
        base += 3;
    }
    snprintf(name, sizeof(name), "%s", base);
    n = strlen(name);
    if (n > 7 && !strcmp(name + n - 7, "_replay")) {
        name[n - 7] = '\0';
    }
    return name;
}

int main(int argc, char **argv)
{
    const char *target = target_name(argv[0]);
    list_t files = {NULL, 0, 0};
    size_t i, failed = 0;
    int a;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (a = 1; a < argc; a++) {
        struct stat st;
        size_t before = files.n;
        if (stat(argv[a], &st) != 0) {
            printf("Bail out! %s: %s: %s\n", target, argv[a], strerror(errno));
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            add(&files, argv[a], 0);
            continue;
        }
        if (collect(&files, argv[a], strlen(argv[a]) + 1) < 0) {
            printf("Bail out! %s: cannot read %s: %s\n", target, argv[a],
                   strerror(errno));
            return 2;
        }
        if (files.n == before) {
            printf("Bail out! %s: no inputs in %s\n", target, argv[a]);
            return 2;
        }
        qsort(files.in + before, files.n - before, sizeof(*files.in), by_path);
    }

    for (i = 0; i < files.n; i++) {
        const char *path = files.in[i].path;
        const char *shown = path + files.in[i].shown;
        const char *base = strrchr(path, '/');
        const char *why;
        size_t size = 0;
        unsigned char *data = slurp(path, &size);

        if (!data) {
            printf("not ok %zu - %s: %s\n# cannot read: %s\n", i + 1, target,
                   shown, strerror(errno));
            failed++;
            continue;
        }
        /* Flushed first: if the input aborts, the log shows which. */
        fprintf(stderr, "# %s: %s\n", target, path);
        fflush(stdout);
        fflush(stderr);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        why = paa_fuzz_check_seed(base ? base + 1 : path);
        if (why) {
            printf("not ok %zu - %s: %s\n# %s\n", i + 1, target, shown, why);
            failed++;
        }
        else {
            printf("ok %zu - %s: %s\n", i + 1, target, shown);
        }
    }
    printf("1..%zu\n", files.n);
    for (i = 0; i < files.n; i++) {
        free(files.in[i].path);
    }
    free(files.in);
    return failed ? 1 : 0;
}
