/* usage.h: the meter rows shared by the usage, quota and billing handlers. */
#ifndef TENANTRY_API_USAGE_H
#define TENANTRY_API_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/meter.h"
#include "db/db.h"
#include "http/request.h"

/* One meter of the tenant in context, from ST_USAGE_METERS. Strings live in the result. */
struct meter_row {
	const char *name;
	const char *unit;
	bool        gauge;
	bool        memberships;   /* counted from members, not reported */
	enum period period;
	int64_t     limit;         /* METER_UNLIMITED or >= 0 */
	int         grace;
	int64_t     used;          /* now: this period's total, or the gauge's value */
};

/*
 * Today and the first day of this month (UTC) as "YYYY-MM-DD", in the
 * arena: the two parameters of ST_USAGE_METERS.
 */
struct usage_now {
	int64_t     today;
	const char *today_s;
	const char *month_start_s;
};
void api_usage_now(struct req *r, struct usage_now *n);

/*
 * Queue what api_usage_meters() reads, for now; 0 or 500. A read (GET)
 * that may use the cache and finds the meter catalog there queues only
 * the tenant's own facts (ST_USAGE_FACTS); otherwise ST_USAGE_METERS, and
 * a read asks the worker to fetch the catalog after the response.
 */
int  api_usage_meters_queue(struct req *r, struct db_batch *b);

/*
 * The tenant's meters, by name, from what api_usage_meters_queue()
 * queued (or an ST_USAGE_METERS result queued directly), into an arena
 * array; -1 on OOM or a failed fallback.
 */
int  api_usage_meters(struct req *r, const PGresult *res, struct meter_row **out);

struct worker;
/* Read the meters of every tier into the worker's cache (tag "catalog"), if listening. */
void api_usage_catalog_load(struct worker *w);

/* {used, limit, percentage, period, unit}: a quota as the API shows it. */
struct json_object *api_usage_quota(int64_t used, int64_t limit, enum period p, const char *unit);

/* The JSON for a limit: null when unlimited. */
struct json_object *api_usage_limit(int64_t limit);

#endif
