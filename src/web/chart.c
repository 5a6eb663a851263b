/* chart.c: one month of a meter's daily usage as a server-side SVG bar chart. */
#include "web/chart.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/meter.h"
#include "tmpl/tmpl.h"

/*
 * Geometry, in viewBox units. The plot is the rectangle [PL, PR] x [PT, PB];
 * y labels sit left of it, day labels below it, the limit label above its
 * line (PT leaves room for it when the line is at the top).
 */
#define CHART_W   640
#define CHART_H   220
#define CHART_PL  48.0L
#define CHART_PR  628.0L
#define CHART_PT  16.0L
#define CHART_PB  196.0L
#define CHART_PW  (CHART_PR - CHART_PL)
#define CHART_PH  (CHART_PB - CHART_PT)
#define CHART_ID_MAX 64

/* ---- Numbers ------------------------------------------------------------------ */

/* |v| without overflow: INT64_MIN's magnitude fits in a uint64_t. */
static uint64_t
chart_magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;
}

void
web_fmt_int(int64_t v, char *dst)
{
	char rev[32];
	uint64_t u = chart_magnitude(v);
	size_t n = 0, o = 0;

	do {
		if (n % 4 == 3)
			rev[n++] = ',';
		rev[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		dst[o++] = '-';
	while (n > 0)
		dst[o++] = rev[--n];
	dst[o] = '\0';
}

/*
 * The compact form of a magnitude up to UINT64_MAX, so an axis whose top
 * is 10^19 (above INT64_MAX) still gets its label.
 */
static void
chart_compact(uint64_t u, bool neg, char *dst)
{
	static const char suffix[] = "kMBTPE";
	const char *sign = neg && u != 0 ? "-" : "";
	uint64_t scale = 1000, tenths, whole;
	int i = 0;

	if (u < 1000) {
		snprintf(dst, 16, "%s%" PRIu64, sign, u);
		return;
	}
	while (i < 5 && u / 1000 >= scale) {
		scale *= 1000;
		i++;
	}
	/* Half up; u + scale / 2 stays below UINT64_MAX for u <= 10^19. */
	tenths = (u + scale / 20) / (scale / 10);
	if (tenths < 100) {
		if (tenths % 10 == 0)
			snprintf(dst, 16, "%s%" PRIu64 "%c", sign, tenths / 10, suffix[i]);
		else
			snprintf(dst, 16, "%s%" PRIu64 ".%" PRIu64 "%c", sign, tenths / 10,
			    tenths % 10, suffix[i]);
		return;
	}
	whole = (u + scale / 2) / scale;
	if (whole >= 1000 && i < 5) {   /* 999,999 is "1M", not "1000k" */
		scale *= 1000;
		i++;
		whole = (u + scale / 2) / scale;
	}
	snprintf(dst, 16, "%s%" PRIu64 "%c", sign, whole, suffix[i]);
}

void
web_fmt_compact(int64_t v, char *dst)
{
	chart_compact(chart_magnitude(v), v < 0, dst);
}

/*
 * The axis top: the least of 1, 2, 2.5, 5 x 10^k that is >= m, but at least
 * 5, so that every gridline is a whole number. *steps (4 or 5) divides it
 * exactly. m <= INT64_MAX < 10^19, so the answer fits in a uint64_t.
 */
static uint64_t
chart_nice(uint64_t m, int *steps)
{
	uint64_t p = 1;

	*steps = 5;
	if (m <= 5)
		return 5;
	for (;;) {
		p *= 10;
		if (m <= p)
			return p;
		if (m <= 2 * p) {
			*steps = 4;
			return 2 * p;
		}
		if (m <= p / 2 * 5)
			return p / 2 * 5;
		if (m <= 5 * p)
			return 5 * p;
	}
}

/* Distance from the baseline, rounded to 0.01 so y + height == PB in print. */
static long double
chart_height(uint64_t v, uint64_t ymax)
{
	long double hundredths = (long double)v / (long double)ymax * CHART_PH * 100.0L;

	return (long double)(int64_t)(hundredths + 0.5L) / 100.0L;   /* <= 18000: no libm */
}

/* ---- Output ------------------------------------------------------------------- */

static int
chart_emit(void *ud, const char *s, size_t n)
{
	return buf_append(ud, s, n) ? 0 : -1;
}

/* Data text, escaped; an escape failure is an OOM already recorded in out. */
static void
chart_text(struct buf *out, const char *s)
{
	(void)tmpl_escape_html(s, strlen(s), chart_emit, out);
}

/* "1,234 tokens", or "1,234" when the unit is empty. */
static void
chart_amount(struct buf *out, int64_t v, const char *unit)
{
	char num[32];

	web_fmt_int(v, num);
	buf_puts(out, num);
	if (unit[0] != '\0') {
		buf_putc(out, ' ');
		chart_text(out, unit);
	}
}

static bool
chart_valid(const struct chart *c)
{
	size_t idlen;
	int y, m;

	if (c == NULL || c->id == NULL || c->title == NULL || c->unit == NULL ||
	    c->v == NULL || !core_month_parse(c->month, &y, &m))
		return false;
	if (c->n < 1 || c->n > core_days_in_month(y, m))
		return false;
	idlen = strlen(c->id);
	if (idlen == 0 || idlen > CHART_ID_MAX ||
	    strspn(c->id, "abcdefghijklmnopqrstuvwxyz0123456789_-") != idlen)
		return false;
	for (int i = 0; i < c->n; i++)
		if (c->v[i] < 0)   /* usage_daily.quantity is CHECK >= 0 */
			return false;
	return true;
}

/*
 * The words a screen reader gets: the total (a gauge's peak), the limit,
 * the busiest day and how many days went over the limit.
 */
static void
chart_desc(struct buf *out, const struct chart *c, int64_t peak, int busiest, int over)
{
	int64_t total = c->gauge ? peak : core_meter_sum(c->v, c->n);

	buf_printf(out, "<desc id=\"%s-desc\">Daily ", c->id);
	chart_text(out, c->title);
	buf_printf(out, " in %s: %s ", c->month, c->gauge ? "peak" : "total");
	if (total == INT64_MAX)   /* core_meter_sum saturates */
		buf_puts(out, "at least ");
	chart_amount(out, total, c->unit);
	if (c->limit >= 0 && c->limit_on_total) {
		buf_puts(out, " of a monthly limit of ");
		chart_amount(out, c->limit, c->unit);
	} else if (c->limit >= 0) {
		buf_puts(out, "; limit ");
		chart_amount(out, c->limit, c->unit);
	} else {
		buf_puts(out, "; no limit");
	}
	if (peak > 0) {
		buf_printf(out, "; %s day %s-%02d with ", c->gauge ? "highest" : "busiest",
		    c->month, busiest + 1);
		chart_amount(out, peak, c->unit);
	} else
		buf_puts(out, "; no usage");
	if (c->limit >= 0 && !c->limit_on_total)
		buf_printf(out, "; %d %s over the limit", over, over == 1 ? "day" : "days");
	buf_puts(out, ".</desc>\n");
}

/*
 * A coordinate with two decimals. Written by hand: printf's floating-point
 * path was the largest single cost of rendering a billing page.
 */
struct fx {
	char s[32];
};

static struct fx
fx(double v)
{
	struct fx f;
	char tmp[24];
	long long h = (long long)(v * 100.0 + (v < 0 ? -0.5 : 0.5));
	unsigned long long u = h < 0 ? (unsigned long long)-h : (unsigned long long)h;
	size_t n = 0, k = 0;

	tmp[n++] = (char)('0' + u % 10);
	u /= 10;
	tmp[n++] = (char)('0' + u % 10);
	u /= 10;
	tmp[n++] = '.';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (h < 0)
		f.s[k++] = '-';
	while (n > 0)
		f.s[k++] = tmp[--n];
	f.s[k] = '\0';
	return f;
}

/* Gridlines with their labels, then the two axes over them. */
static void
chart_axes(struct buf *out, uint64_t ymax, int steps)
{
	uint64_t step = ymax / (uint64_t)steps;
	char label[16];

	for (int j = 0; j <= steps; j++) {
		double y = (double)(CHART_PB - chart_height(step * (uint64_t)j, ymax));

		chart_compact(step * (uint64_t)j, false, label);
		if (j > 0)
			buf_printf(out, "<line class=\"chart-grid\" x1=\"%s\" y1=\"%s\" "
			    "x2=\"%s\" y2=\"%s\"/>\n", fx(CHART_PL).s, fx(y).s, fx(CHART_PR).s, fx(y).s);
		buf_printf(out, "<text class=\"chart-label\" x=\"%s\" y=\"%s\" "
		    "text-anchor=\"end\" font-size=\"10\">%s</text>\n",
		    fx((double)CHART_PL - 6).s, fx(y + 3.5).s, label);
	}
	buf_printf(out, "<line class=\"chart-axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n",
	    fx(CHART_PL).s, fx(CHART_PT).s, fx(CHART_PL).s, fx(CHART_PB).s);
	buf_printf(out, "<line class=\"chart-axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n",
	    fx(CHART_PL).s, fx(CHART_PB).s, fx(CHART_PR).s, fx(CHART_PB).s);
}

/*
 * Days 1, 5, 10, 15, 20, 25 and the last, centred under their bars; a fixed
 * day next to the last (25 of 26) is dropped so their labels keep apart.
 */
static void
chart_day_label(struct buf *out, int d, long double slot)
{
	buf_printf(out, "<text class=\"chart-label\" x=\"%s\" y=\"%s\" "
	    "text-anchor=\"middle\" font-size=\"10\">%d</text>\n",
	    fx((double)(CHART_PL + (d - 1) * slot + slot / 2)).s, fx((double)CHART_PB + 14).s, d);
}

static void
chart_days(struct buf *out, int n)
{
	static const int fixed[] = { 1, 5, 10, 15, 20, 25 };
	long double slot = CHART_PW / n;

	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		if (fixed[k] < n && (fixed[k] == 1 || n - fixed[k] >= 2))
			chart_day_label(out, fixed[k], slot);
	chart_day_label(out, n, slot);
}

bool
web_chart_svg(struct buf *out, const struct chart *c)
{
	long double slot, h;
	int64_t peak = 0;
	int busiest = 0, over = 0, steps;
	uint64_t ymax;
	char num[32];
	/* The line drawn across the days: none for a limit on the month's total. */
	int64_t line;

	if (out == NULL || !chart_valid(c))
		return false;
	line = c->limit_on_total ? -1 : c->limit;
	for (int i = 0; i < c->n; i++) {
		if (c->v[i] > peak) {
			peak = c->v[i];
			busiest = i;
		}
		if (line >= 0 && c->v[i] > line)
			over++;
	}
	ymax = chart_nice((uint64_t)(line > peak ? line : peak), &steps);

	buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "width=\"100%%\" class=\"chart\" role=\"img\" aria-labelledby=\"%s-title %s-desc\">\n",
	    CHART_W, CHART_H, c->id, c->id);
	buf_printf(out, "<title id=\"%s-title\">", c->id);
	chart_text(out, c->title);
	buf_printf(out, ", %s</title>\n", c->month);
	chart_desc(out, c, peak, busiest, over);
	chart_axes(out, ymax, steps);
	chart_days(out, c->n);

	/* One rect per day, zero days included (height 0), in day order. */
	slot = CHART_PW / c->n;
	for (int i = 0; i < c->n; i++) {
		h = chart_height((uint64_t)c->v[i], ymax);
		buf_printf(out, "<rect class=\"chart-bar%s\" x=\"%s\" y=\"%s\" "
		    "width=\"%s\" height=\"%s\"><title>%s-%02d: ",
	    line >= 0 && c->v[i] > line ? " over" : "",
	    fx((double)(CHART_PL + i * slot + slot * 0.15L)).s, fx((double)(CHART_PB - h)).s,
	    fx((double)(slot * 0.7L)).s, fx((double)h).s, c->month, i + 1);
		chart_amount(out, c->v[i], c->unit);
		buf_puts(out, "</title></rect>\n");
	}

	/* The limit line last, so it reads over the bars. */
	if (line >= 0) {
		double y = (double)(CHART_PB - chart_height((uint64_t)line, ymax));

		web_fmt_int(line, num);
		buf_printf(out, "<line class=\"chart-limit\" x1=\"%s\" y1=\"%s\" "
		    "x2=\"%s\" y2=\"%s\"/>\n", fx(CHART_PL).s, fx(y).s, fx(CHART_PR).s, fx(y).s);
		buf_printf(out, "<text class=\"chart-limit-label\" x=\"%s\" y=\"%s\" "
		    "text-anchor=\"end\" font-size=\"10\">limit %s</text>\n",
		    fx(CHART_PR).s, fx(y - 4).s, num);
	}
	buf_puts(out, "</svg>\n");
	return !out->oom;
}
