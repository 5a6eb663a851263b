/* usage.c: usage ingestion, current usage, quotas and limits of a tenant. */
#include "api/api.h"
#include "api/usage.h"
#include "auth/authz.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/meter.h"
#include "core/util.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define EVENTS_MAX        1000
#define EVENT_KEY_MAX     200
#define EVENT_QTY_MAX     1000000000000000LL   /* 10^15: a batch sum never overflows */
#define EVENT_PAST_MAX    (35 * 86400)
#define EVENT_FUTURE_MAX  (5 * 60)

/* Columns of ST_USAGE_METERS. */
enum { M_NAME, M_KIND, M_PERIOD, M_UNIT, M_SOURCE, M_LIMIT, M_GRACE, M_USED };

/* ---- Shared by the usage, quota, stats and billing handlers ---------------- */

void
api_usage_now(struct req *r, struct usage_now *n)
{
	char d[11];

	n->today = core_day_of((int64_t)time(NULL));
	core_day_format(n->today, d);
	n->today_s = arena_strdup(r->a, d);
	core_day_format(core_period_start(PERIOD_MONTH, n->today), d);
	n->month_start_s = arena_strdup(r->a, d);
}

/*
 * The meters of every tier (ST_METER_CATALOG), cached as one blob under
 * METER_CATALOG_KEY with the tag "catalog" (sql/005_cache.sql notifies it
 * for any change of tiers, meters or limits). Fixed-size names: a catalog
 * with a longer one is not cached, and reads keep ST_USAGE_METERS.
 */
#define METER_CATALOG_KEY "Cmeter"
#define METER_CATALOG_MAX 512

struct meter_def {
	char        tier[33];
	char        name[64];
	char        unit[64];
	bool        gauge;
	bool        memberships;
	enum period period;
	int64_t     limit;         /* the tier's: -1 none or unlimited */
	int         grace;
};

struct meter_catalog {
	int              n;
	struct meter_def m[];
};

/* Columns of ST_METER_CATALOG. */
enum { C_TIER, C_NAME, C_KIND, C_PERIOD, C_UNIT, C_SOURCE, C_LIMIT, C_GRACE };
/* Columns of ST_USAGE_FACTS. */
enum { F_WHAT, F_METER, F_START, F_VALUE };

static bool
copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

void
api_usage_catalog_load(struct worker *w)
{
	struct db_batch b = { .retry = true };
	uint64_t since = cache_seq(w->cache), tag = cache_tag("catalog", 7);
	double read_ms = core_mono_ms();
	struct meter_catalog *c;
	const PGresult *res;
	size_t size;
	int n;

	w->meter_catalog_due = false;
	if (!w->cache_live || db_add(&b, ST_METER_CATALOG, 0) < 0 ||
	    db_exec(w->db, w->a, &b, NULL) != DB_OK)
		goto out;
	res = b.q[0].res;
	if ((n = db_rows(res)) < 1 || n > METER_CATALOG_MAX)
		goto out;
	size = sizeof(*c) + sizeof(c->m[0]) * (size_t)n;
	if ((c = arena_alloc(w->a, size)) == NULL)
		goto out;
	memset(c, 0, size);
	c->n = n;
	for (int i = 0; i < n; i++) {
		struct meter_def *d = &c->m[i];

		if (!copy_name(d->tier, sizeof(d->tier), db_val(res, i, C_TIER)) ||
		    !copy_name(d->name, sizeof(d->name), db_val(res, i, C_NAME)) ||
		    !copy_name(d->unit, sizeof(d->unit), db_val(res, i, C_UNIT)))
			goto out;
		d->gauge = strcmp(db_val(res, i, C_KIND), "gauge") == 0;
		d->memberships = strcmp(db_val(res, i, C_SOURCE), "memberships") == 0;
		d->period = core_period_parse(db_val(res, i, C_PERIOD));
		d->limit = db_i64(res, i, C_LIMIT);
		d->grace = (int)db_i64(res, i, C_GRACE);
	}
	cache_put(w->cache, METER_CATALOG_KEY, strlen(METER_CATALOG_KEY), c, size, &tag, 1, since, read_ms);
out:
	arena_reset(w->a);
}

