/* db.c: the worker's one PostgreSQL connection: lazy connect, pipelined batches, transactions, a deadline on every wait. */
#include "db/db.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	const char *conninfo;
	char        timeout[12];
	const char *appname;
	int         deadline_ms;   /* longest wait for one round trip's answer */
	PGconn     *conn;          /* NULL when disconnected */
	bool        in_tx;
	bool        down_logged;   /* we said "unavailable" and not yet "back" */
	bool        timed_out;     /* the last round trip passed its deadline */
	double      next_try_ms;   /* connect backoff while PostgreSQL is down */
};

/* While PostgreSQL is unreachable, try to connect at most this often. */
#define DB_RETRY_MS 250.0

struct db *
db_new(const char *conninfo, int connect_timeout, int deadline_ms, const char *application_name)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = conninfo;
	snprintf(db->timeout, sizeof(db->timeout), "%d", connect_timeout);
	db->deadline_ms = deadline_ms > 0 ? deadline_ms : CONFIG_DB_DEADLINE_MS;
	db->appname = application_name;
	return db;
}

/* The connection is non-blocking (db_connect), so PQfinish's goodbye never waits either. */
static void
db_disconnect(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_tx = false;
}

/* ---- Waiting, with a deadline ------------------------------------------------ */

/*
 * Until PQgetResult would not block: send what libpq holds (the
 * connection is non-blocking, so sending never waits either), read what
 * has arrived, and otherwise wait in poll() for the socket, at most until
 * deadline (monotonic ms). False when the deadline passed (db->timed_out
 * is set) or the connection broke. The one place the worker waits for
 * PostgreSQL once connected: a stalled or partitioned server costs a
 * round trip deadline_ms at most, never the worker.
 */
static bool
db_await(struct db *db, double deadline)
{
	PGconn *c = db->conn;

	for (;;) {
		int pending = PQflush(c);
		struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
		double left;
		int n;

		if (pending < 0 || p.fd < 0)
			return false;
		if (!PQisBusy(c))
			return true;
		if ((left = deadline - core_mono_ms()) <= 0) {
			db->timed_out = true;
			return false;
		}
		if (pending > 0)
			p.events |= POLLOUT;
		n = poll(&p, 1, (int)left + 1);
		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c))
			return false;
	}
}

/* The next result (NULL: the end of one statement's results), waiting at most until deadline. */
static bool
next_result(struct db *db, double deadline, PGresult **res)
{
	*res = NULL;
	if (!db_await(db, deadline))
		return false;
	*res = PQgetResult(db->conn);
	return true;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db);
}

bool
db_in_tx(const struct db *db)
{
	return db->in_tx;
}

/* Log a PostgreSQL error without echoing parameters (they may be secrets). */
static void
log_pg(const char *rid, const char *what, const PGresult *res, PGconn *conn)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (msg == NULL && conn != NULL)
		msg = PQerrorMessage(conn);
	log_error(rid, "%s: %s%s%s", what, state ? state : "", state ? " " : "",
	    msg ? msg : "unknown error");
}

/*
 * Prepare every statement of the catalog in one round trip. A failure here
 * (typically: the schema is not migrated) leaves no usable connection.
 */
static bool
db_prepare_all(struct db *db, const char *rid)
{
	double deadline = core_mono_ms() + db->deadline_ms;
	PGresult *res;
	bool ok = true;

	for (int i = 0; i < ST__COUNT; i++)
		if (!PQsendPrepare(db->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL))
			return false;
	if (!PQpipelineSync(db->conn))
		return false;
	for (int i = 0; i < ST__COUNT; i++) {
		for (;;) {
			if (!next_result(db, deadline, &res))
				return false;
			if (res == NULL)
				break;
			if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
				log_pg(rid, stmts[i].name, res, db->conn);
				ok = false;
			}
			PQclear(res);
		}
	}
	if (!next_result(db, deadline, &res))
		return false;
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		ok = false;
	PQclear(res);
	return ok;
}

/*
 * Server notices (a shutdown warning, say) go through our log as JSON lines,
 * not libpq's default of raw text on stderr. The first line of the message
 * only: notices carry no parameters, but keep them short.
 */
static void
db_notice(void *arg, const char *message)
{
	size_t n = strcspn(message, "\n");

	(void)arg;
	log_warn(NULL, "database notice: %.*s", (int)(n > 300 ? 300 : n), message);
}

