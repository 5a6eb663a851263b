/* test_db.c: unit tests for src/db/db: what each SQLSTATE means to a caller, and the round trip's deadline against a server that stops answering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/util.h"
#include "db/db.h"

/* ---- db_classify: a table ---------------------------------------------------- */

static const struct {
	const char    *state;
	enum db_status want;
} states[] = {
	{ "23505", DB_CONFLICT },
	{ "23503", DB_REFUSED }, { "23514", DB_REFUSED }, { "42501", DB_REFUSED },
	{ "22P02", DB_REFUSED }, { "22023", DB_REFUSED },
	/* Gone: connection exceptions, shutdown, too many connections. */
	{ "08006", DB_UNAVAILABLE }, { "08001", DB_UNAVAILABLE }, { "57P01", DB_UNAVAILABLE },
	{ "57P03", DB_UNAVAILABLE }, { "57P05", DB_UNAVAILABLE }, { "53300", DB_UNAVAILABLE },
	/* Too slow for now (issue 19): statement and lock timeouts, an idle transaction ended. */
	{ "57014", DB_UNAVAILABLE }, { "55P03", DB_UNAVAILABLE }, { "25P03", DB_UNAVAILABLE },
	/* Their neighbours stay errors. */
	{ "57000", DB_ERROR }, { "55000", DB_ERROR }, { "55006", DB_ERROR }, { "25P02", DB_ERROR },
	{ "40001", DB_ERROR }, { "42P01", DB_ERROR }, { "XX000", DB_ERROR }, { "", DB_ERROR },
};

static void
classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (db_classify(states[i].state) != states[i].want)
			fail_msg("SQLSTATE '%s': %d, want %d", states[i].state,
			    (int)db_classify(states[i].state), (int)states[i].want);
	assert_int_equal(db_classify(NULL), DB_ERROR);
}

/* ---- A server that stops answering ------------------------------------------- */

/*
 * A stand-in for a PostgreSQL server on a unix socket, in a child process:
 * it accepts connections and lets the client in (AuthenticationOk,
 * ReadyForQuery). With answer_prepares it then answers Parse and Sync (the
 * statements the client prepares on connecting) and nothing after them;
 * without, it answers nothing at all after the start-up. Either way the
 * socket stays open and silent, as a stopped server's does.
 */
struct fake {
	char  dir[64];
	char  conninfo[160];
	pid_t pid;
	int   accepted;   /* read end of a pipe: a byte per connection accepted */
	int   seen;       /* bytes read from it */
};

static bool
read_full(int fd, void *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)p + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void
send_msg(int fd, char type, const void *body, uint32_t n)
{
	char m[16];
	uint32_t len = htonl(n + 4);

	m[0] = type;
	memcpy(m + 1, &len, 4);
	memcpy(m + 5, body, n);
	if (write(fd, m, 5 + n) != (ssize_t)(5 + n))
		_exit(1);
}

static void
serve_one(int c, bool answer_prepares)
{
	static char body[1 << 16];
	uint32_t len, auth_ok = 0;
	char type;
	bool synced = false;

	/* The start-up packet: length, then the rest. No SSL on a unix socket. */
	if (!read_full(c, &len, 4) || (len = ntohl(len)) < 8 || len > sizeof(body) ||
	    !read_full(c, body, len - 4))
		return;
	send_msg(c, 'R', &auth_ok, 4);
	send_msg(c, 'Z', "I", 1);
	for (;;) {
		if (!read_full(c, &type, 1) || !read_full(c, &len, 4) || (len = ntohl(len)) < 4 ||
		    len - 4 > sizeof(body) || !read_full(c, body, len - 4))
			return;
		if (!answer_prepares || synced)
			continue;   /* silent: read, never answer */
		if (type == 'P')
			send_msg(c, '1', "", 0);
		else if (type == 'S') {
			send_msg(c, 'Z', "I", 1);
			synced = true;
		}
	}
}

static void
fake_start(struct fake *f, bool answer_prepares)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, fds[2];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tenantry-test-db.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.5432", f->dir);
	assert_true((s = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 8), 0);
	snprintf(f->conninfo, sizeof(f->conninfo), "host=%s port=5432 dbname=fake user=fake", f->dir);
	assert_int_equal(pipe(fds), 0);
	assert_true((f->pid = fork()) >= 0);
	if (f->pid == 0) {
		close(fds[0]);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0 || write(fds[1], "c", 1) != 1)
				_exit(0);
			serve_one(c, answer_prepares);
			close(c);
		}
	}
	close(fds[1]);
	close(s);
	f->accepted = fds[0];
}

static void
fake_stop(struct fake *f)
{
	char path[128];

	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	close(f->accepted);
	snprintf(path, sizeof(path), "%s/.s.PGSQL.5432", f->dir);
	unlink(path);
	rmdir(f->dir);
}

/* How many connections the fake server has accepted so far (it is told before it serves one). */
static int
fake_connections(struct fake *f)
{
	struct pollfd p = { .fd = f->accepted, .events = POLLIN };
	char c;

	while (poll(&p, 1, 0) > 0 && read(f->accepted, &c, 1) == 1)
		f->seen++;
	return f->seen;
}

/* One ST_PING batch; its status, and how long it took in *ms. */
static enum db_status
ping(struct db *db, struct arena *a, bool retry, double *ms)
{
	struct db_batch b = { .n = 0, .retry = retry };
	double t0 = core_mono_ms();
	enum db_status st;

	db_add(&b, ST_PING, 0);
	st = db_exec(db, a, &b, "test");
	*ms = core_mono_ms() - t0;
	return st;
}

/*
 * Connected, statements prepared, then the server goes quiet: the batch
 * gives up at its deadline, not later (and not much sooner), as
 * DB_UNAVAILABLE, and drops the connection; the next batch makes a new
 * one (and waits its own deadline: the server is still quiet).
 */
static void
deadline_on_a_batch(void **state)
{
	struct fake f;
	struct arena *a = arena_new(4096);
	struct db *db;
	double ms;

	(void)state;
	fake_start(&f, true);
	db = db_new(f.conninfo, 2, 300, "test_db");
	assert_int_equal(ping(db, a, true, &ms), DB_UNAVAILABLE);
	if (ms < 290 || ms > 1500)
		fail_msg("a silent server answered after %.0f ms; the deadline is 300 ms", ms);
	assert_false(db_in_tx(db));
	assert_int_equal(fake_connections(&f), 1);
	assert_int_equal(ping(db, a, true, &ms), DB_UNAVAILABLE);
	if (ms < 290 || ms > 1500)
		fail_msg("the batch after a deadline took %.0f ms; the deadline is 300 ms", ms);
	assert_int_equal(fake_connections(&f), 2);
	db_free(db);
	arena_free(a);
	fake_stop(&f);
}

/* Let in, then nothing: preparing the catalog on connecting has the deadline too. */
static void
deadline_on_connect(void **state)
{
	struct fake f;
	struct arena *a = arena_new(4096);
	struct db *db;
	double ms;

	(void)state;
	fake_start(&f, false);
	db = db_new(f.conninfo, 2, 300, "test_db");
	assert_int_equal(ping(db, a, false, &ms), DB_UNAVAILABLE);
	if (ms < 290 || ms > 1500)
		fail_msg("connecting to a silent server took %.0f ms; the deadline is 300 ms", ms);
	db_free(db);
	arena_free(a);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify_table),
		cmocka_unit_test(deadline_on_a_batch),
		cmocka_unit_test(deadline_on_connect),
	};

	/* A wait without its deadline would hang here: die instead, and fail. */
	alarm(20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
