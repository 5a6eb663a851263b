/* chart.c: one month of a meter's daily usage as a server-side SVG bar chart. */
#include "web/chart.h"

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
/* dst = sign, u, optionally "." and one digit, the suffix (if any), NUL. */
static void
chart_compact_put(char *dst, bool neg, uint64_t u, int tenth, char suffix)
{
	char tmp[24];
	size_t n = 0, o = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		dst[o++] = '-';
	while (n > 0)
		dst[o++] = tmp[--n];
	if (tenth >= 0) {
		dst[o++] = '.';
		dst[o++] = (char)('0' + tenth);
	}
	if (suffix != '\0')
		dst[o++] = suffix;
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
	bool sign = neg && u != 0;
	uint64_t scale = 1000, tenths, whole;
	int i = 0;

	if (u < 1000) {
		chart_compact_put(dst, sign, u, -1, '\0');
		return;
	}
	while (i < 5 && u / 1000 >= scale) {
		scale *= 1000;
		i++;
	}
	/* Half up; u + scale / 2 stays below UINT64_MAX for u <= 10^19. */
	tenths = (u + scale / 20) / (scale / 10);
	if (tenths < 100) {
		chart_compact_put(dst, sign, tenths / 10, tenths % 10 == 0 ? -1 : (int)(tenths % 10), suffix[i]);
		return;
	}
	whole = (u + scale / 2) / scale;
	if (whole >= 1000 && i < 5) {   /* 999,999 is "1M", not "1000k" */
		scale *= 1000;
		i++;
		whole = (u + scale / 2) / scale;
	}
	chart_compact_put(dst, sign, whole, -1, suffix[i]);
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

/*
 * The markup is written piece by piece, never through printf: its format
 * parsing was most of the cost of a billing page (callgrind). A literal
 * goes in with its length known at compile time.
 */
#define PUT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

/* An unsigned decimal, at least width digits (zero-padded). */
static void
put_u(struct buf *out, uint64_t u, int width)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 || (int)n < width);
	buf_append(out, tmp + sizeof(tmp) - n, n);
}

static void
put_i(struct buf *out, int v)
{
	if (v < 0)
		buf_putc(out, '-');
	put_u(out, v < 0 ? (uint64_t)-(int64_t)v : (uint64_t)v, 1);
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

	PUT(out, "<desc id=\"");
	buf_puts(out, c->id);
	PUT(out, "-desc\">Daily ");
	chart_text(out, c->title);
	PUT(out, " in ");
	buf_puts(out, c->month);
	buf_puts(out, c->gauge ? ": peak " : ": total ");
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
		buf_puts(out, c->gauge ? "; highest day " : "; busiest day ");
		buf_puts(out, c->month);
		buf_putc(out, '-');
		put_u(out, (uint64_t)(busiest + 1), 2);
		PUT(out, " with ");
		chart_amount(out, peak, c->unit);
	} else
		buf_puts(out, "; no usage");
	if (c->limit >= 0 && !c->limit_on_total) {
		PUT(out, "; ");
		put_i(out, over);
		buf_puts(out, over == 1 ? " day over the limit" : " days over the limit");
	}
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

static void
put_fx(struct buf *out, double v)
{
	buf_puts(out, fx(v).s);
}

/* x1="…" y1="…" x2="…" y2="…"/> and a newline: the end of a <line>. */
static void
put_line_end(struct buf *out, double x1, double y1, double x2, double y2)
{
	PUT(out, " x1=\"");
	put_fx(out, x1);
	PUT(out, "\" y1=\"");
	put_fx(out, y1);
	PUT(out, "\" x2=\"");
	put_fx(out, x2);
	PUT(out, "\" y2=\"");
	put_fx(out, y2);
	PUT(out, "\"/>\n");
}