/* The catalog from the cache, copied into the request's arena; NULL when it must be read. */
static const struct meter_catalog *
meter_catalog_cached(struct req *r)
{
	size_t len;

	return r->cache_ok ? cache_get_copy(r->w->cache, r->a, METER_CATALOG_KEY, strlen(METER_CATALOG_KEY),
	    core_mono_ms(), &len) : NULL;
}

int
api_usage_meters_queue(struct req *r, struct db_batch *b)
{
	struct usage_now n;

	api_usage_now(r, &n);
	if (n.today_s == NULL || n.month_start_s == NULL)
		return http_error_default(r, 500);
	r->meter_catalog = NULL;
	if ((r->method & (HTTP_GET | HTTP_HEAD)) && r->cache_ok) {
		if ((r->meter_catalog = meter_catalog_cached(r)) != NULL)
			return db_add(b, ST_USAGE_FACTS, 2, n.today_s, n.month_start_s) < 0 ? 500 : 0;
		r->w->meter_catalog_due = true;
	}
	return db_add(b, ST_USAGE_METERS, 2, n.today_s, n.month_start_s) < 0 ? 500 : 0;
}

/* The rows of an ST_USAGE_METERS result. */
static int
meters_of_rows(struct req *r, const PGresult *res, struct meter_row **out)
{
	int n = db_rows(res);
	struct meter_row *m = arena_alloc(r->a, sizeof(*m) * (size_t)(n > 0 ? n : 1));

	if (m == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		m[i] = (struct meter_row){
			.name = db_val(res, i, M_NAME),
			.unit = db_val(res, i, M_UNIT),
			.gauge = strcmp(db_val(res, i, M_KIND), "gauge") == 0,
			.memberships = strcmp(db_val(res, i, M_SOURCE), "memberships") == 0,
			.period = core_period_parse(db_val(res, i, M_PERIOD)),
			.limit = db_i64(res, i, M_LIMIT),
			.grace = (int)db_i64(res, i, M_GRACE),
			.used = db_i64(res, i, M_USED),
		};
		if (m[i].limit < 0)
			m[i].limit = METER_UNLIMITED;
	}
	*out = m;
	return n;
}

/*
 * The tier's catalog rows with the tenant's facts, exactly as
 * ST_USAGE_METERS computes them: an override (NULL or -1: unlimited)
 * replaces the tier's limit; used is the member count, the gauge's value
 * or the counter's total of its current period, 0 when there is none.
 * -2 when the catalog has no meters for the tier (it was read before the
 * tier existed, and its invalidation is on the way).
 */
static int
meters_of_facts(struct req *r, const struct meter_catalog *c, const PGresult *res,
    struct meter_row **out)
{
	const char *tier = r->tenant.tier != NULL ? r->tenant.tier : "";
	int nf = db_rows(res), n = 0, first = -1;
	struct meter_row *m;
	struct usage_now now;
	int64_t members = 0;

	for (int i = 0; i < c->n; i++)
		if (strcmp(c->m[i].tier, tier) == 0) {
			if (first < 0)
				first = i;
			n++;
		}
	if (n == 0)
		return -2;
	if ((m = arena_alloc(r->a, sizeof(*m) * (size_t)n)) == NULL)
		return -1;
	api_usage_now(r, &now);
	if (now.today_s == NULL || now.month_start_s == NULL)
		return -1;
	for (int f = 0; f < nf; f++)
		if (db_val(res, f, F_WHAT)[0] == 'u')
			members = db_i64(res, f, F_VALUE);
	for (int i = 0; i < n; i++) {
		const struct meter_def *d = &c->m[first + i];
		const char *start = d->period == PERIOD_DAY ? now.today_s : now.month_start_s;
		int64_t limit = d->limit, used = 0;

		for (int f = 0; f < nf; f++) {
			char what = db_val(res, f, F_WHAT)[0];

			if (what == 'u' || strcmp(db_val(res, f, F_METER), d->name) != 0)
				continue;
			if (what == 'o')
				limit = db_val(res, f, F_VALUE) == NULL ? -1 : db_i64(res, f, F_VALUE);
			else if (what == 'g' && d->gauge)
				used = db_i64(res, f, F_VALUE);
			else if (what == 'p' && !d->gauge && strcmp(db_val(res, f, F_START), start) == 0)
				used = db_i64(res, f, F_VALUE);
		}
		m[i] = (struct meter_row){
			.name = d->name, .unit = d->unit, .gauge = d->gauge, .memberships = d->memberships,
			.period = d->period, .limit = limit < 0 ? METER_UNLIMITED : limit, .grace = d->grace,
			.used = d->memberships ? members : used,
		};
	}
	*out = m;
	return n;
}

