/* chart.h: one month of a meter's daily usage as a server-side SVG bar chart. */
#ifndef TENANTRY_CHART_H
#define TENANTRY_CHART_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/*
 * Everything a chart shows, borrowed from the caller for the duration of
 * web_chart_svg(). Text that came from data (title, unit) is escaped on the
 * way out; id and month are validated instead, so they can name aria ids.
 */
struct chart {
	const char    *id;      /* unique within the page, [a-z0-9_-]{1,64} (e.g. "chart-tokens"); used for aria ids */
	const char    *title;   /* e.g. "tokens" (meter name), escaped */
	const char    *unit;    /* e.g. "tokens", "MB", may be "" */
	const char    *month;   /* "YYYY-MM" (core_month_parse) */
	const int64_t *v;       /* daily values, v[0] is day 1; never negative */
	int            n;       /* days shown: 1 .. the month's length (28..31) */
	int64_t        limit;   /* the limit line; < 0 = unlimited (no line) */
	bool           limit_on_total; /* limit caps the month's total (a monthly counter), not
	                                  a day: said in the desc; no line, no day is "over" */
	bool           gauge;   /* gauge (value per day) vs counter (per-day amount); changes the desc wording only */
};

/*
 * Append the chart as one <svg> element to out: colours come only from the
 * classes chart-bar, "chart-bar over", chart-limit, chart-limit-label,
 * chart-axis, chart-grid and chart-label (no style attribute, for a strict
 * CSP). Every day has exactly one <rect class="chart-bar...">, of height 0
 * on a zero day. Output depends on the input alone.
 *
 * Returns false, appending nothing, on bad input (a NULL field, an id or
 * month of the wrong shape, n outside the month, a negative value). Returns
 * false on OOM too (out->oom): out then holds a partial chart, to be thrown
 * away with the rest of the page.
 */
bool web_chart_svg(struct buf *out, const struct chart *c);

/* "1,234,567" (thousands separators; negative allowed) into dst (>= 32 bytes). */
void web_fmt_int(int64_t v, char *dst);

/*
 * Compact axis label into dst (>= 16 bytes): 0, 950, 1.2k, 12k, 1.5M, 2B,
 * 9.2E. Below 10 of a suffix one decimal is shown (dropped when it is 0),
 * above it none; both are rounded half up, and 999,999 reads "1M".
 */
void web_fmt_compact(int64_t v, char *dst);

#endif