/* <text class="chart-label" x="…" y="…" text-anchor="anchor" font-size="10">label</text> */
static void
put_label(struct buf *out, double x, double y, const char *anchor, const char *label)
{
	PUT(out, "<text class=\"chart-label\" x=\"");
	put_fx(out, x);
	PUT(out, "\" y=\"");
	put_fx(out, y);
	PUT(out, "\" text-anchor=\"");
	buf_puts(out, anchor);
	PUT(out, "\" font-size=\"10\">");
	buf_puts(out, label);
	PUT(out, "</text>\n");
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
		if (j > 0) {
			PUT(out, "<line class=\"chart-grid\"");
			put_line_end(out, CHART_PL, y, CHART_PR, y);
		}
		put_label(out, (double)CHART_PL - 6, y + 3.5, "end", label);
	}
	PUT(out, "<line class=\"chart-axis\"");
	put_line_end(out, CHART_PL, CHART_PT, CHART_PL, CHART_PB);
	PUT(out, "<line class=\"chart-axis\"");
	put_line_end(out, CHART_PL, CHART_PB, CHART_PR, CHART_PB);
}

/*
 * Days 1, 5, 10, 15, 20, 25 and the last, centred under their bars; a fixed
 * day next to the last (25 of 26) is dropped so their labels keep apart.
 */
static void
chart_day_label(struct buf *out, int d, long double slot)
{
	char day[4] = { (char)('0' + d / 10), (char)('0' + d % 10), '\0', '\0' };

	put_label(out, (double)(CHART_PL + (d - 1) * slot + slot / 2), (double)CHART_PB + 14, "middle",
	    d < 10 ? day + 1 : day);
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
	struct fx width_fx;
	const char *width;

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

	PUT(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
	put_i(out, CHART_W);
	buf_putc(out, ' ');
	put_i(out, CHART_H);
	PUT(out, "\" width=\"100%\" class=\"chart\" role=\"img\" aria-labelledby=\"");
	buf_puts(out, c->id);
	PUT(out, "-title ");
	buf_puts(out, c->id);
	PUT(out, "-desc\">\n<title id=\"");
	buf_puts(out, c->id);
	PUT(out, "-title\">");
	chart_text(out, c->title);
	PUT(out, ", ");
	buf_puts(out, c->month);
	PUT(out, "</title>\n");
	chart_desc(out, c, peak, busiest, over);
	chart_axes(out, ymax, steps);
	chart_days(out, c->n);

	/* One rect per day, zero days included (height 0), in day order. */
	slot = CHART_PW / c->n;
	width_fx = fx((double)(slot * 0.7L));
	width = width_fx.s;
	for (int i = 0; i < c->n; i++) {
		h = chart_height((uint64_t)c->v[i], ymax);
		if (line >= 0 && c->v[i] > line)
			PUT(out, "<rect class=\"chart-bar over\" x=\"");
		else
			PUT(out, "<rect class=\"chart-bar\" x=\"");
		put_fx(out, (double)(CHART_PL + i * slot + slot * 0.15L));
		PUT(out, "\" y=\"");
		put_fx(out, (double)(CHART_PB - h));
		PUT(out, "\" width=\"");
		buf_puts(out, width);
		PUT(out, "\" height=\"");
		put_fx(out, (double)h);
		PUT(out, "\"><title>");
		buf_puts(out, c->month);
		buf_putc(out, '-');
		put_u(out, (uint64_t)(i + 1), 2);
		PUT(out, ": ");
		chart_amount(out, c->v[i], c->unit);
		buf_puts(out, "</title></rect>\n");
	}

	/* The limit line last, so it reads over the bars. */
	if (line >= 0) {
		double y = (double)(CHART_PB - chart_height((uint64_t)line, ymax));

		web_fmt_int(line, num);
		PUT(out, "<line class=\"chart-limit\"");
		put_line_end(out, CHART_PL, y, CHART_PR, y);
		PUT(out, "<text class=\"chart-limit-label\" x=\"");
		put_fx(out, CHART_PR);
		PUT(out, "\" y=\"");
		put_fx(out, y - 4);
		PUT(out, "\" text-anchor=\"end\" font-size=\"10\">limit ");
		buf_puts(out, num);
		PUT(out, "</text>\n");
	}
	buf_puts(out, "</svg>\n");
	return !out->oom;
}
