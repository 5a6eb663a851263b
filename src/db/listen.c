/* listen.c: the worker's second PostgreSQL connection, which only LISTENs for cache invalidations. */
#include "db/listen.h"
#include "core/log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* While PostgreSQL is away, try again this often; give a connection attempt this long. */
#define LISTEN_RETRY_MS   1000.0
#define LISTEN_CONNECT_MS 5000.0
/*
 * Revalidate this often; a ping not echoed this long means a dead
 * connection; one not echoed after PING_LAG_MS means notifications may be
 * late too (the backend is busy, or starved), and the cache is not used
 * until the echo is back.
 */
#define PING_EVERY_MS     500.0
#define PING_LAG_MS       50.0
#define PING_TIMEOUT_MS   2000.0

enum lstate {
	L_DOWN,         /* no connection; next attempt at next_try_ms */
	L_CONNECTING,   /* PQconnectPoll in progress */
	L_SUBSCRIBING,  /* LISTEN sent, its answer not yet read */
	L_UP,           /* LISTEN in effect */
};

struct db_listen {
	const char *conninfo;
	PGconn     *conn;
	enum lstate state;
	bool        was_up;        /* what the last poll reported */
	bool        down_logged;
	double      next_try_ms;
	double      started_ms;    /* of the current connection attempt */
	PostgresPollingStatusType want;   /* what PQconnectPoll waits for */
	/* The ping: a NOTIFY to our own channel, whose echo revalidates the cache. */
	char        ping_channel[40];
	bool        ping_out;      /* sent, echo not yet seen */
	unsigned    ping_n;
	double      ping_sent_ms;
	double      validated_ms;  /* send time of the last echoed ping; 0: none since up */
};

struct db_listen *
db_listen_new(const char *conninfo)
{
	struct db_listen *l = calloc(1, sizeof(*l));

	if (l != NULL)
		l->conninfo = conninfo;
	return l;
}

static void
drop(struct db_listen *l, double now_ms, const char *why)
{
	if (l->conn != NULL) {
		if (!l->down_logged)
			log_warn(NULL, "cache invalidation connection %s: %s; the cache is off until it is back",
			    why, PQerrorMessage(l->conn));
		PQfinish(l->conn);
	}
	l->down_logged = true;
	l->conn = NULL;
	l->state = L_DOWN;
	l->next_try_ms = now_ms + LISTEN_RETRY_MS;
	l->ping_out = false;
	l->validated_ms = 0;
}

void
db_listen_free(struct db_listen *l)
{
	if (l == NULL)
		return;
	if (l->conn != NULL)
		PQfinish(l->conn);
	free(l);
}

int
db_listen_socket(const struct db_listen *l)
{
	return l->conn != NULL ? PQsocket(l->conn) : -1;
}

/* Server notices on this connection (a shutdown warning) are dropped: the state says enough. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void
start(struct db_listen *l, double now_ms)
{
	/* Short keepalives: a silently dead peer is noticed in about 10 s (the TTL bounds the rest). */
	const char *keys[] = { "connect_timeout", "application_name", "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *vals[] = { "5", LISTEN_APPNAME, "1", "5", "2", "3", l->conninfo, NULL };

	l->conn = PQconnectStartParams(keys, vals, 1);
	if (l->conn == NULL || PQstatus(l->conn) == CONNECTION_BAD) {
		drop(l, now_ms, "could not start");
		return;
	}
	PQsetNoticeProcessor(l->conn, quiet, NULL);
	l->state = L_CONNECTING;
	l->started_ms = now_ms;
	l->want = PGRES_POLLING_WRITING;
}

