/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API keys (paa_api_keys): the only file that knows their SQL and
 * columns. A key is stored as the SHA-256 of the whole key; the key itself
 * never reaches the database. */

#include "paa.h"

#include <apr_strings.h>
#include <string.h>

/* The order key_row reads. */
#define KEY_COLUMNS                                                            \
    "k.id, k.prefix, k.name, k.client, k.roles, k.created_by,"                 \
    " k.revoked_reason, k.rotated_from, k.created_at, k.expires_at,"           \
    " k.revoked_at, k.last_used_at"

/* The newest key rotated from k: having one is what puts k in its grace
 * period. The request path never needs it, so only find reads it. */
#define KEY_SUCCESSOR                                                          \
    "(SELECT n.id FROM paa_api_keys n WHERE n.rotated_from = k.id"             \
    " ORDER BY n.created_at DESC, n.id DESC LIMIT 1)"

static const paa_stmt_t by_hash = {
    "paa_key_by_hash",
    "SELECT " KEY_COLUMNS " FROM paa_api_keys k WHERE k.key_hash = %s"};

/* What a restart warms its credential cache with: what the request path
 * keeps of a key paa_key_by_hash finds, under the same test of usability
 * (not revoked, not expired), last used within a span of time, a key
 * never used counting as last used at 0; a chunk at a time along the
 * primary key, from the id where the last chunk ended. The CAST gives the
 * expression SQLite's integer affinity, so that the bounds, bound as text,
 * compare as numbers. An index on last_used_at would spare the sort in
 * in_use_since, but every last-used write would then update it too:
 * 100,000 of them cost SQLite 1.8 times the CPU. */
#define KEY_USABLE                                                             \
    " k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > %lld)"
#define KEY_LAST_USE "CAST(COALESCE(k.last_used_at, 0) AS BIGINT)"
static const paa_stmt_t in_use = {
    "paa_key_in_use", "SELECT k.id, k.client, k.roles, k.expires_at, k.key_hash"
                      " FROM paa_api_keys k WHERE" KEY_USABLE
                      " AND " KEY_LAST_USE " BETWEEN %lld AND %lld"
                      " AND k.id > %s ORDER BY k.id LIMIT %d"};

/* The last use of the n-th most recently used: one sort of the times
 * alone, and only read when more keys are usable than are wanted. */
static const paa_stmt_t in_use_since = {
    "paa_key_in_use_since",
    "SELECT " KEY_LAST_USE " FROM paa_api_keys k WHERE" KEY_USABLE
    " ORDER BY " KEY_LAST_USE " DESC LIMIT 1 OFFSET %d"};

static const paa_stmt_t touch = {"paa_key_touch",
                                 "UPDATE paa_api_keys SET last_used_at = %lld"
                                 " WHERE id = %s"};

static const paa_stmt_t add = {
    "paa_key_add",
    "INSERT INTO paa_api_keys (id, key_hash, prefix, name, client, roles,"
    " created_at, created_by, expires_at, rotated_from)"
    " VALUES (%s, %s, %s, %s, %s, %s, %lld, %s, %lld, %s)"};

/* A NULL argument switches its filter off, so that one statement,
 * prepared once, serves every combination. (Not "%d = 0": SQLite gets
 * every argument as text, and '0' = 0 is false there.) */
static const paa_stmt_t find = {
    "paa_key_find",
    "SELECT " KEY_COLUMNS ", " KEY_SUCCESSOR " FROM paa_api_keys k"
    " WHERE (%s IS NULL OR k.id = %s) AND (%s IS NULL OR k.key_hash = %s)"
    " AND (%lld IS NULL OR (k.revoked_at IS NULL"
    " AND (k.expires_at IS NULL OR k.expires_at > %lld)))"
    " ORDER BY k.created_at, k.id"};

/* The conditions repeat what the caller saw: someone may have revoked or
 * rotated the key since, and then nothing must change. */
