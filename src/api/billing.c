/* billing.c: billing views: a tenant's month of usage (daily series), its quotas for a month, its plan. */
#include "api/api.h"
#include "api/usage.h"
#include "auth/authz.h"
#include "core/meter.h"
#include "http/response.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Who may call these is the route table's business (CAP_BILLING_READ with
 * RF_EXPLICIT_CTX): a superadmin for any tenant, an owner or admin for the
 * tenant their tenant-scoped token or X-Tenant-ID names.
 */

/* The month a billing request asks about (?month=YYYY-MM, default this UTC month). */
struct bill_month {
	int         y, m, ndays;
	int64_t     first, last;
	int         upto;            /* index of the last day that is not in the future, -1 if none */
	const char *month_s, *first_s, *last_s;
};

static int
bill_month(struct req *r, struct bill_month *bm)
{
	const char *q = api_query(r, "month");
	int64_t today = core_day_of((int64_t)time(NULL));
	char d[11];

	if (q != NULL) {
		if (!core_month_parse(q, &bm->y, &bm->m))
			return http_error_details(r, 400, "invalid_request", "month must be YYYY-MM",
			    api_detail("month", "must be a month as YYYY-MM (1970 or later)"));
	} else {
		struct civil c = core_civil_from_days(today);

		bm->y = c.y;
		bm->m = c.m;
	}
	bm->ndays = core_days_in_month(bm->y, bm->m);
	bm->first = core_days_from_civil(bm->y, bm->m, 1);
	bm->last = bm->first + bm->ndays - 1;
	bm->upto = today < bm->first ? -1 : today > bm->last ? bm->ndays - 1 : (int)(today - bm->first);
	bm->month_s = arena_printf(r->a, "%04d-%02d", bm->y, bm->m);
	core_day_format(bm->first, d);
	bm->first_s = arena_strdup(r->a, d);
	core_day_format(bm->last, d);
	bm->last_s = arena_strdup(r->a, d);
	if (bm->month_s == NULL || bm->first_s == NULL || bm->last_s == NULL)
		return http_error_default(r, 500);
	return 0;
}

/* Meters now (limits, units, current gauges), then the month's daily rollup. */
int
api_billing_usage_prefetch(struct req *r, struct db_batch *b)
{
	struct bill_month bm;
	int st;

	if ((st = bill_month(r, &bm)) != 0 || (st = api_usage_meters_queue(r, b)) != 0)
		return st;
	return db_add(b, ST_USAGE_DAILY, 2, bm.first_s, bm.last_s) < 0 ? 500 : 0;
}

/* One meter's month: its completed daily series. */
struct bill_meter {
	int64_t *v;
	bool    *have;
	int64_t  carry;
};

/*
 * The month's series of every meter, from the prefetched rows, into an
 * arena array parallel to m. -1 on OOM.
 */
static int
bill_series(struct req *r, const struct bill_month *bm, const struct meter_row *m, int nm,
    const PGresult *daily, struct bill_meter **out)
{
	struct bill_meter *s = arena_alloc(r->a, sizeof(*s) * (size_t)(nm > 0 ? nm : 1));
	int64_t today = core_day_of((int64_t)time(NULL));

	if (s == NULL)
		return -1;
	for (int i = 0; i < nm; i++) {
		s[i].v = arena_alloc(r->a, sizeof(int64_t) * (size_t)bm->ndays);
		s[i].have = arena_alloc(r->a, sizeof(bool) * (size_t)bm->ndays);
		if (s[i].v == NULL || s[i].have == NULL)
			return -1;
		memset(s[i].have, 0, sizeof(bool) * (size_t)bm->ndays);
		s[i].carry = -1;
	}
	for (int row = 0; row < db_rows(daily); row++) {
		const char *name = db_val(daily, row, 0);
		long long idx = db_i64(daily, row, 1);

		for (int i = 0; i < nm; i++) {
			if (strcmp(m[i].name, name) != 0)
				continue;
			if (idx < 0) {
				s[i].carry = db_val(daily, row, 2) ? db_i64(daily, row, 2) : -1;
			} else if (idx < bm->ndays) {
				s[i].v[idx] = db_i64(daily, row, 2);
				s[i].have[idx] = true;
			}
			break;
		}
	}
	for (int i = 0; i < nm; i++) {
		/* Today a gauge is what it is now (memberships included), whatever the rollup says. */
		if (m[i].gauge && today >= bm->first && today <= bm->last) {
			s[i].v[today - bm->first] = m[i].used;
			s[i].have[today - bm->first] = true;
		}
		core_meter_series(m[i].gauge, s[i].v, s[i].have, bm->ndays, bm->upto, s[i].carry);
	}
	*out = s;
	return 0;
}

