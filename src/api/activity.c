/* activity.c: GET /api/v1/tenants/{id}/activity, the audit log as JSON pages or a CSV export. */
#include "api/api.h"
#include "auth/authz.h"
#include "core/buf.h"
#include "core/meter.h"
#include "core/util.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define CSV_PAGE "500"
#define CSV_PAGE_N 500

/* Columns of ST_ACTIVITY. */
enum { A_ID, A_JSON, A_CSV_FIRST = 2, A_COLS = 13 };

/* The filters, validated; parameters of ST_ACTIVITY in order. */
struct filter {
	const char *p[8];   /* from, to, action, actor, actor_type, cursor, limit, actor id */
	int         limit;
	bool        csv;
};

/*
 * YYYY-MM-DD, or an RFC 3339 date-time (Z or +hh:mm), with every field in
 * range (a real calendar date, 00:00:00-23:59:60), so PostgreSQL never
 * refuses what passed here.
 */
static bool
valid_time(const char *s)
{
	int64_t t;

	return core_date_parse(s, &t) || core_rfc3339_parse(s, &t);
}

static bool
valid_action(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int
read_filter(struct req *r, struct filter *f)
{
	const char *from = api_query(r, "from"), *to = api_query(r, "to");
	const char *action = api_query(r, "action"), *actor = api_query(r, "actor");
	const char *atype = api_query(r, "actor_type"), *cursor = api_query(r, "cursor");
	const char *limit = api_query(r, "limit"), *format = api_query(r, "format");
	int64_t n = 50, c;

	if ((from != NULL && !valid_time(from)) || (to != NULL && !valid_time(to)))
		return http_error(r, 400, "invalid_request",
		    "from and to must be RFC 3339 times (2026-11-01T00:00:00Z) or dates");
	if (action != NULL && !valid_action(action))
		return http_error(r, 400, "invalid_request", "action must be a dotted action name");
	if (actor != NULL && (strlen(actor) > 254 || http_has_control(actor, strlen(actor))))
		return http_error(r, 400, "invalid_request", "actor must be a user or key id, or an email");
	if (atype != NULL && strcmp(atype, "user") != 0 && strcmp(atype, "api_key") != 0 &&
	    strcmp(atype, "system") != 0)
		return http_error(r, 400, "invalid_request", "actor_type must be user, api_key or system");
	if (cursor != NULL && !core_parse_i64(cursor, 1, INT64_MAX, &c))
		return http_error(r, 400, "invalid_request", "cursor is not valid");
	if (limit != NULL && !core_parse_i64(limit, 1, 100, &n))
		return http_error(r, 400, "invalid_request", "limit must be an integer from 1 to 100");
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
		return http_error(r, 400, "invalid_request", "format must be json or csv");
	f->csv = format != NULL && strcmp(format, "csv") == 0;
	f->limit = (int)n;
	f->p[0] = from;
	f->p[1] = to;
	f->p[2] = action;
	f->p[3] = actor && core_uuid_valid(actor) ? arena_strdup(r->a, actor) : actor;
	if (f->p[3] != actor)
		core_uuid_lower(f->p[3], (char *)f->p[3]);
	/* An actor that is a UUID may be an actor id (actor_idx) as well as a label. */
	f->p[7] = f->p[3] != actor ? f->p[3] : NULL;
	f->p[4] = atype;
	f->p[5] = cursor;
	/* One row more than asked tells whether there is a next page. */
	f->p[6] = f->csv ? CSV_PAGE : arena_printf(r->a, "%d", f->limit + 1);
	return 0;
}

int
api_activity_prefetch(struct req *r, struct db_batch *b)
{
	struct filter f;
	int st;

	if ((st = read_filter(r, &f)) != 0)
		return st;
	return db_addv(b, ST_ACTIVITY, 8, f.p) < 0 ? 500 : 0;
}

/* One CSV field: quoted when needed, and a leading = + - @ neutralised for spreadsheets. */
static void
csv_field(struct buf *b, const char *s, bool last)
{
	if (s != NULL && *s != '\0') {
		bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@\t", s[0]) != NULL;

		if (quote)
			buf_putc(b, '"');
		if (strchr("=+-@\t", s[0]) != NULL)
			buf_putc(b, '\'');
		for (; *s; s++) {
			if (*s == '"')
				buf_putc(b, '"');
			buf_putc(b, *s);
		}
		if (quote)
			buf_putc(b, '"');
	}
	buf_puts(b, last ? "\r\n" : ",");
}

/* Stream every event of the filter as CSV, a page at a time; memory stays flat. */
static int
send_csv(struct req *r, struct filter *f, const PGresult *first)
{
	struct buf out;
	const PGresult *res = first;
	struct arena *page = NULL;   /* each later page lives only until the next */
	char cursor[24];

	http_header(r, "Content-Disposition",
	    arena_printf(r->a, "attachment; filename=\"activity-%s.csv\"", r->tenant.slug));
	http_stream_begin(r, 200, "text/csv");
	buf_init(&out);
	buf_puts(&out, "id,occurred_at,actor_type,actor_id,actor_label,action,target_type,"
	    "target_id,before,after,request_id,client_addr\r\n");
	for (;;) {
		int n = db_rows(res);
		struct db_batch b = { .retry = true };
		struct arena *next;

		for (int i = 0; i < n; i++) {
			csv_field(&out, db_val(res, i, A_ID), false);
			for (int c = A_CSV_FIRST; c < A_COLS; c++)
				csv_field(&out, db_val(res, i, c), c == A_COLS - 1);
		}
		if (!http_stream_write(r, out.p, out.len) || out.oom || n < CSV_PAGE_N)
			break;
		buf_clear(&out, 1 << 20);
		/* Next page: a new transaction, so the context is set again. */
		snprintf(cursor, sizeof(cursor), "%s", db_val(res, n - 1, A_ID));
		f->p[5] = cursor;
		if ((next = arena_new(4096)) == NULL)
			break;
		auth_ctx_again(r, &b);
		db_addv(&b, ST_ACTIVITY, 8, f->p);
		if (db_exec(r->w->db, next, &b, r->request_id) != DB_OK) {
			arena_free(next);
			break;   /* the headers are out: the export ends short */
		}
		arena_free(page);
		page = next;
		res = b.q[2].res;
	}
	arena_free(page);
	buf_release(&out);
	return 200;
}

/*
 * GET /api/v1/tenants/{id}/activity?from&to&action&actor&actor_type&cursor
 * &limit&format (admin): 200 {events, next_cursor} newest first, or with
 * format=csv the whole filtered range as a CSV attachment. 400 a malformed
 * filter; 401/403/503.
 */
int
api_activity(struct req *r, struct db_batch *pre)
{
	const PGresult *res = auth_pre(pre, 0);
	struct filter f;
	struct buf *o = r->out;
	int n, shown;

	if (read_filter(r, &f) != 0)
		return 400;
	if (f.csv)
		return send_csv(r, &f, res);
	n = db_rows(res);
	shown = n > f.limit ? f.limit : n;
	buf_clear(o, 256 * 1024);
	buf_puts(o, "{\"events\":[");
	for (int i = 0; i < shown; i++) {
		if (i > 0)
			buf_putc(o, ',');
		buf_puts(o, db_val(res, i, A_JSON));
	}
	buf_puts(o, "],\"next_cursor\":");
	if (n > f.limit)
		buf_printf(o, "\"%s\"}", db_val(res, shown - 1, A_ID));
	else
		buf_puts(o, "null}");
	return http_body_ready(r, 200, "application/json");
}