static const paa_stmt_t rotate_old = {
    "paa_key_rotate_old",
    "UPDATE paa_api_keys SET expires_at = CASE"
    " WHEN expires_at IS NOT NULL AND expires_at < %lld"
    " THEN expires_at ELSE %lld END"
    " WHERE id = %s AND revoked_at IS NULL"
    " AND (expires_at IS NULL OR expires_at > %lld)"
    " AND NOT EXISTS (SELECT 1 FROM paa_api_keys n WHERE n.rotated_from = %s)"};

static const paa_stmt_t revoke_key = {
    "paa_key_revoke",
    "UPDATE paa_api_keys SET revoked_at = %lld,"
    " revoked_reason = %s WHERE id = %s AND revoked_at IS NULL"};

static void key_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                    paa_key_t *k)
{
    k->id = paa_db_str(p, db, row, 0);
    k->prefix = paa_db_text(p, db, row, 1);
    k->name = paa_db_text(p, db, row, 2);
    k->client = paa_db_text(p, db, row, 3);
    k->roles = paa_db_text(p, db, row, 4);
    k->created_by = paa_db_text(p, db, row, 5);
    k->revoked_reason = paa_db_str(p, db, row, 6);
    k->rotated_from = paa_db_str(p, db, row, 7);
    k->created_at = paa_db_int(db, row, 8);
    k->expires_at = paa_db_int(db, row, 9);
    k->revoked_at = paa_db_int(db, row, 10);
    k->last_used_at = paa_db_int(db, row, 11);
    k->replaced_by = NULL;
}

apr_status_t paa_keys_by_hash(apr_pool_t *p, paa_db_t *db, const char *hash,
                              paa_key_t *out, int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &by_hash, 1, &hash, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        key_row(p, db, row, out);
        *found = 1;
    }
    return APR_SUCCESS;
}

typedef struct {
    paa_key_fn fn;
    void *baton;
} usable_t;

static const char *usable_row(apr_pool_t *p, paa_db_t *db, apr_dbd_row_t *row,
                              void *baton)
{
    usable_t *u = baton;
    paa_key_t k;

    memset(&k, 0, sizeof(k));
    k.id = paa_db_str(p, db, row, 0);
    k.client = paa_db_text(p, db, row, 1);
    k.roles = paa_db_text(p, db, row, 2);
    k.expires_at = paa_db_int(db, row, 3);
    u->fn(u->baton, &k, paa_db_text(p, db, row, 4));
    return k.id;
}

apr_status_t paa_keys_usable(apr_pool_t *p, paa_db_t *db, apr_int64_t now,
                             int limit, int chunk, paa_key_fn fn, void *baton,
                             int *count)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t since = 0, span[2][2];
    const char *args[5];
    int pass, passes = 1, more = 0;
    usable_t u = {fn, baton};
    apr_status_t rv = APR_SUCCESS;

    *count = 0;
    if (limit <= 0 || chunk <= 0) {
        return APR_SUCCESS;
    }
    args[0] = paa_db_i64(p, now);
    args[1] = apr_itoa(p, limit - 1); /* the OFFSET of in_use_since */
    if (paa_db_select(p, db, &in_use_since, 2, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        since = paa_db_int(db, row, 0);
        more = 1;
    }
    /* More usable than wanted: all those used after the limit-th most
     * recent one's last use (fewer than limit), then of those used at
     * that very time (ties; never, when the never used reach that far),
     * as many as there is room for. */
    span[0][0] = more ? since + 1 : 0;
    span[0][1] = APR_INT64_MAX;
    if (more) {
        span[1][0] = span[1][1] = since;
        passes = 2;
    }
    for (pass = 0; pass < passes && rv == APR_SUCCESS; pass++) {
        args[1] = paa_db_i64(p, span[pass][0]);
        args[2] = paa_db_i64(p, span[pass][1]);
        rv = paa_db_chunks(p, db, &in_use, 5, args, 3, 4, limit - *count, chunk,
                           usable_row, &u, count);
    }
    return rv;
}