/*
 * The tenant's month as {tenant_id, month, meters: {...}} or with quotas,
 * into *out (the caller's). Returns 0, or the error status it wrote.
 */
int
api_billing_build(struct req *r, struct db_batch *pre, bool quotas, struct json_object **out)
{
	struct bill_month bm;
	struct meter_row *m;
	struct bill_meter *s;
	struct json_object *body, *meters;
	int nm, st;

	if ((st = bill_month(r, &bm)) != 0)
		return st;
	if ((nm = api_usage_meters(r, auth_pre(pre, 0), &m)) < 0 ||
	    bill_series(r, &bm, m, nm, auth_pre(pre, 1), &s) != 0)
		return http_error_default(r, 500);
	body = json_object_new_object();
	json_object_object_add(body, "tenant_id", json_object_new_string(r->tenant.id));
	json_object_object_add(body, "month", json_object_new_string(bm.month_s));
	meters = json_object_new_object();
	for (int i = 0; i < nm; i++) {
		struct json_object *o, *daily;
		int64_t peak = core_meter_peak(s[i].v, bm.ndays), sum = core_meter_sum(s[i].v, bm.ndays);

		if (quotas) {
			/* A monthly counter against its total; a daily one against its busiest day. */
			bool whole = !m[i].gauge && m[i].period == PERIOD_MONTH;

			json_object_object_add(meters, m[i].name,
			    api_usage_quota(whole ? sum : peak, m[i].limit, m[i].period, m[i].unit));
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(m[i].gauge ? "gauge" : "counter"));
		json_object_object_add(o, "unit", json_object_new_string(m[i].unit));
		json_object_object_add(o, "period", json_object_new_string(core_period_name(m[i].period)));
		json_object_object_add(o, "total", json_object_new_int64(m[i].gauge ? peak : sum));
		json_object_object_add(o, "limit", api_usage_limit(m[i].limit));
		daily = json_object_new_array_ext(bm.ndays);
		for (int d = 0; d < bm.ndays; d++) {
			struct json_object *e = json_object_new_object();
			char ds[11];

			core_day_format(bm.first + d, ds);
			json_object_object_add(e, "date", json_object_new_string(ds));
			json_object_object_add(e, "quantity", json_object_new_int64(s[i].v[d]));
			json_object_array_add(daily, e);
		}
		json_object_object_add(o, "daily", daily);
		json_object_object_add(meters, m[i].name, o);
	}
	json_object_object_add(body, quotas ? "quotas" : "meters", meters);
	*out = body;
	return 0;
}

static int
bill_answer(struct req *r, struct db_batch *pre, bool quotas)
{
	struct json_object *body;
	int st;

	if ((st = api_billing_build(r, pre, quotas, &body)) != 0)
		return st;
	return http_json(r, 200, body);
}

/*
 * GET /admin/billing/tenants/{id}/usage?month=YYYY-MM and
 * GET /admin/billing/me/usage?month=YYYY-MM: 200 {tenant_id, month,
 * meters: {<meter>: {kind, unit, period, total, limit, daily: [{date,
 * quantity}] (every day of the month, future days 0)}}}. A counter's total
 * is the sum of its days; a gauge's days carry its value until the next
 * report and its total is the month's peak. 400 bad month, or no tenant
 * context (me); 401; 403 member, viewer, another tenant, or an identity
 * token without X-Tenant-ID (below superadmin); 404 (superadmin, unknown
 * tenant); 503.
 */
int
api_billing_usage(struct req *r, struct db_batch *pre)
{
	return bill_answer(r, pre, false);
}

/*
 * GET /admin/billing/tenants/{id}/quota?month=YYYY-MM: 200 {tenant_id,
 * month, quotas: {<meter>: {used, limit, percentage, period, unit}}}: a
 * monthly counter's total, a daily counter's busiest day and a gauge's
 * peak in that month, against the limit. Statuses as for usage.
 */
int
api_billing_quota(struct req *r, struct db_batch *pre)
{
	return bill_answer(r, pre, true);
}

int
api_billing_tenant_prefetch(struct req *r, struct db_batch *b)
{
	struct bill_month bm;
	int st;

	if ((st = bill_month(r, &bm)) != 0)
		return st;
	return db_add(b, ST_BILLING_TENANT, 3, bm.month_s, bm.first_s, bm.last_s) < 0 ? 500 : 0;
}

/*
 * GET /admin/billing/tenants/{id}?month=YYYY-MM: 200 {tenant_id, name,
 * slug, status, tier, tier_name, price_plan, period: {month, start, end},
 * grace_percent, limits, features}. Statuses as for usage.
 */
int
api_billing_tenant(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}
