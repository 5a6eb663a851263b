/* test_meter.c: unit tests for src/core/meter: calendar and periods, limits, percentages, thresholds, series. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/meter.h"
#include "core/util.h"

/* ---- Calendar ------------------------------------------------------------------ */

/* Every day from 1900 to 2400 round-trips, and agrees with glibc's timegm/gmtime_r. */
static void
civil_round_trip(void **state)
{
	(void)state;
	for (int64_t day = core_days_from_civil(1900, 1, 1); day <= core_days_from_civil(2400, 12, 31); day++) {
		struct civil c = core_civil_from_days(day);
		time_t t = (time_t)(day * 86400);
		struct tm tm;

		assert_int_equal(core_days_from_civil(c.y, c.m, c.d), day);
		gmtime_r(&t, &tm);
		if (tm.tm_year + 1900 != c.y || tm.tm_mon + 1 != c.m || tm.tm_mday != c.d)
			fail_msg("day %lld: %d-%d-%d, glibc says %d-%d-%d", (long long)day, c.y, c.m, c.d,
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	}
}

static const struct { int y, m, days; } month_lengths[] = {
	{ 2026, 1, 31 }, { 2026, 2, 28 }, { 2026, 4, 30 }, { 2026, 12, 31 },
	{ 2024, 2, 29 },   /* divisible by 4 */
	{ 2100, 2, 28 },   /* by 100, not 400 */
	{ 2000, 2, 29 },   /* by 400 */
	{ 1900, 2, 28 },
	{ 2026, 0, 0 }, { 2026, 13, 0 },
};

static void
days_in_month(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(month_lengths) / sizeof(month_lengths[0]); i++)
		if (core_days_in_month(month_lengths[i].y, month_lengths[i].m) != month_lengths[i].days)
			fail_msg("%d-%02d: %d days, want %d", month_lengths[i].y, month_lengths[i].m,
			    core_days_in_month(month_lengths[i].y, month_lengths[i].m), month_lengths[i].days);
}

/* Epoch second -> UTC day, both sides of midnight and of the epoch. */
static void
day_of_epoch(void **state)
{
	char d[11];

	(void)state;
	core_day_format(core_day_of(0), d);
	assert_string_equal(d, "1970-01-01");
	core_day_format(core_day_of(-1), d);
	assert_string_equal(d, "1969-12-31");
	core_day_format(core_day_of(86399), d);
	assert_string_equal(d, "1970-01-01");
	core_day_format(core_day_of(86400), d);
	assert_string_equal(d, "1970-01-02");
	/* 2024-02-29T23:59:59Z and one second later. */
	core_day_format(core_day_of(1709251199), d);
	assert_string_equal(d, "2024-02-29");
	core_day_format(core_day_of(1709251200), d);
	assert_string_equal(d, "2024-03-01");
}

static const struct {
	const char *s;
	bool        ok;
	int64_t     epoch;
} rfc3339[] = {
	{ "2026-11-30T12:00:00Z", true, 1796040000 },
	{ "2026-11-30t12:00:00z", true, 1796040000 },
	{ "2026-11-30T12:00:00.123456Z", true, 1796040000 },
	{ "2026-11-30T13:30:00+01:30", true, 1796040000 },
	{ "2026-11-30T10:00:00-02:00", true, 1796040000 },
	{ "2026-12-01T00:30:00+01:00", true, 1796081400 },   /* a local Dec 1 is Nov 30 in UTC */
	{ "2024-02-29T00:00:00Z", true, 1709164800 },
	{ "2016-12-31T23:59:60Z", true, 1483228799 },        /* leap second counted as :59 */
	{ "1970-01-01T00:00:00Z", true, 0 },
	{ "2023-02-29T00:00:00Z", false, 0 },                /* not a leap year */
	{ "2026-04-31T00:00:00Z", false, 0 },
	{ "2026-13-01T00:00:00Z", false, 0 },
	{ "2026-11-30T24:00:00Z", false, 0 },
	{ "2026-11-30T12:60:00Z", false, 0 },
	{ "2026-11-30T12:00:61Z", false, 0 },
	{ "2026-11-30 12:00:00Z", false, 0 },
	{ "2026-11-30T12:00:00", false, 0 },                 /* no offset */
	{ "2026-11-30T12:00:00+0100", false, 0 },
	{ "2026-11-30T12:00:00+24:00", false, 0 },
	{ "2026-11-30T12:00:00.Z", false, 0 },
	{ "2026-11-30T12:00:00Zjunk", false, 0 },
	{ "2026-11-30", false, 0 },
	{ "", false, 0 },
	{ "0000-01-01T00:00:00Z", false, 0 },
	{ "2026-1-30T12:00:00Z", false, 0 },
	{ "+2026-11-30T12:00:00Z", false, 0 },
};