apr_status_t paa_keys_touch(apr_pool_t *p, paa_db_t *db, const char *id,
                            apr_int64_t at)
{
    const char *args[2];
    args[0] = paa_db_i64(p, at);
    args[1] = id;
    return paa_db_run(p, db, &touch, 2, args, NULL);
}

/* A string as an SQL literal. */
static const char *lit(apr_pool_t *p, paa_db_t *db, const char *s)
{
    return apr_pstrcat(
        p, "'",
        apr_dbd_escape(db->driver, p, paa_utf8_escape(p, s), db->handle), "'",
        NULL);
}

/* PostgreSQL: a chunk's rows as one JSON argument of a prepared
 * statement. A literal list of 200 rows took a millisecond to plan, and
 * its join with the keys was planned as a hash join over a scan of every
 * key, a cost that grows with the number of keys: on 20,000 keys, 5 ms
 * per 200 records and 7 ms per 200 last-used times, against 3 and 2.5 ms
 * this way (an index lookup per row). On SQLite the literal lists are as
 * fast as json_each, and its plan looks each row up by the primary key. */
static const paa_stmt_t uses_records_pg = {
    "paa_key_uses_records",
    "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id,"
    " client_ip, detail) SELECT (e->>0)::bigint, 'key.use', 'success', '',"
    " e->>1, e->>1, e->>2, e->>3 FROM jsonb_array_elements(%s::jsonb) e"};

static const paa_stmt_t uses_touch_pg = {
    "paa_key_uses_touch",
    "UPDATE paa_api_keys SET last_used_at = (e->>1)::bigint"
    " FROM jsonb_array_elements(%s::jsonb) e WHERE paa_api_keys.id = e->>0"
    " AND (last_used_at IS NULL OR last_used_at <= (e->>1)::bigint - %d)"};

/* Run st with rows (a JSON array) as its first argument and the
 * last-used step as the second, if st has one; nothing when rows is
 * empty. */
static apr_status_t run_rows(apr_pool_t *p, paa_db_t *db, const paa_stmt_t *st,
                             int nargs, const json_t *rows)
{
    char *text;
    const char *args[2];

    if (!json_array_size(rows)) {
        return APR_SUCCESS;
    }
    if (!(text = json_dumps(rows, JSON_COMPACT))) {
        db->error = "out of memory";
        return APR_ENOMEM;
    }
    args[0] = apr_pstrdup(p, text);
    args[1] = apr_itoa(p, PAA_LAST_USED_STEP);
    free(text);
    return paa_db_run(p, db, st, nargs, args, NULL);
}

/* The rows in key order (u is sorted), as the records were: two nodes
 * updating the same keys then lock them in the same order. */
static apr_status_t uses_chunk_pg(apr_pool_t *p, paa_db_t *db,
                                  apr_hash_t *latest, const paa_key_use_t *u,
                                  int n)
{
    json_t *times = json_array(), *records = json_array();
    apr_status_t rv;
    int i, ok = times && records;

    for (i = 0; i < n && ok; i++) {
        const apr_int64_t *t =
            apr_hash_get(latest, u[i].key_id, APR_HASH_KEY_STRING);
        if (t) {
            ok = !json_array_append_new(
                times, json_pack("[s,I]", paa_utf8_escape(p, u[i].key_id),
                                 (json_int_t)*t));
            apr_hash_set(latest, u[i].key_id, APR_HASH_KEY_STRING, NULL);
        }
        if (ok && u[i].record) {
            ok = !json_array_append_new(
                records,
                json_pack("[I,s,s,s]", (json_int_t)u[i].first,
                          paa_utf8_escape(p, u[i].key_id),
                          paa_utf8_escape(p, u[i].client_ip),
                          apr_psprintf(p, "uses=%" APR_INT64_T_FMT " last=%s",
                                       u[i].uses, paa_iso_time(p, u[i].last))));
        }
    }
    if (!ok) {
        db->error = "out of memory";
        rv = APR_ENOMEM;
    }
    else if ((rv = run_rows(p, db, &uses_touch_pg, 2, times)) == APR_SUCCESS) {
        rv = run_rows(p, db, &uses_records_pg, 1, records);
    }
    json_decref(times);
    json_decref(records);
    return rv;
}

