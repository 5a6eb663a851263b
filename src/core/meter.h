/* meter.h: metering arithmetic: UTC calendar days and periods, limits with grace, percentages, thresholds. */
#ifndef TENANTRY_METER_H
#define TENANTRY_METER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
 * calendar, UTC. Every period boundary the product knows (the day of an
 * event, the month of a bill) is computed here and nowhere else; SQL
 * receives the results as bound dates.
 */
struct civil {
	int y, m, d;   /* m 1..12, d 1..31 */
};

int64_t core_days_from_civil(int y, int m, int d);
struct civil core_civil_from_days(int64_t days);
bool core_leap_year(int y);
int  core_days_in_month(int y, int m);
/* The UTC day of an epoch second (floor division: -1 is 1969-12-31). */
int64_t core_day_of(int64_t epoch);
/* "YYYY-MM-DD" of a day into out[11]. */
void core_day_format(int64_t day, char out[11]);

/* A calendar date "YYYY-MM-DD" (years 0001..9999, a real day) as a day number. */
bool core_date_parse(const char *s, int64_t *day);
/*
 * Parse an RFC 3339 timestamp ("2026-11-30T12:00:00Z", "...T12:00:00.123+01:00";
 * 'T'/'Z' in either case) into epoch seconds (fraction dropped). Strict:
 * real calendar dates, 00..23:00..59:00..60 (a leap second counts as :59),
 * offsets up to +-23:59, years 0001..9999, at most 40 characters (a
 * fraction of up to 14 digits with an offset). False otherwise.
 */
bool core_rfc3339_parse(const char *s, int64_t *epoch);

/* "YYYY-MM" with a year 1970..9999 and a month 01..12. */
bool core_month_parse(const char *s, int *y, int *m);

/* Meter periods. A gauge has none: its value is "now". */
enum period {
	PERIOD_NONE = 0,
	PERIOD_DAY,
	PERIOD_MONTH,
};

/* "day" / "month" / anything else (NULL included) -> PERIOD_NONE. */
enum period core_period_parse(const char *s);
const char *core_period_name(enum period p);   /* "day", "month", "current" */
/* The first day of the period that holds day; day itself for PERIOD_NONE. */
int64_t core_period_start(enum period p, int64_t day);
/* The last day of that period. */
int64_t core_period_end(enum period p, int64_t day);

/*
 * Limits. METER_UNLIMITED (-1) means no limit: a NULL or -1 in the
 * database. Grace is a percentage of the limit allowed above it.
 */
#define METER_UNLIMITED (-1)

/* The most usage accepted: limit + floor(limit * grace / 100); no overflow. */
int64_t core_meter_hard_cap(int64_t limit, int grace_percent);
/*
 * used as a percentage of limit, rounded to two decimals. -1 for an
 * unlimited meter (shown as null); a zero limit is 100 (nothing is left).
 */
double  core_meter_percentage(int64_t used, int64_t limit);

/* Notification thresholds, in percent, ascending. */
#define METER_NTHRESHOLDS 3
extern const int core_meter_thresholds[METER_NTHRESHOLDS];
/*
 * Thresholds crossed by going from `from` to `to` under limit: a bit per
 * index of core_meter_thresholds, set when from < t% of limit <= to.
 * Unlimited and zero limits cross nothing. 70% -> 120% sets all three.
 */
unsigned core_meter_crossed(int64_t from, int64_t to, int64_t limit);

/*
 * Complete a month's daily series of one meter in place. On entry v[i] is
 * day i's rollup where have[i] is true. Counters: days without a row are
 * 0. Gauges hold their value until the next report: a day without a row
 * takes the day before's value (day 0 takes carry, the last value before
 * the month, or 0 if carry < 0), up to day upto (today, or the month's
 * last day for a past month); days after upto are 0 (the future).
 */
void core_meter_series(bool gauge, int64_t *v, const bool *have, int ndays, int upto, int64_t carry);
/* Sum of a series (saturating) and its largest value. */
int64_t core_meter_sum(const int64_t *v, int n);
int64_t core_meter_peak(const int64_t *v, int n);

#endif