int
api_usage_meters(struct req *r, const PGresult *res, struct meter_row **out)
{
	const struct meter_catalog *c = r->meter_catalog;
	struct db_batch again = { .retry = true };
	struct usage_now now;
	int n;

	if (c == NULL || res == NULL || PQnfields(res) != F_VALUE + 1)
		return meters_of_rows(r, res, out);
	if ((n = meters_of_facts(r, c, res, out)) != -2)
		return n;
	/* A tier the cached catalog lacks: this read the whole way, in the same context. */
	api_usage_now(r, &now);
	r->w->meter_catalog_due = true;
	auth_ctx_again(r, &again);
	if (now.today_s == NULL || now.month_start_s == NULL ||
	    db_add(&again, ST_USAGE_METERS, 2, now.today_s, now.month_start_s) < 0 ||
	    db_exec(r->w->db, r->a, &again, r->request_id) != DB_OK)
		return -1;
	return meters_of_rows(r, again.q[again.n - 1].res, out);
}

struct json_object *
api_usage_limit(int64_t limit)
{
	return limit < 0 ? NULL : json_object_new_int64(limit);
}

struct json_object *
api_usage_quota(int64_t used, int64_t limit, enum period p, const char *unit)
{
	struct json_object *q = json_object_new_object();
	double pct = core_meter_percentage(used, limit);

	json_object_object_add(q, "used", json_object_new_int64(used));
	json_object_object_add(q, "limit", api_usage_limit(limit));
	json_object_object_add(q, "percentage", pct < 0 ? NULL : json_object_new_double(pct));
	json_object_object_add(q, "period", json_object_new_string(core_period_name(p)));
	json_object_object_add(q, "unit", json_object_new_string(unit ? unit : ""));
	return q;
}

static const struct meter_row *
meter_find(const struct meter_row *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

/* ---- Reads ----------------------------------------------------------------------- */

int
api_usage_prefetch(struct req *r, struct db_batch *b)
{
	return api_usage_meters_queue(r, b);
}

/* The legacy flat fields of GET /tenants/current/usage: (field, meter, limit field). */
static const struct {
	const char *field, *meter, *limit_field;
} flat[] = {
	{ "users_count", "users", "users_limit" },
	{ "teams_count", "teams", "teams_limit" },
	{ "conversations_count", "conversations", "conversations_limit" },
	{ "tokens_used", "tokens", "tokens_limit" },
	{ "storage_used_mb", "storage_mb", NULL },
	{ "api_calls_today", "api_calls", NULL },
};

/*
 * GET /api/v1/tenants/current/usage (member): 200 {tenant_id, users_count,
 * users_limit, teams_count, teams_limit, conversations_count,
 * conversations_limit, tokens_used, tokens_limit, storage_used_mb,
 * api_calls_today, meters: {<meter>: {kind, used, limit, percentage,
 * period, period_start, period_end, unit}}}; limits null = unlimited.
 * 400 tenant_context_required, 401, 403, 503.
 */
int
api_usage_current(struct req *r, struct db_batch *pre)
{
	struct meter_row *m;
	struct json_object *body, *meters;
	struct usage_now now;
	int n;

	if ((n = api_usage_meters(r, auth_pre(pre, 0), &m)) < 0)
		return http_error_default(r, 500);
	api_usage_now(r, &now);
	body = json_object_new_object();
	json_object_object_add(body, "tenant_id", json_object_new_string(r->tenant.id));
	for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++) {
		const struct meter_row *mr = meter_find(m, n, flat[i].meter);

		json_object_object_add(body, flat[i].field, json_object_new_int64(mr ? mr->used : 0));
		if (flat[i].limit_field != NULL)
			json_object_object_add(body, flat[i].limit_field,
			    api_usage_limit(mr ? mr->limit : METER_UNLIMITED));
	}
	meters = json_object_new_object();
	for (int i = 0; i < n; i++) {
		struct json_object *q = api_usage_quota(m[i].used, m[i].limit, m[i].period, m[i].unit);
		char s[11], e[11];

		json_object_object_add(q, "kind", json_object_new_string(m[i].gauge ? "gauge" : "counter"));
		if (m[i].period != PERIOD_NONE) {
			core_day_format(core_period_start(m[i].period, now.today), s);
			core_day_format(core_period_end(m[i].period, now.today), e);
			json_object_object_add(q, "period_start", json_object_new_string(s));
			json_object_object_add(q, "period_end", json_object_new_string(e));
		} else {
			json_object_object_add(q, "period_start", NULL);
			json_object_object_add(q, "period_end", NULL);
		}
		json_object_object_add(meters, m[i].name, q);
	}
	json_object_object_add(body, "meters", meters);
	return http_json(r, 200, body);
}

