/* test_session.c: unit tests for src/auth/session's cached form: a cached session's deadlines (a table of cases) and its blob. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/context.h"
#include "auth/session.h"
#include "core/arena.h"

/*
 * The database's clock (DB, epoch seconds) and ours (MONO, monotonic ms)
 * have nothing in common: the facts are distances from the database's now,
 * carried over to ours at the read.
 */
#define DB   1800000000.0
#define MONO 5000.0

/*
 * One case: the session as the database saw it (seconds relative to its
 * now), and the moment of use (seconds after the read, on our clock).
 * Each boundary is on both sides: a deadline is strict, as "> now()" is.
 */
static const struct {
	const char *what;
	double      expires, last_seen;   /* relative to DB */
	int         idle_minutes;
	double      created, pw_changed;  /* relative to DB */
	double      use;                  /* seconds after the read */
	bool        fresh;
} cases[] = {
	{ "just touched, used at once",            43200,    0, 60, -10, -100,   0, true },
	{ "touched 30 s ago, used 29.9 s later",   43200,  -30, 60, -40, -100, 29.9, true },
	{ "touch due: last_seen + 60 s reached",   43200,  -30, 60, -40, -100,   30, false },
	{ "touch due: just past",                  43200,    0, 60, -10, -100, 60.001, false },
	{ "touch fresh a millisecond before it",   43200,    0, 60, -10, -100, 59.999, true },
	{ "absolute lifetime: 1 s left, used at 0.999", 1,   0, 60, -10, -100, 0.999, true },
	{ "absolute lifetime: ends at use",            1,    0, 60, -10, -100,   1, false },
	{ "absolute lifetime: already over",          -1,    0, 60, -10, -100,   0, false },
	/*
	 * The idle limit is at least 5 minutes and the keep-alive is due after
	 * 60 s, so a cached session always goes back to the database (which
	 * touches it or ends it) long before it could idle out; the idle
	 * deadline stays as a guard of its own.
	 */
	{ "idle 5 min, last seen 299.5 s ago",     43200, -299.5, 5, -400, -500, 0.4, false },
	{ "idle already over at the read",         43200, -301,  5, -400, -500,   0, false },
	{ "made after the password change",        43200,    0, 60, -10,  -10,   0, true },
	{ "made before the password change",       43200,    0, 60, -10,   -5,   0, false },
};

static void
deadlines_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_session_facts f;
		bool got;

		auth_session_facts_at(&f, MONO, DB, DB + cases[i].expires, DB + cases[i].last_seen,
		    cases[i].idle_minutes, DB + cases[i].created, DB + cases[i].pw_changed);
		got = auth_session_fresh(&f, MONO + cases[i].use * 1000.0);
		if (got != cases[i].fresh)
			fail_msg("%s: fresh %d, expected %d", cases[i].what, got, cases[i].fresh);
	}
}

/* Our clock is not the database's: only the distances count. */
static void
clocks_apart(void **state)
{
	struct auth_session_facts a, b;

	(void)state;
	auth_session_facts_at(&a, 1000.0, DB, DB + 100, DB - 10, 60, DB - 20, DB - 30);
	auth_session_facts_at(&b, 1000.0, 42.0, 42.0 + 100, 42.0 - 10, 60, 42.0 - 20, 42.0 - 30);
	assert_true(a.expires == b.expires && a.idle == b.idle && a.touch == b.touch);
	assert_true(a.touch == 1000.0 + 50 * 1000.0);
	assert_true(a.expires == 1000.0 + 100 * 1000.0);
}

static void
blob_round_trip(void **state)
{
	struct arena *a = arena_new(4096);
	struct auth_ctx c = { .user_found = true, .tenant_found = true, .member = true,
	    .role = ROLE_ADMIN, .tenant_id = "8c1e0000-0000-4000-8000-000000000001",
	    .email = "alice@acme.example", .name = "Alice", .slug = "acme", .tenant_name = "Acme",
	    .tier = "business", .status = "active" }, back;
	struct auth_session_entry e = { .facts = { 1, 2, 3, true },
	    .user_id = "8c1e0000-0000-4000-8000-000000000002", .csrf = "csrfcsrf", .nav = "[{\"slug\":\"acme\"}]" },
	    out;
	size_t len;
	void *blob;

	(void)state;
	assert_non_null(a);
	assert_non_null(e.ctx = auth_ctx_pack(a, &c, &e.ctx_len));
	assert_non_null(blob = auth_session_pack(a, &e, &len));
	assert_true(auth_session_unpack(a, blob, len, &out));
	assert_true(out.facts.expires == 1 && out.facts.idle == 2 && out.facts.touch == 3 && out.facts.pw_ok);
	assert_string_equal(out.user_id, e.user_id);
	assert_string_equal(out.csrf, "csrfcsrf");
	assert_string_equal(out.nav, e.nav);
	assert_true(auth_ctx_unpack(a, out.ctx, out.ctx_len, &back));
	assert_string_equal(back.slug, "acme");
	assert_string_equal(back.tenant_id, c.tenant_id);
	assert_int_equal(back.role, ROLE_ADMIN);
	/* A missing string packs as empty; a cut blob is refused, never read past its end. */
	e.nav = NULL;
	assert_non_null(blob = auth_session_pack(a, &e, &len));
	assert_true(auth_session_unpack(a, blob, len, &out));
	assert_string_equal(out.nav, "");
	for (size_t cut = 0; cut < sizeof(e.facts) + 3; cut++)
		if (auth_session_unpack(a, blob, cut, &out))
			fail_msg("a blob cut to %zu bytes was accepted", cut);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadlines_table),
		cmocka_unit_test(clocks_apart),
		cmocka_unit_test(blob_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