/* Is the socket ready for what the connection attempt waits for (without waiting)? */
static bool
ready(const struct db_listen *l)
{
	struct pollfd p = { .fd = PQsocket(l->conn),
	    .events = l->want == PGRES_POLLING_READING ? POLLIN : POLLOUT };

	return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Advance the connection attempt as far as it goes without waiting. */
static void
connecting(struct db_listen *l, double now_ms)
{
	if (!ready(l)) {
		if (now_ms - l->started_ms > LISTEN_CONNECT_MS)
			drop(l, now_ms, "timed out");
		return;
	}
	switch ((l->want = PQconnectPoll(l->conn))) {
	case PGRES_POLLING_OK: {
		char q[120];

		/* The ping channel is this backend's own: its pid is unique on the server. */
		snprintf(l->ping_channel, sizeof(l->ping_channel), "tenantry_ping_%d", PQbackendPID(l->conn));
		/*
		 * The ping is a transaction of this connection: it must not wait
		 * for a WAL flush, or the backend delivers nothing meanwhile.
		 */
		snprintf(q, sizeof(q), "SET synchronous_commit TO off; LISTEN " LISTEN_CHANNEL "; LISTEN %s",
		    l->ping_channel);
		if (PQsetnonblocking(l->conn, 1) != 0 || !PQsendQuery(l->conn, q)) {
			drop(l, now_ms, "failed");
			return;
		}
		l->state = L_SUBSCRIBING;
		return;
	}
	case PGRES_POLLING_FAILED:
		drop(l, now_ms, "failed");
		return;
	default:
		if (now_ms - l->started_ms > LISTEN_CONNECT_MS)
			drop(l, now_ms, "timed out");
		return;
	}
}

/*
 * Read LISTEN's answers as far as they have arrived: three results (SET,
 * LISTEN, LISTEN), then the end. Never waits: a result not there yet is
 * read at a later poll, and a server that does not answer within
 * LISTEN_CONNECT_MS of the attempt's start (stalled) loses the attempt.
 */
static void
subscribing(struct db_listen *l, double now_ms)
{
	PGresult *res;

	if (PQflush(l->conn) < 0 || !PQconsumeInput(l->conn)) {
		drop(l, now_ms, "lost");
		return;
	}
	for (;;) {
		bool ok;

		if (PQisBusy(l->conn)) {
			if (now_ms - l->started_ms > LISTEN_CONNECT_MS)
				drop(l, now_ms, "timed out");
			return;
		}
		if ((res = PQgetResult(l->conn)) == NULL)
			break;
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			drop(l, now_ms, "refused LISTEN");
			return;
		}
	}
	if (l->down_logged)
		log_info(NULL, "cache invalidation connection is listening again");
	l->down_logged = false;
	l->state = L_UP;
}

/* A live connection: read what arrived, collect a ping's result, send the next ping when due. */
static void
up(struct db_listen *l, double now_ms)
{
	PGresult *res;

	/* EOF (a terminated backend, a restart) makes this fail or the status bad. */
	if (PQflush(l->conn) < 0 || !PQconsumeInput(l->conn) || PQstatus(l->conn) != CONNECTION_OK) {
		drop(l, now_ms, "lost");
		return;
	}
	while (!PQisBusy(l->conn) && (res = PQgetResult(l->conn)) != NULL) {
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		PQclear(res);
		if (!ok) {
			drop(l, now_ms, "refused a ping");
			return;
		}
	}
	if (!l->ping_out && !PQisBusy(l->conn) && now_ms - l->ping_sent_ms >= PING_EVERY_MS) {
		char q[80];

		snprintf(q, sizeof(q), "NOTIFY %s, '%u'", l->ping_channel, ++l->ping_n);
		if (!PQsendQuery(l->conn, q)) {
			drop(l, now_ms, "lost");
			return;
		}
		l->ping_out = true;
		l->ping_sent_ms = now_ms;
	}
}

double
db_listen_validated(const struct db_listen *l)
{
	return l->state == L_UP ? l->validated_ms : 0;
}

bool
db_listen_poll(struct db_listen *l, double now_ms, bool *changed,
    void (*fn)(void *arg, const char *payload), void *arg)
{
	PGnotify *n;

	if (l->state == L_DOWN && now_ms >= l->next_try_ms)
		start(l, now_ms);
	if (l->state == L_CONNECTING)
		connecting(l, now_ms);
	if (l->state == L_SUBSCRIBING)
		subscribing(l, now_ms);
	if (l->state == L_UP)
		up(l, now_ms);
	while (l->state == L_UP && (n = PQnotifies(l->conn)) != NULL) {
		/*
		 * In commit order: when our own ping comes back, every change
		 * committed before we sent it has been handed to fn already.
		 */
		if (strcmp(n->relname, l->ping_channel) == 0) {
			if (l->ping_out && (unsigned)strtoul(n->extra, NULL, 10) == l->ping_n) {
				l->validated_ms = l->ping_sent_ms;
				l->ping_out = false;
			}
		} else {
			fn(arg, n->extra);
		}
		PQfreemem(n);
	}
	if (l->state == L_UP && l->ping_out && now_ms - l->ping_sent_ms > PING_TIMEOUT_MS)
		drop(l, now_ms, "did not echo a ping");
	*changed = (l->state == L_UP) != l->was_up;
	l->was_up = l->state == L_UP;
	return l->was_up && !(l->ping_out && now_ms - l->ping_sent_ms > PING_LAG_MS);
}
