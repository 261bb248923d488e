/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#ifndef PAACTL_H
#define PAACTL_H

#include "core/paa.h"

#include <sys/stat.h>

/* Exit statuses, documented in paactl(8). */
#define PAACTL_OK    0
#define PAACTL_FAIL  1
#define PAACTL_USAGE 2

typedef struct {
    apr_pool_t *pool;
    const char *config_path; /* the env file */
    apr_table_t *env;        /* its variables */
    paa_db_t *db;            /* opened on first use */
    int create_db;           /* init/migrate may create a SQLite file */
} paactl_t;

typedef struct {
    const char *name;
    int (*run)(paactl_t *ctl, int argc, char **argv);
    const char *summary;
} paactl_cmd_t;

/* paactl.c: helpers shared by the commands */
int paactl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int paactl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int paactl_wants_help(int argc, char **argv);
apr_status_t paactl_db(paactl_t *ctl, paa_db_t **db);
/**
 * Report a failed database operation ("cannot DOING in DRIVER database
 * LABEL: ERR"), adding the advice to run paactl init when the error says
 * a table is missing. Returns PAACTL_FAIL.
 */
int paactl_db_error(paa_db_t *db, const char *doing, const char *err);

/** "os:USER": who runs paactl, for audit records. */
const char *paactl_actor(paactl_t *ctl);
/** An ISO 8601 UTC time for people and JSON. */
const char *paactl_time(paactl_t *ctl, apr_int64_t unix_seconds);

/* util.c: what several commands need, written once so that every command
 * shows stored text, reads credentials and audits the same way. */

/**
 * s for a terminal: control characters become '?' (stored text can come
 * from HTTP clients or argv, and must not carry escape sequences); "-"
 * for NULL or empty.
 */
const char *paactl_printable(paactl_t *ctl, const char *s);

/** A JSON string of s (null for NULL); jansson refuses invalid UTF-8, so
 * such bytes become '?' rather than losing the whole value. */
json_t *paactl_json_str(paactl_t *ctl, const char *s);

/** Print j indented on stdout and release it. Returns the exit status. */
int paactl_json_print(json_t *j);

/**
 * Characters, not bytes (UTF-8 continuation bytes do not count): the
 * display width of a table cell, and a password length as people count
 * it, so text in another script neither misaligns nor counts double.
 */
int paactl_utf8_chars(const char *s);

/**
 * Print a table on stdout: a header row, then nrows rows of ncols cells
 * (row-major), each column as wide as its widest cell plus two spaces. The
 * last column is never padded: it can be long.
 */
void paactl_table_print(paactl_t *ctl, int ncols, const char *const *head,
                        const char *const *cells, int nrows);

/** 1 when s is a key id as paa_id_generate makes them: key_ + 16 hex. */
int paactl_key_id_well_formed(const char *s);

/**
 * Add role to roles (an array of const char *) unless it is there already.
 * @return why the role is invalid (paa_role_invalid), or NULL
 */
const char *paactl_role_add(apr_array_header_t *roles, const char *role);

/**
 * One line from fd, read byte by byte so that no stdio buffer keeps a
 * copy of a secret and nothing after the line is consumed.
 * @param len the line's length, the newline and a trailing CR removed
 * @return 0 with the line, 1 at end of input before any byte, -1 on a read
 *         error, -2 when the line does not fit in size (NUL included)
 */
int paactl_read_line(int fd, char *buf, apr_size_t size, apr_size_t *len);

/**
 * Read until size bytes, end of input or an error, retrying when a signal
 * interrupts. Returns 0, or -1 on a read error (errno set); *len is what
 * arrived either way. buf is not terminated.
 */
int paactl_read_full(int fd, char *buf, apr_size_t size, apr_size_t *len);