static bool
db_connect(struct db *db, const char *rid)
{
	/* Our defaults first: the operator's conninfo (expanded from dbname) wins. */
	const char *keys[] = { "connect_timeout", "application_name", "keepalives",
	    "keepalives_idle", "dbname", NULL };
	const char *vals[] = { db->timeout, db->appname, "1", "30", db->conninfo, NULL };
	double now = core_mono_ms();

	if (now < db->next_try_ms)
		return false;
	db_disconnect(db);
	db->timed_out = false;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		if (!db->down_logged) {
			/* PQerrorMessage names host and user, never the password. */
			log_error(rid, "database unavailable: %s",
			    db->conn ? PQerrorMessage(db->conn) : "out of memory");
			db->down_logged = true;
		}
		goto fail;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	if (PQsetnonblocking(db->conn, 1) != 0 || !PQenterPipelineMode(db->conn) ||
	    !db_prepare_all(db, rid)) {
		if (!db->down_logged)
			log_error(rid, db->timed_out ?
			    "database connected but did not answer within its deadline" :
			    "database connected but statements could not be "
			    "prepared (is the schema migrated?)");
		db->down_logged = true;
		goto fail;
	}
	if (db->down_logged)
		log_info(rid, "database connection re-established");
	db->down_logged = false;
	return true;
fail:
	db_disconnect(db);
	db->next_try_ms = now + DB_RETRY_MS;
	return false;
}

int
db_addv(struct db_batch *b, enum stmt st, int n, const char *const *p)
{
	struct db_q *q;

	if (b->n >= DB_BATCH_MAX || n < 0 || n > DB_PARAMS_MAX || n != stmts[st].nparams) {
		log_error(NULL, "db_add(%s): bad batch use", stmts[st].name);
		return -1;
	}
	q = &b->q[b->n];
	q->st = st;
	q->n = n;
	q->res = NULL;
	for (int i = 0; i < n; i++)
		q->p[i] = p[i];
	return b->n++;
}

int
db_add(struct db_batch *b, enum stmt st, int n, ...)
{
	const char *p[DB_PARAMS_MAX] = { NULL };
	va_list ap;

	if (n < 0 || n > DB_PARAMS_MAX)
		return db_addv(b, st, n, p);   /* refused and logged there */
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		p[i] = va_arg(ap, const char *);
	va_end(ap);
	return db_addv(b, st, n, p);
}

enum db_status
db_classify(const char *state)
{
	if (state == NULL)
		return DB_ERROR;
	if (strcmp(state, "23505") == 0)
		return DB_CONFLICT;
	if (strncmp(state, "23", 2) == 0 || strcmp(state, "42501") == 0 ||
	    strcmp(state, "22P02") == 0 || strcmp(state, "22023") == 0)
		return DB_REFUSED;
	/*
	 * Connection exceptions; shutdown, cannot-connect-now, idle session
	 * timeout (57P01..57P05); too many connections. And the database being
	 * too slow or too contended for now, which a client may retry: a
	 * statement cancelled by statement_timeout (57014, also a cancel
	 * request), a lock wait by lock_timeout (55P03), a session ended by
	 * idle_in_transaction_session_timeout (25P03, FATAL: the connection is
	 * gone).
	 */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
	    strcmp(state, "53300") == 0 || strcmp(state, "57014") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "25P03") == 0)
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

static void
clear_res(void *p)
{
	PQclear(p);
}

/*
 * Collect one statement's results: the last non-NULL result is kept in
 * *keep (a statement yields one), the rest cleared; *keep is NULL if the
 * connection gave nothing at all. False if the deadline passed or the
 * connection broke first.
 */
static bool
take_result(struct db *db, double deadline, PGresult **keep)
{
	PGresult *res;

	*keep = NULL;
	for (;;) {
		if (!next_result(db, deadline, &res)) {
			PQclear(*keep);
			*keep = NULL;
			return false;
		}
		if (res == NULL)
			return true;
		PQclear(*keep);
		*keep = res;
	}
}

