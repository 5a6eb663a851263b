/* test_rate.c: unit tests for src/auth/rate: the batch size, the overshoot bound over many workers, windows, the catalog. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/rate.h"

static const char *T = "11111111-1111-1111-1111-111111111111";

/* One request at worker t, flushing into the simulated database *total when asked. */
static enum rate_result
take(struct rate_table *t, long long *total, const struct rate_rule *rule, long long now,
    double ms, long long *lim, long long *rem, long long *reset)
{
	enum rate_result v;

	while ((v = rate_take(t, T, rule, now, ms, lim, rem, reset)) == RATE_FLUSH_FIRST) {
		*total += rate_unflushed(t, T, rule->cls);
		rate_flushed(t, ms, now);
		rate_learn(t, T, rule->cls, now - ((now % rule->secs) + rule->secs) % rule->secs, *total);
	}
	return v;
}

/* 1 % of the limit, never 0, never more than 64. */
static void
batch_size(void **state)
{
	(void)state;
	assert_int_equal(rate_batch(1), 1);
	assert_int_equal(rate_batch(100), 1);
	assert_int_equal(rate_batch(199), 1);
	assert_int_equal(rate_batch(300), 3);
	assert_int_equal(rate_batch(5000), 50);
	assert_int_equal(rate_batch(6400), 64);
	assert_int_equal(rate_batch(1000000000), 64);
}

/*
 * W workers share a "database" (total); each flushes when rate_take asks
 * for it, and otherwise at random moments; requests arrive at random
 * workers. However they interleave, a window admits at least the limit
 * (when asked enough) and at most limit + W * rate_batch(limit) - 1.
 */
static void
overshoot_bound(void **state)
{
	static const long long limits[] = { 1, 5, 100, 300, 1000, 5000, 20000 };
	enum { W = 8 };

	(void)state;
	srand(42);
	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		for (int round = 0; round < 20; round++) {
			struct rate_rule rule = { "free", "read", limits[li], 60 };
			struct rate_table *w[W];
			long long total = 0, admitted = 0, lim, rem, reset, n = limits[li] * 3 + 200;

			for (int i = 0; i < W; i++)
				w[i] = rate_table_new(i, 100);
			for (long long q = 0; q < n; q++) {
				int i = rand() % W;
				enum rate_result v;

				if (rand() % 7 == 0) {   /* a timed flush of some worker */
					int j = rand() % W;

					total += rate_unflushed(w[j], T, "read");
					rate_flushed(w[j], 0, 0);
					rate_learn(w[j], T, "read", 0, total);
				}
				v = take(w[i], &total, &rule, 0, 0, &lim, &rem, &reset);
				if (v == RATE_ADMIT) {
					admitted++;
					assert_true(rem >= 0 && rem < lim);
				} else {
					assert_int_equal(rem, 0);
				}
				assert_int_equal(lim, limits[li]);
				assert_int_equal(reset, 60);
			}
			assert_true(admitted >= limits[li]);
			assert_true(admitted <= limits[li] + W * rate_batch(limits[li]) - 1);
			for (int i = 0; i < W; i++)
				rate_table_free(w[i]);
		}
	}
}

/* A single worker is exact: the limit, then refusals. */
static void
single_worker_exact(void **state)
{
	struct rate_rule rule = { "free", "read", 300, 60 };
	struct rate_table *t = rate_table_new(0, 100);
	long long total = 0, lim, rem, reset, admitted = 0;

	(void)state;
	for (int q = 0; q < 1000; q++) {
		enum rate_result v;

		v = take(t, &total, &rule, 1000, 0, &lim, &rem, &reset);
		if (v == RATE_ADMIT) {
			admitted++;
			assert_int_equal(rem, 300 - admitted);
		}
	}
	assert_int_equal(admitted, 300);
	assert_int_equal(reset, 20);   /* 1000 is 40 s into the window starting at 960 */
	rate_table_free(t);
}

/* A new window starts from zero, after the old window's hits went out. */
static void
window_rolls(void **state)
{
	struct rate_rule rule = { "free", "read", 2, 60 };
	struct rate_table *t = rate_table_new(0, 100);
	long long lim, rem, reset, total = 5;

	(void)state;
	/* The first hit of a window here learns the window's count (5 of 2: full). */
	assert_int_equal(rate_take(t, T, &rule, 59, 0, &lim, &rem, &reset), RATE_FLUSH_FIRST);
	assert_int_equal(take(t, &total, &rule, 59, 0, &lim, &rem, &reset), RATE_REFUSE);
	assert_int_equal(reset, 1);
	total = 0;
	/* The next window: learned again, from zero. */
	assert_int_equal(take(t, &total, &rule, 60, 0, &lim, &rem, &reset), RATE_ADMIT);
	assert_int_equal(rem, 1);
	assert_true(rate_pending(t));
	/*
	 * A window later, with that hit still unflushed: it goes first, to its
	 * own window, then the new window's count is learned (two flushes),
	 * then the hit is admitted in the new window.
	 */
	{
		enum rate_result v;
		int flushes = 0;

		while ((v = rate_take(t, T, &rule, 125, 0, &lim, &rem, &reset)) == RATE_FLUSH_FIRST) {
			if (flushes == 0)
				assert_int_equal(rate_unflushed(t, T, "read"), 1);
			rate_flushed(t, 0, 125);
			flushes++;
		}
		assert_int_equal(flushes, 2);
		assert_int_equal(v, RATE_ADMIT);
		assert_int_equal(rem, 1);
		assert_int_equal(rate_unflushed(t, T, "read"), 1);
	}
	rate_table_free(t);
}

/* Hits fall due after the flush interval from the oldest one. */
static void
due_timing(void **state)
{
	struct rate_rule rule = { "free", "read", 1000, 60 };
	struct rate_table *t = rate_table_new(0, 100);
	long long lim, rem, reset, total = 0;

	(void)state;
	assert_false(rate_due(t, 0));
	assert_true(rate_due_in(t, 0) < 0);
	take(t, &total, &rule, 0, 1000, &lim, &rem, &reset);
	take(t, &total, &rule, 0, 1050, &lim, &rem, &reset);
	assert_false(rate_due(t, 1099));
	assert_true(rate_due(t, 1100));
	assert_true(rate_due_in(t, 1040) == 60);
	rate_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batch_size),
		cmocka_unit_test(overshoot_bound),
		cmocka_unit_test(single_worker_exact),
		cmocka_unit_test(window_rolls),
		cmocka_unit_test(due_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