static void
rfc3339_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc3339) / sizeof(rfc3339[0]); i++) {
		int64_t e = -42;
		bool ok = core_rfc3339_parse(rfc3339[i].s, &e);

		if (ok != rfc3339[i].ok)
			fail_msg("\"%s\": parsed %d, want %d", rfc3339[i].s, ok, rfc3339[i].ok);
		if (ok && e != rfc3339[i].epoch)
			fail_msg("\"%s\": %lld, want %lld", rfc3339[i].s, (long long)e, (long long)rfc3339[i].epoch);
	}
	assert_false(core_rfc3339_parse(NULL, &(int64_t){ 0 }));
}

/* core_rfc3339 writes four-digit years (strftime's %Y wrote year 1 as "1"), and what it writes parses back. */
static void
rfc3339_format(void **state)
{
	static const struct {
		int64_t     epoch;
		const char *s;
	} cases[] = {
		{ -62135596800LL, "0001-01-01T00:00:00Z" },
		{ -30610224001LL, "0999-12-31T23:59:59Z" },
		{ -30610224000LL, "1000-01-01T00:00:00Z" },
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1796040000LL, "2026-11-30T12:00:00Z" },
		{ 253402300799LL, "9999-12-31T23:59:59Z" },
	};
	char out[21];
	int64_t back;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		core_rfc3339((time_t)cases[i].epoch, out);
		assert_string_equal(out, cases[i].s);
		assert_true(core_rfc3339_parse(out, &back));
		assert_int_equal(back, cases[i].epoch);
	}
}

static void
date_table(void **state)
{
	static const struct { const char *s; bool ok; int y, m, d; } dates[] = {
		{ "2026-11-30", true, 2026, 11, 30 }, { "2024-02-29", true, 2024, 2, 29 },
		{ "0001-01-01", true, 1, 1, 1 }, { "9999-12-31", true, 9999, 12, 31 },
		{ "2023-02-29", false, 0, 0, 0 }, { "2026-04-31", false, 0, 0, 0 },
		{ "2026-13-01", false, 0, 0, 0 }, { "0000-01-01", false, 0, 0, 0 },
		{ "2026-11-3", false, 0, 0, 0 }, { "2026-11-30T", false, 0, 0, 0 },
		{ "2026/11/30", false, 0, 0, 0 }, { "", false, 0, 0, 0 },
	};
	int64_t day;

	(void)state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		bool ok = core_date_parse(dates[i].s, &day);

		if (ok != dates[i].ok ||
		    (ok && day != core_days_from_civil(dates[i].y, dates[i].m, dates[i].d)))
			fail_msg("\"%s\": %d", dates[i].s, ok);
	}
	assert_false(core_date_parse(NULL, &day));
}

static const struct { const char *s; bool ok; int y, m; } months[] = {
	{ "2026-11", true, 2026, 11 }, { "2024-02", true, 2024, 2 }, { "1970-01", true, 1970, 1 },
	{ "9999-12", true, 9999, 12 },
	{ "2026-13", false, 0, 0 }, { "2026-00", false, 0, 0 }, { "1969-12", false, 0, 0 },
	{ "2026-1", false, 0, 0 }, { "2026/11", false, 0, 0 }, { "2026-11-01", false, 0, 0 },
	{ "26-11", false, 0, 0 }, { "", false, 0, 0 }, { "abcd-ef", false, 0, 0 }, { "2026-+1", false, 0, 0 },
};

static void
month_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++) {
		int y = 0, m = 0;
		bool ok = core_month_parse(months[i].s, &y, &m);

		if (ok != months[i].ok || (ok && (y != months[i].y || m != months[i].m)))
			fail_msg("\"%s\": %d %d-%d", months[i].s, ok, y, m);
	}
}

