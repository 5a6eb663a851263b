/* meter.c: metering arithmetic: UTC calendar days and periods, limits with grace, percentages, thresholds. */
#include "core/meter.h"

#include <ctype.h>
#include <string.h>

/* ---- Calendar (Howard Hinnant's civil-day algorithms) ---------------------- */

int64_t
core_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

struct civil
core_civil_from_days(int64_t z)
{
	int64_t era, doe, yoe, doy, mp, y;
	struct civil c;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	c.y = (int)(y + (c.m <= 2));
	return c;
}

bool
core_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
core_days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return dim[m - 1] + (m == 2 && core_leap_year(y));
}

int64_t
core_day_of(int64_t epoch)
{
	return epoch >= 0 ? epoch / 86400 : -((-epoch + 86399) / 86400);
}

void
core_day_format(int64_t day, char out[11])
{
	struct civil c = core_civil_from_days(day);
	unsigned y = (unsigned)(c.y < 0 ? 0 : c.y % 10000);

	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + c.m / 10);
	out[6] = (char)('0' + c.m % 10);
	out[7] = '-';
	out[8] = (char)('0' + c.d / 10);
	out[9] = (char)('0' + c.d % 10);
	out[10] = '\0';
}

/* n digits at s as a number; -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The date at s[0..10) (more may follow); false unless a real calendar day. */
static bool
date_prefix(const char *s, int64_t *day)
{
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);

	if (s[4] != '-' || s[7] != '-' || y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > core_days_in_month(y, mo))
		return false;
	*day = core_days_from_civil(y, mo, d);
	return true;
}

bool
core_date_parse(const char *s, int64_t *day)
{
	return s != NULL && strlen(s) == 10 && date_prefix(s, day);
}

bool
core_rfc3339_parse(const char *s, int64_t *epoch)
{
	int h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t day;
	const char *p;

	if (s == NULL || strlen(s) < 20 || strlen(s) > 40 || !date_prefix(s, &day))
		return false;
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return false;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		sign = *p == '+' ? 1 : -1;
		oh = digits(p + 1, 2);
		om = digits(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
	} else {
		return false;
	}
	if (sec == 60)
		sec = 59;
	*epoch = day * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return true;
}

bool
core_month_parse(const char *s, int *y, int *m)
{
	if (s == NULL || strlen(s) != 7 || s[4] != '-')
		return false;
	*y = digits(s, 4);
	*m = digits(s + 5, 2);
	return *y >= 1970 && *m >= 1 && *m <= 12;
}

/* ---- Periods ---------------------------------------------------------------- */

enum period
core_period_parse(const char *s)
{
	if (s != NULL && strcmp(s, "day") == 0)
		return PERIOD_DAY;
	if (s != NULL && strcmp(s, "month") == 0)
		return PERIOD_MONTH;
	return PERIOD_NONE;
}

const char *
core_period_name(enum period p)
{
	return p == PERIOD_DAY ? "day" : p == PERIOD_MONTH ? "month" : "current";
}

int64_t
core_period_start(enum period p, int64_t day)
{
	struct civil c;

	if (p != PERIOD_MONTH)
		return day;
	c = core_civil_from_days(day);
	return core_days_from_civil(c.y, c.m, 1);
}

int64_t
core_period_end(enum period p, int64_t day)
{
	struct civil c;

	if (p != PERIOD_MONTH)
		return day;
	c = core_civil_from_days(day);
	return core_days_from_civil(c.y, c.m, core_days_in_month(c.y, c.m));
}

/* ---- Limits ------------------------------------------------------------------- */

const int core_meter_thresholds[METER_NTHRESHOLDS] = { 80, 90, 100 };

int64_t
core_meter_hard_cap(int64_t limit, int grace_percent)
{
	__int128 cap;

	if (limit < 0)
		return METER_UNLIMITED;
	if (grace_percent < 0)
		grace_percent = 0;
	cap = (__int128)limit + (__int128)limit * grace_percent / 100;
	return cap > INT64_MAX ? INT64_MAX : (int64_t)cap;
}

double
core_meter_percentage(int64_t used, int64_t limit)
{
	if (limit < 0)
		return -1;
	if (limit == 0)
		return 100;
	/* Hundredths of a percent, rounded half up, in integers: exact for any int64. */
	return (double)(((__int128)(used > 0 ? used : 0) * 10000 + limit / 2) / limit) / 100.0;
}

unsigned
core_meter_crossed(int64_t from, int64_t to, int64_t limit)
{
	unsigned bits = 0;

	if (limit <= 0)
		return 0;
	for (int i = 0; i < METER_NTHRESHOLDS; i++) {
		/* t% of limit, compared without division: x >= t% <=> 100x >= t*limit. */
		__int128 mark = (__int128)core_meter_thresholds[i] * limit;

		if ((__int128)from * 100 < mark && (__int128)to * 100 >= mark)
			bits |= 1u << i;
	}
	return bits;
}

void
core_meter_series(bool gauge, int64_t *v, const bool *have, int ndays, int upto, int64_t carry)
{
	int64_t last = carry > 0 ? carry : 0;

	for (int i = 0; i < ndays; i++) {
		if (i > upto) {
			v[i] = have[i] && !gauge ? v[i] : 0;
			continue;
		}
		if (!have[i])
			v[i] = gauge ? last : 0;
		last = v[i];
	}
}

int64_t
core_meter_sum(const int64_t *v, int n)
{
	int64_t t = 0;

	for (int i = 0; i < n; i++)
		t = v[i] > INT64_MAX - t ? INT64_MAX : t + v[i];
	return t;
}

int64_t
core_meter_peak(const int64_t *v, int n)
{
	int64_t t = 0;

	for (int i = 0; i < n; i++)
		if (v[i] > t)
			t = v[i];
	return t;
}