static enum db_status
db_run(struct db *db, struct arena *a, struct db_batch *b, const char *rid)
{
	PGconn *c = db->conn;
	enum db_status st = DB_OK;
	PGresult *res;
	int nsent = 0, extra = 0;
	double deadline = core_mono_ms() + db->deadline_ms;

	db->timed_out = false;
	b->sqlstate[0] = '\0';
	b->constraint = NULL;
	if (b->begin) {
		if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
			goto broken;
		extra++;
	}
	for (int i = 0; i < b->n; i++, nsent++) {
		const struct db_q *q = &b->q[i];

		if (!PQsendQueryPrepared(c, stmts[q->st].name, q->n, q->p, NULL, NULL, 0))
			goto broken;
	}
	if (b->commit) {
		if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
			goto broken;
	}
	if (!PQpipelineSync(c))
		goto broken;

	for (int i = -extra; i < nsent + (b->commit ? 1 : 0); i++) {
		ExecStatusType es;

		if (!take_result(db, deadline, &res) || res == NULL)
			goto broken;
		es = PQresultStatus(res);
		if (es == PGRES_FATAL_ERROR && st == DB_OK) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

			snprintf(b->sqlstate, sizeof(b->sqlstate), "%s", state ? state : "");
			if (cons != NULL)
				b->constraint = arena_strdup(a, cons);
			st = db_classify(state);
			if (st != DB_CONFLICT && st != DB_REFUSED)
				log_pg(rid, i >= 0 && i < nsent ? stmts[b->q[i].st].name : "transaction",
				    res, c);
		} else if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK &&
		    es != PGRES_PIPELINE_ABORTED && es != PGRES_FATAL_ERROR && st == DB_OK) {
			log_pg(rid, "unexpected result", res, c);
			st = DB_ERROR;
		}
		if (i >= 0 && i < nsent) {
			b->q[i].res = res;
			arena_defer(a, clear_res, res);
		} else {
			PQclear(res);
		}
	}
	if (!next_result(db, deadline, &res) || res == NULL ||
	    PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		goto broken;
	}
	PQclear(res);

	if (PQstatus(c) != CONNECTION_OK)
		goto broken;
	/*
	 * The server's word on the transaction: a failed statement inside an
	 * explicit transaction leaves it open and aborted (the batch's COMMIT
	 * was skipped), and db_rollback() must end it.
	 */
	db->in_tx = PQtransactionStatus(c) != PQTRANS_IDLE;
	return st;
broken:
	if (db->timed_out) {
		/*
		 * Stalled, partitioned, or a batch slower than statement_timeout
		 * lets a statement be: whatever the server does with this
		 * connection's work, the worker is done waiting. The connection's
		 * state is unknown, so it goes; the next batch connects anew (this
		 * one is not replayed: db_exec).
		 */
		log_error(rid, "database did not answer within %d ms (TENANTRY_DB_DEADLINE_MS); "
		    "dropping the connection", db->deadline_ms);
	} else {
		log_error(rid, "database connection lost: %s", PQerrorMessage(c));
	}
	db->down_logged = true;
	db_disconnect(db);
	return DB_UNAVAILABLE;
}

enum db_status
db_exec(struct db *db, struct arena *a, struct db_batch *b, const char *rid)
{
	bool fresh = false;
	enum db_status st;

	if (db->conn == NULL) {
		if (!db_connect(db, rid))
			return DB_UNAVAILABLE;
		fresh = true;
	}
	st = db_run(db, a, b, rid);
	/*
	 * A connection that served earlier requests may have died in between
	 * (server restart, idle kill). If nothing could have been committed
	 * (an idempotent batch outside a transaction) replay once on a new one.
	 * Not after a deadline: a stalled server would make the client wait
	 * twice as long.
	 */
	if (st == DB_UNAVAILABLE && !fresh && b->retry && !b->begin && !b->commit &&
	    db->conn == NULL && !db->timed_out) {
		db->next_try_ms = 0;
		if (!db_connect(db, rid))
			return DB_UNAVAILABLE;
		for (int i = 0; i < b->n; i++)
			b->q[i].res = NULL;
		st = db_run(db, a, b, rid);
	}
	return st;
}

enum db_status
db_commit(struct db *db, struct arena *a, const char *rid)
{
	struct db_batch b = { .n = 0, .commit = true };

	if (!db->in_tx || db->conn == NULL)
		return DB_OK;
	return db_run(db, a, &b, rid);
}

void
db_rollback(struct db *db, const char *rid)
{
	PGresult *res;
	double deadline;

	if (!db->in_tx || db->conn == NULL) {
		db->in_tx = false;
		return;
	}
	db->in_tx = false;
	deadline = core_mono_ms() + db->deadline_ms;
	if (!PQsendQueryParams(db->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(db->conn)) {
		db_disconnect(db);
		return;
	}
	if (take_result(db, deadline, &res))
		PQclear(res);
	if (!next_result(db, deadline, &res) || res == NULL ||
	    PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		log_error(rid, "rollback failed%s; dropping the connection",
		    db->timed_out ? " (no answer within the deadline)" : "");
		db->down_logged = true;
		db_disconnect(db);
	}
	PQclear(res);
}

bool
db_ping(struct db *db, struct arena *a, const char *rid)
{
	struct db_batch b = { .n = 0, .retry = true };

	db_add(&b, ST_PING, 0);
	return db_exec(db, a, &b, rid) == DB_OK;
}

const char *
db_val(const PGresult *res, int row, int col)
{
	if (res == NULL || row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int
db_rows(const PGresult *res)
{
	return res ? PQntuples(res) : 0;
}

bool
db_bool(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL && v[0] == 't';
}

long long
db_i64(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}