/* {meter: {used, limit, percentage, period, unit}} of the rows, now. */
struct json_object *
api_usage_quotas_now(struct req *r, const PGresult *res)
{
	struct meter_row *m;
	struct json_object *o;
	int n;

	if ((n = api_usage_meters(r, res, &m)) < 0)
		return NULL;
	o = json_object_new_object();
	for (int i = 0; i < n; i++)
		json_object_object_add(o, m[i].name,
		    api_usage_quota(m[i].used, m[i].limit, m[i].period, m[i].unit));
	return o;
}

/*
 * GET /api/v1/tenants/{id}/quotas (member): 200 {tenant_id, quotas:
 * {<meter>: {used, limit, percentage, period, unit}}}: each meter now
 * (counters in their current day or month). 401, 403, 404, 503.
 */
int
api_quotas(struct req *r, struct db_batch *pre)
{
	struct json_object *q = api_usage_quotas_now(r, auth_pre(pre, 0)), *body;

	if (q == NULL)
		return http_error_default(r, 500);
	body = json_object_new_object();
	json_object_object_add(body, "tenant_id", json_object_new_string(r->tenant.id));
	json_object_object_add(body, "quotas", q);
	return http_json(r, 200, body);
}

int
api_limits_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_TENANT_LIMITS, 0) < 0 ? 500 : 0;
}

/*
 * GET /api/v1/tenants/current/limits (member): 200 {tenant_id, tier,
 * grace_percent, limits (effective), tier_limits, overrides, features,
 * api_access}; null = unlimited. 400 tenant_context_required, 401, 403, 503.
 */
