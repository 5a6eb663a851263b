/* fuzz_rfc3339.c: libFuzzer target for core_rfc3339_parse, core_date_parse and core_month_parse, checked against a reference reader and timegm(3). */
#define _DEFAULT_SOURCE   /* timegm */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/meter.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * These parsers read what clients send: usage events' occurred_at, API
 * keys' expires_at, the activity log's from/to, the billing month. The
 * oracle reads the same C string (the input up to its first NUL) with the
 * grammar of RFC 3339 §5.6 as core/meter.h narrows it (years 0001..9999,
 * T/Z in either case, seconds 00..60, offsets up to +-23:59, at most 40
 * characters) written as a walk over a template, and computes the epoch
 * with the C library's timegm(3) instead of the civil-day arithmetic.
 * Accept/reject and the value must agree; an accepted UTC time without a
 * fraction or leap second must also come back unchanged from core_rfc3339.
 */

static _Noreturn void
fail(const char *why, const char *s)
{
	fprintf(stderr, "fuzz_rfc3339: %s: \"%s\"\n", why, s);
	abort();
}

static bool
ref_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The number in s[0..n), all digits; -1 otherwise. */
static int
ref_num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!ref_digit(s[i]))
			return -1;
		v = v * 10 + s[i] - '0';
	}
	return v;
}

static int
ref_mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

/* "YYYY-MM-DD" at s (exactly 10 characters there) into *tm; false unless a real day of 0001..9999. */
static bool
ref_date(const char *s, struct tm *tm)
{
	int y, m, d;

	if (s[4] != '-' || s[7] != '-')
		return false;
	y = ref_num(s, 4), m = ref_num(s + 5, 2), d = ref_num(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > ref_mdays(y, m))
		return false;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return true;
}

/* The reference RFC 3339 reader: true and *epoch, or false. */
static bool
ref_rfc3339(const char *s, int64_t *epoch)
{
	size_t n = strlen(s), i;
	struct tm tm;
	int h, mi, sec, off = 0;

	if (n < 20 || n > 40 || !ref_date(s, &tm))
		return false;
	if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return false;
	h = ref_num(s + 11, 2), mi = ref_num(s + 14, 2), sec = ref_num(s + 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return false;
	i = 19;
	if (s[i] == '.') {
		size_t f = ++i;

		while (i < n && ref_digit(s[i]))
			i++;
		if (i == f)
			return false;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh = ref_num(s + i + 1, 2), om = ref_num(s + i + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	} else {
		return false;
	}
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	*epoch = (int64_t)timegm(&tm) - off;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128];
	int64_t got, want;
	bool ok, ref;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	n = strlen(s);

	ok = core_rfc3339_parse(s, &got);
	ref = ref_rfc3339(s, &want);
	if (ok != ref)
		fail(ok ? "core_rfc3339_parse accepted what the reference refuses"
		        : "core_rfc3339_parse refused what the reference accepts", s);
	if (ok && got != want)
		fail("core_rfc3339_parse's epoch differs from timegm's", s);
	if (ok && n == 20 && s[19] != 'z' && s[10] != 't' && ref_num(s + 17, 2) != 60) {
		/* A plain UTC time formats back to itself. */
		char out[21];

		core_rfc3339((time_t)got, out);
		if (strcmp(out, s) != 0)
			fail("core_rfc3339 does not give the parsed time back", s);
	}
	if (ok && got >= -30610224000LL && got <= 253402300799LL) {
		/* Years 1000..9999: what core_rfc3339 writes, core_rfc3339_parse reads back. */
		char out[21];
		int64_t back;

		core_rfc3339((time_t)got, out);
		if (!core_rfc3339_parse(out, &back) || back != got)
			fail("core_rfc3339's output does not parse back to its time", s);
	}

	{
		int64_t day;
		struct tm tm;
		bool dok = core_date_parse(s, &day), dref = n == 10 && ref_date(s, &tm);

		if (dok != dref)
			fail(dok ? "core_date_parse accepted what the reference refuses"
			         : "core_date_parse refused what the reference accepts", s);
		if (dok && day * 86400 != (int64_t)timegm(&tm))
			fail("core_date_parse's day differs from timegm's", s);
	}
	{
		int y, m, ry = ref_num(s, 4), rm = n == 7 ? ref_num(s + 5, 2) : -1;
		bool mok = core_month_parse(s, &y, &m);
		bool mref = n == 7 && s[4] == '-' && ry >= 1970 && rm >= 1 && rm <= 12;

		if (mok != mref)
			fail(mok ? "core_month_parse accepted what the reference refuses"
			         : "core_month_parse refused what the reference accepts", s);
		if (mok && (y != ry || m != rm))
			fail("core_month_parse read another month", s);
	}
	return 0;
}