/* Period starts and ends at month boundaries, leap years included. */
static void
periods(void **state)
{
	static const struct { const char *day, *mstart, *mend; } cases[] = {
		{ "2026-11-30", "2026-11-01", "2026-11-30" },
		{ "2026-12-01", "2026-12-01", "2026-12-31" },
		{ "2024-02-29", "2024-02-01", "2024-02-29" },
		{ "2023-02-15", "2023-02-01", "2023-02-28" },
		{ "2100-02-10", "2100-02-01", "2100-02-28" },
		{ "2000-02-10", "2000-02-01", "2000-02-29" },
		{ "2026-01-01", "2026-01-01", "2026-01-31" },
	};
	char s[11], e[11];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int y = 0, m = 0, d = 0;
		int64_t day;

		assert_int_equal(sscanf(cases[i].day, "%d-%d-%d", &y, &m, &d), 3);
		day = core_days_from_civil(y, m, d);
		core_day_format(core_period_start(PERIOD_MONTH, day), s);
		core_day_format(core_period_end(PERIOD_MONTH, day), e);
		assert_string_equal(s, cases[i].mstart);
		assert_string_equal(e, cases[i].mend);
		assert_int_equal(core_period_start(PERIOD_DAY, day), day);
		assert_int_equal(core_period_end(PERIOD_DAY, day), day);
		assert_int_equal(core_period_start(PERIOD_NONE, day), day);
	}
	assert_int_equal(core_period_parse("day"), PERIOD_DAY);
	assert_int_equal(core_period_parse("month"), PERIOD_MONTH);
	assert_int_equal(core_period_parse(NULL), PERIOD_NONE);
	assert_int_equal(core_period_parse("week"), PERIOD_NONE);
	assert_string_equal(core_period_name(PERIOD_NONE), "current");
}

/* ---- Limits ------------------------------------------------------------------------ */

static void
hard_cap(void **state)
{
	(void)state;
	assert_int_equal(core_meter_hard_cap(100000, 10), 110000);
	assert_int_equal(core_meter_hard_cap(5, 10), 5);          /* floor(5.5) */
	assert_int_equal(core_meter_hard_cap(20, 10), 22);
	assert_int_equal(core_meter_hard_cap(0, 10), 0);          /* a zero limit allows nothing */
	assert_int_equal(core_meter_hard_cap(1000, 0), 1000);     /* no grace */
	assert_int_equal(core_meter_hard_cap(1000, -5), 1000);
	assert_int_equal(core_meter_hard_cap(METER_UNLIMITED, 10), METER_UNLIMITED);
	assert_true(core_meter_hard_cap(INT64_MAX, 1000) == INT64_MAX);   /* saturates */
	assert_true(core_meter_hard_cap(INT64_MAX / 2, 100) == INT64_MAX - 1);
}

static const struct { int64_t used, limit; double want; } pcts[] = {
	{ 0, 100, 0 }, { 50, 100, 50 }, { 1, 3, 33.33 }, { 2, 3, 66.67 }, { 150, 100, 150 },
	{ 1, 100000, 0 }, { 5, 100000, 0.01 }, { 4, 100000, 0 }, { 3, 7, 42.86 },
	{ 0, 0, 100 }, { 7, 0, 100 },                              /* zero limit: nothing left */
	{ 5, METER_UNLIMITED, -1 },                                /* unlimited: null */
	{ INT64_MAX, INT64_MAX, 100 }, { INT64_MAX / 2, INT64_MAX, 50 },
	{ -5, 100, 0 },
};

static void
percentage_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double got = core_meter_percentage(pcts[i].used, pcts[i].limit);

		if (got < pcts[i].want - 0.001 || got > pcts[i].want + 0.001)
			fail_msg("%lld of %lld: %.4f, want %.2f", (long long)pcts[i].used,
			    (long long)pcts[i].limit, got, pcts[i].want);
	}
}

#define T80  1u
#define T90  2u
#define T100 4u

