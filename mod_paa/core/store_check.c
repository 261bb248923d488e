/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What paactl check asks PostgreSQL about the role the connection uses:
 * whether it is a superuser or an owner (who bypass every grant), whether
 * the connection is encrypted, and its privileges on each paa_ table and
 * sequence. Read-only catalog queries, PostgreSQL only: the questions have
 * no meaning for a SQLite file, whose protection is its owner and mode.
 *
 * Ownership is asked with pg_has_role(..., 'MEMBER'): since PostgreSQL 15
 * the public schema belongs to pg_database_owner, whose only member is the
 * database's owner, so "createdb -O paa" makes paa the schema's owner too. */

#include "paa.h"

#include <apr_strings.h>

static const paa_stmt_t role = {
    "paa_check_pg_role",
    "SELECT current_user, current_schema(), r.rolsuper::int,"
    " pg_has_role(d.datdba, 'MEMBER')::int,"
    " pg_has_role(n.nspowner, 'MEMBER')::int,"
    " (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid"
    " AND c.relkind IN ('r', 'S') AND left(c.relname, 4) = 'paa_'"
    " AND pg_has_role(c.relowner, 'MEMBER')),"
    " has_schema_privilege(n.oid, 'CREATE')::int,"
    " coalesce((SELECT s.ssl FROM pg_stat_ssl s"
    " WHERE s.pid = pg_backend_pid()), false)::int,"
    " (inet_client_addr() IS NULL)::int"
    " FROM pg_roles r, pg_database d, pg_namespace n"
    " WHERE r.rolname = current_user AND d.datname = current_database()"
    " AND n.nspname = current_schema()"};

/* has_table_privilege answers for a sequence too (false for what a
 * sequence cannot be granted), so one list serves both kinds; the only
 * privilege mod_paa needs on a sequence is USAGE, for the nextval of a
 * BIGSERIAL insert. */
static const paa_stmt_t grants = {
    "paa_check_pg_grants",
    "SELECT c.relname, (c.relkind = 'S')::int,"
    " CASE WHEN c.relkind = 'S'"
    " THEN has_sequence_privilege(c.oid, 'USAGE') ELSE false END::int,"
    " has_table_privilege(c.oid, 'SELECT')::int,"
    " has_table_privilege(c.oid, 'INSERT')::int,"
    " has_table_privilege(c.oid, 'UPDATE')::int,"
    " has_table_privilege(c.oid, 'DELETE')::int,"
    " has_table_privilege(c.oid, 'TRUNCATE')::int,"
    " has_table_privilege(c.oid, 'REFERENCES')::int,"
    " has_table_privilege(c.oid, 'TRIGGER')::int"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'S')"
    " AND left(c.relname, 4) = 'paa_'"
    " ORDER BY c.relname"};

apr_status_t paa_check_pg_role(apr_pool_t *p, paa_db_t *db, paa_pg_role_t *out,
                               int *found)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (paa_db_select(p, db, &role, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        out->role = paa_db_text(p, db, row, 0);
        out->schema = paa_db_text(p, db, row, 1);
        out->superuser = (int)paa_db_int(db, row, 2);
        out->owns_database = (int)paa_db_int(db, row, 3);
        out->owns_schema = (int)paa_db_int(db, row, 4);
        out->owned_objects = (int)paa_db_int(db, row, 5);
        out->schema_create = (int)paa_db_int(db, row, 6);
        out->ssl = (int)paa_db_int(db, row, 7);
        out->local = (int)paa_db_int(db, row, 8);
        *found = 1;
    }
    return APR_SUCCESS;
}

apr_status_t paa_check_pg_grants(apr_pool_t *p, paa_db_t *db,
                                 apr_array_header_t **out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = apr_array_make(p, 16, sizeof(paa_pg_grant_t));
    if (paa_db_select(p, db, &grants, 0, NULL, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (paa_db_next(p, db, res, &row)) {
        paa_pg_grant_t *g = apr_array_push(*out);
        g->name = paa_db_text(p, db, row, 0);
        g->sequence = (int)paa_db_int(db, row, 1);
        g->usage = (int)paa_db_int(db, row, 2);
        g->select = (int)paa_db_int(db, row, 3);
        g->insert = (int)paa_db_int(db, row, 4);
        g->update = (int)paa_db_int(db, row, 5);
        g->del = (int)paa_db_int(db, row, 6);
        g->truncate = (int)paa_db_int(db, row, 7);
        g->references = (int)paa_db_int(db, row, 8);
        g->trigger = (int)paa_db_int(db, row, 9);
    }
    return APR_SUCCESS;
}