/**
 * Write prompt to out, then read one line from the terminal fd with echo
 * off (paactl_read_line). The terminal is restored before returning and
 * also when SIGINT, SIGTERM, SIGHUP or SIGQUIT interrupts the prompt, so
 * the shell does not stay without echo; a newline goes to out after the
 * line. Returns as paactl_read_line, or -1 when echo cannot be turned off
 * (a secret is never read with echo on).
 */
int paactl_prompt_hidden(int fd, int out, const char *prompt, char *buf,
                         apr_size_t size, apr_size_t *len);

/**
 * The SHA-256 hex of an API key read as one line from standard input (the
 * "-" argument), so the key need not be in ps output or shell history. The
 * key is only hashed and its buffer wiped.
 * @param cmd names the command in the usage error when stdin holds no key
 * @return PAACTL_OK, or the usage error's exit status
 */
int paactl_key_hash_stdin(paactl_t *ctl, const char *cmd, const char **hash);

/**
 * Write a "success" audit record with paactl_actor as the actor; subject,
 * key_id and detail may be NULL. The caller decides what a failure means.
 */
apr_status_t paactl_audit(paactl_t *ctl, paa_db_t *db, const char *event,
                          const char *subject, const char *key_id,
                          const char *detail, const char **err);

/** paactl_audit after a change that is already made: a failure cannot undo
 * it, so it is only reported as a warning. */
void paactl_audit_change(paactl_t *ctl, paa_db_t *db, const char *event,
                         const char *subject, const char *key_id,
                         const char *detail);

/* cmd_key.c: the options and the KEY-ID|KEY argument of the key commands,
 * written once for rotate and revoke there and list and show in
 * cmd_key_show.c. */

/** Which options a key command takes (paactl_key_opts's allow). */
#define PAACTL_KEY_GRACE   (1 << 0)
#define PAACTL_KEY_EXPIRES (1 << 1)
#define PAACTL_KEY_REASON  (1 << 2)
#define PAACTL_KEY_JSON    (1 << 3)
#define PAACTL_KEY_ALL     (1 << 4)

typedef struct {
    const char *ref; /* the KEY-ID|KEY|- argument, NULL when none is taken */
    const char *grace;
    const char *expires;
    const char *reason;
    int json;
    int all;
} paactl_key_opts_t;

/**
 * Parse a key command's options (only those in allow) and its nargs (0 or
 * 1) positional arguments. Returns PAACTL_OK, -1 after printing help, or
 * the usage error's exit status.
 */
int paactl_key_opts(const char *cmd, int argc, char **argv, int allow,
                    int nargs, void (*help)(void), paactl_key_opts_t *o);

/**
 * Open the database and find the key that arg (a key id, a key, or "-" for
 * a key on standard input) names; the key is only ever hashed. Prints why
 * not and returns the exit status when there is none.
 */
int paactl_key_load(paactl_t *ctl, const char *cmd, const char *arg,
                    paa_db_t **db, paa_key_t *out);

/** 1 when s carries an API key (a reason or note must not). */
int paactl_contains_key(const char *s);

/* cmd_revoke_all.c: revoke --all, which paactl_cmd_revoke hands over to
 * when argv asks for a bulk revocation. */
int paactl_revoke_bulk_asked(int argc, char **argv);
int paactl_cmd_revoke_all(paactl_t *ctl, int argc, char **argv);

/* cmd_user_unlock.c: paactl user unlock NAME, once the database is open. */
int paactl_user_unlock(paactl_t *ctl, paa_db_t *db, const char *name);

/* cmd_user_logout.c: paactl user logout NAME (name NULL: --all). */
int paactl_user_logout(paactl_t *ctl, paa_db_t *db, const char *name);

/* cmd_secret_file.c: the env file as paactl secret set rewrites it, apart
 * from the command so each file keeps one concern. */

/** The env file a secret command rewrites, as it was before. */
typedef struct {
    const char *path; /* symlinks resolved: the file, not the link */
    char *old;        /* its text; the caller wipes it */
    apr_size_t oldlen;
    struct stat st;
    int exists;
    apr_table_t *env; /* old, parsed */
} paactl_env_file_t;