static const struct { const char *what; int64_t from, to, limit; unsigned want; } crossings[] = {
	{ "70% -> 120% fires 80, 90 and 100 once each", 700, 1200, 1000, T80 | T90 | T100 },
	{ "0 -> 79.9% fires nothing", 0, 799, 1000, 0 },
	{ "0 -> exactly 80% fires 80", 0, 800, 1000, T80 },
	{ "80% -> 85% fires nothing (80 already crossed)", 800, 850, 1000, 0 },
	{ "79.9% -> 80% fires 80", 799, 800, 1000, T80 },
	{ "85% -> 95% fires 90", 850, 950, 1000, T90 },
	{ "95% -> 100% fires 100", 950, 1000, 1000, T100 },
	{ "100% -> 110% fires nothing", 1000, 1100, 1000, 0 },
	{ "no change fires nothing", 900, 900, 1000, 0 },
	{ "going down fires nothing", 1200, 100, 1000, 0 },
	{ "unlimited never fires", 0, 1000000, METER_UNLIMITED, 0 },
	{ "a zero limit never fires", 0, 5, 0, 0 },
	{ "limit 1: 0 -> 1 fires all three", 0, 1, 1, T80 | T90 | T100 },
	{ "limit 3: 80% is 2.4, 2 is below it", 0, 2, 3, 0 },
	{ "limit 3: 3 fires all three", 2, 3, 3, T80 | T90 | T100 },
	{ "no overflow near INT64_MAX", 0, INT64_MAX, INT64_MAX, T80 | T90 | T100 },
	{ "huge limit, 79% -> 81%", INT64_MAX / 100 * 79, INT64_MAX / 100 * 81, INT64_MAX, T80 },
};

static void
threshold_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(crossings) / sizeof(crossings[0]); i++) {
		unsigned got = core_meter_crossed(crossings[i].from, crossings[i].to, crossings[i].limit);

		if (got != crossings[i].want)
			fail_msg("%s: got %#x, want %#x", crossings[i].what, got, crossings[i].want);
	}
	assert_int_equal(core_meter_thresholds[0], 80);
	assert_int_equal(core_meter_thresholds[1], 90);
	assert_int_equal(core_meter_thresholds[2], 100);
}

/* ---- Daily series ------------------------------------------------------------------- */

static void
series_counter(void **state)
{
	int64_t v[5] = { 3, 99, 0, 7, 99 };
	bool have[5] = { true, false, true, true, false };

	(void)state;
	core_meter_series(false, v, have, 5, 4, 55);   /* carry is ignored for counters */
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 0);
	assert_int_equal(v[2], 0);
	assert_int_equal(v[3], 7);
	assert_int_equal(v[4], 0);
	assert_int_equal(core_meter_sum(v, 5), 10);
	assert_int_equal(core_meter_peak(v, 5), 7);
}

static void
series_gauge(void **state)
{
	int64_t v[6] = { 0, 0, 12, 0, 0, 0 };
	bool have[6] = { false, false, true, false, false, false };

	(void)state;
	/* Carried in from before the month, held until the next report, zero after today (3). */
	core_meter_series(true, v, have, 6, 3, 9);
	assert_int_equal(v[0], 9);
	assert_int_equal(v[1], 9);
	assert_int_equal(v[2], 12);
	assert_int_equal(v[3], 12);
	assert_int_equal(v[4], 0);
	assert_int_equal(v[5], 0);
	assert_int_equal(core_meter_peak(v, 6), 12);
}

static void
series_empty_and_future(void **state)
{
	int64_t v[4] = { 5, 5, 5, 5 };
	bool have[4] = { false, false, false, false };

	(void)state;
	core_meter_series(true, v, have, 4, -1, 40);   /* a future month: all zero */
	for (int i = 0; i < 4; i++)
		assert_int_equal(v[i], 0);
	core_meter_series(true, v, have, 4, 3, -1);    /* nothing known: zero */
	assert_int_equal(core_meter_peak(v, 4), 0);
	assert_int_equal(core_meter_sum(v, 4), 0);
	{
		int64_t big[2] = { INT64_MAX, INT64_MAX };

		assert_true(core_meter_sum(big, 2) == INT64_MAX);   /* saturates */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(civil_round_trip),
		cmocka_unit_test(days_in_month),
		cmocka_unit_test(day_of_epoch),
		cmocka_unit_test(rfc3339_table),
		cmocka_unit_test(rfc3339_format),
		cmocka_unit_test(date_table),
		cmocka_unit_test(month_table),
		cmocka_unit_test(periods),
		cmocka_unit_test(hard_cap),
		cmocka_unit_test(percentage_table),
		cmocka_unit_test(threshold_table),
		cmocka_unit_test(series_counter),
		cmocka_unit_test(series_gauge),
		cmocka_unit_test(series_empty_and_future),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