/* One chunk of uses as two statements, each atomic on its own: the
 * last-used times (the newest per key, never moved back) and the records. */
/* The statements are built as arrays of pieces joined once: appending to
 * one growing string would copy it once per row. */
static apr_status_t uses_chunk(apr_pool_t *p, paa_db_t *db,
                               const paa_key_use_t *u, int n)
{
    apr_hash_t *latest = apr_hash_make(p);
    apr_hash_index_t *hi;
    apr_array_header_t *upd, *ins, *ids;
    const char *err = NULL;
    int i;

    for (i = 0; i < n; i++) {
        apr_int64_t *t = apr_hash_get(latest, u[i].key_id, APR_HASH_KEY_STRING);
        if (u[i].touch_at && (!t || *t < u[i].touch_at)) {
            t = apr_pmemdup(p, &u[i].touch_at, sizeof(*t));
            apr_hash_set(latest, u[i].key_id, APR_HASH_KEY_STRING, t);
        }
    }
    if (db->pgsql) {
        return uses_chunk_pg(p, db, latest, u, n);
    }
    upd = apr_array_make(p, 2 * n + 4, sizeof(char *));
    ins = apr_array_make(p, n + 2, sizeof(char *));
    ids = apr_array_make(p, n, sizeof(char *));
    APR_ARRAY_PUSH(ins, const char *) =
        "INSERT INTO paa_audit (at, event, outcome, actor, subject, key_id,"
        " client_ip, detail) VALUES ";
    for (i = 0; i < n; i++) {
        if (u[i].record) {
            APR_ARRAY_PUSH(ins, const char *) = apr_psprintf(
                p,
                "%s(%" APR_INT64_T_FMT ", 'key.use', 'success', '', %s,"
                " %s, %s, %s)",
                ins->nelts > 1 ? ", " : "", u[i].first, lit(p, db, u[i].key_id),
                lit(p, db, u[i].key_id), lit(p, db, u[i].client_ip),
                lit(p, db,
                    apr_psprintf(p, "uses=%" APR_INT64_T_FMT " last=%s",
                                 u[i].uses, paa_iso_time(p, u[i].last))));
        }
    }
    /* Joined with a VALUES list (SQLite 3.33): each row finds
     * its time by the primary key, not by a CASE of every id. Other nodes
     * write their own idea of "last": the column only moves forward, and
     * a row whose time is recent is not written at all (a write costs its
     * page in SQLite's log; a read that finds nothing to do, a tenth). */
    APR_ARRAY_PUSH(upd, const char *) =
        "UPDATE paa_api_keys SET last_used_at = v.column2 FROM (VALUES ";
    for (hi = apr_hash_first(p, latest); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(ids, const char *) = apr_psprintf(
            p, "(%s, %" APR_INT64_T_FMT ")", lit(p, db, apr_hash_this_key(hi)),
            *(apr_int64_t *)apr_hash_this_val(hi));
    }
    APR_ARRAY_PUSH(upd, const char *) = apr_array_pstrcat(p, ids, ',');
    APR_ARRAY_PUSH(upd, const char *) = apr_psprintf(
        p,
        ") AS v WHERE paa_api_keys.id = v.column1 AND (last_used_at IS NULL"
        " OR last_used_at <= v.column2 - %d)",
        PAA_LAST_USED_STEP);
    if (ids->nelts && paa_db_exec(p, db, apr_array_pstrcat(p, upd, '\0'),
                                  &err) != APR_SUCCESS) {
        db->error = err;
        return APR_EGENERAL;
    }
    if (ins->nelts > 1 && paa_db_exec(p, db, apr_array_pstrcat(p, ins, '\0'),
                                      &err) != APR_SUCCESS) {
        db->error = err;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

#define USES_CHUNK 200

static int by_key(const void *a, const void *b)
{
    return strcmp(((const paa_key_use_t *)a)->key_id,
                  ((const paa_key_use_t *)b)->key_id);
}

static apr_status_t uses_chunks(apr_pool_t *p, paa_db_t *db, void *baton)
{
    const apr_array_header_t *uses = baton;
    paa_key_use_t *u =
        apr_pmemdup(p, uses->elts, sizeof(*u) * (apr_size_t)uses->nelts);
    apr_pool_t *sub;
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* In key order, a chunk's records go to neighbouring pages of the
     * audit's key and subject indexes: a page written once for many rows,
     * where random keys wrote a page or two per row (5 times slower on
     * SQLite for 100,000 keys). */
    qsort(u, (size_t)uses->nelts, sizeof(*u), by_key);
    apr_pool_create(&sub, p);
    for (i = 0; i < uses->nelts && rv == APR_SUCCESS; i += USES_CHUNK) {
        rv = uses_chunk(sub, db, u + i,
                        uses->nelts - i < USES_CHUNK ? uses->nelts - i
                                                     : USES_CHUNK);
        if (rv != APR_SUCCESS && db->error) {
            db->error = apr_pstrdup(p, db->error); /* sub is cleared */
        }
        apr_pool_clear(sub);
    }
    apr_pool_destroy(sub);
    return rv;
}

apr_status_t paa_keys_record_uses(apr_pool_t *p, paa_db_t *db,
                                  const apr_array_header_t *uses)
{
    if (!uses->nelts) {
        return APR_SUCCESS;
    }
    /* Multi-row statements: one per use was a round trip per use on
     * PostgreSQL, 200,000 a minute for 100,000 keys in use. There the
     * batch is one transaction. SQLite: apr_dbd_sqlite3 runs every
     * statement of a process under one mutex, and a statement waiting for
     * the write lock (busy_timeout) holds it. A transaction that kept the
     * write lock across statements would have the process's other threads
     * queue on that mutex behind statements that wait for this very lock:
     * the process stalls. So there each statement holds the lock only
     * while it runs. */
    return db->pgsql ? paa_db_transaction(p, db, uses_chunks, (void *)uses)
                     : uses_chunks(p, db, (void *)uses);
}

apr_status_t paa_keys_add(apr_pool_t *p, paa_db_t *db, const paa_key_t *k,
                          const char *hash)
{
    const char *args[10];
    args[0] = k->id;
    args[1] = hash;
    args[2] = k->prefix;
    args[3] = k->name;
    args[4] = k->client ? k->client : "";
    args[5] = k->roles ? k->roles : "";
    args[6] = paa_db_i64(p, k->created_at);
    args[7] = k->created_by ? k->created_by : "";
    args[8] = k->expires_at ? paa_db_i64(p, k->expires_at) : NULL;
    args[9] = k->rotated_from;
    return paa_db_run(p, db, &add, 10, args, NULL);
}

apr_status_t paa_keys_find(apr_pool_t *p, paa_db_t *db,
                           const paa_key_filter_t *f, apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[6];

    args[0] = args[1] = f->id;
    args[2] = args[3] = f->hash;
    args[4] = args[5] = f->usable_at ? paa_db_i64(p, f->usable_at) : NULL;
    *out = apr_array_make(p, 8, sizeof(paa_key_t));
    if (paa_db_select(p, db, &find, 6, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_key_t *k = apr_array_push(*out);
        key_row(p, db, row, k);
        k->replaced_by = paa_db_str(p, db, row, 12);
    }
    return APR_SUCCESS;
}

apr_status_t paa_keys_get(apr_pool_t *p, paa_db_t *db, const char *id,
                          paa_key_t *out, int *found)
{
    paa_key_filter_t f = {id, NULL, 0};
    apr_array_header_t *keys;

    *found = 0;
    if (paa_keys_find(p, db, &f, &keys) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (keys->nelts) {
        *out = APR_ARRAY_IDX(keys, 0, paa_key_t);
        *found = 1;
    }
    return APR_SUCCESS;
}

typedef struct {
    const paa_key_t *next;
    const char *hash;
    apr_int64_t old_until;
    int *rotated;
} rotation_t;

static apr_status_t rotate_txn(apr_pool_t *p, paa_db_t *db, void *baton)
{
    rotation_t *r = baton;
    const char *args[5];
    int nrows = 0;

    args[0] = paa_db_i64(p, r->old_until);
    args[1] = args[0];
    args[2] = r->next->rotated_from;
    args[3] = paa_db_i64(p, r->next->created_at);
    args[4] = r->next->rotated_from;
    if (paa_db_run(p, db, &rotate_old, 5, args, &nrows) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (nrows != 1) {
        return APR_SUCCESS;
    }
    if (paa_keys_add(p, db, r->next, r->hash) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    *r->rotated = 1;
    return APR_SUCCESS;
}

apr_status_t paa_keys_rotate(apr_pool_t *p, paa_db_t *db, const paa_key_t *next,
                             const char *hash, apr_int64_t old_until,
                             int *rotated)
{
    rotation_t r;
    apr_status_t rv;

    *rotated = 0;
    r.next = next;
    r.hash = hash;
    r.old_until = old_until;
    r.rotated = rotated;
    rv = paa_db_transaction(p, db, rotate_txn, &r);
    if (rv != APR_SUCCESS) {
        *rotated = 0; /* rolled back */
    }
    return rv;
}

apr_status_t paa_keys_revoke(apr_pool_t *p, paa_db_t *db, const char *id,
                             apr_int64_t at, const char *reason, int *nrows)
{
    const char *args[3];
    args[0] = paa_db_i64(p, at);
    args[1] = reason ? reason : "";
    args[2] = id;
    return paa_db_run(p, db, &revoke_key, 3, args, nrows);
}

typedef struct {
    const paa_key_match_t *m;
    apr_int64_t at;
    const char *reason;
    apr_array_header_t *revoked;
} revoke_all_t;

static int key_matches(apr_pool_t *p, const paa_key_match_t *m,
                       const paa_key_t *k)
{
    int i;

    if (m->client && strcmp(k->client, m->client)) {
        return 0;
    }
    if (m->role) {
        apr_array_header_t *want = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(want, const char *) = m->role;
        if (!paa_roles_intersect(p, k->roles, want)) {
            return 0;
        }
    }
    for (i = 0; m->except && i < m->except->nelts; i++) {
        if (!strcmp(k->id, APR_ARRAY_IDX(m->except, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

/* The keys are read and revoked inside the transaction, so a key created
 * or rotated meanwhile is either seen and revoked or created after the
 * revocation; the per-key statement still skips one revoked since. */
static apr_status_t revoke_all_txn(apr_pool_t *p, paa_db_t *db, void *baton)
{
    revoke_all_t *r = baton;
    paa_key_filter_t f = {NULL, NULL, 0};
    apr_array_header_t *keys;
    int i;

    f.usable_at = r->at;
    if (paa_keys_find(p, db, &f, &keys) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (i = 0; i < keys->nelts; i++) {
        const paa_key_t *k = &APR_ARRAY_IDX(keys, i, paa_key_t);
        int nrows = 0;

        if (!key_matches(p, r->m, k)) {
            continue;
        }
        if (paa_keys_revoke(p, db, k->id, r->at, r->reason, &nrows) !=
            APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (nrows == 1) {
            APR_ARRAY_PUSH(r->revoked, paa_key_t) = *k;
        }
    }
    return APR_SUCCESS;
}

apr_status_t paa_keys_revoke_all(apr_pool_t *p, paa_db_t *db,
                                 const paa_key_match_t *m, apr_int64_t at,
                                 const char *reason,
                                 apr_array_header_t **revoked)
{
    revoke_all_t r;
    apr_status_t rv;

    r.m = m;
    r.at = at;
    r.reason = reason;
    r.revoked = apr_array_make(p, 8, sizeof(paa_key_t));
    rv = paa_db_transaction(p, db, revoke_all_txn, &r);
    /* Rolled back: nothing was revoked. */
    *revoked =
        rv == APR_SUCCESS ? r.revoked : apr_array_make(p, 1, sizeof(paa_key_t));
    return rv;
}
