/* db.h: the worker's one PostgreSQL connection: lazy connect, pipelined batches, transactions. */
#ifndef TENANTRY_DB_H
#define TENANTRY_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "core/arena.h"
#include "db/stmt.h"

#define DB_BATCH_MAX  12
#define DB_PARAMS_MAX 14

enum db_status {
	DB_OK = 0,
	DB_UNAVAILABLE,   /* no connection, it broke or passed its deadline, or a
	                     statement or lock timeout: answer 503 + Retry-After */
	DB_CONFLICT,      /* unique violation (23505): answer 409 */
	DB_REFUSED,       /* check / foreign key / RLS violation: a bad request */
	DB_ERROR,         /* anything else: answer 500, details in the log */
};

struct db_q {
	enum stmt   st;
	int         n;
	const char *p[DB_PARAMS_MAX];   /* NULL is SQL NULL */
	PGresult   *res;                /* after db_exec; freed with the arena */
};

/*
 * A batch is sent in one round trip (libpq pipeline mode) and its statements
 * run in one transaction: an implicit one ending at the batch's sync, or the
 * explicit transaction opened by begin and ended by commit or db_rollback().
 */
struct db_batch {
	struct db_q q[DB_BATCH_MAX];
	int         n;
	bool        begin;     /* BEGIN before the first statement */
	bool        commit;    /* COMMIT after the last statement */
	bool        retry;     /* idempotent: replay once on a fresh connection */
	char        sqlstate[6];  /* of the failing statement, "" if none */
	const char *constraint;   /* of a failing constraint, if reported */
	int         pre;          /* where the route's prefetch begins (after the authorisation context) */
};

struct db;

/*
 * conninfo is borrowed and must outlive the db. Does not connect.
 * connect_timeout in seconds bounds a connection attempt, deadline_ms
 * (0: CONFIG_DB_DEADLINE_MS) the wait for each round trip's answer after
 * it: past it the connection is dropped and the batch is DB_UNAVAILABLE.
 */
struct db *db_new(const char *conninfo, int connect_timeout, int deadline_ms,
    const char *application_name);
void       db_free(struct db *db);

/* Append a statement; returns its index, or -1 if the batch is full. */
int  db_add(struct db_batch *b, enum stmt st, int n, ...);
/* The same with the parameters in an array. */
int  db_addv(struct db_batch *b, enum stmt st, int n, const char *const *p);
/* Run the batch. Results stay valid until the arena is reset. */
enum db_status db_exec(struct db *db, struct arena *a, struct db_batch *b, const char *rid);
/* Commit / roll back an open explicit transaction. */
enum db_status db_commit(struct db *db, struct arena *a, const char *rid);
void           db_rollback(struct db *db, const char *rid);
bool           db_in_tx(const struct db *db);
/* True if a connection is up or could be made now (for /ready). */
bool           db_ping(struct db *db, struct arena *a, const char *rid);

/* What a failed statement's SQLSTATE means to a caller (NULL: DB_ERROR). */
enum db_status db_classify(const char *sqlstate);

/* Row helpers: NULL for SQL NULL or out of range. */
const char *db_val(const PGresult *res, int row, int col);
int         db_rows(const PGresult *res);
bool        db_bool(const PGresult *res, int row, int col);
/* An integer column; 0 for NULL. */
long long   db_i64(const PGresult *res, int row, int col);

#endif