int
api_limits(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* ---- Ingestion ------------------------------------------------------------------ */

/* One validated event. */
struct event {
	const char             *key;
	const struct meter_row *meter;
	int64_t                 qty;
	int64_t                 at;     /* epoch seconds */
};

static void
event_problem(struct json_object *details, int i, const char *field, const char *problem)
{
	char f[48];

	snprintf(f, sizeof(f), "events[%d].%s", i, field);
	json_object_array_add(details, api_detail_obj(f, problem));
}

/* Check event i; fill ev. Problems go to details. */
static void
event_check(struct json_object *o, int i, const struct meter_row *m, int nm, int64_t now,
    struct event *ev, struct json_object *details)
{
	struct json_object *v;
	size_t before = json_object_array_length(details);

	memset(ev, 0, sizeof(*ev));
	ev->at = now;
	if (!json_object_is_type(o, json_type_object)) {
		event_problem(details, i, "", "must be an object");
		return;
	}
	json_object_object_foreach(o, k, val) {
		(void)val;
		if (strcmp(k, "meter") != 0 && strcmp(k, "quantity") != 0 &&
		    strcmp(k, "occurred_at") != 0 && strcmp(k, "idempotency_key") != 0)
			event_problem(details, i, k, "is not a known field");
	}
	if (!json_object_object_get_ex(o, "meter", &v) || !json_object_is_type(v, json_type_string))
		event_problem(details, i, "meter", "is required and must be a string");
	else if ((ev->meter = meter_find(m, nm, json_object_get_string(v))) == NULL)
		event_problem(details, i, "meter", "is not a meter");
	else if (ev->meter->memberships)
		event_problem(details, i, "meter", "is counted from memberships and cannot be reported");

	if (!json_object_object_get_ex(o, "quantity", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_int64(v) > EVENT_QTY_MAX)
		event_problem(details, i, "quantity", "must be an integer from 0 to 10^15");
	else
		ev->qty = json_object_get_int64(v);

	if (!json_object_object_get_ex(o, "idempotency_key", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) < 1 ||
	    http_utf8_chars(json_object_get_string(v), (size_t)json_object_get_string_len(v)) > EVENT_KEY_MAX ||
	    http_has_control(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
		event_problem(details, i, "idempotency_key", "must be 1-200 characters without control characters");
	else
		ev->key = json_object_get_string(v);

	if (json_object_object_get_ex(o, "occurred_at", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !core_rfc3339_parse(json_object_get_string(v), &ev->at))
			event_problem(details, i, "occurred_at", "must be an RFC 3339 timestamp");
		else if (ev->at < now - EVENT_PAST_MAX)
			event_problem(details, i, "occurred_at", "is more than 35 days in the past");
		else if (ev->at > now + EVENT_FUTURE_MAX)
			event_problem(details, i, "occurred_at", "is more than 5 minutes in the future");
	}
	if (json_object_array_length(details) > before)
		ev->meter = NULL;
}

/* The events as the JSON array ST_USAGE_INGEST reads (see stmt.c). */
static const char *
events_json(struct req *r, const struct event *ev, int n)
{
	struct json_object *a = json_object_new_array_ext(n);
	const char *s;

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		int64_t day = core_day_of(ev[i].at);
		char t[21], d[11], p[11];

		core_rfc3339((time_t)ev[i].at, t);
		core_day_format(day, d);
		core_day_format(core_period_start(ev[i].meter->period, day), p);
		json_object_object_add(o, "i", json_object_new_int(i));
		json_object_object_add(o, "k", json_object_new_string(ev[i].key));
		json_object_object_add(o, "m", json_object_new_string(ev[i].meter->name));
		json_object_object_add(o, "q", json_object_new_int64(ev[i].qty));
		json_object_object_add(o, "t", json_object_new_string(t));
		json_object_object_add(o, "d", json_object_new_string(d));
		json_object_object_add(o, "p", json_object_new_string(p));
		json_object_object_add(o, "g", json_object_new_boolean(ev[i].meter->gauge));
		json_object_array_add(a, o);
	}
	s = arena_strdup(r->a, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return s;
}

/* 429 usage_limit_exceeded naming the meter; the pipeline rolls the batch back. */
static int
over_limit(struct req *r, const struct meter_row *m, int64_t from, int64_t to)
{
	struct json_object *d = json_object_new_array(), *e;
	const char *msg = arena_printf(r->a, "this call would take %s to %lld, past its limit of %lld "
	    "plus %d%% grace; nothing in this call was counted", m->name, (long long)to,
	    (long long)m->limit, m->grace);

	e = api_detail_obj("events", arena_printf(r->a, "%s is over its limit", m->name));
	json_object_object_add(e, "meter", json_object_new_string(m->name));
	json_object_object_add(e, "limit", json_object_new_int64(m->limit));
	json_object_object_add(e, "used", json_object_new_int64(from));
	json_object_object_add(e, "requested", json_object_new_int64(to - from));
	json_object_array_add(d, e);
	return http_error_details(r, 429, "usage_limit_exceeded", msg ? msg : "over a usage limit", d);
}

/* Queue the thresholds crossed from..to (period start p) onto the outbox array. */
static void
thresholds(struct json_object *out, const struct meter_row *m, const char *p, int64_t from, int64_t to)
{
	unsigned bits = core_meter_crossed(from, to, m->limit);

	for (int i = 0; i < METER_NTHRESHOLDS; i++) {
		struct json_object *o;

		if (!(bits & (1u << i)))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "m", json_object_new_string(m->name));
		json_object_object_add(o, "th", json_object_new_int(core_meter_thresholds[i]));
		json_object_object_add(o, "p", json_object_new_string(p));
		json_object_object_add(o, "u", json_object_new_int64(to));
		json_object_object_add(o, "l", json_object_new_int64(m->limit));
		json_object_array_add(out, o);
	}
}

static const struct field ingest_fields[] = {
	{ "events", FT_ARRAY, true, 1, EVENTS_MAX },
};

/*
 * POST /api/v1/usage/events {events: [{meter, quantity, occurred_at?,
 * idempotency_key}]} (admin in a tenant context, or an API key with
 * usage:write): 202 {accepted,
 * duplicates}. Counters add, gauges set (the latest occurred_at wins); a
 * repeated idempotency_key counts once. Raw events, daily rollups, period
 * totals and threshold notifications change in one transaction. 400 bad
 * events (one detail per field, nothing counted); 429 usage_limit_exceeded
 * when a meter would pass limit + grace (nothing counted); 400
 * tenant_context_required, 401, 403, 503.
 */
int
api_usage_ingest(struct req *r, struct db_batch *pre)
{
	struct json_object *events, *details, *outbox, *body;
	struct meter_row *m;
	struct event *ev;
	struct db_batch b = { 0 }, ob = { .commit = true };
	struct usage_now now;
	const PGresult *res;
	const char *json;
	int64_t t = (int64_t)time(NULL), accepted = 0;
	struct fval f;
	int nm, n, rc;
	enum db_status st;

	if ((rc = http_fields(r, ingest_fields, 1, &f)) != 0)
		return rc;
	events = f.o;
	n = (int)json_object_array_length(events);
	if ((nm = api_usage_meters(r, auth_pre(pre, 0), &m)) < 0 ||
	    (ev = arena_alloc(r->a, sizeof(*ev) * (size_t)n)) == NULL)
		return http_error_default(r, 500);
	details = json_object_new_array();
	for (int i = 0; i < n; i++)
		event_check(json_object_array_get_idx(events, (size_t)i), i, m, nm, t, &ev[i], details);
	if (json_object_array_length(details) > 0)
		return http_error_details(r, 400, "invalid_request", "some events are not valid", details);
	json_object_put(details);

	if ((json = events_json(r, ev, n)) == NULL)
		return http_error_default(r, 500);
	db_add(&b, ST_USAGE_INGEST, 2, json, r->who.cred == CRED_API_KEY ? r->who.key_id : NULL);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);

	api_usage_now(r, &now);
	outbox = json_object_new_array();
	res = b.q[0].res;
	for (int i = 0; i < db_rows(res); i++) {
		const char *kind = db_val(res, i, 0);
		const struct meter_row *mr;
		int64_t to = db_i64(res, i, 3), from;

		if (kind[0] == 'n') {
			accepted = to;
			continue;
		}
		if ((mr = meter_find(m, nm, db_val(res, i, 1))) == NULL)
			continue;
		from = kind[0] == 'c' ? to - db_i64(res, i, 4) : db_i64(res, i, 5);
		if (to > from && mr->limit >= 0 && to > core_meter_hard_cap(mr->limit, mr->grace)) {
			json_object_put(outbox);
			return over_limit(r, mr, from, to);
		}
		/* A gauge's thresholds are counted per calendar month. */
		thresholds(outbox, mr, kind[0] == 'c' ? db_val(res, i, 2) : now.month_start_s, from, to);
	}
	if (json_object_array_length(outbox) > 0) {
		db_add(&ob, ST_USAGE_OUTBOX, 1,
		    arena_strdup(r->a, json_object_to_json_string_ext(outbox, JSON_C_TO_STRING_PLAIN)));
		db_add(&ob, ST_OUTBOX_WAKE, 0);
		json_object_put(outbox);
		if ((st = db_exec(r->w->db, r->a, &ob, r->request_id)) != DB_OK)
			return api_db_fail(r, st);
	} else {
		json_object_put(outbox);
	}
	body = json_object_new_object();
	json_object_object_add(body, "accepted", json_object_new_int64(accepted));
	json_object_object_add(body, "duplicates", json_object_new_int64(n - accepted));
	return http_json(r, 202, body);
}