/** Load --config's env file into f: writable, every line parsing.
 * @return PAACTL_OK, or PAACTL_FAIL after saying why (f->old wiped) */
int paactl_env_file_load(paactl_t *ctl, paactl_env_file_t *f);

/** "FILE had mode M; it now has 0600" when the rewrite tightened it. */
void paactl_env_mode_report(const paactl_env_file_t *f);

/** n random bytes as base64 (or hex), as secret gen prints them; NULL
 * when the generator fails. The caller wipes the text. */
char *paactl_secret_random(paactl_t *ctl, apr_size_t n, int hex);

/** NAME checked for cmd, or with env its NAME_ENV form, into *var. */
int paactl_secret_var(paactl_t *ctl, const char *cmd, const char *name,
                      const char *env, const char **var);

/** Audit a change of var in the env file (text, the new file), in the
 * database it names; only warns on failure. */
void paactl_secret_audit(paactl_t *ctl, const char *text, apr_size_t len,
                         const char *event, const char *var, const char *path,
                         const char *detail);

/**
 * Read the whole env file at path into *buf (NUL-terminated), refusing
 * what is not a regular file or is larger than paa_env_load accepts.
 * @param st the file's status, for paactl_env_replace
 * @param exists 0 when there is no file (then *buf is "" and *len 0)
 * @return PAACTL_OK, or PAACTL_FAIL after saying why
 */
int paactl_env_read(paactl_t *ctl, const char *path, char **buf,
                    apr_size_t *len, struct stat *st, int *exists);

/**
 * The env file text old with NAME set to value (quoted when the parser or
 * other dotenv readers would change it unquoted): every definition of NAME
 * gets the value, or NAME=value is appended; every other byte is kept.
 * @param replaced how many definitions were replaced, 0 when appended
 * @return the new text, outlen bytes; the caller wipes it
 */
char *paactl_env_assign(apr_pool_t *p, const char *old, apr_size_t len,
                        const char *name, const char *value, apr_size_t vlen,
                        apr_size_t *outlen, int *replaced);

/**
 * The env file text old without any definition of NAME (every other byte
 * kept). @param removed how many lines were removed
 * @return the new text, outlen bytes; the caller wipes it
 */
char *paactl_env_remove(apr_pool_t *p, const char *old, apr_size_t len,
                        const char *name, apr_size_t *outlen, int *removed);

/**
 * Replace the file at path by text atomically, with mode 0600 and, when it
 * existed, its owner (old, exists as paactl_env_read gave them).
 * @return PAACTL_OK, or PAACTL_FAIL after saying why; the file is then
 *         unchanged
 */
int paactl_env_replace(paactl_t *ctl, const char *path, const char *text,
                       apr_size_t len, const struct stat *old, int exists);

/* one file per command family */
int paactl_cmd_init(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_migrate(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_keygen(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_rotate(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_revoke(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_list(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_show(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_audit(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_check(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_secret(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_backup(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_restore(paactl_t *ctl, int argc, char **argv);
/* cmd_secret_rotate.c: secret rotate and secret unset. */
int paactl_secret_rotate(paactl_t *ctl, int argc, char **argv);
int paactl_secret_unset(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_user(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_token(paactl_t *ctl, int argc, char **argv);
/* cmd_user_gdpr.c: user export, erase and del (NAME already validated) */
int paactl_user_export(paactl_t *ctl, paa_db_t *db, const char *name);
int paactl_user_erase(paactl_t *ctl, paa_db_t *db, const char *name);
int paactl_user_del(paactl_t *ctl, paa_db_t *db, const char *name);
int paactl_cmd_persona(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_providers(paactl_t *ctl, int argc, char **argv);
int paactl_cmd_purge(paactl_t *ctl, int argc, char **argv);

#endif /* PAACTL_H */
